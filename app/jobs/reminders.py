"""Deadline reminders: periodic sweeps that tell the CT and the coordinator once.

Configured deadlines are reminded a week ahead; status reports the track's
``remind_days_before`` ahead, and a status report missed (past due, unwritten) is
escalated to the coordinators once. A closed case is never reminded or escalated.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case, CaseDeadline
from app.services.deadline_reminders import REMIND_BEFORE, notify
from app.tenants.context import all_tenants


def remind_due(today: date | None = None) -> int:
    """Queue one reminder per deadline due within a week (across districts); returns how many.

    Each reminder is an outbox row written with the ``reminded_at`` mark in one
    commit, so a second sweep, or two sweeps at once, never remind twice; a deadline the
    coordinator reminded by hand already has its mark and is left alone.
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
            notify(deadline)  # the same notice as the coordinator's "Remind now"
        count = len(due)
    from app.core.uow import commit

    commit()
    return count


#: The longest reminder window a track may set (``status_reports.remind_days_before``).
_LONGEST_WINDOW = timedelta(days=30)


def _unwritten_on_open_cases():
    from sqlalchemy.orm import lazyload

    from app.models.status_report import StatusReport

    return (
        select(StatusReport)
        .join(Case, Case.id == StatusReport.case_id)
        .options(lazyload(StatusReport.case))
        .where(StatusReport.submitted_at.is_(None), Case.closed_at.is_(None))
    )


def remind_status_reports(today: date | None = None) -> int:
    """Remind each CT once of a status report due within their track's window (across
    districts); returns how many. Written reports and closed cases are left alone.

    The ``reminded_at`` mark and the outbox row are written in one commit, under a row
    lock, so two sweeps never remind twice.
    """
    from app.models.status_report import StatusReport
    from app.services import status_reports

    today = today or date.today()
    with all_tenants():
        rows = (
            db.session.execute(
                _unwritten_on_open_cases()
                .where(
                    StatusReport.reminded_at.is_(None),
                    StatusReport.due_on >= today,
                    StatusReport.due_on <= today + _LONGEST_WINDOW,
                )
                .with_for_update(of=StatusReport, skip_locked=True)
            )
            .scalars()
            .all()
        )
        count = 0
        for report in rows:
            if report.due_on > today + timedelta(days=status_reports.remind_days(report.case)):
                continue
            report.reminded_at = utcnow()
            _mail(report, "status_report_due", ["assigned_ct"])
            count += 1
    from app.core.uow import commit

    commit()
    return count


def escalate_missed_reports(today: date | None = None) -> int:
    """Tell the coordinators once of each status report past its due date and unwritten, on
    an open case (across districts), with an audit event; returns how many."""
    from app.models.status_report import StatusReport
    from app.services import audit
    from app.services.actors import Actor

    today = today or date.today()
    with all_tenants():
        rows = (
            db.session.execute(
                _unwritten_on_open_cases()
                .where(StatusReport.escalated_at.is_(None), StatusReport.due_on < today)
                .with_for_update(of=StatusReport, skip_locked=True)
            )
            .scalars()
            .all()
        )
        for report in rows:
            report.escalated_at = utcnow()
            _mail(report, "status_report_missed", ["coordinator"])
            audit.record(
                report.tenant_id,
                "case.status_report_missed",
                "case",
                report.case_id,
                after={"report_id": report.id, "label": report.label, "due_on": str(report.due_on)},
                actor=Actor.system("status report escalation"),
            )
        count = len(rows)
    from app.core.uow import commit

    commit()
    return count


def _mail(report, template: str, to: list[str]) -> None:
    outbox.case_notice(report.case_id, report.tenant_id, template, to, status_report_id=report.id)
