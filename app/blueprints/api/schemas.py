"""API schemas, one per audience: fields are listed, never excluded."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.security.roles import TENANT_ROLE_KEYS


class TokenRequestSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class UserSchema(Schema):
    """A user as a program admin (or the user themself) sees them."""

    id = fields.Integer()
    email = fields.Email()
    name = fields.String()
    roles = fields.Method("_roles")
    active = fields.Boolean()

    def _roles(self, user) -> list[str]:
        return sorted(user.roles)


class UserCreateSchema(Schema):
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(TENANT_ROLE_KEYS))),
        required=True,
        validate=validate.Length(min=1),
    )
    password = fields.String(load_only=True, load_default=None)


class RolesSchema(Schema):
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(TENANT_ROLE_KEYS))),
        required=True,
        validate=validate.Length(min=1),
    )


class PageSchema(Schema):
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class UserPageSchema(PageSchema):
    items = fields.List(fields.Nested(UserSchema))


class ErrorSchema(Schema):
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class DeadlineSchema(Schema):
    key = fields.String()
    due_on = fields.Date()


class ActionOptionSchema(Schema):
    key = fields.String()
    label = fields.String()
    to_state = fields.String()
    enabled = fields.Boolean()
    reasons = fields.List(fields.String())
    choices = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class CaseSchema(Schema):
    """A case as anyone entitled to see it sees it: no ballots, no deliberation."""

    id = fields.Integer()
    track = fields.String(attribute="track_key")
    state = fields.String()
    version = fields.Integer(attribute="workflow_version.number")
    teacher = fields.Nested(PersonSchema)
    consulting_teacher = fields.Nested(PersonSchema, attribute="ct", allow_none=True)
    principal = fields.Nested(PersonSchema, allow_none=True)
    school = fields.String(allow_none=True)
    enrolled_on = fields.Date()
    recommended_rating = fields.String(allow_none=True)
    final_rating = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    report_group = fields.String(allow_none=True)
    deadlines = fields.List(fields.Nested(DeadlineSchema))


class CaseDetailSchema(CaseSchema):
    actions = fields.List(fields.Nested(ActionOptionSchema))


class CasePageSchema(PageSchema):
    items = fields.List(fields.Nested(CaseSchema))


class CaseOpenSchema(Schema):
    teacher_id = fields.Integer(required=True)
    track = fields.String(required=True)
    school = fields.String(load_default=None)
    latest_rating = fields.String(load_default=None)
    principal_id = fields.Integer(load_default=None)


class ActionRequestSchema(Schema):
    action = fields.String(required=True, validate=validate.Length(min=1, max=64))
    payload = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


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
    to_version = fields.Integer(required=True)
    case_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))
    state_map = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
