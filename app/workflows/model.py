"""Frozen dataclasses for a validated program configuration.

The engine and the services read only these, never the raw document, so a
published version cannot be changed by accident while a case is using it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from app.workflows.panel import DecisionRule, PanelRules


@dataclass(frozen=True)
class GuardRef:
    name: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class EffectRef:
    name: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class State:
    key: str
    label: str
    terminal: bool = False
    outcome_required: bool = False


@dataclass(frozen=True)
class Transition:
    """One action: from any of ``sources`` to ``to``, for any of ``actors``."""

    key: str
    label: str
    sources: tuple[str, ...]
    to: str
    actors: frozenset[str]
    guards: tuple[GuardRef, ...] = ()
    effects: tuple[EffectRef, ...] = ()


@dataclass(frozen=True)
class Eligibility:
    latest_ratings: frozenset[str] | None = None
    min_years_of_service: int | None = None
    requires_permanent_status: bool = False

    def failures(
        self, latest_rating: str | None, years_of_service: int, permanent: bool
    ) -> tuple[str, ...]:
        """Why a teacher may not enroll; the service stores these as case facts."""
        reasons = []
        if self.latest_ratings is not None and latest_rating not in self.latest_ratings:
            allowed = ", ".join(sorted(self.latest_ratings))
            reasons.append(f"latest rating must be one of {allowed}")
        if self.min_years_of_service is not None and years_of_service < self.min_years_of_service:
            reasons.append(f"needs {self.min_years_of_service} years of service")
        if self.requires_permanent_status and not permanent:
            reasons.append("needs permanent status")
        return tuple(reasons)


@dataclass(frozen=True)
class AppealRules:
    """How a track lets the teacher appeal the approved decision.

    The window is counted in the district's working days (weekends and the district
    calendar's closed days do not count) from the day after the approval.
    """

    window_working_days: int
    #: Who decides the appeal: final_authority, appeal_panel or arbiter.
    body: str
    #: The outcome the case takes when the appeal is granted.
    granted_outcome: str
    #: The appeal panel's rule (appeal_panel only).
    decision_rule: DecisionRule | None = None


@dataclass(frozen=True)
class ReportPoint:
    """A named point of the school year a status report is due (``on`` is MM-DD)."""

    label: str
    on: tuple[int, int]


@dataclass(frozen=True)
class StatusReportRules:
    """When the consulting teacher reports to the panel on a case of this track.

    Exactly one schedule is set: every ``every_weeks`` weeks from the case's start, at
    named points of the school year, or before each panel session.
    """

    every_weeks: int | None = None
    at: tuple[ReportPoint, ...] = ()
    before_each_session: bool = False
    #: Days ahead of a report's due date that its author is reminded.
    remind_days_before: int = 7


@dataclass(frozen=True)
class Track:
    key: str
    kind: str
    name: str
    description: str
    eligibility: Eligibility
    ct_evaluates: bool
    principal_secondary_evaluator: bool
    shared_with_principal: frozenset[str]
    shared_with_teacher: frozenset[str]
    initial_state: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    ballot_options: tuple[str, ...]
    caseload_weight: int
    #: Meaning (:mod:`app.workflows.meanings`) -> the action key carrying it, named by the
    #: document or derived when it was built.
    steps: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Calendar days after the approval in which the teacher may respond; None: no response.
    response_window_days: int | None = None
    #: Case relations who acknowledge the decision and status reports (the teacher always).
    acknowledged_by: frozenset[str] = frozenset({"case_teacher"})
    #: The appeal of the approved decision, where the track allows one.
    appeal: AppealRules | None = None
    #: The consulting teacher's status reports to the panel, where the track asks for them.
    status_reports: StatusReportRules | None = None

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        """Actions that leave ``state``, in document order."""
        return tuple(t for t in self.transitions if state in t.sources)

    def transition(self, state: str, action: str) -> Transition | None:
        """The action ``action`` from ``state``, if there is one."""
        return next((t for t in self.transitions_from(state) if t.key == action), None)

    def step_for(self, meaning: str, state: str) -> Transition | None:
        """The step with ``meaning`` that leaves ``state``, if the track has one there.

        Services find the panel's decision, the approval and the rest this way, never by
        a step's key or by the guards and effects it carries.
        """
        key = self.steps.get(meaning)
        return self.transition(state, key) if key is not None else None

    def steps_for(self, meaning: str) -> tuple[Transition, ...]:
        """Every entry of the action with ``meaning`` (one per group of states it leaves)."""
        key = self.steps.get(meaning)
        return tuple(t for t in self.transitions if key is not None and t.key == key)

    def means(self, action: str, meaning: str) -> bool:
        """Whether the action ``action`` carries ``meaning`` in this track."""
        return self.steps.get(meaning) == action

    @property
    def needs_committee_consensus(self) -> bool:
        """Whether a step waits for the committee's consensus on the assignment.

        The consensus is a fact only the assignment service can establish (a proposal the
        committee approved), so where any step asks for it, a proposal must wait for the
        committee instead of taking effect at once, or that step could never be taken.
        """
        return any(g.name == "committee_consensus" for t in self.transitions for g in t.guards)

    @property
    def terminal_states(self) -> tuple[str, ...]:
        return tuple(k for k, s in self.states.items() if s.terminal)

    @property
    def is_evaluative(self) -> bool:
        return self.kind != "assistance"


@dataclass(frozen=True)
class RatingLevel:
    key: str
    label: str
    meets_standard: bool


@dataclass(frozen=True)
class Standard:
    key: str
    label: str


@dataclass(frozen=True)
class VisitType:
    key: str
    label: str
    fields: tuple[str, ...]
    #: Fields a logged visit must have filled in to count toward the guards.
    required_to_count: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    group: str


@dataclass(frozen=True)
class ReportGroup:
    key: str
    label: str
    network_group: str = "other"


@dataclass(frozen=True)
class Statement:
    key: str
    text: str


@dataclass(frozen=True)
class Survey:
    key: str
    title: str
    scale: tuple[str, ...]
    statements: tuple[Statement, ...]
    comment_question: str | None = None


@dataclass(frozen=True)
class Notification:
    on: str
    to: frozenset[str]
    template: str

    def matches(self, track_key: str, action: str) -> bool:
        return self.on in (action, f"{track_key}.{action}")


@dataclass(frozen=True)
class Deadline:
    key: str
    label: str
    relative_to: str
    days: int


@dataclass(frozen=True)
class FinalAuthority:
    label: str
    may_return: bool
    role: str = "final_authority"


@dataclass(frozen=True)
class Caseload:
    default_limit: int
    max_limit: int | None = None
    min_limit: int | None = None
    term_years: int | None = None


#: How long, by default, an imported case with no closing date still counts as open: PAR
#: support rarely runs past two years, and three leaves room for the cases that do.
DEFAULT_OPEN_IMPORTED_CASE_MONTHS = 36


@dataclass(frozen=True)
class ReportRules:
    """How the annual report counts what a district's records leave unsaid."""

    #: Months after its support began that an imported case with no closing date still
    #: counts as active: history files often omit the closing date of a case long closed.
    open_imported_case_months: int = DEFAULT_OPEN_IMPORTED_CASE_MONTHS


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    short_name: str
    wording: Mapping[str, str]


@dataclass(frozen=True)
class ProgramConfig:
    schema_version: int
    program: ProgramInfo
    rating_scale: tuple[RatingLevel, ...]
    standards: tuple[Standard, ...]
    tracks: Mapping[str, Track]
    visit_types: Mapping[str, VisitType]
    outcomes: Mapping[str, Outcome]
    report_groups: Mapping[str, ReportGroup]
    surveys: tuple[Survey, ...]
    notifications: tuple[Notification, ...]
    deadlines: Mapping[str, Deadline]
    school_year_start: tuple[int, int]
    caseload: Caseload
    panel: PanelRules | None = None
    final_authority: FinalAuthority | None = None
    report: ReportRules = ReportRules()

    def track(self, key: str) -> Track:
        return self.tracks[key]

    def rating(self, key: str) -> RatingLevel:
        return next(level for level in self.rating_scale if level.key == key)

    def meets_standard(self, rating_key: str) -> bool:
        """Whether a rating counts as meeting standard (unknown keys never do)."""
        return any(r.key == rating_key and r.meets_standard for r in self.rating_scale)

    def recommendation_options(self, track_key: str) -> tuple[str, ...]:
        """What the CT may recommend: the track's ballot options, unless the panel votes
        on the recommendation itself (affirm/reject), in which case a rating."""
        from app.workflows.vocabulary import VOTES_ON_RECOMMENDATION

        options = self.tracks[track_key].ballot_options
        if options and not set(options) & VOTES_ON_RECOMMENDATION:
            return tuple(options)
        return tuple(level.key for level in self.rating_scale)

    def outcome_group(self, outcome_key: str) -> ReportGroup:
        return self.report_groups[self.outcomes[outcome_key].group]

    def notifications_for(self, track_key: str, action: str) -> tuple[Notification, ...]:
        return tuple(n for n in self.notifications if n.matches(track_key, action))

    def school_year(self, today: date) -> tuple[date, date]:
        """First and last day of the school year containing ``today``."""
        month, day = self.school_year_start
        start = _on_or_before(today.year, month, day)
        if start > today:
            start = _on_or_before(today.year - 1, month, day)
        following = _on_or_before(start.year + 1, month, day)
        return start, date.fromordinal(following.toordinal() - 1)


def _on_or_before(year: int, month: int, day: int) -> date:
    # 02-29 is a real date in leap years only; fall back to 02-28 otherwise.
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1)
