"""Deadline reminders: when a case's deadline is (or was) reminded, and reminding it now.

The periodic sweep (``app.jobs.reminders.remind_due``) and the coordinator's "Remind now"
write the same thing through :func:`notify`: the ``reminded_at`` mark and one outbox
notice to the assigned CT and the coordinator, in one transaction. The case page reads
:func:`plan` so people see when the reminder goes out without asking anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case, CaseDeadline
from app.models.user import User
from app.services import audit
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict

#: How far ahead the periodic sweep announces a deadline.
REMIND_BEFORE = timedelta(days=7)
#: A deadline reminded by hand less than this long ago is not reminded again: a second
#: press (or a double click) must not mail the same people twice.
REMIND_AGAIN_AFTER = timedelta(days=1)
#: Who a deadline's reminder goes to (relations and roles on the case).
RECIPIENTS = ("assigned_ct", "coordinator")
#: The roles that may send a reminder by hand (the authorization matrix says the same).
MAY_REMIND = ("coordinator", "program_admin")


def notify(deadline: CaseDeadline) -> None:
    """Mark ``deadline`` reminded and queue its notice (flushes nothing; callers do)."""
    deadline.reminded_at = utcnow()
    outbox.case_notice(deadline.case_id, deadline.tenant_id, f"{deadline.key}_due", RECIPIENTS)


def deadline_of(case: Case, case_deadline_id: int) -> CaseDeadline | None:
    """One of ``case``'s deadlines (None for another case's, or another district's)."""
    return db.session.execute(
        select(CaseDeadline).where(
            CaseDeadline.id == case_deadline_id, CaseDeadline.case_id == case.id
        )
    ).scalar_one_or_none()


def label(case: Case, deadline: CaseDeadline) -> str:
    """The deadline as the case's program names it."""
    found = configs.config_of(case.workflow_version).deadlines.get(deadline.key)
    return found.label if found else deadline.key.replace("_", " ").capitalize()


def remind_now(case: Case, deadline: CaseDeadline, user: User) -> CaseDeadline:
    """Remind the assigned CT and the coordinator of one deadline now, audited.

    Refused on a closed case (nothing is due) and within a day of the last reminder, so
    a second press never mails the same people twice. The row is locked first: of two
    presses at once, the second sees the first's mark.
    """
    from app.services.case_permissions import require
    from app.services.cases import ensure_open

    require(case, user, roles=MAY_REMIND, what="send a deadline reminder")
    ensure_open(case)
    db.session.execute(
        select(CaseDeadline.id).where(CaseDeadline.id == deadline.id).with_for_update()
    )
    db.session.refresh(deadline)
    now = utcnow()
    if deadline.reminded_at is not None and deadline.reminded_at > now - REMIND_AGAIN_AFTER:
        raise Conflict(
            {
                "_schema": [
                    f"{label(case, deadline)} was reminded {_when(deadline.reminded_at)}; "
                    "nothing was sent again. A new reminder can go out a day later."
                ]
            }
        )
    before = _stamp(deadline.reminded_at)
    notify(deadline)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "case.deadline_reminded",
        "case",
        case.id,
        before={"deadline": deadline.key, "reminded_at": before},
        after={
            "deadline": deadline.key,
            "due_on": deadline.due_on.isoformat(),
            "reminded_at": _stamp(deadline.reminded_at),
            "to": list(RECIPIENTS),
        },
        actor=Actor.of(user),
    )
    return deadline


def sent_words(case: Case, deadline: CaseDeadline) -> str:
    """What the page says once a reminder is queued."""
    return (
        f"Reminder of {label(case, deadline)} (due {deadline.due_on.isoformat()}) queued "
        f"for {_recipients()}."
    )


def _recipients() -> str:
    from app.services import roster

    return f"the {roster.ct_title().lower()} and the coordinator"


@dataclass(frozen=True)
class Plan:
    """When one deadline is reminded, in words for the case page."""

    deadline: CaseDeadline
    label: str
    words: str
    #: Whether the reader may press "Remind now" for it.
    may_remind: bool


def plan(case: Case, reader: User, today: date | None = None) -> list[Plan]:
    """Each deadline of ``case`` with when its reminder went or goes out, soonest first."""
    today = today or date.today()
    who = _recipients()
    open_case = case.closed_at is None
    may = open_case and bool(set(MAY_REMIND) & reader.roles)
    return [
        Plan(d, label(case, d), _words(d, who, open_case, today), may)
        for d in sorted(case.deadlines, key=lambda d: (d.due_on, d.id))
    ]


def _words(deadline: CaseDeadline, who: str, open_case: bool, today: date) -> str:
    if deadline.reminded_at is not None:
        return f"Reminded {_when(deadline.reminded_at)} ({who})."
    if not open_case:
        return "Not reminded: the case is closed."
    if deadline.due_on < today:
        return "Not reminded: it was already past when reminders would have gone out."
    starts = deadline.due_on - REMIND_BEFORE
    if starts <= today:
        return f"{who[:1].upper()}{who[1:]} will be reminded within the hour."
    return f"{who[:1].upper()}{who[1:]} will be reminded on {starts.isoformat()}, a week ahead."


def _when(moment: datetime) -> str:
    return f"on {moment.strftime('%Y-%m-%d')} at {moment.strftime('%H:%M')} UTC"


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
