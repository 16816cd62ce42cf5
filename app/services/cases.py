"""Cases move only through the engine of their track, under the version they started with.

``apply`` is the one way a case changes state, used by HTML and API routes
alike: it asks the engine, then writes the state, the effects, the audit
event and the outbox rows in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, select

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
from app.tenants.scoping import scoped
from app.workflows import (
    ActionOption,
    ActorFacts,
    Track,
    Transition,
    available_actions,
    evaluate,
)
from app.workflows.facts import FactsOnDemand


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


@dataclass(frozen=True)
class SharedReads:
    """Rows of the case a caller reads anyway, each a function run once when first asked
    (``once``): the case page's visits and evidence sections. The visits' rows carry
    ``support.VISIT_RECORD`` and ``principal_present``; the evidence's ``author_role`` and
    ``standards``. None: the facts read their own."""

    visits: Callable[[], Sequence[Row]] | None = None
    evidence: Callable[[], Sequence[Row]] | None = None


def case_facts(
    case: Case, payload: Mapping[str, Any] | None = None, reads: SharedReads | None = None
) -> FactsOnDemand:
    """What the guards see, each fact read from the database only when a guard reads it.

    A fact costs one query, shared by the facts it answers (the visits give the visits
    counted and part of whether the principal was consulted; the evidence, the rest and the
    standards tagged). Build one for each evaluation: its answers hold until the next write,
    and eligibility is checked at the moment of acting, never from an earlier answer.
    ``reads``: rows the caller reads in this evaluation anyway (the case page's sections),
    counted from instead of asking again.
    """
    today = date.today()
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    shared = reads or SharedReads()
    visits = once(lambda: _visit_facts(case, today, shared.visits))
    evidence = once(lambda: _evidence_facts(case, shared.evidence))
    given = {
        "today": today,
        "outcome": case.outcome,
        "ct_assigned": case.ct_id is not None,
        "enrolled_on": case.enrolled_on,
        "cycle_start": None,
        "cycle_end": None,
        "payload": dict(payload or {}),
    }
    loaders: dict[str, Callable[[], Any]] = {
        "visits_by_type": lambda: visits().counted_by_type,
        "months_of_support": lambda: _support_period(case, today).months,
        "has_recommendation": lambda: _has_recommendation(case),
        "principal_consulted": lambda: visits().principal_present or evidence()[0],
        "tagged_standards": lambda: evidence()[1],
        "committee_consensus": lambda: _has_consensus(case),
        "panel_decided": lambda: _panel_decided(case),
        "deadlines": lambda: {d.key: d.due_on for d in case.deadlines},
        "eligibility_failures": lambda: tuple(
            track.eligibility.failures(
                case.latest_rating, case.years_of_service, case.permanent_status
            )
        ),
        "reports_below_standard": lambda: _reports_below_standard(case),
    }
    return FactsOnDemand(given, loaders)


_T = TypeVar("_T")


def once(load: Callable[[], _T]) -> Callable[[], _T]:
    """``load``, run the first time it is asked and remembered after: one query serves every
    fact that reads it, within one set of facts."""
    kept: list[_T] = []

    def get() -> _T:
        if not kept:
            kept.append(load())
        return kept[0]

    return get


def _visit_facts(case: Case, today: date, rows: Callable[[], Sequence[Row]] | None):
    from app.services import support  # support imports this module

    return support.visit_facts(case, today, rows() if rows is not None else None)


def _support_period(case: Case, today: date):
    from app.services import support

    return support.support_period(case, today)


def _evidence_facts(
    case: Case, rows: Callable[[], Sequence[Row]] | None
) -> tuple[bool, frozenset[str]]:
    """Whether the principal added evidence, and every standard evidence is tagged to."""
    read = rows() if rows is not None else db.session.execute(_EVIDENCE_FACTS, {"case_id": case.id})
    pairs = [(row.author_role, row.standards) for row in read]
    by_principal = any(role == "principal" for role, _ in pairs)
    return by_principal, frozenset(tag for _, tags in pairs for tag in tags or ())


#: What ``_evidence_facts`` counts from when no one read the evidence already; built once.
_EVIDENCE_FACTS = scoped(
    select(Evidence.author_role, Evidence.standards).where(Evidence.case_id == bindparam("case_id"))
)


def _has_recommendation(case: Case) -> bool:
    found = db.session.execute(
        select(Recommendation.id).where(Recommendation.case_id == case.id).limit(1)
    ).first()
    return found is not None


def _has_consensus(case: Case) -> bool:
    from app.services import assignments

    return assignments.has_consensus(case)


def _reports_below_standard(case: Case) -> tuple[int, ...]:
    from app.services import status_reports

    return status_reports.below_standard(case)


def _panel_decided(case: Case) -> bool:
    from app.services.panel.sessions import panel_decided

    return panel_decided(case)


def options(
    case: Case, user: User, actor: ActorFacts | None = None, reads: SharedReads | None = None
) -> list[ActionOption]:
    """The actions ``user`` may take on ``case`` now, with why blocked ones are blocked.

    ``actor`` is ``actor_facts(case, user)`` when the caller has it already (the case page
    does): a panel member's relations cost queries of the panel's agenda. ``reads``: see
    ``case_facts``.
    """
    config = configs.config_of(case.workflow_version)
    actor = actor if actor is not None else actor_facts(case, user)
    facts = case_facts(case, reads=reads)
    return available_actions(config, case.track_key, case.state, actor, facts)


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
