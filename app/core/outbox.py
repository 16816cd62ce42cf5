"""Adding outbox rows: the only way code asks for background work."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from app.extensions import db
from app.models.outbox import OutboxMessage

_PENDING_KEY = "parley_outbox_ids"

#: The jobs the outbox may ask for, by name: a closed list, so no dotted path comes from
#: data. ``app.jobs.registry`` maps each to its handler (a test holds the two equal).
JOB_NAMES = frozenset(
    {
        "mail.welcome",
        "mail.case_notice",
        "mail.survey_invitation",
        "mail.billing_notice",
        "mail.password_reset",
        "mail.account_locked",
        "exports.minutes",
        "exports.build",
        "network.release",
        "billing.create_customer",
    }
)


def add(job: str, payload: dict, *, tenant_id: int | None, queue: str = "default") -> OutboxMessage:
    """Record a job to run once the current transaction commits.

    ``payload`` carries ids only: the job reads what it needs under its tenant.
    """
    if job not in JOB_NAMES:
        raise KeyError(f"unknown job {job!r}")
    message = OutboxMessage(
        id=str(uuid.uuid4()), tenant_id=tenant_id, job=job, queue=queue, payload=payload
    )
    db.session.add(message)
    db.session.info.setdefault(_PENDING_KEY, []).append(message.id)
    return message


def case_notice(
    case_id: int, tenant_id: int, template: str, to: Iterable[str], **named: object
) -> OutboxMessage:
    """Tell the people ``to`` names (roles and relations on the case) that ``template``'s
    step happened; ``named`` carries what a template of its own names (a status report's
    id, the day an appeal window closes). The mail never carries the case's content."""
    payload = {"case_id": case_id, "template": template, "to": sorted(set(to)), **named}
    return add("mail.case_notice", payload, tenant_id=tenant_id, queue="mail")


def take_pending_ids() -> list[str]:
    """The ids added in the unit of work that just ended, forgetting them."""
    return db.session.info.pop(_PENDING_KEY, [])


def forget_pending_ids() -> None:
    db.session.info.pop(_PENDING_KEY, None)
