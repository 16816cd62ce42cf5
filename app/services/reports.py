"""The annual program report from the district's own data (the pure figures live in
``app.reports.annual``; this module reads the cases and the configuration)."""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.reports.annual import (
    CaseRecord,
    annual_report,
    compare_years,
    months_distribution,
    school_year,
)
from app.services import workflow_config as configs
from app.services.errors import ValidationFailed
from app.workflows import ProgramConfig


def _config() -> ProgramConfig:
    version = configs.latest_published()
    if version is None:
        raise ValidationFailed({"year": ["The program has no published configuration yet."]})
    return configs.config_of(version)


def year_and_records(year_label: str):
    """The configuration, the school year and one record per participant: what the annual
    report and the network release both count from (422 for a label that is not a year)."""
    config, year, records, _ = _year_records(year_label)
    return config, year, records


def _year_records(year_label: str):
    """``year_and_records`` and how many open imported cases it left out as no longer
    plausibly open (see ``_plausibly_open``)."""
    config = _config()
    try:
        year = school_year(year_label, config.school_year_start)
    except ValueError as exc:
        raise ValidationFailed({"year": [str(exc)]}) from exc
    # Only the columns a record needs, and only the year's participants: loading whole
    # cases brought their eager relations (the configuration document of every row) and
    # every earlier year, which made a district with ten years of history take seconds.
    rows = db.session.execute(
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
        .where(*participants_of(year))
    ).all()
    kinds = {key: track.kind for key, track in config.tracks.items()}
    cutoff = _open_import_cutoff(year.end, config)
    records, left_out = [], 0
    for case_id, track_key, ct_name, started_on, ended_on, group, external_id in rows:
        if not _plausibly_open(started_on, ended_on, external_id, cutoff):
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


def _open_import_cutoff(on: date, config: ProgramConfig) -> date:
    """The earliest start of support an open imported case may have to count as active on
    ``on`` (the configuration's ``report.open_imported_case_months`` before it)."""
    return _months_before(on, config.report.open_imported_case_months)


def _plausibly_open(
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


def participants_of(year) -> tuple:
    """Cases whose support overlaps ``year`` (the report's participants), as SQL conditions."""
    return (
        Case.started_on.is_not(None),
        Case.started_on <= year.end,
        or_(Case.ended_on.is_(None), Case.ended_on >= year.start),
    )


def annual(year_label: str) -> dict:
    """The report for a school year label such as ``2009-2010`` (422 when it is not one),
    with ``open_imports_left_out``: how many open imported cases were not counted, and the
    configured limit that left them out, so the report can say so."""
    from app.services.surveys import record_for

    config, year, records, left_out = _year_records(year_label)
    groups = list(config.report_groups)
    groups += sorted({r.report_group for r in records if r.report_group} - set(groups))
    report = annual_report(year, records, groups, record_for(year_label))
    report["open_imports_left_out"] = {
        "count": left_out,
        "months": config.report.open_imported_case_months,
    }
    return report


def distribution(year_label: str) -> dict[str, int]:
    """Participants by whole months of support, for the distribution chart."""
    _, year, records = year_and_records(year_label)
    return months_distribution(year, records)


def years_with_data() -> list[str]:
    """School-year labels from the first case's start to the latest year a case was in:
    its latest start, its latest end, or this year while a case is still open (a case that
    began last year and closed this year belongs to this year's report too). An open
    imported case past the configured limit is not still open: it would stretch the list to
    this year with years that count nobody."""
    config = _config()
    first, latest_start, latest_end, still_open = db.session.execute(
        select(
            func.min(Case.started_on),
            func.max(Case.started_on),
            func.max(Case.ended_on),
            func.count(Case.id).filter(
                Case.started_on.is_not(None),
                Case.ended_on.is_(None),
                or_(
                    Case.external_id.is_(None),
                    Case.started_on >= _open_import_cutoff(date.today(), config),
                ),
            ),
        )
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


def trend() -> dict:
    return compare_years([annual(label) for label in years_with_data()])


def default_year() -> str:
    """The latest school year with cases, or the current one."""
    years = years_with_data()
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
