"""What a person's calendar feed shows: their visits, panel sessions and deadlines, each an
all-day event (they are kept as dates).

What a feed carries is what its owner sees in the portal, asked of the services that
decide it: the cases of ``case_access.visible_cases``, the visit summary of
``case_permissions.sections``, the sessions of ``panel.eligibility`` with only the agenda
items the owner may read, the status reports of ``status_reports.may_read`` and the
appeal window of ``appeals.for_page``. It carries dates, kinds, names and places: never
notes, ratings, ballots or evidence.

Every event's UID names its source row, so an edit replaces the event in the calendar app
(its SEQUENCE counts the row's revisions, ``app.models.calendar_feed``), and what the
source keeps but no longer happens (the planned visits and deadlines of a case that
closed) stays as a cancelled event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db
from app.models.base import utcnow
from app.models.calendar_feed import CalendarRevision
from app.models.case import Case, CaseDeadline
from app.models.panel import AgendaItem, PanelSession
from app.models.status_report import StatusReport
from app.models.support import Visit
from app.models.user import User
from app.services import case_access, case_permissions, cases, deadline_reminders
from app.services import workflow_config as configs
from app.tenants.resolution import current_tenant

#: How far back and ahead a feed reaches: a term's history, and the year ahead.
REACHES_BACK = timedelta(days=120)
REACHES_AHEAD = timedelta(days=400)


@dataclass(frozen=True)
class Entry:
    """One all-day event of a feed (visits, sessions and deadlines are kept as dates)."""

    uid: str
    day: date
    summary: str
    sequence: int
    modified: datetime
    cancelled: bool = False
    location: str | None = None
    description: str | None = None
    case_id: int | None = None


class _Revisions:
    """The revision counts of the rows a feed shows, read in one statement per source."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, int], CalendarRevision] = {}

    def load(self, source: str, ids: Iterable[int]) -> None:
        ids = sorted(set(ids))
        if not ids:
            return
        rows = db.session.execute(
            select(CalendarRevision).where(
                CalendarRevision.source == source, CalendarRevision.source_id.in_(ids)
            )
        ).scalars()
        self._found.update({(source, row.source_id): row for row in rows})

    def of(self, created: datetime, *keys: tuple[str, int]) -> tuple[int, datetime]:
        """SEQUENCE and LAST-MODIFIED of an event drawn from the rows ``keys``: every
        count only grows, so their sum does too."""
        found = [self._found[k] for k in keys if k in self._found]
        return (
            sum(r.sequence for r in found),
            max([created, *(r.modified_at for r in found)]),
        )


def entries(user: User, today: date | None = None) -> list[Entry]:
    """Everything ``user``'s feed shows, soonest first."""
    today = today or date.today()
    first, last = today - REACHES_BACK, today + REACHES_AHEAD
    visible = case_access.visible_cases(user).with_only_columns(Case.id)
    revisions = _Revisions()
    found = [
        *_visits(user, visible, first, last, revisions),
        *_sessions(user, first, last, revisions),
        *_deadlines(user, visible, first, last, revisions),
        *_status_reports(user, visible, first, last, revisions),
        *_appeal_windows(user, visible, today),
    ]
    return sorted(found, key=lambda e: (e.day, e.uid))


def uid(kind: str, row_id: int) -> str:
    """A stable, globally unique UID for one source row of this district."""
    base = urlsplit(current_app.config.get("PUBLIC_BASE_URL") or "http://localhost")
    return f"{kind}-{row_id}@{current_tenant().slug}.{base.hostname or 'localhost'}"


def _teacher_words(case: Case, user: User, text: str) -> str:
    """``text`` about ``case``: the teacher's own events need not name them."""
    return text if case.teacher_id == user.id else f"{text}: {case.teacher.name}"


def _visits(user, visible, first, last, revisions) -> Iterator[Entry]:
    """The visits of the cases the person is the CT, teacher or principal of, where the
    case shows them the visits (the date and kind, never the notes)."""
    rows = db.session.execute(
        select(Visit, Case)
        .join(Case, Case.id == Visit.case_id)
        .where(
            Case.id.in_(visible),
            or_(Case.ct_id == user.id, Case.teacher_id == user.id, Case.principal_id == user.id),
            Visit.visited_on.between(first, last),
        )
        .order_by(Visit.visited_on, Visit.id)
    ).all()
    revisions.load("visit", (v.id for v, _ in rows))
    revisions.load("case", (c.id for _, c in rows))
    shown: dict[int, bool] = {}
    for visit, case in rows:
        if case.id not in shown:
            shown[case.id] = _sees_visits(case, user)
        if not shown[case.id]:
            continue
        config = configs.config_of(case.workflow_version)
        kind = config.visit_types.get(visit.visit_type)
        label = kind.label if kind else visit.visit_type.replace("_", " ").capitalize()
        if case.teacher_id == user.id:
            summary = f"{label} with {visit.author.name}"
        else:
            summary = f"{label}: {case.teacher.name}"
        cancelled = visit.planned and case.closed_at is not None
        sequence, modified = revisions.of(visit.created_at, ("visit", visit.id), ("case", case.id))
        state = "Planned" if visit.planned else "Logged"
        length = f", {visit.duration_minutes} minutes" if visit.duration_minutes else ""
        yield Entry(
            uid=uid("visit", visit.id),
            day=visit.visited_on,
            summary=summary + (" (planned)" if visit.planned else ""),
            sequence=sequence,
            modified=modified,
            cancelled=cancelled,
            location=case.school,
            description=f"{state} visit{length}.",
            case_id=case.id,
        )


def _sees_visits(case: Case, user: User) -> bool:
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    relations = cases.relations(case, user)
    return case_permissions.sections(
        case, user, track.shared_with_principal, relations
    ).visit_summary


def _sessions(user, first, last, revisions) -> Iterator[Entry]:
    """The panel sessions the person sees (program staff, and members seated for them),
    naming only the cases on each agenda they may read; and, for a consulting teacher, the
    sessions their own cases go before."""
    from app.services.panel import sessions as panel_sessions

    seen = [s for s in panel_sessions.sessions(user) if first <= s.meets_on <= last]
    revisions.load("panel_session", (s.id for s in seen))
    for session in seen:
        names = sorted(i.case.teacher.name for i in panel_sessions.visible_items(session, user))
        sequence, modified = revisions.of(session.created_at, ("panel_session", session.id))
        yield Entry(
            uid=uid("panel-session", session.id),
            day=session.meets_on,
            summary="Panel session",
            sequence=sequence,
            modified=modified,
            location=session.location,
            description=(
                "Cases on the agenda: " + ", ".join(names) + "." if names else "No cases yet."
            ),
        )
    yield from _own_agenda_items(user, {s.id for s in seen}, first, last, revisions)


def _own_agenda_items(user, seen: set[int], first, last, revisions) -> Iterator[Entry]:
    """The sessions a consulting teacher's open cases are on (the CT presents them), where
    the CT does not see the session itself."""
    rows = db.session.execute(
        select(AgendaItem, PanelSession)
        .join(PanelSession, PanelSession.id == AgendaItem.session_id)
        .join(Case, Case.id == AgendaItem.case_id)
        .where(
            Case.ct_id == user.id,
            Case.closed_at.is_(None),
            PanelSession.meets_on.between(first, last),
            PanelSession.id.not_in(seen),
        )
        .order_by(PanelSession.meets_on, AgendaItem.id)
    ).all()
    revisions.load("panel_session", (s.id for _, s in rows))
    for item, session in rows:
        sequence, modified = revisions.of(session.created_at, ("panel_session", session.id))
        yield Entry(
            uid=uid("agenda-item", item.id),
            day=session.meets_on,
            summary=f"Panel review: {item.case.teacher.name}",
            sequence=sequence,
            modified=modified,
            location=session.location,
            case_id=item.case_id,
        )


def _deadlines(user, visible, first, last, revisions) -> Iterator[Entry]:
    """The deadlines of the cases the person sees (cancelled once the case closed)."""
    rows = db.session.execute(
        select(CaseDeadline, Case)
        .join(Case, Case.id == CaseDeadline.case_id)
        .where(Case.id.in_(visible), CaseDeadline.due_on.between(first, last))
        .order_by(CaseDeadline.due_on, CaseDeadline.id)
    ).all()
    revisions.load("deadline", (d.id for d, _ in rows))
    revisions.load("case", (c.id for _, c in rows))
    for deadline, case in rows:
        text = f"Due: {deadline_reminders.label(case, deadline)}"
        yield _due(user, case, ("deadline", deadline.id), deadline.due_on, text, revisions)


def _due(
    user: User,
    case: Case,
    source: tuple[str, int],
    day: date,
    text: str,
    revisions: _Revisions,
    created: datetime | None = None,
) -> Entry:
    """A date due on ``case``: cancelled once the case closed (a closing counts as a
    revision of each, so calendar apps take the cancellation)."""
    sequence, modified = revisions.of(created or case.created_at, source, ("case", case.id))
    return Entry(
        uid=uid(source[0].replace("_", "-"), source[1]),
        day=day,
        summary=_teacher_words(case, user, text),
        sequence=sequence,
        modified=modified,
        cancelled=case.closed_at is not None,
        case_id=case.id,
    )


def _status_reports(user, visible, first, last, revisions) -> Iterator[Entry]:
    """Status reports still to write that the person reads (their CT and program staff)."""
    from app.services.status_reports import may_read

    rows = db.session.execute(
        select(StatusReport)
        .join(Case, Case.id == StatusReport.case_id)
        .where(
            Case.id.in_(visible),
            StatusReport.submitted_at.is_(None),
            StatusReport.due_on.between(first, last),
        )
        .order_by(StatusReport.due_on, StatusReport.id)
    ).scalars()
    reports = [r for r in rows if may_read(r, user)]
    revisions.load("status_report", (r.id for r in reports))
    revisions.load("case", (r.case_id for r in reports))
    for report in reports:
        text = f"Status report due ({report.label})"
        source = ("status_report", report.id)
        yield _due(user, report.case, source, report.due_on, text, revisions, report.created_at)


def _appeal_windows(user, visible, today: date) -> Iterator[Entry]:
    """The last day to appeal a decision not (yet) appealed, for those the case page
    shows the window to."""
    from app.services import appeals

    recent = db.session.execute(
        select(Case).where(
            Case.id.in_(visible),
            Case.closed_at.is_not(None),
            Case.closed_at >= utcnow() - REACHES_BACK,
        )
    ).scalars()
    for case in recent:
        section = appeals.for_page(case, user)
        if section is None or section.appeal is not None or section.closes_on is None:
            continue
        yield Entry(
            uid=uid("appeal-window", case.id),
            day=section.closes_on,
            summary=_teacher_words(case, user, "Last day to appeal the decision"),
            sequence=0,
            modified=case.closed_at,
            case_id=case.id,
        )
