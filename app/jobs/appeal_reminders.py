"""Appeal reminders: the teacher is told, once, that the window to appeal is closing.

Run periodically (``run``) across districts: a case whose window to appeal closes within
``appeals.REMIND_WORKING_DAYS`` working days and that has no appeal yet gets one notice to
its teacher. An ``AppealReminder`` row is written with the outbox row in the same commit
(its case is unique), so a second run, or two runs at once, never remind twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from app.core import outbox, uow
from app.extensions import db
from app.models.appeal import Appeal, AppealReminder
from app.models.base import utcnow
from app.models.case import Case
from app.models.panel import FinalDecision
from app.services import appeals, calendar
from app.tenants.context import all_tenants, tenant_scope

#: How far back an approval can still have an open window: the longest window the
#: configuration allows (60 working days) with room for a long list of closed days.
LOOK_BACK = timedelta(days=365)


def remind_due(today: date | None = None) -> int:
    """Queue one reminder per window closing within two working days; returns how many."""
    today = today or utcnow().date()
    cutoff = today - LOOK_BACK
    with all_tenants():
        candidates = [
            (case_id, tenant_id)
            for case_id, tenant_id in db.session.execute(
                select(Case.id, Case.tenant_id)
                .where(
                    Case.closed_at.is_not(None),
                    Case.outcome.is_not(None),
                    exists().where(
                        FinalDecision.case_id == Case.id,
                        FinalDecision.approved.is_(True),
                        FinalDecision.decided_at >= _midnight(cutoff),
                    ),
                    ~exists().where(Appeal.case_id == Case.id),
                    ~exists().where(AppealReminder.case_id == Case.id),
                )
                .order_by(Case.id)
            ).all()
        ]
    count = 0
    for case_id, tenant_id in candidates:
        # The district's own calendar: its closed days, under its scope.
        with tenant_scope(tenant_id):
            count += _remind(db.session.get(Case, case_id), today)
    uow.commit()
    return count


def _remind(case: Case, today: date) -> int:
    closes_on = appeals.window_closes_on(case)
    if closes_on is None or today > closes_on:
        return 0
    if today < calendar.working_days_before(closes_on, appeals.REMIND_WORKING_DAYS):
        return 0
    try:
        with db.session.begin_nested():
            db.session.add(
                AppealReminder(tenant_id=case.tenant_id, case_id=case.id, closes_on=closes_on)
            )
    except IntegrityError:
        return 0  # another run reminded this case a moment ago
    outbox.case_notice(
        case.id,
        case.tenant_id,
        "appeal_window_closing",
        ["case_teacher"],
        closes_on=closes_on.isoformat(),
    )
    return 1


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def run() -> int:
    """The periodic entry point: the sweep in the worker's app."""
    from app.jobs.worker import worker_app

    with worker_app().app_context():
        return remind_due()
