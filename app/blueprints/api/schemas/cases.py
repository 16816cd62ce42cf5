"""Cases: the case as its readers see it, opening one, acting on it, filtering the list."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.blueprints.api.schemas.common import (
    PageQuerySchema,
    PageSchema,
    PersonSchema,
    fits,
    row_id,
)


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
    outcome = fields.String(allow_none=True)
    report_group = fields.String(allow_none=True)
    deadlines = fields.List(fields.Nested(DeadlineSchema))


class AppealStateSchema(Schema):
    """Where the approved decision stands on appeal, for the readers the case page shows it
    to: a decision is not final while its window is open or an appeal waits."""

    decided_by = fields.String(
        attribute="body",
        metadata={"description": "final_authority, appeal_panel or arbiter"},
    )
    window_closes_on = fields.Date(attribute="closes_on", allow_none=True)
    window_open = fields.Boolean()
    status = fields.String(
        allow_none=True,
        metadata={"description": "null while no appeal is filed; filed, granted or denied"},
    )
    filed_on = fields.Date(allow_none=True)
    decided_on = fields.Date(allow_none=True)


class CaseDetailSchema(CaseSchema):
    """The detail adds the actions, the ratings for readers who see the recommendation, and
    the decision's appeal for those who see it (null otherwise, or with no decision)."""

    actions = fields.List(fields.Nested(ActionOptionSchema))
    recommended_rating = fields.String(allow_none=True)
    panel_rating = fields.String(allow_none=True)
    final_rating = fields.String(allow_none=True)
    appeal = fields.Nested(AppealStateSchema, allow_none=True)


class CasePageSchema(PageSchema):
    items = fields.List(fields.Nested(CaseSchema))


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))


class CaseOpenSchema(Schema):
    teacher_id = row_id(required=True)
    track = fields.String(required=True, validate=fits("cases.track_key"))
    school = fields.String(load_default=None, validate=fits("cases.school"))
    latest_rating = fields.String(load_default=None, validate=fits("cases.latest_rating"))
    principal_id = row_id(load_default=None, allow_none=True)


class ActionRequestSchema(Schema):
    action = fields.String(required=True, validate=validate.Length(min=1, max=64))
    payload = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class CaseFilterSchema(PageQuerySchema):
    track = fields.String(load_default=None)
    state = fields.String(load_default=None)
    ct_id = row_id(load_default=None)
    school = fields.String(load_default=None)
    year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100))
    open_only = fields.Boolean(load_default=False, data_key="open")
    under_appeal = fields.Boolean(load_default=False)
