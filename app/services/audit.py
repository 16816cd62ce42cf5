"""The audit trail: every state change records who, what, before and after.

Events of a tenant form a hash chain (each hash covers the event and the
previous hash), so an edited or deleted event is detected by ``verify_chain``.
Writers take a lock on the tenant row first, so two concurrent writers never
fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.tenant import Tenant
from app.services.actors import Actor, current_actor
from app.tenants.context import tenant_scope

GENESIS_HASH = "0" * 64


def record(
    tenant_id: int,
    action: str,
    object_type: str,
    object_id: object | None = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    actor: Actor | None = None,
) -> AuditEvent:
    """Append one event to the tenant's chain (flushes; the caller commits)."""
    actor = actor or current_actor()
    with tenant_scope(tenant_id):
        _lock_tenant(tenant_id)
        last = db.session.execute(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
        ).scalar_one_or_none()
        event = AuditEvent(
            tenant_id=tenant_id,
            seq=(last.seq + 1) if last else 1,
            occurred_at=utcnow().replace(microsecond=0),
            actor_type=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            before=before,
            after=after,
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        event.hash = event_hash(event)
        db.session.add(event)
        db.session.flush()
    return event


def events() -> Select:
    """The district's trail, newest first, for a page of it (``loading.paginate``)."""
    return select(AuditEvent).order_by(AuditEvent.seq.desc())


def _lock_tenant(tenant_id: int) -> None:
    db.session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())


def event_hash(event: AuditEvent) -> str:
    body = {
        "tenant_id": event.tenant_id,
        "seq": event.seq,
        "occurred_at": _iso(event.occurred_at),
        "actor": [event.actor_type, event.actor_id, event.actor_label],
        "action": event.action,
        "object": [event.object_type, event.object_id],
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(tenant_id: int) -> ChainReport:
    """Walk the tenant's events in order and report the first broken link."""
    expected_prev = GENESIS_HASH
    checked = 0
    with tenant_scope(tenant_id):
        events = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        for index, event in enumerate(events, start=1):
            if event.seq != index:
                return ChainReport(checked, event.seq, f"event {index} is missing")
            if event.prev_hash != expected_prev:
                return ChainReport(checked, event.seq, "previous-hash link does not match")
            if event_hash(event) != event.hash:
                return ChainReport(checked, event.seq, "event content does not match its hash")
            expected_prev = event.hash
            checked += 1
    return ChainReport(checked, None, None)
