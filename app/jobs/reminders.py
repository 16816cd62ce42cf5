"""Deadline reminders: a periodic sweep that tells the CT and the coordinator once."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case, CaseDeadline
from app.tenants.context import all_tenants

#: How far ahead a deadline is announced.
REMIND_BEFORE = timedelta(days=7)


def remind_due(today: date | None = None) -> int:
    """Queue one reminder per deadline due within a week (across districts); returns how many.

    Each reminder is an outbox row written with the ``reminded_at`` mark in one
    commit, so a second sweep, or two sweeps at once, never remind twice.
    """
    today = today or date.today()
    with all_tenants():
        due = (
            db.session.execute(
                select(CaseDeadline)
                .join(Case, Case.id == CaseDeadline.case_id)
                .where(
                    CaseDeadline.reminded_at.is_(None),
                    CaseDeadline.due_on <= today + REMIND_BEFORE,
                    CaseDeadline.due_on >= today,
                    Case.closed_at.is_(None),
                )
                .with_for_update(of=CaseDeadline, skip_locked=True)
            )
            .scalars()
            .all()
        )
        for deadline in due:
            deadline.reminded_at = utcnow()
            outbox.add(
                "mail.case_notice",
                {
                    "case_id": deadline.case_id,
                    "template": f"{deadline.key}_due",
                    "to": ["assigned_ct", "coordinator"],
                },
                tenant_id=deadline.tenant_id,
                queue="mail",
            )
        count = len(due)
    from app.core.uow import commit

    commit()
    return count
