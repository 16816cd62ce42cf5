"""The annual program report from the district's own data (the pure figures live in
``app.reports.annual``; this module reads the cases and the configuration)."""

from __future__ import annotations

import calendar
from datetime import date
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.models.workflow import PUBLISHED, WorkflowVersion
from app.reports.annual import (
    CaseRecord,
    ParticipantGroup,
    SchoolYear,
    annual_report_of_groups,
    compare_years,
    months_distribution,
    school_year,
)
from app.reports.survey import SurveyCounts
from app.services import sql_dialect
from app.services import workflow_config as configs
from app.services.errors import ValidationFailed
from app.services.surveys import counts_of, portable_counts, year_round_of, year_round_query
from app.tenants import reads
from app.tenants.scoping import scoped
from app.workflows import ProgramConfig


def _config() -> ProgramConfig:
    """The district's configuration, from its newest published version as this request
    (or job) read it once (``workflow_config.current_version``)."""
    version = configs.current_version()
    if version is None:
        raise ValidationFailed({"year": ["The program has no published configuration yet."]})
    return configs.config_of(version)


@cache
def _version_query(comments: bool) -> Select:
    """The latest published version without its document (a published version's
    configuration is cached by id, so reading the document again per report and per
    district of a network release only parsed JSON that was never used), with the year's
    survey beside it (``surveys.year_round_query``, the ``year`` bound): the two reads a
    year's figures start from, in one round trip."""
    year_round = year_round_query(comments, counts=True).lateral("survey")
    return scoped(
        select(WorkflowVersion.id, WorkflowVersion.published_at)
        .where(WorkflowVersion.status == PUBLISHED)
        .order_by(WorkflowVersion.number.desc())
        .limit(1)
        .add_columns(*year_round.c)
        .outerjoin(year_round, true())
    )


def _program(query: Select, params: dict) -> tuple[ProgramConfig, tuple]:
    """The configuration from a ``_version_query`` and the rest of its row (a row of
    columns: the version is known by its id and publication, its configuration cached)."""
    row = reads.first(query, params)
    if row is None:
        raise ValidationFailed({"year": ["The program has no published configuration yet."]})
    return configs.published_config(row[0], row[1]), tuple(row[2:])


def year_and_records(year_label: str):
    """The configuration, the school year and one record per participant: what the annual
    report and the network release both count from (422 for a label that is not a year)."""
    config, year, records, _ = _year_records(year_label)
    return config, year, records


def config_and_year(year_label: str) -> tuple[ProgramConfig, SchoolYear]:
    """The district's configuration and the school year a label names under it (422 for a
    label that is not a year), for every count of a year's participants."""
    return _school_year(_config(), year_label)


def config_year_and_survey(
    year_label: str, comments: bool = True
) -> tuple[ProgramConfig, SchoolYear, SurveyCounts | None]:
    """``config_and_year`` and the year's survey as ``surveys.counts_for`` gives it, read
    in the same statement (``comments=False`` leaves the comments in the database). Off
    PostgreSQL, ``portable_config_year_and_survey`` reads them."""
    if not sql_dialect.on_postgresql():
        return portable_config_year_and_survey(year_label, comments)
    query = _version_query(comments=comments)
    config, survey = _program(query, {"year": year_label})
    return *_school_year(config, year_label), counts_of(survey, comments)


def portable_config_year_and_survey(
    year_label: str, comments: bool = True
) -> tuple[ProgramConfig, SchoolYear, SurveyCounts | None]:
    """What ``config_year_and_survey`` gives, in two statements that need no ``LATERAL``:
    the configuration alone, then the survey as ``surveys.portable_counts`` counts it (for
    the embedded SQLite of ``make run``; see ``sql_dialect``)."""
    config, year = config_and_year(year_label)
    return config, year, portable_counts(year_label, comments)


def _school_year(config: ProgramConfig, year_label: str) -> tuple[ProgramConfig, SchoolYear]:
    try:
        return config, school_year(year_label, config.school_year_start)
    except ValueError as exc:
        raise ValidationFailed({"year": [str(exc)]}) from exc


def _year_records(year_label: str):
    """``year_and_records`` and how many open imported cases it left out as no longer
    plausibly open (see ``plausibly_open``)."""
    config, year = config_and_year(year_label)
    # Only the columns a record needs, and only the year's participants: loading whole
    # cases brought their eager relations (the configuration document of every row) and
    # every earlier year, which made a district with ten years of history take seconds.
    rows = reads.rows(_records_query(), {"start": year.start, "end": year.end})
    kinds = {key: track.kind for key, track in config.tracks.items()}
    cutoff = open_import_cutoff(year.end, config)
    records, left_out = [], 0
    for case_id, track_key, ct_name, started_on, ended_on, group, external_id in rows:
        if not plausibly_open(started_on, ended_on, external_id, cutoff):
            left_out += 1
            continue
        records.append(
            CaseRecord(
                case_id=case_id,
                track=track_key,
                track_kind=kinds.get(track_key, ""),
                consulting_teacher=ct_name,
                started_on=started_on,
                ended_on=ended_on,
                report_group=group,
            )
        )
    return config, year, records, left_out


@cache
def _records_query() -> Select:
    """The statement behind ``_year_records``, built once (the year's days are bound)."""
    return scoped(
        select(
            Case.id,
            Case.track_key,
            User.name,
            Case.started_on,
            Case.ended_on,
            Case.report_group,
            Case.external_id,
        )
        .outerjoin(User, User.id == Case.ct_id)
        .where(*participants_between(bindparam("start", type_=Date), bindparam("end", type_=Date)))
    )


def _year_groups(config: ProgramConfig, year: SchoolYear) -> tuple[list[ParticipantGroup], int]:
    """What ``_year_records`` gives, counted by PostgreSQL: the year's participants in
    groups (see ``ParticipantGroup``) and how many open imported cases were left out. The
    report reads tens of rows this way instead of one per case. Off PostgreSQL,
    ``portable_group_rows`` counts the same groups."""
    return _groups_of_years(config, [year])[year.label]


def _groups_of_years(
    config: ProgramConfig, years: list[SchoolYear]
) -> dict[str, tuple[list[ParticipantGroup], int]]:
    """``_year_groups`` of every year in ``years``, by label: on PostgreSQL one statement
    for all of them (the trend's years no longer cost a statement each)."""
    bounds = [(y.label, y.start, y.end, open_import_cutoff(y.end, config)) for y in years]
    rows: dict[str, list] = {label: [] for label, *_ in bounds}
    if sql_dialect.on_postgresql():
        labels, starts, ends, cutoffs = (list(column) for column in zip(*bounds, strict=True))
        params = {"labels": labels, "starts": starts, "ends": ends, "cutoffs": cutoffs}
        for label, *row in reads.execute(_groups_query(), params):
            rows[label].append(row)
    else:
        for label, start, end, cutoff in bounds:
            rows[label] = portable_group_rows(start, end, cutoff)
    return {label: _groups_of(label, year_rows) for label, year_rows in rows.items()}


def _groups_of(label: str, rows) -> tuple[list[ParticipantGroup], int]:
    groups, left_out = [], 0
    for track, teacher, group, active, counted, participants, days, reversed_ in rows:
        if reversed_:
            raise ValueError(f"{reversed_} cases of {label} end before they start")
        if not counted:
            left_out += participants
            continue
        groups.append(ParticipantGroup(track, teacher, group, active, participants, days))
    return groups, left_out


def portable_group_rows(start: date, end: date, cutoff: date) -> list[tuple]:
    """The rows of ``_groups_query`` for the year from ``start`` to ``end``, grouped in
    Python from one row per participant: SQLite has neither ``least`` nor date
    subtraction, and the embedded SQLite of ``make run`` (see ``sql_dialect``) holds few
    enough cases to hand over one by one. Same rules, same groups; a test compares both."""
    rows = db.session.execute(
        select(
            Case.track_key,
            User.name,
            Case.ct_id,
            Case.report_group,
            Case.started_on,
            Case.ended_on,
            Case.external_id,
        )
        .outerjoin(User, User.id == Case.ct_id)
        .where(*participants_between(start, end))
    ).all()
    grouped: dict[tuple, list] = {}
    for track, name, ct_id, group, started_on, ended_on, external_id in rows:
        active = ended_on is None or ended_on > end
        counted = plausibly_open(started_on, ended_on, external_id, cutoff)
        figures = grouped.setdefault((track, ct_id, group, active, counted, name), [0, 0, 0])
        figures[0] += 1
        figures[1] += (min(ended_on or end, end) - started_on).days
        figures[2] += ended_on is not None and ended_on < started_on
    return [
        (track, name, group, active, counted, participants, days, reversed_)
        for (track, _, group, active, counted, name), (participants, days, reversed_) in (
            grouped.items()
        )
    ]


#: The school years a statement counts, a row each, from four bound arrays of equal length.
_YEARS = (
    func.unnest(
        bindparam("labels", type_=ARRAY(String)),
        bindparam("starts", type_=ARRAY(Date)),
        bindparam("ends", type_=ARRAY(Date)),
        bindparam("cutoffs", type_=ARRAY(Date)),
    )
    .table_valued(
        column("label", String), column("start", Date), column("end", Date), column("cutoff", Date)
    )
    .render_derived()
)


@cache
def _groups_query() -> Select:
    """The statement behind ``_groups_of_years``, built once, for any number of years (the
    bound arrays of ``_YEARS``). Each participant is counted by the rules ``annual_report``
    applies to one case (``_is_participant``, ``_support_days``, ``_outcome_group``) and
    ``plausibly_open``, written in SQL; a test checks that both give the same report."""
    year = _YEARS
    start, end = year.c.start, year.c.end
    case = (
        select(
            year.c.label,
            Case.track_key,
            Case.ct_id,
            Case.report_group,
            or_(Case.ended_on.is_(None), Case.ended_on > end).label("active"),
            or_(
                Case.external_id.is_(None),
                Case.ended_on.is_not(None),
                Case.started_on >= year.c.cutoff,
            ).label("counted"),
            (func.least(func.coalesce(Case.ended_on, end), end) - Case.started_on).label("days"),
            (Case.ended_on < Case.started_on).label("reversed"),
        )
        .select_from(year)
        .join(Case, and_(*participants_between(start, end)))
    )
    case = case.subquery("participant")
    keys = (
        case.c.label,
        case.c.track_key,
        case.c.ct_id,
        case.c.report_group,
        case.c.active,
        case.c.counted,
    )
    grouped = (
        select(
            *keys,
            func.count().label("participants"),
            func.sum(case.c.days).label("support_days"),
            func.count().filter(case.c.reversed).label("reversed"),
        )
        .group_by(*keys)
        .subquery("grouped")
    )
    # The name by a lookup per group, not a join: joined, the planner hashes every user
    # of the district (thousands) to name a few dozen consulting teachers.
    name = select(User.name).where(User.id == grouped.c.ct_id).scalar_subquery()
    return scoped(
        select(
            grouped.c.label,
            grouped.c.track_key,
            name,
            grouped.c.report_group,
            grouped.c.active,
            grouped.c.counted,
            grouped.c.participants,
            grouped.c.support_days,
            grouped.c.reversed,
        )
    )


def open_import_cutoff(on: date, config: ProgramConfig) -> date:
    """The earliest start of support an open imported case may have to count as active on
    ``on`` (the configuration's ``report.open_imported_case_months`` before it)."""
    return _months_before(on, config.report.open_imported_case_months)


def plausibly_open(
    started_on: date | None, ended_on: date | None, external_id: str | None, cutoff: date
) -> bool:
    """A case counts unless it came from the district's records with no closing date and
    began before ``cutoff``: such a file usually left out the date of a case long closed
    (a history of 2010 would otherwise show a teacher supported for fifteen years). A case
    opened in Parley is closed in Parley, so its open state is taken as it is."""
    return not (
        external_id is not None
        and ended_on is None
        and started_on is not None
        and started_on < cutoff
    )


def _months_before(day: date, months: int) -> date:
    """``day`` moved back by whole months (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def participants_between(start: date | ColumnElement, end: date | ColumnElement) -> tuple:
    """Cases whose support overlaps the year from ``start`` to ``end`` (the report's
    participants), as SQL conditions; the days may be bound parameters of a statement
    built once."""
    return (
        Case.started_on.is_not(None),
        Case.started_on <= end,
        or_(Case.ended_on.is_(None), Case.ended_on >= start),
    )


def annual(year_label: str) -> dict:
    """The report for a school year label such as ``2009-2010`` (422 when it is not one),
    with ``open_imports_left_out``: how many open imported cases were not counted, and the
    configured limit that left them out, so the report can say so."""
    config, year, survey = config_year_and_survey(year_label)
    return _report(config, year, *_year_groups(config, year), survey)


def _report(
    config: ProgramConfig,
    year: SchoolYear,
    participants: list[ParticipantGroup],
    left_out: int,
    survey: SurveyCounts | None,
) -> dict:
    groups = list(config.report_groups)
    groups += sorted({g.report_group for g in participants if g.report_group} - set(groups))
    report = annual_report_of_groups(year, participants, groups, survey)
    report["open_imports_left_out"] = {
        "count": left_out,
        "months": config.report.open_imported_case_months,
    }
    return report


def annuals(year_labels: list[str]) -> dict[str, dict]:
    """The reports of several years, by label, for the trend: the same figures as ``annual``
    for each, without the survey's comments (the trend shows none). On PostgreSQL in two
    statements whatever the number of years (every year's groups, every year's survey),
    where the years one by one took two each."""
    if not year_labels:
        return {}
    if not sql_dialect.on_postgresql():
        return {label: annual(label) for label in year_labels}
    config = _config()
    years = [_school_year(config, label)[1] for label in year_labels]
    groups = _groups_of_years(config, years)
    rows = reads.execute(_surveys_query(), {"labels": list(year_labels)})
    surveys = {row[0]: counts_of(tuple(row[1:]), comments=False) for row in rows}
    return {y.label: _report(config, y, *groups[y.label], surveys.get(y.label)) for y in years}


@cache
def _surveys_query() -> Select:
    """Each bound year's survey (``surveys.year_round_of``, its comments left behind), a row
    per year, built once."""
    year = (
        func.unnest(bindparam("labels", type_=ARRAY(String)))
        .table_valued(column("label", String))
        .render_derived()
    )
    survey = year_round_of(year.c.label, comments=False, counts=True).lateral("survey")
    return scoped(select(year.c.label, *survey.c).select_from(year).outerjoin(survey, true()))


def distribution(year_label: str) -> dict[str, int]:
    """Participants by whole months of support, for the distribution chart."""
    _, year, records = year_and_records(year_label)
    return months_distribution(year, records)


#: The span of years with cases (``years_with_data``), built once (``scoped``).
_SPAN = scoped(
    select(
        func.min(Case.started_on),
        func.max(Case.started_on),
        func.max(Case.ended_on),
        func.count(Case.id).filter(
            Case.started_on.is_not(None),
            Case.ended_on.is_(None),
            or_(Case.external_id.is_(None), Case.started_on >= bindparam("cutoff", type_=Date)),
        ),
    )
)


def years_with_data() -> list[str]:
    """School-year labels from the first case's start to the latest year a case was in:
    its latest start, its latest end, or this year while a case is still open (a case that
    began last year and closed this year belongs to this year's report too). An open
    imported case past the configured limit is not still open: it would stretch the list to
    this year with years that count nobody."""
    config = _config()
    first, latest_start, latest_end, still_open = reads.execute(
        _SPAN, {"cutoff": open_import_cutoff(date.today(), config)}
    ).one()
    if first is None:
        return []
    last = max(d for d in (latest_start, latest_end) if d is not None)
    if still_open:
        last = max(last, date.today())
    return [
        f"{start_year}-{start_year + 1}"
        for start_year in range(
            config.school_year(first)[0].year, config.school_year(last)[0].year + 1
        )
    ]


def trend(years: list[str] | None = None, known: dict[str, dict] | None = None) -> dict:
    """Every year's report side by side. A page that has already read the ``years`` and
    built some reports (``known``, by year) passes them: the same figures, not read twice."""
    known = dict(known or {})
    years = years_with_data() if years is None else years
    known |= annuals([label for label in years if label not in known])
    return compare_years([known[label] for label in years])


def default_year(years: list[str] | None = None) -> str:
    """The latest school year with cases (of ``years`` when the caller has read them), or
    the current one."""
    years = years_with_data() if years is None else years
    if years:
        return years[-1]
    start, _ = _config().school_year(date.today())
    return f"{start.year}-{start.year + 1}"


def group_labels() -> dict[str, str]:
    """The configuration's report groups by key, in the words the report shows."""
    return {key: group.label for key, group in _config().report_groups.items()}


def counting_rule() -> str:
    """How the report counts open imported cases, in words (never the configuration key)."""
    from app.workflows.describe import describe_report

    return describe_report(_config())


def left_out_note(report: dict) -> str | None:
    """The sentence every form of the report (page, PDF, XLSX) prints about the open imported
    cases it did not count, or None when it counted them all."""
    count = (report.get("open_imports_left_out") or {}).get("count")
    if not count:
        return None
    one = count == 1
    return (
        f"{count} open {'case' if one else 'cases'} imported from the district's records "
        f"{'is' if one else 'are'} left out of this year's figures. {counting_rule()} "
        f"Import the closing {'date' if one else 'dates'} to count {'it' if one else 'them'}."
    )
