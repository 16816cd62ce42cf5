"""What the case page shows one reader, gathered in one place (the page builds its forms
from it): the record they may see, the steps they may take, and what the pickers offer."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from app.models.assignment import Assignment
from app.models.case import Case, CaseDeadline
from app.models.support import Evidence, Goal, Recommendation, Visit
from app.models.user import User
from app.security.roles import PROGRAM_STAFF
from app.services import (
    appeals,
    assignments,
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
from app.workflows import ActionOption, ProgramConfig, Track


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
    visits: list[Visit]
    goals: list[Goal]
    evidence: list[Evidence]
    recommendation: Recommendation | None
    history: list[Assignment]
    pending: Assignment | None
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
    seen = sections(case, user, track.shared_with_principal)
    relations = cases.relations(case, user)
    history = assignments.history(case) if seen.assignment else []
    actions = cases.options(case, user)
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
        visits=support.visits(case, for_teacher=not seen.evidence)
        if (seen.visit_summary or seen.visit_notes)
        else [],
        goals=support.goals(case) if seen.goals else [],
        evidence=support.evidence(case) if seen.evidence else [],
        recommendation=support.recommendation(case) if seen.recommendation else None,
        history=history,
        pending=next((a for a in history if a.status == "proposed"), None),
        suggestions=roster.suggestions(case) if "coordinator" in user.roles else [],
        decision=decision_letter.decision_for(case, user),
        acknowledgment=signatures.for_page(case, user),
        appeal=appeals.for_page(case, user),
        status_reports=reports,
        # Reminders go to the CT and the coordinator: they (and the staff) read when.
        deadline_plans=deadline_reminders.plan(case, user) if reminded else [],
        report_reminders=_report_reminders(case, reports) if reminded else {},
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
