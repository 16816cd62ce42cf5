"""Lists of cases as each role needs them, each in a fixed number of queries.

Filters apply on top of the visibility rule (``case_access.visible_cases``), so
no list can show a case its reader may not see.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import aliased, defaultload, defer, lazyload, selectinload, with_expression

from app.exports.cells import csv_writer
from app.extensions import db
from app.models.appeal import FILED, Appeal
from app.models.case import Case, CaseDeadline
from app.models.support import Visit
from app.models.user import User
from app.services.case_access import visible_cases
from app.tenants import reads
from app.tenants.scoping import scoped
from app.workflows import ProgramConfig


@dataclass(frozen=True)
class CaseFilters:
    track: str | None = None
    state: str | None = None
    ct_id: int | None = None
    school: str | None = None
    year: int | None = None  # the calendar year the case was enrolled in
    open_only: bool = False
    #: Only cases whose approved decision is under appeal (filed, not yet decided).
    under_appeal: bool = False


#: Lists never show the configuration, and the case model joins its version eagerly: every
#: row would carry (and the driver would parse) the whole configuration document. Loaded
#: lazily instead, a version is read once per session, only when a row asks for it.
WITHOUT_DOCUMENT = lazyload(Case.workflow_version)
#: Lists show the people of a case by name; their roles (a query per joined relation, each
#: a round trip on every list) are loaded only if something asks for them.
NAMES_ONLY = tuple(
    defaultload(relation).lazyload(User.role_grants)
    for relation in (Case.teacher, Case.ct, Case.principal)
)


def next_deadline_column(column) -> ScalarSelect:
    """``column`` of the case's next deadline from today (``next_deadline``'s choice, the
    earliest, then the first scheduled), none once the case is closed."""
    return (
        select(column)
        .where(
            CaseDeadline.case_id == Case.id,
            Case.closed_at.is_(None),
            CaseDeadline.due_on >= bindparam("deadlines_from", callable_=date.today),
        )
        .order_by(CaseDeadline.due_on, CaseDeadline.id)
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )


#: A list's "Next deadline" column, read in the list's own statement: loading every
#: deadline of every row as objects (a second statement) to show one date cost more than
#: the rest of the list's reads together. A case already loaded earlier in the same session
#: keeps what it was loaded with, so a list reads its cases first.
WITH_NEXT_DEADLINE = (
    with_expression(Case.next_due_on, next_deadline_column(CaseDeadline.due_on)),
    with_expression(Case.next_due_moved_from, next_deadline_column(CaseDeadline.moved_from)),
)


def filtered(user: User, filters: CaseFilters, every_deadline: bool = False) -> Select:
    """The cases ``user`` may see that match ``filters``, newest first, each with its next
    deadline (``Case.next_due_on``); with ``every_deadline``, all of them too (the API's
    list gives each case's deadlines)."""
    query = visible_cases(user).options(*WITH_NEXT_DEADLINE, WITHOUT_DOCUMENT, *NAMES_ONLY)
    if every_deadline:
        query = query.options(selectinload(Case.deadlines))
    return _matching(query, filters)


#: The columns a list's row of a case carries for its link, track and state in the
#: program's words (``labels`` takes such a row as it takes a case).
CASE_ROW = (Case.id, Case.workflow_version_id, Case.track_key, Case.state)
_TEACHER, _CT = aliased(User), aliased(User)
#: What the case list shows of each case: the columns, as rows (``listed``).
_LISTED = (
    *CASE_ROW,
    Case.school,
    _TEACHER.name.label("teacher_name"),
    _CT.name.label("ct_name"),
    next_deadline_column(CaseDeadline.due_on).label("next_due_on"),
)


def listed(user: User, filters: CaseFilters) -> Select:
    """``filtered``'s cases as rows of what the case list shows (``_LISTED``): the page
    reads nothing back, and whole cases with their people cost several times the columns."""
    query = (
        visible_cases(user)
        .with_only_columns(*_LISTED)
        .join(_TEACHER, _TEACHER.id == Case.teacher_id)
        .outerjoin(_CT, _CT.id == Case.ct_id)
    )
    return _matching(query, filters)


def _matching(query: Select, filters: CaseFilters) -> Select:
    if filters.track:
        query = query.where(Case.track_key == filters.track)
    if filters.state:
        query = query.where(Case.state == filters.state)
    if filters.ct_id:
        query = query.where(Case.ct_id == filters.ct_id)
    if filters.school:
        query = query.where(Case.school == filters.school)
    if filters.year:
        query = query.where(
            Case.enrolled_on >= date(filters.year, 1, 1),
            Case.enrolled_on <= date(filters.year, 12, 31),
        )
    if filters.open_only:
        query = query.where(Case.closed_at.is_(None))
    if filters.under_appeal:
        query = query.where(_under_appeal())
    return query.order_by(Case.id.desc())


def _under_appeal():
    """A case whose decision's appeal waits for its deciding body."""
    return select(Appeal.case_id).where(Appeal.case_id == Case.id, Appeal.status == FILED).exists()


def next_deadline(case: Case) -> CaseDeadline | None:
    """The case's next dated deadline; none once the case is closed (nothing is due). The
    case page asks here, with every deadline of its one case loaded; lists read the same
    choice in their own statement (``WITH_NEXT_DEADLINE``)."""
    if case.closed_at is not None:
        return None
    upcoming = [d for d in case.deadlines if d.due_on >= date.today()]
    return min(upcoming, key=lambda d: d.due_on, default=None)


CSV_COLUMNS = (
    "id",
    "teacher",
    "track",
    "state",
    "school",
    "consulting_teacher",
    "enrolled_on",
    "outcome",
    "next_deadline",
)


def table_rows(cases: Iterable[Case]) -> Iterator[list]:
    """The list as rows of values, the header first: what the CSV and XLSX exports hold
    (``cases`` as ``filtered`` reads them, with their next deadline)."""
    yield list(CSV_COLUMNS)
    for case in cases:
        yield [
            case.id,
            case.teacher.name,
            case.track_key,
            case.state,
            case.school or "",
            case.ct.name if case.ct else "",
            case.enrolled_on.isoformat(),
            case.outcome or "",
            case.next_due_on.isoformat() if case.next_due_on else "",
        ]


def csv_rows(cases: Iterable[Case]) -> Iterator[str]:
    """The list as CSV, a line at a time (streams any length without holding it); every
    cell through the safe writer, so a name typed as a formula stays text."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    for row in table_rows(cases):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


@dataclass(frozen=True)
class CtDay:
    today: list[Visit]
    this_week: list[Visit]
    overdue: list[Visit]
    #: Status reports to write: due within their track's reminder window, and overdue.
    reports_due: list = field(default_factory=list)
    reports_overdue: list = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(
            self.today or self.this_week or self.overdue or self.reports_due or self.reports_overdue
        )


#: The planned visits of a CT's open cases, built once (``scoped``): every CT's home reads them.
#: Rows of the columns the day shows (a visit's id, case, kind and day).
_CT_PLANNED_VISITS = scoped(
    select(Visit.id, Visit.case_id, Visit.visit_type, Visit.visited_on)
    .join(Case, Case.id == Visit.case_id)
    .where(Case.ct_id == bindparam("ct_id"), Case.closed_at.is_(None), Visit.planned.is_(True))
    .order_by(Visit.visited_on)
)


def ct_day(ct: User, today: date | None = None) -> CtDay:
    """A CT's day: today's and this week's visits across the caseload, overdue logs, and
    the status reports due soon or overdue (open cases only)."""
    from app.services import status_reports

    today = today or date.today()
    week_end = today + timedelta(days=6 - today.weekday())
    rows = reads.rows(_CT_PLANNED_VISITS, {"ct_id": ct.id})
    reports_due, reports_overdue = status_reports.due(ct, today)
    return CtDay(
        today=[v for v in rows if v.visited_on == today],
        this_week=[v for v in rows if today < v.visited_on <= week_end],
        overdue=[v for v in rows if v.visited_on < today],
        reports_due=reports_due,
        reports_overdue=reports_overdue,
    )


#: Built once (``scoped``): every page of a case list counts its cases' visits.
_VISIT_COUNTS = scoped(
    select(Visit.case_id, func.count())
    .where(Visit.case_id.in_(bindparam("case_ids", expanding=True)), Visit.planned.is_(False))
    .group_by(Visit.case_id)
)


def visit_counts(case_ids: list[int]) -> dict[int, int]:
    """Logged visits per case, for a whole page of cases in one query."""
    if not case_ids:
        return {}
    return dict(reads.rows(_VISIT_COUNTS, {"case_ids": case_ids}))


def configs_in_use() -> dict[int, ProgramConfig]:
    """The configuration of every version open cases follow, by version id, in one query
    (a published version's document is read once per process, by ``config_of``)."""
    from app.models.workflow import WorkflowVersion
    from app.services import workflow_config as configs

    used = select(Case.workflow_version_id).where(Case.closed_at.is_(None)).distinct()
    versions = db.session.execute(
        select(WorkflowVersion)
        .options(defer(WorkflowVersion.document))
        .where(WorkflowVersion.id.in_(used))
    ).scalars()
    return {version.id: configs.config_of(version) for version in versions}


def _intake_states() -> set[str]:
    """States where a request waits for intake, in every version cases still use: each
    track's initial state and the states its ``intake`` step leaves."""
    states: set[str] = set()
    for config in configs_in_use().values():
        for track in config.tracks.values():
            states.add(track.initial_state)
            states.update(s for t in track.steps_for("intake") for s in t.sources)
    return states


def intake_queue() -> Select:
    """Open requests without a CT, in the states where intake happens, oldest first."""
    return (
        select(Case)
        .where(Case.closed_at.is_(None), Case.ct_id.is_(None), Case.state.in_(_intake_states()))
        .order_by(Case.enrolled_on, Case.id)
    )


def eligibility_reasons(rows: Iterable[Case]) -> dict[int, list[str]]:
    """Why each case's track would not take it (empty when eligible)."""
    from app.services import workflow_config as configs

    reasons = {}
    for case in rows:
        track = configs.config_of(case.workflow_version).tracks[case.track_key]
        failures = track.eligibility.failures(
            case.latest_rating, case.years_of_service, case.permanent_status
        )
        reasons[case.id] = [f"{track.name}: {failure}" for failure in failures]
    return reasons


def in_batches(query: Select, batch: int = 500) -> Iterator[Case]:
    """Every case of ``query`` (ordered by id, newest first), ``batch`` rows at a time.

    Keyset batches keep memory flat for any length without holding a cursor open
    across a streamed response.
    """
    last_id: int | None = None
    while True:
        page = query if last_id is None else query.where(Case.id < last_id)
        rows = list(db.session.execute(page.limit(batch)).unique().scalars())
        yield from rows
        if len(rows) < batch:
            return
        last_id = rows[-1].id
        for row in rows:  # done with them: let the session forget this batch
            db.session.expunge(row)
