"""Imports and reports: CSV uploads, the annual report and the network's outcomes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.blueprints.api.schemas.common import FileField, fits
from app.core.limits import MAX_ID
from app.workflows.vocabulary import TRACK_KINDS

_ATTACH_CSV = {"required": "Attach the CSV as the multipart field 'file'."}


class CaseImportInSchema(Schema):
    file = FileField(required=True, error_messages=_ATTACH_CSV)


class SurveyImportInSchema(Schema):
    file = FileField(required=True, error_messages=_ATTACH_CSV)
    survey = fields.String(required=True, validate=fits("survey_rounds.survey_key"))
    year = fields.String(required=True, validate=fits("survey_rounds.year"))
    sent = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_ID))


class ImportResultSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()


def _school_year() -> fields.String:
    """``?year=2009-2010``: a school year by its label (absent means the current one)."""
    return fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}-\d{4}$", error="Use a label like 2009-2010."),
    )


class AnnualReportQuerySchema(Schema):
    year = _school_year()


class NetworkQuerySchema(Schema):
    year = _school_year()
    track_kind = fields.String(load_default="all", validate=validate.OneOf(["all", *TRACK_KINDS]))
    size_band = fields.String(load_default=None)


class DistrictNetworkQuerySchema(Schema):
    year = _school_year()


class OpenImportsLeftOutSchema(Schema):
    count = fields.Integer()
    months = fields.Integer()


class AnnualReportSchema(Schema):
    year = fields.String()
    participants = fields.Integer()
    outcome_groups = fields.Dict(keys=fields.String(), values=fields.Integer())
    average_months_of_support = fields.Float()
    survey = fields.Dict(allow_none=True)
    by_track = fields.Dict()
    by_consulting_teacher = fields.Dict()
    #: Open imported cases the year did not count (open longer than ``months``).
    open_imports_left_out = fields.Nested(OpenImportsLeftOutSchema)
