"""Deadlines remind once, a week ahead, and the schedule lists what runs periodically."""

from __future__ import annotations

import importlib
from datetime import date, timedelta

from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.jobs.periodic import SCHEDULE
from app.jobs.reminders import remind_due
from app.models.case import Case, CaseDeadline
from app.models.outbox import OutboxMessage
from app.tenants.context import all_tenants, tenant_scope


def _deadline(app, tenant, case_id, key, days, closed=False):
    with app.app_context(), tenant_scope(tenant.id):
        db.session.add(
            CaseDeadline(
                tenant_id=tenant.id,
                case_id=case_id,
                key=key,
                due_on=date.today() + timedelta(days=days),
            )
        )
        if closed:
            case = db.session.get(Case, case_id)
            case.closed_at = case.created_at
        uow.commit()


def test_a_deadline_within_a_week_is_reminded_once(app, district, make_user, make_case):
    d = district("boston", "boston_esp")
    soon = make_case(d.tenant, make_user(d.tenant, "teacher"), "par")
    later = make_case(d.tenant, make_user(d.tenant, "teacher"), "par")
    closed = make_case(d.tenant, make_user(d.tenant, "teacher"), "par")
    _deadline(app, d.tenant, soon.id, "recommendation", 3)
    _deadline(app, d.tenant, later.id, "recommendation", 30)
    _deadline(app, d.tenant, closed.id, "recommendation", 2, closed=True)
    with app.app_context():
        assert remind_due() == 1
        assert remind_due() == 0
        with all_tenants():
            rows = db.session.execute(select(OutboxMessage)).scalars().all()
    assert [(r.payload["case_id"], r.payload["template"]) for r in rows] == [
        (soon.id, "recommendation_due")
    ]


def test_the_schedule_names_each_job_once_and_each_can_be_imported():
    names = [entry.name for entry in SCHEDULE]
    assert len(names) == len(set(names))
    for entry in SCHEDULE:
        module, _, attr = entry.func.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr))
        assert entry.queue in ("default", "mail", "exports")
