"""Periodic work as data: each entry has a stable name, a queue and an interval.

``flask --app wsgi scheduler`` registers exactly this list with RQ's cron
scheduler, so removing an entry here removes it from the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    queue: str
    interval_seconds: int


def sweep_outbox() -> int:
    """Relay outbox rows that missed their after-commit relay (e.g. Redis was down)."""
    from app.jobs.relay import sweep
    from app.jobs.worker import worker_app

    with worker_app().app_context():
        return sweep()


def deadline_reminders() -> int:
    """Remind CTs and coordinators of deadlines due within the week."""
    from app.jobs.reminders import remind_due
    from app.jobs.worker import worker_app

    with worker_app().app_context():
        return remind_due()


def status_report_reminders() -> int:
    """Remind CTs of status reports due within their track's window."""
    from app.jobs.reminders import remind_status_reports
    from app.jobs.worker import worker_app

    with worker_app().app_context():
        return remind_status_reports()


def missed_status_reports() -> int:
    """Tell the coordinators of status reports past due and unwritten."""
    from app.jobs.reminders import escalate_missed_reports
    from app.jobs.worker import worker_app

    with worker_app().app_context():
        return escalate_missed_reports()


def survey_reminders() -> int:
    """Remind, once a week, the people who have not answered an open survey."""
    from app.core import uow
    from app.jobs.worker import worker_app
    from app.services import surveys
    from app.tenants.context import all_tenants

    with worker_app().app_context():
        with all_tenants():
            count = surveys.remind_due()
        uow.commit()
        return count


def expired_exports() -> int:
    """Delete export files whose download link has expired."""
    from app.core import uow
    from app.jobs.worker import worker_app
    from app.services import exports
    from app.tenants.context import all_tenants

    with worker_app().app_context():
        with all_tenants():
            count = exports.remove_expired()
        uow.commit()
        return count


SCHEDULE: tuple[Periodic, ...] = (
    # Every 20 s: with the workers' 20 s heartbeat, a job of a dead worker runs again
    # within about 40 s (``app.jobs.relay._release_abandoned``).
    Periodic("outbox-sweep", "app.jobs.periodic.sweep_outbox", "default", 20),
    Periodic("deadline-reminders", "app.jobs.periodic.deadline_reminders", "default", 3600),
    Periodic(
        "status-report-reminders", "app.jobs.periodic.status_report_reminders", "default", 3600
    ),
    Periodic("missed-status-reports", "app.jobs.periodic.missed_status_reports", "default", 3600),
    Periodic("appeal-reminders", "app.jobs.appeal_reminders.run", "default", 3600),
    Periodic("survey-reminders", "app.jobs.periodic.survey_reminders", "default", 86400),
    Periodic("expired-exports", "app.jobs.periodic.expired_exports", "exports", 3600),
)


def run_scheduler(app) -> None:
    """Start RQ's cron scheduler with ``SCHEDULE`` (blocks)."""
    import importlib

    from rq.cron import CronScheduler

    from app.core.redis import redis_connection

    with app.app_context():
        scheduler = CronScheduler(connection=redis_connection(), name="parley-scheduler")
        for entry in SCHEDULE:
            module, _, attr = entry.func.rpartition(".")
            func = getattr(importlib.import_module(module), attr)
            scheduler.register(func, entry.queue, interval=entry.interval_seconds, name=entry.name)
        scheduler.start()
