"""The audit trail: every state change records who, what, before and after.

Events of a tenant form a hash chain (each hash covers the event and the
previous hash), so an edited or deleted event is detected by ``verify_chain``.
Writers take a lock on the tenant row first, so two concurrent writers never
fork the chain; a transaction takes it once and keeps the chain's end it wrote.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, bindparam, event, insert, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.tenant import Tenant
from app.services.actors import Actor, current_actor
from app.tenants.context import tenant_scope
from app.tenants.scoping import scoped

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
) -> None:
    """Append one event to the tenant's chain (written at once; the caller commits).

    The chain's end is read under the tenant's lock once per transaction and then kept
    (``_CHAIN``): while the lock is held no one else appends, so an operation that records
    several events (or a release) does not lock and read again for each. The event goes
    in as one ``INSERT`` built once, not through the unit of work: nothing reads it back
    as an object in the transaction that wrote it.
    """
    actor = actor or current_actor()
    with tenant_scope(tenant_id):
        chain = db.session.info.setdefault(_CHAIN, {})
        last = chain.get(tenant_id)
        if last is None:
            db.session.execute(_LOCK_TENANT, {"tenant_id": tenant_id})
            last = db.session.execute(_LAST_LINK).one_or_none() or (0, GENESIS_HASH)
        event = AuditEvent(
            tenant_id=tenant_id,
            seq=last[0] + 1,
            occurred_at=utcnow().replace(microsecond=0),
            actor_type=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            before=before,
            after=after,
            prev_hash=last[1],
        )
        event.hash = event_hash(event)
        db.session.execute(_APPEND, {c: getattr(event, c) for c in _WRITTEN})
        chain[tenant_id] = (event.seq, event.hash)


def events() -> Select:
    """The district's trail, newest first, for a page of it (``loading.paginate``)."""
    return select(AuditEvent).order_by(AuditEvent.seq.desc())


#: Where a transaction keeps, per tenant whose chain it locked, the chain's end it wrote.
_CHAIN = "parley_audit_chain"
#: The statements every recorded event sends, built once (``scoped``: the scoping event
#: would otherwise copy each on every run; see ``app.tenants.scoping``).
_LOCK_TENANT = scoped(
    select(Tenant.id).where(Tenant.id == bindparam("tenant_id")).with_for_update()
)
_LAST_LINK = scoped(
    select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
)
_WRITTEN = (
    "tenant_id",
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "prev_hash",
    "hash",
)
#: On the table, not the class: the ORM's bulk insert cost more than the round trip.
_APPEND = insert(AuditEvent.__table__)


@event.listens_for(Session, "after_transaction_end")
def _forget_chain(session: Session, transaction) -> None:
    """The lock ends with the transaction, and a savepoint rolled back releases it and
    takes back what was appended under it: any transaction's end, nested ones too, forgets
    the chain's end, so the next event locks and reads it again."""
    session.info.pop(_CHAIN, None)


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
