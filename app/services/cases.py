"""Cases move only through the engine of their track, under the version they started with.

``apply`` is the one way a case changes state, used by HTML and API routes
alike: it asks the engine, then writes the state, the effects, the audit
event and the outbox rows in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case, CaseDeadline
from app.models.support import Evidence, Recommendation
from app.models.user import User
from app.services import audit, case_effects
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, ValidationFailed
from app.tenants.context import require_tenant_id
from app.workflows import (
    ActionOption,
    ActorFacts,
    CaseFacts,
    Track,
    Transition,
    available_actions,
    evaluate,
)


class TransitionRefused(Conflict):
    """The engine said no; ``errors["action"]`` lists every reason at once."""


@dataclass(frozen=True)
class Applied:
    case: Case
    action: str
    from_state: str
    to_state: str


def open_case(
    *,
    teacher: User,
    track_key: str,
    school: str | None = None,
    latest_rating: str | None = None,
    principal: User | None = None,
    actor: Actor | None = None,
) -> Case:
    """Start a case in the first state of its track under the latest published version."""
    tenant_id = require_tenant_id()
    from app.services.case_permissions import principal_sees

    version = configs.latest_published()
    if version is None:
        raise ValidationFailed({"track": ["The program has no published configuration yet."]})
    config = configs.config_of(version)
    if track_key not in config.tracks:
        raise ValidationFailed(
            {"track": [f"Unknown track '{track_key}' (choose {', '.join(config.tracks)})."]}
        )
    track = config.tracks[track_key]
    case = Case(
        tenant_id=tenant_id,
        workflow_version_id=version.id,
        track_key=track_key,
        state=track.initial_state,
        principal_can_see=principal_sees(track),
        teacher_id=teacher.id,
        principal_id=principal.id if principal else None,
        school=school,
        latest_rating=latest_rating,
        enrolled_on=utcnow().date(),
    )
    db.session.add(case)
    db.session.flush()
    audit.record(
        tenant_id,
        "case.opened",
        "case",
        case.id,
        after={"track": track_key, "state": case.state, "version": version.number},
        actor=actor,
    )
    return case


def relations(case: Case, user: User) -> frozenset[str]:
    """How ``user`` stands to ``case`` (the engine's relation vocabulary)."""
    found = set()
    if user.id == case.teacher_id:
        found.add("case_teacher")
    if case.ct_id is not None and user.id == case.ct_id:
        found.add("assigned_ct")
    if case.principal_id is not None and user.id == case.principal_id:
        found.add("case_principal")
    if "panel_member" in user.roles:
        from app.services.panel.sessions import panel_relations

        found |= panel_relations(case, user)
    return frozenset(found)


def actor_facts(case: Case, user: User) -> ActorFacts:
    return ActorFacts(roles=user.roles, relations=relations(case, user))


def case_facts(case: Case, payload: Mapping[str, Any] | None = None) -> CaseFacts:
    """What the guards see: the case and its support record, counted in a few queries."""
    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    today = date.today()
    record = support_record(case, today)
    failures = track.eligibility.failures(
        case.latest_rating, case.years_of_service, case.permanent_status
    )
    return CaseFacts(
        today=today,
        visits_by_type=record.visits_by_type,
        months_of_support=record.months_of_support,
        has_recommendation=record.has_recommendation,
        principal_consulted=record.principal_consulted,
        tagged_standards=record.tagged_standards,
        committee_consensus=record.committee_consensus,
        panel_decided=_panel_decided(case),
        deadlines={d.key: d.due_on for d in case.deadlines},
        outcome=case.outcome,
        eligibility_failures=tuple(failures),
        ct_assigned=case.ct_id is not None,
        enrolled_on=case.enrolled_on,
        reports_below_standard=_reports_below_standard(case, track),
        payload=dict(payload or {}),
    )


def _reports_below_standard(case: Case, track: Track) -> tuple[int, ...]:
    """Read only where a step of the track asks for it (one query saved on every other)."""
    if not any(
        g.name == "unsatisfactory_status_reports" for t in track.transitions for g in t.guards
    ):
        return ()
    from app.services import status_reports

    return status_reports.below_standard(case)


@dataclass(frozen=True)
class SupportRecord:
    visits_by_type: Mapping[str, int]
    months_of_support: float
    has_recommendation: bool
    principal_consulted: bool
    tagged_standards: frozenset[str]
    committee_consensus: bool


def support_record(case: Case, today: date) -> SupportRecord:
    """Counts the guards need, from the visits, evidence, recommendation and assignment.

    Only visits that count are counted (logged, complete for their type, dated inside the
    support period), and months of support run from the start of support, not the first visit.
    """
    from app.services import assignments, support  # support imports this module

    visits = support.visit_facts(case, today)
    evidence = db.session.execute(
        select(Evidence.author_role, Evidence.standards).where(Evidence.case_id == case.id)
    ).all()
    recommended = db.session.execute(
        select(func.count()).select_from(Recommendation).where(Recommendation.case_id == case.id)
    ).scalar_one()
    return SupportRecord(
        visits_by_type=visits.counted_by_type,
        months_of_support=visits.months_of_support,
        has_recommendation=recommended > 0,
        principal_consulted=visits.principal_present or any(r == "principal" for r, _ in evidence),
        tagged_standards=frozenset(tag for _, tags in evidence for tag in tags or ()),
        committee_consensus=assignments.has_consensus(case),
    )


def _panel_decided(case: Case) -> bool:
    from app.services.panel.sessions import panel_decided

    return panel_decided(case)


def options(case: Case, user: User) -> list[ActionOption]:
    """The actions ``user`` may take on ``case`` now, with why blocked ones are blocked."""
    config = configs.config_of(case.workflow_version)
    return available_actions(
        config, case.track_key, case.state, actor_facts(case, user), case_facts(case)
    )


def apply(
    case: Case,
    action: str,
    user: User,
    payload: Mapping[str, Any] | None = None,
    *,
    internal: bool = False,
) -> Applied:
    """Take ``action`` on ``case`` as ``user`` (flushes; the caller commits once).

    Raises ``TransitionRefused`` listing every failed check; nothing changes then.
    """
    ensure_open(case)
    config = configs.config_of(case.workflow_version)
    if not internal:
        _refuse_reserved_step(config.tracks[case.track_key], case.state, action)
    evaluation = evaluate(
        config,
        case.track_key,
        case.state,
        action,
        actor_facts(case, user),
        case_facts(case, payload),
    )
    if not evaluation.allowed:
        raise TransitionRefused({"action": list(evaluation.failures)})
    from_state = case.state
    note = str((payload or {}).get("note") or "").strip()
    if note:
        set_status_note(case, note)
    case.state = evaluation.to_state
    case.state_entered_at = utcnow()
    actor = Actor.of(user)
    effects = case_effects.execute(case, config, evaluation.effects)
    db.session.flush()
    audit.record(
        case.tenant_id,
        f"case.{action}",
        "case",
        case.id,
        before={"state": from_state},
        after={"state": case.state, "effects": effects, "payload": _safe(payload)},
        actor=actor,
    )
    _schedule_status_reports(case, config.tracks[case.track_key], from_state)
    if config.tracks[case.track_key].means(action, "intake"):
        # Accepted: a teacher who enrolled through the public form now learns how to sign in.
        from app.services import password_resets

        password_resets.invite(case.teacher, actor)
    return Applied(case, action, from_state, case.state)


def _schedule_status_reports(case: Case, track: Track, from_state: str) -> None:
    """The case's support begins (it enters the track's reporting states): the CT's status
    reports fall due from today on the track's schedule."""
    if track.status_reports is None or case.closed_at is not None:
        return
    from app.services import status_report_schedule

    if status_report_schedule.begins_support(track, from_state, case.state):
        status_report_schedule.schedule(case)


def _refuse_reserved_step(track: Track, state: str, action: str) -> None:
    reason = reserved_step(track, state, action)
    if reason is not None:
        raise TransitionRefused({"action": [reason]})


def reserved_step(track: Track, state: str, action: str) -> str | None:
    """Why ``action`` is not taken as a plain action, or None when it is.

    Steps that carry a panel decision or the final authority's decision are taken by the
    panel's own operations (with the vote's rating), never as a plain action. The track's
    configuration says which steps those are, whatever their keys and guards.
    """
    if track.transition(state, action) is None:
        return None
    if track.means(action, "panel_decision"):
        return "This step follows the panel's vote; close the vote on the panel page."
    if track.means(action, "final_approval") or track.means(action, "final_return"):
        return "The final authority decides on the approvals page."
    return None


def recommendation_step(track: Track, state: str) -> Transition | None:
    """The step from ``state`` that sends the CT's recommendation on: the track's
    ``recommendation`` step, named by the configuration (or derived from what it does),
    never by its key; a step reserved to the panel or the final authority is not one."""
    step = track.step_for("recommendation", state)
    if step is None or reserved_step(track, state, step.key) is not None:
        return None
    return step


def _safe(payload: Mapping[str, Any] | None) -> dict:
    """The payload's known keys go into the audit trail, nothing else a client sent."""
    return {k: v for k, v in (payload or {}).items() if k in ("outcome", "rating", "note")}


def set_status_note(case: Case, note: str) -> None:
    """The latest word to the teacher (a decline reason, a question), shown on their case."""
    case.status_note, case.status_note_at = note[:2000], utcnow()


def ensure_open(case: Case) -> None:
    """Closed cases are read-only: only an admin's audited reopening changes them."""
    if case.closed_at is not None:
        raise Conflict({"case": ["This case is closed and read-only."]})


def reopen(case: Case, admin: User, to_state: str, reason: str) -> Case:
    """Reopen a closed case into an open state of its track (program admin, audited)."""
    from app.services.case_permissions import require

    require(case, admin, roles=("program_admin",), what="reopen")
    if case.closed_at is None:
        raise Conflict({"case": ["This case is not closed."]})
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    if to_state not in track.states or track.states[to_state].terminal:
        raise ValidationFailed({"to_state": [f"Choose an open state of {track.name}."]})
    if not reason.strip():
        raise ValidationFailed({"reason": ["Say why the case is reopened."]})
    before = {"state": case.state, "outcome": case.outcome}
    case.state, case.closed_at, case.outcome, case.report_group = to_state, None, None, None
    case.ended_on = None
    case.state_entered_at = utcnow()
    db.session.flush()
    audit.record(
        case.tenant_id,
        "case.reopened",
        "case",
        case.id,
        before=before,
        after={"state": to_state, "reason": reason.strip()},
        actor=Actor.of(admin),
    )
    return case


def deadlines(case: Case) -> list[CaseDeadline]:
    return sorted(case.deadlines, key=lambda d: d.due_on)
