"""The district calendar: which days are working days.

Saturdays and Sundays never are; on top of them a program admin lists the weekdays the
district is closed (holidays, breaks). Windows the configuration counts in working days
(an appeal's) are counted here, so every page, service and job agrees on a deadline.
Changes to the calendar are configuration changes: each is audited.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, select

from app.extensions import db
from app.models.appeal import ClosedDay
from app.models.user import User
from app.services import audit
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.writing import written
from app.tenants.context import require_tenant_id

#: The longest label kept, in characters (the column's length).
LABEL_MAX = 120

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _closed_between(first: date, last: date) -> set[date]:
    return set(
        db.session.execute(
            select(ClosedDay.day).where(ClosedDay.day >= first, ClosedDay.day <= last)
        ).scalars()
    )


def is_working_day(day: date) -> bool:
    """A weekday the district has not closed."""
    return day.weekday() < 5 and not _closed_between(day, day)


def working_days_after(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts).

    Closed days are read a stretch at a time: a stretch long enough for ``n`` working days
    with a few holidays, longer again only when the district closed more than that.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    counted, day = 0, start
    horizon = start
    closed: set[date] = set()
    while True:
        if day >= horizon:
            horizon = day + timedelta(days=2 * (n - counted) + 14)
            closed |= _closed_between(day + timedelta(days=1), horizon)
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            counted += 1
            if counted == n:
                return day


def working_days_before(end: date, n: int) -> date:
    """The ``n``-th working day before ``end`` (``end`` itself never counts): the day a
    reminder "n working days before" a deadline goes out."""
    if n < 1:
        raise ValueError("n must be at least 1")
    first = end - timedelta(days=2 * n + 14)
    closed = _closed_between(first, end)
    counted, day = 0, end
    while True:
        day -= timedelta(days=1)
        if day < first:
            first = day - timedelta(days=2 * n + 14)
            closed |= _closed_between(first, day)
        if day.weekday() < 5 and day not in closed:
            counted += 1
            if counted == n:
                return day


def school_year_of(day: date) -> tuple[date, date]:
    """First and last day of the school year holding ``day``, as the program sets its start
    (``school_year_start``); the calendar year where nothing is published yet."""
    latest = configs.latest_published()
    if latest is None:
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return configs.config_of(latest).school_year(day)


def school_year_starting(year: int) -> tuple[date, date]:
    """The school year that begins in ``year``: the one holding 31 December of ``year``
    (every school year starts on or before it)."""
    return school_year_of(date(year, 12, 31))


def closed_days_query(year: int) -> Select:
    """The closed days of the school year beginning in ``year``, by date (to page)."""
    first, last = school_year_starting(year)
    return (
        select(ClosedDay)
        .where(ClosedDay.day >= first, ClosedDay.day <= last)
        .order_by(ClosedDay.day)
    )


def closed_days(year: int) -> list[ClosedDay]:
    """The closed days of the school year beginning in ``year``, by date."""
    return list(db.session.execute(closed_days_query(year)).scalars())


def add_closed_day(day: date | None, label: str | None, actor: User) -> ClosedDay:
    """Close the district on a weekday (audited); a weekend or a day already listed is
    refused with a sentence that says why."""
    if day is None:
        raise ValidationFailed({"day": ["Choose the day the district is closed."]})
    if day.weekday() >= 5:
        raise ValidationFailed(
            {
                "day": [
                    f"{day.isoformat()} is a {_WEEKDAYS[day.weekday()]}: weekends are never "
                    "working days, so it needs no entry."
                ]
            }
        )
    text = _checked_label(label)
    existing = db.session.execute(
        select(ClosedDay).where(ClosedDay.day == day)
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict({"day": [f"{day.isoformat()} is already closed ({existing.label})."]})
    row = ClosedDay(tenant_id=require_tenant_id(), day=day, label=text)
    db.session.add(row)
    db.session.flush()
    audit.record(
        row.tenant_id,
        "calendar.closed_day_added",
        "closed_day",
        row.id,
        after={"day": day.isoformat(), "label": text},
        actor=Actor.of(actor),
    )
    return row


def remove_closed_day(day: date | None, actor: User) -> ClosedDay:
    """Make a closed day a working day again (audited). Windows already counted keep the
    day an appeal was filed with; windows still open are counted afresh."""
    row = (
        None
        if day is None
        else db.session.execute(select(ClosedDay).where(ClosedDay.day == day)).scalar_one_or_none()
    )
    if row is None:
        shown = day.isoformat() if day else "That day"
        raise NotFound({"day": [f"{shown} is not on the district calendar."]})
    audit.record(
        row.tenant_id,
        "calendar.closed_day_removed",
        "closed_day",
        row.id,
        before={"day": row.day.isoformat(), "label": row.label},
        actor=Actor.of(actor),
    )
    db.session.delete(row)
    db.session.flush()
    return row


def _checked_label(label: str | None) -> str:
    return written(
        label,
        "label",
        limit=LABEL_MAX,
        empty="Say why the district is closed that day.",
        noun="label",
        one_line=True,
    )
