"""What the case page shows one reader, gathered in one place (the page builds its forms
from it): the record they may see, the steps they may take, and what the pickers offer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, select

from app.models.assignment import Assignment, AssignmentReview
from app.models.case import Case, CaseDeadline
from app.models.support import Evidence, Goal, Recommendation, Visit
from app.models.user import User
from app.security.roles import PROGRAM_STAFF
from app.services import (
    appeals,
    case_lists,
    cases,
    deadline_reminders,
    decision_letter,
    roster,
    signatures,
    status_reports,
    support,
)
from app.services import workflow_config as configs
from app.services.assignment_ranking import Suggestion
from app.services.case_permissions import Sections, principal_evaluates, sections
from app.services.panel.ballots import option_label
from app.tenants import reads
from app.tenants.scoping import scoped
from app.workflows import ActionOption, ProgramConfig, Track
from app.workflows.facts import visit_shortfalls


@dataclass(frozen=True)
class CasePage:
    """One reader's case page: every section is empty when they may not see it."""

    case: Case
    config: ProgramConfig
    track: Track
    seen: Sections
    is_ct: bool
    is_principal: bool
    #: The actions this reader may take, and where a step is taken instead of its button
    #: (the recommendation form, the panel's pages).
    actions: list[ActionOption]
    recommendation_step: str | None
    elsewhere: dict[str, str]
    #: Labels for the pickers of a step's payload, never raw keys.
    picker_labels: dict[str, dict[str, str]]
    deadlines: list[CaseDeadline]
    next_deadline: CaseDeadline | None
    #: The sections are read-only rows of the columns the page shows (see ``_visits`` etc.).
    visits: list[VisitLine]
    goals: Sequence[Row]
    evidence: Sequence[Row]
    recommendation: Row | None
    history: Sequence[Row]
    pending: Row | None
    suggestions: list[Suggestion]
    #: The approved decision, for the teacher, their CT and the program staff; else None.
    decision: decision_letter.Decision | None = None
    #: The sections kept in their own services; each is None while it has nothing to show.
    acknowledgment: Any = None
    appeal: Any = None
    status_reports: Any = None
    #: Each deadline with when it is (was) reminded, for the program's staff and the CT.
    deadline_plans: list[deadline_reminders.Plan] = field(default_factory=list)
    #: When each unwritten status report's CT is (was) reminded, in words, by report id.
    report_reminders: dict[int, str] = field(default_factory=dict)
    #: The committee's answers so far to the pending proposal.
    pending_reviews: Sequence[Row] = ()

    def rating_label(self, key: str | None) -> str:
        return option_label(self.config, key)

    @property
    def recommendation_options(self) -> list[tuple[str, str]]:
        """What the CT may recommend on this track, labelled."""
        keys = self.config.recommendation_options(self.case.track_key)
        return [(key, self.rating_label(key)) for key in keys]

    @property
    def reopen_states(self) -> list[tuple[str, str]]:
        """The states a closed case may be reopened into, labelled."""
        return [(k, s.label) for k, s in self.track.states.items() if not s.terminal]

    def context(self) -> dict[str, Any]:
        """The page model as template variables."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return values | {"rating_label": self.rating_label}


def case_page(case: Case, user: User) -> CasePage:
    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    # How the reader stands to the case, worked out once: sections, buttons and reminders
    # all ask (for a panel member, each asking read the panel's agenda again).
    actor = cases.actor_facts(case, user)
    relations = actor.relations
    seen = sections(case, user, track.shared_with_principal, relations)
    history = _history(case) if seen.assignment else []
    pending = next((a for a in history if a.status == "proposed"), None)
    # The visits and evidence the reader's sections show, read once for the sections and
    # the action buttons' guards alike (each when first asked; a reader who does not see a
    # section leaves the guards to read their own).
    visit_rows = cases.once(lambda: _visit_rows(case))
    evidence_rows = cases.once(lambda: _evidence(case))
    shows_visits = seen.visit_summary or seen.visit_notes
    reads = cases.SharedReads(
        visits=visit_rows if shows_visits else None,
        evidence=evidence_rows if seen.evidence else None,
    )
    actions = cases.options(case, user, actor, reads)
    step = cases.recommendation_step(track, case.state)
    reports = status_reports.for_page(case, user)
    reminded = "assigned_ct" in relations or bool(user.roles & PROGRAM_STAFF)
    return CasePage(
        case=case,
        config=config,
        track=track,
        seen=seen,
        is_ct="assigned_ct" in relations,
        is_principal="case_principal" in relations and principal_evaluates(track),
        actions=actions,
        recommendation_step=step.key if step else None,
        elsewhere={
            o.key: reason
            for o in actions
            if (reason := cases.reserved_step(track, case.state, o.key)) is not None
        },
        picker_labels={
            "outcome": {k: o.label for k, o in config.outcomes.items()},
            "rating": {r.key: r.label for r in config.rating_scale},
        },
        deadlines=cases.deadlines(case),
        next_deadline=case_lists.next_deadline(case),
        visits=_visits(case, config, visit_rows(), for_teacher=not seen.evidence)
        if shows_visits
        else [],
        goals=_goals(case) if seen.goals else [],
        evidence=evidence_rows() if seen.evidence else [],
        recommendation=_recommendation(case) if seen.recommendation else None,
        history=history,
        pending=pending,
        pending_reviews=_reviews(pending.id) if pending is not None else (),
        suggestions=roster.suggestions(case) if "coordinator" in user.roles else [],
        decision=decision_letter.decision_for(case, user),
        acknowledgment=signatures.for_page(case, user),
        appeal=appeals.for_page(case, user),
        status_reports=reports,
        # Reminders go to the CT and the coordinator: they (and the staff) read when.
        deadline_plans=deadline_reminders.plan(case, user) if reminded else [],
        report_reminders=_report_reminders(case, reports) if reminded else {},
    )


# The sections, read as rows of the columns the page shows, on the request's connection
# (``reads``). The page only reads them: an entity would bring every column, its author's
# whole row (password hash included) and the identity map's bookkeeping, and the
# committee's answers to every past proposal.


@dataclass(frozen=True)
class VisitLine:
    """One visit as the page lists it; notes the teacher may not read are left out."""

    visit_type: str
    visited_on: date
    planned: bool
    duration_minutes: int | None
    notes: str | None
    next_steps: str | None
    #: Why it does not count toward the guards, judged on the whole record (empty if it does).
    not_counted_because: tuple[str, ...]


def _visits(
    case: Case, config: ProgramConfig, rows: Sequence[Row], *, for_teacher: bool
) -> list[VisitLine]:
    """Newest first, as ``support.visits`` lists them, each saying why it does not count."""
    period = support.support_period(case)
    lines = []
    for row in rows:
        withheld = for_teacher and not row.shared_with_teacher
        lines.append(
            VisitLine(
                visit_type=row.visit_type,
                visited_on=row.visited_on,
                planned=row.planned,
                duration_minutes=row.duration_minutes,
                notes=None if withheld else row.notes,
                next_steps=None if withheld else row.next_steps,
                not_counted_because=visit_shortfalls(row, config.visit_types, period),
            )
        )
    return lines


def _visit_rows(case: Case) -> Sequence[Row]:
    return reads.rows(_VISITS, {"case_id": case.id})


def _goals(case: Case) -> Sequence[Row]:
    return reads.rows(_GOALS, {"case_id": case.id})


def _evidence(case: Case) -> Sequence[Row]:
    return reads.rows(_EVIDENCE, {"case_id": case.id})


def _recommendation(case: Case) -> Row | None:
    """The latest recommendation (a CT may write it again until the panel has the case)."""
    return reads.first(_RECOMMENDATION, {"case_id": case.id})


def _history(case: Case) -> Sequence[Row]:
    """Every proposal and assignment, newest first; the committee's answers are read only
    for a proposal still waiting (``_reviews``), not for every one."""
    return reads.rows(_HISTORY, {"case_id": case.id})


# The sections' reads, built once (``scoped``): every case page sends them, and a statement
# built for each request cost as much in Python again as the one kept.
_CASE_ID = bindparam("case_id")
_VISITS = scoped(
    select(*support.VISIT_RECORD, Visit.principal_present, Visit.shared_with_teacher)
    .where(Visit.case_id == _CASE_ID)
    .order_by(Visit.visited_on.desc())
)
_GOALS = scoped(
    select(Goal.id, Goal.text, Goal.progress).where(Goal.case_id == _CASE_ID).order_by(Goal.id)
)
_EVIDENCE = scoped(
    select(
        Evidence.id,
        Evidence.text,
        Evidence.file_name,
        Evidence.standards,
        Evidence.created_at,
        Evidence.author_role,
        User.name.label("author_name"),
    )
    .outerjoin(User, User.id == Evidence.author_id)
    .where(Evidence.case_id == _CASE_ID)
    .order_by(Evidence.id.desc())
)
_RECOMMENDATION = scoped(
    select(
        Recommendation.rating,
        Recommendation.rationale,
        Recommendation.submitted_at,
        User.name.label("author_name"),
    )
    .outerjoin(User, User.id == Recommendation.author_id)
    .where(Recommendation.case_id == _CASE_ID)
    .order_by(Recommendation.id.desc())
    .limit(1)
)
_HISTORY = scoped(
    select(
        Assignment.id,
        Assignment.status,
        Assignment.reason,
        Assignment.proposed_at,
        Assignment.ended_at,
        User.name.label("ct_name"),
    )
    .outerjoin(User, User.id == Assignment.ct_id)
    .where(Assignment.case_id == _CASE_ID)
    .order_by(Assignment.id.desc())
)


def _reviews(assignment_id: int) -> Sequence[Row]:
    return reads.rows(
        select(
            AssignmentReview.approve,
            AssignmentReview.comment,
            User.name.label("member_name"),
        )
        .outerjoin(User, User.id == AssignmentReview.member_id)
        .where(AssignmentReview.assignment_id == assignment_id)
        .order_by(AssignmentReview.id)
    )


def _report_reminders(case: Case, section: status_reports.Section | None) -> dict[int, str]:
    """When each unwritten report's CT is (was) reminded, and whether the coordinators were
    told it was missed, by the track's rule (``app.jobs.reminders`` sends both)."""
    if section is None or case.closed_at is not None:
        return {}
    ahead = timedelta(days=status_reports.remind_days(case))
    today = date.today()
    ct = roster.ct_title().lower()
    found = {}
    for row in section.rows:
        report = row.report
        if report.written:
            continue
        if report.reminded_at is not None:
            words = f"The {ct} was reminded on {report.reminded_at.strftime('%Y-%m-%d')}."
        elif report.due_on < today:
            words = f"The {ct} was not reminded: it was already past when reminders went out."
        elif report.due_on - ahead <= today:
            words = f"The {ct} is reminded within the hour."
        else:
            words = f"The {ct} is reminded on {(report.due_on - ahead).isoformat()}."
        if report.escalated_at is not None:
            missed = report.escalated_at.strftime("%Y-%m-%d")
            words += f" The coordinators were told it was missed on {missed}."
        found[report.id] = words
    return found


@dataclass(frozen=True)
class RecommendationPacket:
    """What the panel will read once a recommendation is confirmed: the logged visits
    (without notes) and the evidence, with the state the case moves to."""

    case: Case
    config: ProgramConfig
    track: Track
    to_state: str | None
    visits: list[Visit]
    evidence: list[Evidence]


def recommendation_packet(case: Case) -> RecommendationPacket:
    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    step = cases.recommendation_step(track, case.state)
    return RecommendationPacket(
        case=case,
        config=config,
        track=track,
        to_state=track.states[step.to].label if step else None,
        visits=[v for v in support.visits(case) if not v.planned],
        evidence=support.evidence(case),
    )
