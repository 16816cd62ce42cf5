"""When the consulting teacher's status reports fall due: one row per report.

A track's ``status_reports`` rules say when: every N weeks from the case's start, at named
points of the school year, or before each panel session. ``schedule`` writes one row per
report when the case's support begins (and ``schedule_for_session`` when a session is
scheduled, for tracks that report before each one), so every report can be reminded, listed
on the CT's home and escalated when missed, by plain queries. A due date already past when
it is scheduled is moved a few days ahead (the track's ``remind_days_before``), never
dropped: ``moved_from`` keeps the date the rules gave.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from sqlalchemy import and_, false, or_, select

from app.extensions import db
from app.models.case import Case
from app.models.panel import PanelSession
from app.models.status_report import StatusReport
from app.services import audit
from app.services import workflow_config as configs
from app.workflows import ProgramConfig, Track
from app.workflows.model import StatusReportRules


def reporting_states(track: Track) -> frozenset[str]:
    """The states in which a case's CT reports: those the track's end-of-support step
    leaves (its support period) and every open state reachable from them (the
    recommendation and the panel's review come after support, and the panel still reads)."""
    found = {s for t in track.steps_for("end_support") for s in t.sources}
    frontier = list(found)
    while frontier:
        for step in track.transitions_from(frontier.pop()):
            if step.to not in found and not track.states[step.to].terminal:
                found.add(step.to)
                frontier.append(step.to)
    return frozenset(found)


def begins_support(track: Track, from_state: str, to_state: str) -> bool:
    """Whether a step from ``from_state`` to ``to_state`` starts the reporting period."""
    states = reporting_states(track)
    return to_state in states and from_state not in states


def schedule(case: Case, today: date | None = None) -> list[StatusReport]:
    """Create the reports the track's rules make due, when the case's support begins.

    Counted from the case's start (``started_on``, else the day support begins) to the end
    of that school year; before-each-session tracks get one report per session already
    scheduled. Reports the case has (by label) are kept as they are, so this is safe to
    run again.
    """
    config = configs.config_of(case.workflow_version)
    rules = config.tracks[case.track_key].status_reports
    if rules is None:
        return []
    today = today or date.today()
    start = case.started_on or today
    floor = max(start, today)
    moved_to = floor + timedelta(days=rules.remind_days_before)
    if rules.before_each_session:
        planned = [_for_session(s, rules) for s in upcoming_sessions(today)]
    else:
        planned = [(label, due, None) for label, due in _dates(config, rules, start)]
    return _create(case, planned, floor, moved_to)


def _dates(config: ProgramConfig, rules: StatusReportRules, start: date) -> Iterator[tuple]:
    year_start, year_end = config.school_year(start)
    if rules.every_weeks:
        step = timedelta(weeks=rules.every_weeks)
        due, weeks = start + step, rules.every_weeks
        while due <= year_end:
            yield f"Week {weeks} report", due
            due, weeks = due + step, weeks + rules.every_weeks
        return
    for point in rules.at:
        month, day = point.on
        for year in (year_start.year, year_start.year + 1):
            due = _day_of(year, month, day)
            if year_start <= due <= year_end:
                yield point.label, due
                break


def _day_of(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 02-29 outside a leap year
        return date(year, month, day - 1)


def _for_session(session: PanelSession, rules: StatusReportRules) -> tuple:
    label = f"Before the panel session of {session.meets_on.isoformat()}"
    return label, session.meets_on - timedelta(days=rules.remind_days_before), session.id


def upcoming_sessions(today: date) -> list[PanelSession]:
    """Panel sessions from today on, soonest first: where written reports go to be read."""
    return list(
        db.session.execute(
            select(PanelSession)
            .where(PanelSession.status == "scheduled", PanelSession.meets_on >= today)
            .order_by(PanelSession.meets_on, PanelSession.id)
        ).scalars()
    )


def _create(case: Case, planned: Iterable[tuple], floor: date, moved_to: date) -> list:
    have = set(
        db.session.execute(select(StatusReport.label).where(StatusReport.case_id == case.id))
        .scalars()
        .all()
    )
    created = []
    for label, due, session_id in planned:
        if label in have:
            continue
        moved_from = due if due < floor else None
        created.append(
            StatusReport(
                tenant_id=case.tenant_id,
                case_id=case.id,
                label=label,
                due_on=moved_to if moved_from else due,
                moved_from=moved_from,
                for_session_id=session_id,
                progress=[],
            )
        )
    if created:
        db.session.add_all(created)
        db.session.flush()
        audit.record(
            case.tenant_id,
            "case.status_reports_scheduled",
            "case",
            case.id,
            after={"reports": [_dated(r) for r in created]},
        )
    return created


def _dated(report: StatusReport) -> dict:
    moved = report.moved_from.isoformat() if report.moved_from else None
    return {"label": report.label, "due_on": report.due_on.isoformat(), "moved_from": moved}


def schedule_for_session(session: PanelSession) -> list[StatusReport]:
    """A session was scheduled: every open case of a before-each-session track that is in
    its reporting period gets a report due before it (moved to today when that day has
    passed), and submitted reports still waiting for a session are placed on it."""
    from app.services.case_lists import configs_in_use

    today = date.today()
    tracks = [
        (version_id, key, track)
        for version_id, config in configs_in_use().items()
        for key, track in config.tracks.items()
        if track.status_reports is not None and track.status_reports.before_each_session
    ]
    if not tracks:
        _place_waiting(session)
        return []
    wanted = or_(
        false(),
        *(
            and_(
                Case.workflow_version_id == version_id,
                Case.track_key == key,
                Case.state.in_(reporting_states(track)),
            )
            for version_id, key, track in tracks
        ),
    )
    created = []
    open_cases = select(Case).where(Case.closed_at.is_(None), wanted).order_by(Case.id)
    for case in db.session.execute(open_cases).scalars():
        rules = configs.config_of(case.workflow_version).tracks[case.track_key].status_reports
        created += _create(case, [_for_session(session, rules)], today, today)
    _place_waiting(session)
    return created


def _place_waiting(session: PanelSession) -> None:
    waiting = db.session.execute(
        select(StatusReport)
        .join(Case, Case.id == StatusReport.case_id)
        .where(
            StatusReport.submitted_at.is_not(None),
            StatusReport.session_id.is_(None),
            Case.closed_at.is_(None),
        )
    ).scalars()
    for report in waiting:
        report.session_id = session.id
