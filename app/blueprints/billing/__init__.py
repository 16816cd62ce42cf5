"""Billing: the Stripe webhook and a district's billing page."""
