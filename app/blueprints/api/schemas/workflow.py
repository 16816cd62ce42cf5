"""The program configuration: documents, versions, validation, diffs, case migrations."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.blueprints.api.schemas.common import row_id


class WorkflowDocumentSchema(Schema):
    """A program configuration: ``document`` as an object, or ``text`` in YAML or JSON."""

    document = fields.Dict(load_default=None)
    text = fields.String(load_default=None)


class WorkflowVersionSchema(Schema):
    number = fields.Integer(allow_none=True)
    status = fields.String()
    note = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()
    document = fields.Dict()


class WorkflowVersionSummarySchema(Schema):
    number = fields.Integer()
    note = fields.String(allow_none=True)
    published_at = fields.DateTime()


class WorkflowVersionListSchema(Schema):
    items = fields.List(fields.Nested(WorkflowVersionSummarySchema))


class ValidationReportSchema(Schema):
    ok = fields.Boolean()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PublishSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class ChangeSchema(Schema):
    path = fields.String()
    kind = fields.String()
    text = fields.String()


class DiffSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema))


class CaseMigrationSchema(Schema):
    to_version = row_id(required=True)
    case_ids = fields.List(row_id(), required=True, validate=validate.Length(min=1))
    state_map = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
