"""The panel: members, sessions and their agenda, attendance, ballots, final decisions."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.blueprints.api.schemas.common import MaxLength, PersonSchema, fits, row_id


class PanelMemberSchema(Schema):
    id = fields.Integer()
    user = fields.Nested(PersonSchema)
    constituency = fields.String()
    is_chair = fields.Boolean()
    alternate = fields.Boolean(
        attribute="is_alternate",
        metadata={"description": "votes only in place of an absent or recused member"},
    )
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)


class PanelMemberInSchema(Schema):
    user_id = row_id(required=True)
    constituency = fields.String(required=True, validate=fits("panel_members.constituency"))
    is_chair = fields.Boolean(load_default=False)
    alternate = fields.Boolean(
        load_default=False,
        metadata={"description": "an alternate for the constituency; an alternate cannot chair"},
    )
    term_start = fields.Date(load_default=None)
    term_end = fields.Date(load_default=None)


class PanelMemberListSchema(Schema):
    items = fields.List(fields.Nested(PanelMemberSchema))
    balance = fields.List(fields.String())


class AgendaItemSchema(Schema):
    """An agenda item: the decision and tally once closed, never a ballot."""

    case_id = fields.Integer()
    status = fields.String()
    ballots_cast = fields.Integer()
    recused = fields.List(fields.Dict())
    outcome = fields.String(allow_none=True)
    option = fields.String(allow_none=True)
    decided_by = fields.String(
        allow_none=True,
        metadata={"description": "rule, chair_casting_vote or ct_recommendation_stands"},
    )
    decision = fields.String(
        metadata={"description": "the decision in words, with the rule that made it"}
    )
    tally = fields.Dict(allow_none=True)
    tally_by_constituency = fields.Dict(allow_none=True)
    votes_needed = fields.Integer(allow_none=True)
    rule_text = fields.String(allow_none=True)


class PanelSessionSchema(Schema):
    id = fields.Integer()
    meets_on = fields.Date()
    location = fields.String(allow_none=True)
    status = fields.String()
    present = fields.List(fields.Integer())
    items = fields.List(fields.Nested(AgendaItemSchema))


class PanelSessionListSchema(Schema):
    items = fields.List(fields.Nested(PanelSessionSchema))


class PanelSessionInSchema(Schema):
    meets_on = fields.Date(required=True)
    location = fields.String(load_default=None, validate=fits("panel_sessions.location"))


class AgendaInSchema(Schema):
    case_id = row_id(required=True)


class AttendanceInSchema(Schema):
    member_id = row_id(required=True)
    present = fields.Boolean(required=True)


class BallotInSchema(Schema):
    option = fields.String(required=True, allow_none=True, validate=fits("ballots.option"))


class FinalDecisionInSchema(Schema):
    approve = fields.Boolean(required=True)
    # Stored as text of any length; the limit is the page's (FinalDecisionForm).
    note = fields.String(load_default=None, validate=MaxLength(2000))
    outcome = fields.String(load_default=None, validate=fits("cases.outcome"))
