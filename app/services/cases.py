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

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case, CaseDeadline
from app.models.user import User
from app.services import audit, case_effects
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, ValidationFailed
from app.workflows import ActionOption, ActorFacts, CaseFacts, available_actions, evaluate


class TransitionRefused(Conflict):
    """The engine said no; ``errors["action"]`` lists every reason at once."""


@dataclass(frozen=True)
class Applied:
    case: Case
    action: str
    from_state: str
    to_state: str


def open_case(
    tenant_id: int,
    *,
    teacher: User,
    track_key: str,
    school: str | None = None,
    latest_rating: str | None = None,
    principal: User | None = None,
    actor: Actor | None = None,
) -> Case:
    """Start a case in the first state of its track under the latest published version."""
    version = configs.latest_published(tenant_id)
    if version is None:
        raise ValidationFailed({"track": ["The program has no published configuration yet."]})
    config = configs.config_of(version)
    if track_key not in config.tracks:
        raise ValidationFailed(
            {"track": [f"Unknown track '{track_key}' (choose {', '.join(config.tracks)})."]}
        )
    case = Case(
        tenant_id=tenant_id,
        workflow_version_id=version.id,
        track_key=track_key,
        state=config.tracks[track_key].initial_state,
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
    return frozenset(found)


def actor_facts(case: Case, user: User) -> ActorFacts:
    return ActorFacts(roles=user.roles, relations=relations(case, user))


def case_facts(case: Case, payload: Mapping[str, Any] | None = None) -> CaseFacts:
    """What the guards see. Support records (visits, evidence) feed in as they are logged."""
    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    failures = track.eligibility.failures(case.latest_rating, None, None)
    today = date.today()
    return CaseFacts(
        today=today,
        months_of_support=_months_between(case.enrolled_on, today),
        has_recommendation=case.recommended_rating is not None,
        deadlines={d.key: d.due_on for d in case.deadlines},
        outcome=case.outcome,
        eligibility_failures=tuple(failures),
        ct_assigned=case.ct_id is not None,
        enrolled_on=case.enrolled_on,
        payload=dict(payload or {}),
    )


def _months_between(start: date, end: date) -> float:
    return round(max((end - start).days, 0) / 30.44, 1)


def options(case: Case, user: User) -> list[ActionOption]:
    """The actions ``user`` may take on ``case`` now, with why blocked ones are blocked."""
    config = configs.config_of(case.workflow_version)
    return available_actions(
        config, case.track_key, case.state, actor_facts(case, user), case_facts(case)
    )


def apply(case: Case, action: str, user: User, payload: Mapping[str, Any] | None = None) -> Applied:
    """Take ``action`` on ``case`` as ``user`` (flushes; the caller commits once).

    Raises ``TransitionRefused`` listing every failed check; nothing changes then.
    """
    config = configs.config_of(case.workflow_version)
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
    case.state = evaluation.to_state
    case.state_entered_at = utcnow()
    actor = Actor("user", user.id, user.email)
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
    return Applied(case, action, from_state, case.state)


def _safe(payload: Mapping[str, Any] | None) -> dict:
    """Only the payload's chosen keys go into the audit trail (no free text)."""
    return {k: v for k, v in (payload or {}).items() if k in ("outcome", "rating")}


def deadlines(case: Case) -> list[CaseDeadline]:
    return sorted(case.deadlines, key=lambda d: d.due_on)


def cases_for(user: User) -> list[Case]:
    """Cases a person is part of (their own, their caseload, their school's review cases)."""
    return list(
        db.session.execute(
            select(Case)
            .where(
                (Case.teacher_id == user.id)
                | (Case.ct_id == user.id)
                | (Case.principal_id == user.id)
            )
            .order_by(Case.id.desc())
        ).scalars()
    )
