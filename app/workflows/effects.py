"""Effects: the closed set of things a transition causes.

Planning an effect is pure: it returns a command dataclass, or a sentence
saying why it cannot be planned (e.g. no outcome chosen). The service layer
executes the commands, writing outbox rows in the same transaction as the
state change, so nothing leaves the database half-done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, fields, validate

from app.workflows import vocabulary as v
from app.workflows.facts import CaseFacts
from app.workflows.model import ProgramConfig, Track, Transition
from app.workflows.registry import DocumentIndex, Entry, Problems, unknown_keys


@dataclass(frozen=True)
class Notify:
    to: frozenset[str]
    template: str


@dataclass(frozen=True)
class ScheduleDeadline:
    key: str
    due_on: date
    #: The date the definition gave, when it was already past and ``due_on`` was moved.
    moved_from: date | None = None


@dataclass(frozen=True)
class CancelDeadline:
    key: str


@dataclass(frozen=True)
class OpenPanelReview:
    ballot_options: tuple[str, ...]


@dataclass(frozen=True)
class CloseWithOutcome:
    outcome: str
    group: str


@dataclass(frozen=True)
class AssignReportGroup:
    group: str


@dataclass(frozen=True)
class RecordRating:
    rating: str
    source: str
    meets_standard: bool


@dataclass(frozen=True)
class SendSurvey:
    survey: str


Command = (
    Notify
    | ScheduleDeadline
    | CancelDeadline
    | OpenPanelReview
    | CloseWithOutcome
    | AssignReportGroup
    | RecordRating
    | SendSurvey
)


@dataclass(frozen=True)
class EffectContext:
    """What an effect may read while being planned."""

    config: ProgramConfig
    track: Track
    facts: CaseFacts


Planner = Callable[[Mapping[str, Any], EffectContext], "Command | str"]


def _d(text: str) -> dict[str, str]:
    return {"description": text}


class _Notify(Schema):
    to = fields.List(
        fields.String(),
        required=True,
        validate=validate.Length(min=1),
        metadata=_d("roles and case relations to tell"),
    )
    template = fields.String(required=True, metadata=_d("the message template's key"))


class _DeadlineParams(Schema):
    deadline = fields.String(required=True, metadata=_d("a deadline key"))


class _Close(Schema):
    outcome = fields.String(metadata=_d("a fixed outcome key"))
    choices = fields.List(
        fields.String(),
        validate=validate.Length(min=1),
        metadata=_d("outcome keys the actor chooses from; all outcomes when omitted"),
    )


class _Group(Schema):
    group = fields.String(required=True, metadata=_d("a report group key"))


class _Rating(Schema):
    source = fields.String(
        required=True,
        validate=validate.OneOf(v.RATING_SOURCES),
        metadata=_d("who gives the rating"),
    )
    rating = fields.String(metadata=_d("a fixed rating key; otherwise the payload's rating"))


class _Survey(Schema):
    survey = fields.String(required=True, metadata=_d("a survey key"))


def _notify(params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    return Notify(frozenset(params["to"]), params["template"])


def _check_notify(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    return unknown_keys(params["to"], index.actors, "role or relation", "to")


def _anchor(relative_to: str, ctx: EffectContext) -> date | str:
    facts = ctx.facts
    start, end = ctx.config.school_year(facts.today)
    anchors = {
        "cycle_start": facts.cycle_start or start,
        "cycle_end": facts.cycle_end or end,
        "enrolled_on": facts.enrolled_on,
        "state_entered": facts.today,
    }
    return anchors[relative_to] or "the case has no enrollment date to count from"


#: How far a deadline already past on the day it is scheduled is moved: a week from that
#: day, the lead time of the deadline reminders, so the person still gets theirs.
PAST_DEADLINE_MOVED_BY = timedelta(days=7)


def _schedule(params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    deadline = ctx.config.deadlines[params["deadline"]]
    anchor = _anchor(deadline.relative_to, ctx)
    if isinstance(anchor, str):
        return anchor
    due = anchor + timedelta(days=deadline.days)
    return _not_in_the_past(deadline.key, due, ctx.facts.today)


def _not_in_the_past(key: str, due: date, today: date) -> ScheduleDeadline:
    """A date already past when a case reaches the step (a case beginning mid-year, a
    fixed point of the year) is moved a week ahead, never skipped in silence: the case
    keeps the original date and shows that it was moved."""
    if due >= today:
        return ScheduleDeadline(key, due)
    return ScheduleDeadline(key, today + PAST_DEADLINE_MOVED_BY, moved_from=due)


def _cancel(params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    return CancelDeadline(params["deadline"])


def _check_deadline(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    return unknown_keys(params["deadline"], index.deadlines, "deadline", "deadline")


def _open_panel(params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    return OpenPanelReview(ctx.track.ballot_options)


def _check_panel(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    return [] if index.has_panel else [("", "the document has no panel section")]


def outcome_choices(params: Mapping[str, Any], config: ProgramConfig) -> tuple[str, ...]:
    """Outcomes an actor may pick for ``close_with_outcome``; empty when fixed."""
    if params.get("outcome"):
        return ()
    return tuple(params.get("choices") or config.outcomes)


def chosen_outcomes(step: Transition, config: ProgramConfig) -> tuple[str, ...]:
    """The outcomes the person taking ``step`` chooses among; empty when the step fixes its
    outcome or closes nothing. A form offers exactly these, and the step accepts them."""
    keys = [
        key
        for ref in step.effects
        if ref.name == "close_with_outcome"
        for key in outcome_choices(ref.params, config)
    ]
    return tuple(dict.fromkeys(keys))


def closes_with(step: Transition, config: ProgramConfig) -> tuple[str, ...]:
    """Every outcome ``step`` can close a case with (fixed or chosen); empty when it closes
    nothing. Services read this instead of the effect's parameters."""
    keys = [
        key
        for ref in step.effects
        if ref.name == "close_with_outcome"
        for key in ((ref.params["outcome"],) if ref.params.get("outcome") else ())
        + outcome_choices(ref.params, config)
    ]
    return tuple(dict.fromkeys(keys))


def _close(params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    choices = outcome_choices(params, ctx.config)
    chosen = params.get("outcome") or ctx.facts.payload.get("outcome") or ctx.facts.outcome
    labels = ", ".join(ctx.config.outcomes[c].label for c in choices)
    if not chosen:
        return f"choose an outcome: {labels}"
    if choices and chosen not in choices:
        return f"that is not an outcome of this step (choose {labels})"
    return CloseWithOutcome(chosen, ctx.config.outcomes[chosen].group)


def _check_close(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    if "outcome" in params and "choices" in params:
        return [("", "give either outcome or choices, not both")]
    return unknown_keys(params.get("outcome"), index.outcomes, "outcome", "outcome") + (
        unknown_keys(params.get("choices"), index.outcomes, "outcome", "choices")
    )


def _assign_group(params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    return AssignReportGroup(params["group"])


def _check_group(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    return unknown_keys(params["group"], index.report_groups, "report group", "group")


def rating_choices(
    params: Mapping[str, Any], config: ProgramConfig, track: Track
) -> tuple[str, ...]:
    """Ratings an actor may pick for ``record_rating``; empty when fixed."""
    if params.get("rating"):
        return ()
    keys = [level.key for level in config.rating_scale]
    on_ballot = tuple(k for k in track.ballot_options if k in keys)
    return on_ballot or tuple(keys)


def _record_rating(params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    choices = rating_choices(params, ctx.config, ctx.track)
    chosen = params.get("rating") or ctx.facts.payload.get("rating")
    if not chosen:
        return "choose a rating: " + ", ".join(choices)
    if choices and chosen not in choices:
        return f"'{chosen}' is not a rating this action accepts (choose {', '.join(choices)})"
    return RecordRating(chosen, params["source"], ctx.config.meets_standard(chosen))


def _check_rating(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    return unknown_keys(params.get("rating"), index.ratings, "rating", "rating")


def _survey(params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    return SendSurvey(params["survey"])


def _check_survey(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    return unknown_keys(params["survey"], index.surveys, "survey", "survey")


_ENTRIES: tuple[Entry[Planner], ...] = (
    Entry(
        "notify",
        "Send `template` to the people in `to` (roles and case relations).",
        _notify,
        _Notify,
        {"to": ["case_teacher", "assigned_ct"], "template": "ct_assigned"},
        _check_notify,
    ),
    Entry(
        "schedule_deadline",
        "Set the case's `deadline`, dated from the deadline's definition. A date already "
        "past on the day it is scheduled is moved to a week from that day, and the case "
        "shows the date it was moved from.",
        _schedule,
        _DeadlineParams,
        {"deadline": "recommendation_due"},
        _check_deadline,
    ),
    Entry(
        "cancel_deadline",
        "Clear the case's `deadline` (it no longer applies).",
        _cancel,
        _DeadlineParams,
        {"deadline": "recommendation_due"},
        _check_deadline,
    ),
    Entry(
        "open_panel_review",
        "Put the case on the panel's docket with the track's ballot options.",
        _open_panel,
        check=_check_panel,
    ),
    Entry(
        "close_with_outcome",
        "Close the case with `outcome`, or with the payload's `outcome` among `choices`.",
        _close,
        _Close,
        {"choices": ["met_standards", "resigned", "retired"]},
        _check_close,
    ),
    Entry(
        "assign_report_group",
        "Count the case in report `group` without closing it (e.g. still active).",
        _assign_group,
        _Group,
        {"group": "active"},
        _check_group,
    ),
    Entry(
        "record_rating",
        "Record a rating from `source`: the fixed `rating`, or the payload's `rating`.",
        _record_rating,
        _Rating,
        {"source": "final_authority"},
        _check_rating,
    ),
    Entry(
        "send_survey",
        "Invite the teacher to answer `survey`.",
        _survey,
        _Survey,
        {"survey": "participant"},
        _check_survey,
    ),
)

EFFECTS: Mapping[str, Entry[Planner]] = MappingProxyType({e.name: e for e in _ENTRIES})
"""Every effect a document may name."""


def plan_effect(name: str, params: Mapping[str, Any], ctx: EffectContext) -> Command | str:
    """Plan one effect; the name must come from a validated configuration."""
    return EFFECTS[name].func(params, ctx)
