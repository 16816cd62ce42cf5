"""Surveys: the coordinator's rounds and the participants' personal links."""
