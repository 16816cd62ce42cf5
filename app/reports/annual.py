"""The annual program report, as a pure computation.

Each year a PAR program committee writes a report by hand (Boston 2009-10:
"The PAs supported seventy (70) teachers this school year, of which ten (10)
met standards, and twenty-one (21) teachers remain active"; "On average, the
teachers received 10 months of PA support"; "Questionnaires were sent to 70
teachers and 22 responses were received"). This module produces the same
figures from plain records so the service layer can feed it from the database
and the numbers can be checked by hand in tests.

Nothing here imports Flask or SQLAlchemy, reads a clock or depends on the order
of its input: the same records always give the same report. Averages and rates
are computed with exact fractions and rounded half up, so a figure never
depends on float accumulation order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from app.reports.survey import SurveyCounts, SurveyRecord

__all__ = [
    "ACTIVE",
    "DAYS_PER_MONTH",
    "UNASSIGNED",
    "CaseRecord",
    "ParticipantGroup",
    "SchoolYear",
    "annual_report",
    "annual_report_of_groups",
    "compare_years",
    "school_year",
]

#: Average length of a month in days (365.25 / 12, as reports usually round it).
DAYS_PER_MONTH = Fraction("30.44")
#: Outcome-group key for participants still supported at the year's end.
ACTIVE = "active"
#: Key in ``by_consulting_teacher`` for participants with no consulting teacher.
UNASSIGNED = "unassigned"

_LABEL = re.compile(r"([0-9]{4})-([0-9]{4})")


@dataclass(frozen=True)
class SchoolYear:
    """A school year: ``label`` like "2009-2010", from ``start`` to ``end`` inclusive."""

    label: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"school year {self.label!r} ends ({self.end}) before it starts")


def school_year(label: str, start_month_day: tuple[int, int] = (7, 1)) -> SchoolYear:
    """Parse "2009-2010" into the year running from the start date of 2009 to the day
    before the same date of 2010.

    Districts start their year on different days (July 1 for the fiscal year,
    September 1 for Boston's program), hence ``start_month_day``. A label whose
    years are not consecutive is rejected rather than guessed at: a two-year
    "school year" is almost always a typo, and a report over it would double
    count nothing but still mislead.
    """
    match = _LABEL.fullmatch(label)
    if match is None:
        raise ValueError(f"school year {label!r} must look like '2009-2010'")
    first, second = int(match.group(1)), int(match.group(2))
    if second != first + 1:
        raise ValueError(
            f"school year {label!r} must span consecutive years, e.g. '{first}-{first + 1}'"
        )
    month, day = start_month_day
    try:
        start = date(first, month, day)
        next_start = date(second, month, day)
    except ValueError as error:
        raise ValueError(
            f"school year start {month:02d}-{day:02d} is not a date in both {first} and {second}"
        ) from error
    return SchoolYear(label=label, start=start, end=next_start - timedelta(days=1))


@dataclass(frozen=True)
class CaseRecord:
    """What the annual report needs to know of one case.

    ``started_on`` is the start of support (None before it begins),
    ``ended_on`` the closing date (None while open) and ``report_group`` the
    configured report group of the case's outcome (None while open).
    """

    case_id: int
    track: str
    track_kind: str
    consulting_teacher: str | None
    started_on: date | None
    ended_on: date | None
    report_group: str | None

    def __post_init__(self) -> None:
        started, ended = self.started_on, self.ended_on
        if started is not None and ended is not None and ended < started:
            raise ValueError(
                f"case {self.case_id} ends ({ended}) before its support starts ({started})"
            )


@dataclass(frozen=True)
class ParticipantGroup:
    """Participants of a year counted together: those who share a track, a consulting
    teacher and where they stood at the year's end, with how many they are and their days
    of support added up (each counted as ``annual_report`` counts one participant's).

    ``active`` says they were still supported at the year's end (their outcome, if any,
    came later); otherwise ``report_group`` is the group of their outcome. The database
    counts a year's participants this way without handing over each case."""

    track: str
    consulting_teacher: str | None
    report_group: str | None
    active: bool
    participants: int
    support_days: int

    def __post_init__(self) -> None:
        if self.participants < 1 or self.support_days < 0:
            raise ValueError(
                f"a group of {self.participants} participants with {self.support_days} "
                "days of support counts nobody or less than no support"
            )


def _round_half_up(value: Fraction, places: int) -> float:
    """Round an exact fraction half up, so 9.95 months reads 10.0 as a committee would."""
    scale = 10**places
    return float(Fraction(math.floor(value * scale + Fraction(1, 2)), scale))


def _is_participant(case: CaseRecord, year: SchoolYear) -> bool:
    """Support overlaps the year: it started by the year's end and had not ended before."""
    if case.started_on is None or case.started_on > year.end:
        return False
    return case.ended_on is None or case.ended_on >= year.start


def _support_days(case: CaseRecord, year: SchoolYear) -> int:
    """Days of support from its start (even before the year) to its end or the year's end."""
    assert case.started_on is not None  # only called for participants
    until = year.end if case.ended_on is None else min(case.ended_on, year.end)
    return (until - case.started_on).days


def _average_months(groups: Sequence[ParticipantGroup]) -> float:
    participants = sum(group.participants for group in groups)
    if not participants:
        return 0.0
    total_days = sum(group.support_days for group in groups)
    return _round_half_up(Fraction(total_days, participants) / DAYS_PER_MONTH, 1)


def _group_keys(report_groups: Sequence[str]) -> list[str]:
    """The configured groups in order, then "active" unless it is configured already."""
    if len(set(report_groups)) != len(report_groups):
        raise ValueError(f"report groups repeat: {list(report_groups)}")
    return [*report_groups] if ACTIVE in report_groups else [*report_groups, ACTIVE]


def _outcome_group(case: CaseRecord, year: SchoolYear, keys: Sequence[str]) -> str:
    """Closed by the year's end: its outcome's group. Otherwise it was still active then."""
    if case.ended_on is None or case.ended_on > year.end:
        return ACTIVE
    if case.report_group not in keys:
        raise ValueError(
            f"case {case.case_id} closed on {case.ended_on} with report group "
            f"{case.report_group!r}, not one of {list(keys)}"
        )
    return case.report_group


def _outcome_groups(groups: Sequence[ParticipantGroup]) -> dict[str, int]:
    """Participants by outcome group; ``counts`` starts from the keys, in their order."""
    counts: dict[str, int] = {}
    for group in groups:
        key = ACTIVE if group.active else group.report_group
        counts[key] = counts.get(key, 0) + group.participants
    return counts


def _in_order(counts: dict[str, int], keys: Sequence[str]) -> dict[str, int]:
    return {key: counts.get(key, 0) for key in keys}


def _grouped(
    cases: Iterable[CaseRecord], year: SchoolYear, keys: Sequence[str]
) -> list[ParticipantGroup]:
    """The year's participants among ``cases``, counted together as the database would."""
    totals: dict[tuple, list[int]] = {}
    for case in cases:
        if not _is_participant(case, year):
            continue
        _outcome_group(case, year, keys)  # refuses a report group not among the keys
        active = case.ended_on is None or case.ended_on > year.end
        key = (case.track, case.consulting_teacher, case.report_group, active)
        total = totals.setdefault(key, [0, 0])
        total[0] += 1
        total[1] += _support_days(case, year)
    return [
        ParticipantGroup(track, teacher, group, active, participants, days)
        for (track, teacher, group, active), (participants, days) in totals.items()
    ]


def _survey_section(survey: SurveyCounts) -> dict[str, Any]:
    responses = survey.responses
    rate = 0.0 if survey.sent == 0 else _round_half_up(Fraction(responses, survey.sent), 3)
    statements = []
    for key, text in survey.statements:
        counts = dict.fromkeys(survey.scale, 0)
        counts.update(survey.counts.get(key, {}))
        statements.append(
            {
                "key": key,
                "text": text,
                "counts": counts,
                "agree_or_better": sum(counts[scale] for scale in survey.agree_keys),
            }
        )
    return {
        "key": survey.key,
        "title": survey.title,
        "sent": survey.sent,
        "responses": responses,
        "response_rate": rate,
        "statements": statements,
        "comments": list(survey.comments),
    }


def _counts(survey: SurveyRecord | SurveyCounts) -> SurveyCounts:
    return survey.counted() if isinstance(survey, SurveyRecord) else survey


def annual_report(
    year: SchoolYear,
    cases: Iterable[CaseRecord],
    report_groups: Sequence[str],
    survey: SurveyRecord | SurveyCounts | None,
) -> dict[str, Any]:
    """The year's program report as a JSON-ready dict.

    Participants are the cases whose support overlaps the year (started on or
    before its end and not ended before its start); a case whose support never
    started is not one. A participant counts in its outcome's report group if
    it closed by the year's end; otherwise it is "active", as the committee
    counts teachers still being supported when it writes the report.

    ``average_months_of_support`` counts, for each participant, the months
    (of 30.44 days) from the start of its support to its closing date or the
    year's end, whichever comes first, *even when support started before the
    year*: the committee reports how much support its teachers had received in
    total ("others who still receive consultation after 2 years"), not how much
    of it fell in this year. The mean is taken over exact days and rounded once.

    A closed participant whose report group is not among ``report_groups``
    raises ValueError: silently dropping it would make the groups stop adding
    up to the participants. ``report_groups`` may itself include "active" (an
    outcome such as "continuing next year"); it is then not repeated.
    """
    return annual_report_of_groups(
        year, _grouped(cases, year, _group_keys(report_groups)), report_groups, survey
    )


def annual_report_of_groups(
    year: SchoolYear,
    groups: Iterable[ParticipantGroup],
    report_groups: Sequence[str],
    survey: SurveyRecord | SurveyCounts | None,
) -> dict[str, Any]:
    """``annual_report`` from the year's participants already counted together (see
    :class:`ParticipantGroup`): the same figures, whatever way the groups were cut.

    A group that closed by the year's end with a report group not among
    ``report_groups`` raises ValueError, as a participant does in ``annual_report``.
    """
    keys = _group_keys(report_groups)
    groups = list(groups)
    for group in groups:
        if not group.active and group.report_group not in keys:
            raise ValueError(
                f"{group.participants} participants closed by {year.end} with report group "
                f"{group.report_group!r}, not one of {list(keys)}"
            )
    by_track: dict[str, list[ParticipantGroup]] = {}
    by_teacher: dict[str, list[ParticipantGroup]] = {}
    for group in groups:
        by_track.setdefault(group.track, []).append(group)
        by_teacher.setdefault(group.consulting_teacher or UNASSIGNED, []).append(group)

    return {
        "year": year.label,
        "participants": sum(group.participants for group in groups),
        "outcome_groups": _in_order(_outcome_groups(groups), keys),
        "average_months_of_support": _average_months(groups),
        "survey": None if survey is None else _survey_section(_counts(survey)),
        "by_track": {
            track: {
                "participants": sum(group.participants for group in part),
                "outcome_groups": _in_order(_outcome_groups(part), keys),
                "average_months_of_support": _average_months(part),
            }
            for track, part in sorted(by_track.items())
        },
        "by_consulting_teacher": {
            teacher: {
                "participants": sum(group.participants for group in part),
                "average_months_of_support": _average_months(part),
            }
            for teacher, part in sorted(by_teacher.items())
        },
    }


def compare_years(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Year-over-year rows of annual reports, one column per year, for charts.

    Years come out in chronological order whatever the input order, and a year
    given twice is refused (a chart with two bars for one year misleads). A
    group missing from a year's report (the district changed its groups) is
    None there, not 0: it was not counted, which is different from nobody.
    The response rate is None for a year without a survey, for the same reason.
    """
    ordered = sorted(reports, key=lambda report: report["year"])
    years = [report["year"] for report in ordered]
    if len(set(years)) != len(years):
        raise ValueError(f"a year appears more than once: {years}")

    groups: list[str] = []
    for report in ordered:
        groups.extend(key for key in report["outcome_groups"] if key not in groups)
    if ACTIVE in groups:
        groups = [*(key for key in groups if key != ACTIVE), ACTIVE]

    return {
        "years": years,
        "participants": [report["participants"] for report in ordered],
        "average_months_of_support": [report["average_months_of_support"] for report in ordered],
        "outcome_groups": {
            group: [report["outcome_groups"].get(group) for report in ordered] for group in groups
        },
        "response_rate": [
            None if report["survey"] is None else report["survey"]["response_rate"]
            for report in ordered
        ],
    }


#: Bins of the months-of-support chart, in whole months: (label, first month, last month).
MONTH_BINS = (("0-2", 0, 2), ("3-5", 3, 5), ("6-8", 6, 8), ("9-11", 9, 11), ("12+", 12, None))


def months_distribution(year: SchoolYear, cases: Iterable[CaseRecord]) -> dict[str, int]:
    """How many participants had how many whole months of support by the year's end."""
    counts = dict.fromkeys((label for label, _, _ in MONTH_BINS), 0)
    for case in cases:
        if not _is_participant(case, year):
            continue
        months = int(Fraction(_support_days(case, year)) / DAYS_PER_MONTH)
        for label, low, high in MONTH_BINS:
            if months >= low and (high is None or months <= high):
                counts[label] += 1
                break
    return counts
