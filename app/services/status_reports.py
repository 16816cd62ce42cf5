"""The consulting teacher's status reports to the panel: writing, acknowledging, reading.

When reports fall due is ``status_report_schedule``'s to say.

The assigned CT writes a report (each standard rated on the district's scale, the visits
since the previous report counted when it is sent, concerns, their current view) and signs
it with their typed name; it is then placed on the next scheduled panel session for
reading, and the people the track names acknowledge it (``signatures``). Nothing of a
closed case is reminded, escalated or listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.panel import PanelSession
from app.models.status_report import StatusReport
from app.models.support import Visit
from app.models.user import User
from app.security.roles import PROGRAM_STAFF
from app.services import audit, cases, signatures, status_report_schedule
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.case_permissions import require
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.tenants import reads
from app.tenants.scoping import scoped
from app.workflows import ProgramConfig
from app.workflows.facts import visit_shortfalls
from app.workflows.model import StatusReportRules

#: The longest concerns or current view kept, in characters.
MAX_TEXT = 10_000
#: The longest note on one standard.
MAX_NOTE = 2_000
#: What a track lists in ``shared_with_principal`` to let the principal read the reports.
SHARED_KEY = "status_reports"


def document(report: StatusReport) -> str:
    """The report's key among the documents people acknowledge."""
    return f"status_report:{report.id}"


# --- Writing and acknowledging ---------------------------------------------------------


@dataclass(frozen=True)
class ReportInput:
    """What the CT writes: a rating key per standard key (required) and optional notes."""

    ratings: Mapping[str, str | None]
    notes: Mapping[str, str | None] = field(default_factory=dict)
    concerns: str | None = None
    current_view: str | None = None
    signed_name: str | None = None


def report_of(case: Case, report_id: int) -> StatusReport | None:
    """A report a URL names, only if it belongs to the URL's case."""
    return db.session.execute(
        select(StatusReport).where(StatusReport.id == report_id, StatusReport.case_id == case.id)
    ).scalar_one_or_none()


def write(case: Case, user: User, report_id: int, data: ReportInput) -> StatusReport:
    """The assigned CT writes and signs one due report of an open case; it is placed on the
    next scheduled panel session and those who acknowledge it are told."""
    require(case, user, relations=("assigned_ct",), what="write status reports")
    cases.ensure_open(case)
    report = report_of(case, report_id)
    if report is None:
        raise NotFound({"_schema": ["There is no such status report on this case."]})
    if report.written:
        raise Conflict({"_schema": ["This report is already written and signed."]})
    config = configs.config_of(case.workflow_version)
    progress = _checked(config, user, data)
    today = date.today()
    previous = _latest_written(case)
    report.period_from = previous.submitted_at.date() if previous else _support_start(case, today)
    report.visits_since = _visits_counted(case, config, report.period_from, previous, today)
    report.progress = progress
    report.concerns = (data.concerns or "").strip() or None
    report.current_view = (data.current_view or "").strip()
    report.signed_name = (data.signed_name or "").strip()
    report.author_id = user.id
    report.submitted_at = utcnow()
    report.session_id = _next_session_id(report, today)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "case.status_report_submitted",
        "case",
        case.id,
        after={
            "report_id": report.id,
            "label": report.label,
            "session_id": report.session_id,
            "visits_since": report.visits_since,
            "below_standard": _below(report),
        },
        actor=Actor.of(user),
    )
    track = config.tracks[case.track_key]
    outbox.case_notice(
        case.id,
        case.tenant_id,
        "status_report_written",
        set(track.acknowledged_by) | {"case_teacher"},
        status_report_id=report.id,
    )
    return report


def _checked(config: ProgramConfig, user: User, data: ReportInput) -> list[dict]:
    """Every standard rated on the scale (no default), the texts within bounds and the
    signature the CT's own name; every problem at once, each on its field."""
    scale = {level.key: level for level in config.rating_scale}
    errors: dict[str, list[str]] = {}
    progress = []
    for standard in config.standards:
        rating = data.ratings.get(standard.key)
        note = (data.notes.get(standard.key) or "").strip()
        if rating not in scale:
            errors[f"rating_{standard.key}"] = [f"Choose a rating for {standard.label}."]
        if len(note) > MAX_NOTE:
            errors[f"note_{standard.key}"] = [f"Keep the note to {MAX_NOTE:,} characters."]
        if rating in scale:
            progress.append(
                {
                    "standard": standard.key,
                    "rating": rating,
                    "meets_standard": scale[rating].meets_standard,
                    "note": note,
                }
            )
    if not (data.current_view or "").strip():
        errors["current_view"] = ["Say where the teacher stands now."]
    for name in ("concerns", "current_view"):
        if len((getattr(data, name) or "").strip()) > MAX_TEXT:
            errors[name] = [f"Keep it to {MAX_TEXT:,} characters."]
    if not _same_name(data.signed_name, user.name):
        errors["signed_name"] = [f"Type your name as the district has it to sign: {user.name}."]
    if errors:
        raise ValidationFailed(errors)
    return progress


def _same_name(typed: str | None, name: str | None) -> bool:
    def normal(text: str | None) -> str:
        return " ".join((text or "").split()).casefold()

    return bool(normal(name)) and normal(typed) == normal(name)


def _latest_written(case: Case) -> StatusReport | None:
    return db.session.execute(
        select(StatusReport)
        .where(StatusReport.case_id == case.id, StatusReport.submitted_at.is_not(None))
        .order_by(StatusReport.submitted_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _support_start(case: Case, today: date) -> date:
    from app.services.support import support_period

    return support_period(case, today).start


def _visits_counted(
    case: Case, config: ProgramConfig, since: date, previous: StatusReport | None, today: date
) -> int:
    """Visits that count (``visit_shortfalls``) dated after the previous report's day (or
    from the start of support for the first report) up to today."""
    from app.services.support import support_period

    period = support_period(case, today)
    rows = db.session.execute(select(Visit).where(Visit.case_id == case.id)).scalars()
    return sum(
        1
        for v in rows
        if (v.visited_on > since if previous else v.visited_on >= since)
        and not visit_shortfalls(v, config.visit_types, period)
    )


def _next_session_id(report: StatusReport, today: date) -> int | None:
    """The session the report is for, if it is still to meet; else the next one scheduled."""
    sessions = status_report_schedule.upcoming_sessions(today)
    chosen = next((s for s in sessions if s.id == report.for_session_id), None)
    chosen = chosen or next(iter(sessions), None)
    return chosen.id if chosen else None


def _below(report: StatusReport) -> int:
    return sum(1 for entry in report.progress or () if not entry.get("meets_standard"))


def below_standard(case: Case) -> tuple[int, ...]:
    """The guard's fact: for each written report, oldest first, how many standards it rated
    below standard."""
    rows = db.session.execute(
        select(StatusReport)
        .where(StatusReport.case_id == case.id, StatusReport.submitted_at.is_not(None))
        .order_by(StatusReport.submitted_at, StatusReport.id)
    ).scalars()
    return tuple(_below(r) for r in rows)


def acknowledge(case: Case, user: User, report_id: int, typed_name: str | None):
    """The teacher (and whoever else the track names) acknowledges a written report."""
    report = report_of(case, report_id)
    if report is None or not report.written:
        raise NotFound({"_schema": ["There is no such status report on this case."]})
    return signatures.acknowledge(case, user, document(report), typed_name)


def _exists_for(case: Case, reader: User, reference: str | None) -> bool:
    if reference is None or not reference.isdigit():
        return False
    report = report_of(case, int(reference))
    return report is not None and report.written and may_read(report, reader)


signatures.register_document("status_report", _exists_for)


# --- Who reads ---------------------------------------------------------------------------


def may_read(report: StatusReport, reader: User) -> bool:
    """The program staff, the case's CT (and the report's author), its teacher, its
    principal where the track shares status reports, and anyone with a seat on the session
    it is placed on who is not a party to the case. Only a written report is read."""
    case = report.case
    if reader.roles & PROGRAM_STAFF or reader.id in (case.ct_id, report.author_id):
        return True
    if not report.written:
        return False
    if reader.id == case.teacher_id:
        return True
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    if reader.id == case.principal_id:
        return case.principal_can_see and SHARED_KEY in track.shared_with_principal
    return _seated_reader(report, reader)


def _seated_reader(report: StatusReport, reader: User) -> bool:
    from app.services.panel import eligibility

    case = report.case
    if report.session_id is None or "panel_member" not in reader.roles:
        return False
    if reader.id in eligibility.parties(case):
        return False
    session = db.session.get(PanelSession, report.session_id)
    if session is None or not eligibility.sees_session(reader, session):
        return False
    panel = configs.config_of(case.workflow_version).panel
    same_school = bool(case.school) and reader.school == case.school
    return not (panel and "same_school" in panel.recusal and same_school)


def on_session(session: PanelSession, reader: User) -> list[StatusReport]:
    """The reports placed on ``session`` for reading that ``reader`` may read."""
    rows = db.session.execute(_ON_SESSION, {"session_id": session.id}).scalars()
    return [r for r in rows if may_read(r, reader)]


#: The reports placed on a session, built once (``scoped``): every session page reads them.
_ON_SESSION = scoped(
    select(StatusReport)
    .where(
        StatusReport.session_id == bindparam("session_id"), StatusReport.submitted_at.is_not(None)
    )
    .order_by(StatusReport.submitted_at, StatusReport.id)
)


#: A CT's unwritten reports of open cases due by a day, built once (``scoped``): every CT's
#: home reads them, as rows of what the CT's day shows of each and what its reminder
#: window is read from.
_DUE_OF_CT = scoped(
    select(
        StatusReport.id,
        StatusReport.case_id,
        StatusReport.label,
        StatusReport.due_on,
        StatusReport.moved_from,
        Case.workflow_version_id,
        Case.track_key,
        User.name.label("teacher_name"),
    )
    .join(Case, Case.id == StatusReport.case_id)
    .join(User, User.id == Case.teacher_id)
    .where(
        Case.ct_id == bindparam("ct_id"),
        Case.closed_at.is_(None),
        StatusReport.submitted_at.is_(None),
        StatusReport.due_on <= bindparam("until"),
    )
    .order_by(StatusReport.due_on, StatusReport.id)
)


def due(ct: User, today: date | None = None) -> tuple[list, list]:
    """A CT's unwritten reports on open cases: (due within the track's reminder window,
    overdue), earliest first. A closed case's reports are never listed."""
    today = today or date.today()
    rows = reads.rows(_DUE_OF_CT, {"ct_id": ct.id, "until": today + timedelta(days=30)})
    soon, overdue = [], []
    for report in rows:
        if report.due_on < today:
            overdue.append(report)
        elif report.due_on <= today + timedelta(days=remind_days(report)):
            soon.append(report)
    return soon, overdue


def remind_days(case: Any) -> int:
    """How many days ahead of a report's due date its CT is reminded (the track's rule);
    ``case`` a case, or a row with its version and track (``configs.version_of``)."""
    rules = configs.config_of(configs.version_of(case)).tracks[case.track_key].status_reports
    return rules.remind_days_before if rules else StatusReportRules().remind_days_before


# --- The case page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rated:
    """One standard of a written report, in words."""

    standard: str
    rating: str
    meets_standard: bool
    note: str


@dataclass(frozen=True)
class Row:
    """One report as a reader of the case page sees it."""

    report: StatusReport
    #: written, overdue, due or cleared (unwritten when the case closed).
    status: str
    moved: str | None
    rated: list[Rated]
    signatures: list
    #: Whether the reader is asked to acknowledge it and has not yet.
    may_acknowledge: bool
    session_on: date | None


@dataclass(frozen=True)
class Section:
    """The status reports section of one case, for one reader."""

    rows: list[Row]
    schedule: str
    #: The report the assigned CT writes next (the earliest unwritten one), if any.
    to_write: StatusReport | None
    name_to_type: str
    statement: str = signatures.STATEMENT


#: A case's reports, built once (``scoped``): every case page reads them. The case is
#: already loaded: its row (and its joined people) is not fetched again.
_OF_CASE = scoped(
    select(StatusReport)
    .options(lazyload(StatusReport.case))
    .where(StatusReport.case_id == bindparam("case_id"))
    .order_by(StatusReport.due_on, StatusReport.id)
)


def for_page(case: Case, reader: User) -> Section | None:
    """What the case page shows ``reader`` in the status reports section; None while there
    is nothing to show."""
    config = configs.config_of(case.workflow_version)
    rules = config.tracks[case.track_key].status_reports
    reports = db.session.execute(_OF_CASE, {"case_id": case.id}).scalars()
    visible = [r for r in reports if may_read(r, reader)]
    staff = bool(reader.roles & PROGRAM_STAFF) or reader.id == case.ct_id
    if not visible and not (staff and rules is not None):
        return None
    writer = reader.id == case.ct_id and case.closed_at is None
    return Section(
        rows=[_row(case, config, r, reader) for r in visible],
        schedule=schedule_words(rules),
        to_write=next((r for r in visible if not r.written), None) if writer else None,
        name_to_type=reader.name,
    )


def _row(case: Case, config: ProgramConfig, report: StatusReport, reader: User) -> Row:
    sessions = {}
    if report.session_id is not None:
        sessions = {report.session_id: db.session.get(PanelSession, report.session_id)}
    written = report.written
    return Row(
        report=report,
        status=_status(case, report),
        moved=moved_words(report),
        rated=rated(config, report) if written else [],
        signatures=signatures.signatures_of(case, document(report)) if written else [],
        may_acknowledge=written and signatures.pending_for(case, reader, document(report)),
        session_on=sessions[report.session_id].meets_on if sessions else None,
    )


def _status(case: Case, report: StatusReport) -> str:
    if report.written:
        return "written"
    if case.closed_at is not None:
        return "cleared"
    return "overdue" if report.due_on < date.today() else "due"


def moved_words(report: StatusReport) -> str | None:
    """Why a report is due later than its rules said, in the page's words."""
    if report.moved_from is None:
        return None
    when = "the session was scheduled" if report.for_session_id else "the case began"
    return f"moved from {report.moved_from.isoformat()}: already past when {when}"


def rated(config: ProgramConfig, report: StatusReport) -> list[Rated]:
    """A written report's ratings by the labels of the configuration it was written under."""
    standards = {s.key: s.label for s in config.standards}
    levels = {level.key: level.label for level in config.rating_scale}
    return [
        Rated(
            standard=standards.get(entry["standard"], entry["standard"]),
            rating=levels.get(entry["rating"], entry["rating"]),
            meets_standard=bool(entry.get("meets_standard")),
            note=entry.get("note") or "",
        )
        for entry in report.progress or ()
    ]


def schedule_words(rules: StatusReportRules | None) -> str:
    """The track's schedule in a sentence."""
    if rules is None:
        return "This track has no status report schedule."
    if rules.every_weeks:
        when = f"Every {rules.every_weeks} weeks from the case's start, to the end of its year"
    elif rules.at:
        months = "January February March April May June July August September October "
        names = (months + "November December").split()
        when = "At " + "; ".join(f"{p.label} ({names[p.on[0] - 1]} {p.on[1]})" for p in rules.at)
    else:
        when = "Before each panel session"
    return f"{when}; reminded {rules.remind_days_before} days ahead."


@dataclass(frozen=True)
class Reading:
    """A written report as the panel reads it."""

    report: StatusReport
    teacher: str
    track: str
    period: str
    rated: list[Rated]


def reading(report: StatusReport) -> Reading:
    """A written report with its case, period and ratings in words."""
    config = configs.config_of(report.case.workflow_version)
    start = report.period_from.isoformat() if report.period_from else "the start of support"
    return Reading(
        report=report,
        teacher=report.case.teacher.name,
        track=config.tracks[report.case.track_key].name,
        period=f"{start} to {report.submitted_at.date().isoformat()}",
        rated=rated(config, report),
    )
