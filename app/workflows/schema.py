"""Marshmallow schemas for the structure of a program configuration document.

They check shapes, types and closed vocabularies; cross-references (states,
ratings, outcome groups, guard and effect parameters) are checked in
:mod:`app.workflows.semantics` so that both kinds of error arrive together.
Every field carries a description, from which ``docs/configuration.md`` is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.workflows import vocabulary as v
from app.workflows.meanings import MEANINGS
from app.workflows.model import DEFAULT_OPEN_IMPORTED_CASE_MONTHS

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
SCHEMA_VERSION = 1


def _d(text: str) -> dict[str, str]:
    return {"description": text}


def _key(text: str, **kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(
            KEY_PATTERN, error="must be lower-case letters, digits and underscores"
        ),
        metadata=_d(text),
        **kwargs,
    )


def _keyed(values: fields.Field, text: str, **kwargs: Any) -> fields.Dict:
    return fields.Dict(keys=_key("key"), values=values, metadata=_d(text), **kwargs)


def _one_of(choices: Any, text: str, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(list(choices)), metadata=_d(text), **kwargs)


class NamedRef(fields.Field):
    """A guard or effect use: ``name`` or ``{name: {param: value}}``."""

    default_error_messages = {
        "invalid": "must be a name, or a mapping of one name to its parameters",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return {"name": value, "params": {}}
        if isinstance(value, Mapping) and len(value) == 1:
            ((name, params),) = value.items()
            if isinstance(name, str) and (params is None or isinstance(params, Mapping)):
                return {"name": name, "params": dict(params or {})}
        raise self.make_error("invalid")


class StateRefs(fields.Field):
    """One state key, or a list of them."""

    default_error_messages = {"invalid": "must be a state key or a list of state keys"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list) and items and all(isinstance(i, str) for i in items):
            return tuple(items)
        raise self.make_error("invalid")


class ProgramSchema(Schema):
    name = fields.String(required=True, metadata=_d("the program's full name"))
    short_name = fields.String(required=True, metadata=_d("a short name for menus"))
    wording = fields.Dict(
        keys=_one_of(v.WORDING_KEYS, "wording key"),
        values=fields.String(),
        load_default=dict,
        metadata=_d("portal texts: " + ", ".join(v.WORDING_KEYS)),
    )


class RatingLevelSchema(Schema):
    key = _key("the level's key", required=True)
    label = fields.String(required=True, metadata=_d("the level as teachers read it"))
    meets_standard = fields.Boolean(required=True, metadata=_d("whether it meets standard"))


class StandardSchema(Schema):
    key = _key("the standard's key", required=True)
    label = fields.String(required=True, metadata=_d("the standard's title"))


class EligibilitySchema(Schema):
    latest_ratings = fields.List(
        _key("rating key"), metadata=_d("the teacher's latest rating must be one of these")
    )
    min_years_of_service = fields.Integer(
        validate=validate.Range(min=0), metadata=_d("years the teacher has served, at least")
    )
    requires_permanent_status = fields.Boolean(
        load_default=False, metadata=_d("only teachers with permanent status")
    )


class StateSchema(Schema):
    label = fields.String(required=True, metadata=_d("the state as the portal shows it"))
    terminal = fields.Boolean(load_default=False, metadata=_d("the case ends here"))
    outcome_required = fields.Boolean(
        load_default=False, metadata=_d("entering it must record an outcome")
    )


class TransitionSchema(Schema):
    key = _key("the action's key", required=True)
    label = fields.String(required=True, metadata=_d("the action's button text"))
    from_ = StateRefs(data_key="from", required=True, metadata=_d("the state or states it leaves"))
    to = _key("the state it enters", required=True)
    actors = fields.List(
        _key("role or relation"),
        required=True,
        validate=validate.Length(min=1, error="must name at least one role or relation"),
        metadata=_d("roles and case relations allowed to take it (any one suffices)"),
    )
    guards = fields.List(NamedRef(), load_default=list, metadata=_d("conditions, all must pass"))
    effects = fields.List(NamedRef(), load_default=list, metadata=_d("what happens after"))


class TrackSchema(Schema):
    kind = _one_of(v.TRACK_KINDS, "assistance, review or induction", required=True)
    name = fields.String(required=True, metadata=_d("the track's name"))
    description = fields.String(load_default="", metadata=_d("a paragraph for teachers"))
    eligibility = fields.Nested(EligibilitySchema, load_default=dict, metadata=_d("who may enroll"))
    ct_evaluates = fields.Boolean(
        load_default=False, metadata=_d("the consulting teacher is the primary evaluator")
    )
    principal_secondary_evaluator = fields.Boolean(
        load_default=False,
        metadata=_d("the principal is a secondary evaluator and may add evidence"),
    )
    shared_with_principal = fields.List(
        _one_of(v.SHARED_ITEMS, "shared item"),
        load_default=list,
        metadata=_d(
            "what the principal of the case's school sees (any item makes the case visible "
            "to them, on any kind of track): " + ", ".join(v.SHARED_ITEMS)
        ),
    )
    shared_with_teacher = fields.List(
        _one_of(v.TEACHER_SHAREABLE, "item shared with the teacher"),
        load_default=list,
        metadata=_d(
            "what the teacher sees beyond their own record, once the final authority approves "
            "the decision: " + ", ".join(f"{k} ({w})" for k, w in v.TEACHER_SHAREABLE.items())
        ),
    )
    initial_state = _key("the state a new case starts in", required=True)
    states = _keyed(
        fields.Nested(StateSchema),
        "the case's states",
        required=True,
        validate=validate.Length(min=1, error="must list at least one state"),
    )
    transitions = fields.List(
        fields.Nested(TransitionSchema), required=True, metadata=_d("the actions")
    )
    ballot_options = fields.List(
        _key("ballot option"),
        load_default=list,
        metadata=_d("what panel members vote on: rating keys or " + ", ".join(v.BALLOT_WORDS)),
    )
    steps = fields.Dict(
        keys=fields.String(),
        values=_key("action key"),
        load_default=dict,
        metadata=_d(
            "what the track's steps mean: each meaning ("
            + ", ".join(f"`{name}`" for name in MEANINGS)
            + ") to the key of the action that carries it; an action may carry several. "
            "A meaning left out is derived from the steps' guards and effects (see Step "
            "meanings)"
        ),
    )
    caseload_weight = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=5),
        metadata=_d("how many caseload places one case takes"),
    )
    response_window_days = fields.Integer(
        validate=validate.Range(min=1, max=60),
        metadata=_d(
            "how many calendar days after the final authority's approval the teacher may "
            "attach a written response to the decision (it is kept with the decision and does "
            "not change it); left out, the teacher may not respond"
        ),
    )
    acknowledged_by = fields.List(
        _one_of(v.ACKNOWLEDGERS, "who acknowledges"),
        load_default=lambda: ["case_teacher"],
        validate=validate.ContainsOnly(list(v.ACKNOWLEDGERS)),
        metadata=_d(
            "who acknowledges the approved decision and each status report with a typed-name "
            "signature (receipt, not agreement); the teacher always does: "
            + ", ".join(f"{k} ({w})" for k, w in v.ACKNOWLEDGERS.items())
        ),
    )
    appeal = fields.Nested(
        "AppealSchema",
        metadata=_d("the teacher's appeal of the approved decision; left out, no appeal"),
    )
    status_reports = fields.Nested(
        "StatusReportsSchema",
        metadata=_d(
            "when the consulting teacher reports to the panel on a case; left out, no reports"
        ),
    )


class VisitTypeSchema(Schema):
    label = fields.String(required=True, metadata=_d("the visit type's name"))
    log_fields = fields.List(
        _one_of(v.VISIT_FIELDS, "log field"),
        data_key="fields",
        load_default=lambda: ["date", "duration_minutes", "focus_standards", "notes"],
        metadata=_d("what the visit log asks for: " + ", ".join(v.VISIT_FIELDS)),
    )
    required_to_count = fields.List(
        _one_of(v.VISIT_EVIDENCE_FIELDS, "log field"),
        metadata=_d(
            "the fields a logged visit must have filled in to count toward guards such as "
            "`min_visits`, each among `fields` (default: "
            + " and ".join(f"`{name}`" for name in v.DEFAULT_REQUIRED_TO_COUNT)
            + ", those of them the type logs; `[]`: none)"
        ),
    )

    @validates_schema
    def _requires_only_logged_fields(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        logged = data.get("log_fields", ())
        problems = {
            i: [f"'{name}' is not among this visit type's fields"]
            for i, name in enumerate(data.get("required_to_count") or ())
            if name not in logged
        }
        if problems:
            raise ValidationError({"required_to_count": problems})


class ConstituencySchema(Schema):
    label = fields.String(required=True, metadata=_d("e.g. Teachers"))
    seats = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata=_d("voting seats")
    )


class DecisionRuleSchema(Schema):
    kind = _one_of(v.DECISION_KINDS, "majority, supermajority or unanimity", required=True)
    at_least = fields.Integer(
        validate=validate.Range(min=1), metadata=_d("supermajority: votes needed, in seats")
    )
    fraction = fields.Float(
        validate=validate.Range(min=0, min_inclusive=False),
        metadata=_d("supermajority: share of votes needed, e.g. 0.67"),
    )
    of = _one_of(
        v.DECISION_BASES, "count against members present or all seats", load_default="present"
    )


class AppealSchema(Schema):
    window_working_days = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=60),
        metadata=_d(
            "working days after the approval in which the teacher may appeal (weekends and "
            "the district calendar's closed days do not count)"
        ),
    )
    body = _one_of(
        v.APPEAL_BODIES,
        "who decides: " + ", ".join(f"{k} ({w})" for k, w in v.APPEAL_BODIES.items()),
        required=True,
    )
    granted_outcome = _key("the outcome the case takes when the appeal is granted", required=True)
    decision_rule = fields.Nested(
        DecisionRuleSchema, metadata=_d("appeal_panel only: votes needed to grant the appeal")
    )

    @validates_schema
    def _rule_only_for_a_panel(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        has_rule = "decision_rule" in data
        if data.get("body") == "appeal_panel" and not has_rule:
            raise ValidationError({"decision_rule": ["an appeal panel needs a decision rule"]})
        if data.get("body") != "appeal_panel" and has_rule:
            raise ValidationError({"decision_rule": ["only an appeal panel has a decision rule"]})


class ReportPointSchema(Schema):
    label = fields.String(required=True, metadata=_d('e.g. "Mid-semester (fall)"'))
    on = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d\d-\d\d$", error="must be MM-DD, e.g. 10-31"),
        metadata=_d("the day of the school year it is due, MM-DD"),
    )


class StatusReportsSchema(Schema):
    every_weeks = fields.Integer(
        validate=validate.Range(min=1, max=26),
        metadata=_d("a report every this many weeks from the case's start"),
    )
    at = fields.List(
        fields.Nested(ReportPointSchema),
        validate=validate.Length(min=1, error="must list at least one point"),
        metadata=_d("a report at each named point of the school year"),
    )
    before_each_session = fields.Boolean(
        load_default=False, metadata=_d("a report before each panel session")
    )
    remind_days_before = fields.Integer(
        load_default=7,
        validate=validate.Range(min=1, max=30),
        metadata=_d("days ahead of the due date that the consulting teacher is reminded"),
    )

    @validates_schema
    def _one_schedule(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        chosen = [
            name
            for name in ("every_weeks", "at", "before_each_session")
            if data.get(name) not in (None, False)
        ]
        if len(chosen) != 1:
            raise ValidationError(
                {"_schema": ["choose exactly one schedule: every_weeks, at or before_each_session"]}
            )


class PanelSchema(Schema):
    constituencies = _keyed(
        fields.Nested(ConstituencySchema),
        "the sides of the joint panel and their seats",
        required=True,
        validate=validate.Length(min=1, error="must list at least one constituency"),
    )
    chair = _key("a constituency key, alternating or co_chairs", required=True)
    quorum = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata=_d("members present to vote")
    )
    decision_rule = fields.Nested(
        DecisionRuleSchema, required=True, metadata=_d("votes needed to decide")
    )
    per_constituency_minimum = fields.Integer(
        validate=validate.Range(min=1), metadata=_d("votes needed from every constituency")
    )
    tie_rule = _one_of(
        v.TIE_RULES,
        "what happens when no option carries the decision rule, tied or not",
        load_default="defer",
    )
    recusal = fields.List(
        _one_of(v.RECUSAL_RULES, "recusal rule"),
        load_default=list,
        metadata=_d("who steps aside: " + ", ".join(v.RECUSAL_RULES)),
    )
    sealed_ballots = fields.Boolean(
        load_default=True, metadata=_d("votes stay hidden until the session closes")
    )
    invite_teacher = fields.Boolean(load_default=False, metadata=_d("the teacher may attend"))
    invite_principal = fields.Boolean(
        load_default=False, metadata=_d("the principal may attend and present evidence")
    )


class FinalAuthoritySchema(Schema):
    role = fields.String(
        load_default="final_authority",
        validate=validate.Equal("final_authority", error="must be final_authority"),
        metadata=_d("always final_authority"),
    )
    label = fields.String(required=True, metadata=_d('e.g. "Superintendent"'))
    may_return = fields.Boolean(
        load_default=True, metadata=_d("may send a recommendation back to the panel")
    )


class OutcomeSchema(Schema):
    label = fields.String(required=True, metadata=_d("the outcome's name"))
    group = _key("the report group it counts in", required=True)


class ReportGroupSchema(Schema):
    label = fields.String(required=True, metadata=_d("the column heading in reports"))
    network_group = _one_of(
        v.NETWORK_GROUPS,
        "what the national network calls this group (default: other)",
        load_default="other",
    )


class StatementSchema(Schema):
    key = _key("the statement's key", required=True)
    text = fields.String(required=True, metadata=_d("the statement"))


class SurveySchema(Schema):
    key = _key("the survey's key", required=True)
    title = fields.String(required=True, metadata=_d("the survey's title"))
    scale = fields.List(
        _key("answer"),
        load_default=lambda: list(v.DEFAULT_SURVEY_SCALE),
        validate=validate.Length(min=2, error="must offer at least two answers"),
        metadata=_d("answers, most positive first"),
    )
    statements = fields.List(
        fields.Nested(StatementSchema),
        required=True,
        validate=validate.Length(min=1, error="must list at least one statement"),
        metadata=_d("Likert statements"),
    )
    comment_question = fields.String(metadata=_d("a free-text question, if any"))


class NotificationSchema(Schema):
    on = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^([a-z][a-z0-9_]*\.)?[a-z][a-z0-9_]*$",
            error="must be an action key or track_key.action_key",
        ),
        metadata=_d("an action key (any track) or track_key.action_key"),
    )
    to = fields.List(
        _key("role or relation"),
        required=True,
        validate=validate.Length(min=1, error="must name at least one recipient"),
        metadata=_d("roles and relations to tell"),
    )
    template = _key("the message template's key", required=True)


class DeadlineSchema(Schema):
    key = _key("the deadline's key", required=True)
    label = fields.String(required=True, metadata=_d("the deadline's name"))
    relative_to = _one_of(v.DEADLINE_ANCHORS, "the date it counts from", required=True)
    days = fields.Integer(required=True, metadata=_d("days after (negative: before)"))


class CaseloadSchema(Schema):
    default_limit = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata=_d("weighted cases per CT")
    )
    min_limit = fields.Integer(
        validate=validate.Range(min=1),
        metadata=_d("the fewest cases a CT's caseload limit may be set to"),
    )
    max_limit = fields.Integer(
        validate=validate.Range(min=1), metadata=_d("the most a CT may ever carry")
    )

    @validates_schema
    def _default_within_bounds(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        low, high, default = data.get("min_limit"), data.get("max_limit"), data.get("default_limit")
        if low is not None and high is not None and low > high:
            raise ValidationError({"min_limit": ["must not be more than max_limit"]})
        if default is not None and low is not None and default < low:
            raise ValidationError({"default_limit": ["must be at least min_limit"]})
        if default is not None and high is not None and default > high:
            raise ValidationError({"default_limit": ["must not be more than max_limit"]})

    term_years = fields.Integer(
        validate=validate.Range(min=1), metadata=_d("years a CT serves before returning")
    )


#: Fifty years: a longer limit would count every open imported case forever.
MAX_OPEN_IMPORTED_CASE_MONTHS = 600


class ReportSchema(Schema):
    open_imported_case_months = fields.Integer(
        load_default=DEFAULT_OPEN_IMPORTED_CASE_MONTHS,
        validate=validate.Range(
            min=1,
            max=MAX_OPEN_IMPORTED_CASE_MONTHS,
            error=f"must be a whole number of months from 1 to {MAX_OPEN_IMPORTED_CASE_MONTHS}",
        ),
        metadata=_d(
            "months after its support began that an imported case with no closing date "
            "still counts as active in the annual report (a district's records often "
            "leave the closing date out)"
        ),
    )


#: The languages a document may translate its labels into (English is the document itself).
TRANSLATED_LANGUAGES = ("es", "ht")


class ProgramTranslationSchema(Schema):
    name = fields.String(metadata=_d("the program's full name"))
    short_name = fields.String(metadata=_d("its short name"))
    wording = fields.Dict(
        keys=_one_of(v.WORDING_KEYS, "wording key"),
        values=fields.String(),
        load_default=dict,
        metadata=_d("portal texts, by the same keys as program.wording"),
    )


class TrackTranslationSchema(Schema):
    name = fields.String(metadata=_d("the track's name"))
    description = fields.String(metadata=_d("its paragraph for teachers"))
    states = _keyed(fields.String(), "state key: its label", load_default=dict)


class SurveyTranslationSchema(Schema):
    title = fields.String(metadata=_d("the survey's title"))
    comment_question = fields.String(metadata=_d("its free-text question"))
    statements = _keyed(fields.String(), "statement key: its text", load_default=dict)


class TranslationSchema(Schema):
    program = fields.Nested(ProgramTranslationSchema, metadata=_d("names and wording"))
    tracks = _keyed(
        fields.Nested(TrackTranslationSchema), "track key: its words", load_default=dict
    )
    outcomes = _keyed(fields.String(), "outcome key: its label", load_default=dict)
    visit_types = _keyed(fields.String(), "visit type key: its label", load_default=dict)
    surveys = _keyed(
        fields.Nested(SurveyTranslationSchema), "survey key: its words", load_default=dict
    )


class DocumentSchema(Schema):
    schema_version = fields.Integer(
        required=True,
        validate=validate.Equal(SCHEMA_VERSION, error=f"must be {SCHEMA_VERSION}"),
        metadata=_d("the document format's version"),
    )
    program = fields.Nested(ProgramSchema, required=True, metadata=_d("names and wording"))
    rating_scale = fields.List(
        fields.Nested(RatingLevelSchema),
        required=True,
        validate=validate.Length(min=1, error="must list at least one level"),
        metadata=_d("rating levels, best first"),
    )
    standards = fields.List(
        fields.Nested(StandardSchema), load_default=list, metadata=_d("rubric standards")
    )
    tracks = _keyed(
        fields.Nested(TrackSchema),
        "the program's tracks",
        required=True,
        validate=validate.Length(min=1, error="must list at least one track"),
    )
    visit_types = _keyed(fields.Nested(VisitTypeSchema), "kinds of CT visits", load_default=dict)
    panel = fields.Nested(PanelSchema, metadata=_d("the joint panel's rules"))
    final_authority = fields.Nested(
        FinalAuthoritySchema, metadata=_d("who approves the panel's recommendation")
    )
    outcomes = _keyed(fields.Nested(OutcomeSchema), "how cases end", load_default=dict)
    report_groups = _keyed(
        fields.Nested(ReportGroupSchema), "how outcomes are counted", load_default=dict
    )
    surveys = fields.List(
        fields.Nested(SurveySchema), load_default=list, metadata=_d("participant surveys")
    )
    notifications = fields.List(
        fields.Nested(NotificationSchema), load_default=list, metadata=_d("who hears of what")
    )
    deadlines = fields.List(
        fields.Nested(DeadlineSchema), load_default=list, metadata=_d("dates cases work to")
    )
    school_year_start = fields.String(
        load_default="09-01",
        validate=validate.Regexp(r"^\d\d-\d\d$", error="must be MM-DD, e.g. 09-01"),
        metadata=_d("the first day of the school year, MM-DD"),
    )
    caseload = fields.Nested(
        CaseloadSchema,
        load_default=lambda: {"default_limit": 12},
        metadata=_d("consulting teachers' caseloads"),
    )
    report = fields.Nested(
        ReportSchema,
        load_default=lambda: {"open_imported_case_months": DEFAULT_OPEN_IMPORTED_CASE_MONTHS},
        metadata=_d("how the annual report counts"),
    )
    translations = fields.Dict(
        keys=_one_of(TRANSLATED_LANGUAGES, "language: es (Spanish) or ht (Haitian Creole)"),
        values=fields.Nested(TranslationSchema),
        load_default=dict,
        metadata=_d(
            "the labels a teacher reads, per language (es, ht): program, tracks (name, "
            "description, states), outcomes, visit_types, surveys (title, comment_question, "
            "statements); English is used where a label has no translation"
        ),
    )
