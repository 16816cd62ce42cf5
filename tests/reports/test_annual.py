"""The annual program report, checked against figures worked out by hand.

The Boston 2009-10 Peer Assistance report (shared/seeds) is rebuilt from a
hand-made set of cases and questionnaire answers; every expected number below
is written out as a literal with its arithmetic in a comment, never computed by
the code under test.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reports.annual import (
    CaseRecord,
    SchoolYear,
    annual_report,
    compare_years,
    school_year,
)
from app.reports.survey import SurveyRecord

MET = "met_standards"
OTHER = "retirements_resignations_other"
GROUPS = (MET, OTHER)
SCALE = ("strongly_agree", "agree", "disagree", "strongly_disagree")
AGREE = frozenset({"strongly_agree", "agree"})
SA, A, D, SD = SCALE

#: July 1 2009 to June 30 2010, written out rather than parsed.
YEAR = SchoolYear("2009-2010", date(2009, 7, 1), date(2010, 6, 30))


def case(
    case_id: int,
    started_on: date | None,
    ended_on: date | None = None,
    group: str | None = None,
    *,
    track: str = "peer_assistance",
    teacher: str | None = "Pat Assistant",
) -> CaseRecord:
    return CaseRecord(case_id, track, "assistance", teacher, started_on, ended_on, group)


def track_row(met: int, other: int, active: int, months: float) -> dict[str, object]:
    """A by_track row written by hand: its group counts, their total, its average months."""
    groups = {MET: met, OTHER: other, "active": active}
    return {"participants": met + other + active, "outcome_groups": groups,
            "average_months_of_support": months}  # fmt: skip


def survey(answers: tuple[dict[str, str], ...] = (), sent: int = 0) -> SurveyRecord:
    return SurveyRecord(
        key="participant",
        title="Participant questionnaire",
        sent=sent,
        statements=(("value", "I value the program."), ("access", "I have adequate access.")),
        scale=SCALE,
        agree_keys=AGREE,
        answers=answers,
        comments=(),
    )


# --- Boston 2009-10 ---------------------------------------------------------------------------


def boston_cases() -> list[CaseRecord]:
    """70 participants (10 met standards, 39 retirements/resignations/other, 21 active),
    plus 5 cases that must not count."""
    cases: list[CaseRecord] = []
    # 10 met standards: 2009-09-01 to 2010-06-30 = 302 days each.
    cases += [case(i, date(2009, 9, 1), date(2010, 6, 30), MET) for i in range(1, 11)]
    # 39 retirements/resignations/other: 2009-09-01 to 2010-06-02 = 274 days each.
    cases += [case(i, date(2009, 9, 1), date(2010, 6, 2), OTHER) for i in range(11, 50)]
    # 11 active "after 2 years": open since 2008-09-01, to 2010-06-30 = 667 days each.
    cases += [case(i, date(2008, 9, 1)) for i in range(50, 61)]
    # 10 active "just beginning in June": open since 2010-06-01, to 2010-06-30 = 29 days each.
    cases += [case(i, date(2010, 6, 1)) for i in range(61, 71)]
    # Not participants: closed the year before, a request never started, next year's start.
    cases += [case(i, date(2008, 9, 1), date(2009, 6, 15), MET) for i in range(71, 74)]
    cases += [case(74, None), case(75, date(2010, 9, 1))]
    return cases


#: The questionnaire, one column of 22 answers per statement (None = left unanswered).
#: Counts follow the report's narrative: all 22 value the program, 100% adequate access,
#: 21/22 strongly agree "strong advocate", 19/22 concrete suggestions and school culture,
#: 18/22 "understands my situation"; only the administrators statement drew disagreement,
#: from two respondents (the last two), so 20 of 22 agreed with every statement.
BOSTON_COLUMNS: dict[str, list[str | None]] = {
    "values_program": [SA] * 17 + [A] * 5,
    "adequate_access": [SA] * 20 + [A] * 2,
    "advocate": [SA] * 21 + [A] * 1,
    "concrete_suggestions": [SA] * 19 + [A] * 3,
    "school_culture": [SA] * 19 + [A] * 3,
    "understands_situation": [SA] * 18 + [A] * 4,
    "administrators": [SA] * 9 + [A] * 10 + [None] + [D, SD],
}
BOSTON_COMMENTS = (
    "Thank-you for the program. It is the best help I have received in terms of teacher "
    "development in BPS.",
    "Thank-you for allowing me to be part of this much needed program!",
)


def boston_survey() -> SurveyRecord:
    answers = tuple(
        {key: column[row] for key, column in BOSTON_COLUMNS.items() if column[row] is not None}
        for row in range(22)
    )
    return SurveyRecord(
        key="participant",
        title="Participant questionnaire",
        sent=70,
        statements=tuple((key, f"Statement {key}") for key in BOSTON_COLUMNS),
        scale=SCALE,
        agree_keys=AGREE,
        answers=answers,
        comments=BOSTON_COMMENTS,
    )


def test_boston_2009_2010_matches_the_committees_report() -> None:
    report = annual_report(YEAR, boston_cases(), GROUPS, boston_survey())

    assert report["year"] == "2009-2010"
    assert report["participants"] == 70
    assert report["outcome_groups"] == {MET: 10, OTHER: 39, "active": 21}
    # 10*302 + 39*274 + 11*667 + 10*29 = 3020 + 10686 + 7337 + 290 = 21333 days;
    # 21333 / 70 = 304.76 days = 10.01 months of 30.44 days -> 10.0 ("on average, 10 months").
    assert report["average_months_of_support"] == 10.0
    assert report["by_track"] == {"peer_assistance": track_row(10, 39, 21, 10.0)}
    assert report["by_consulting_teacher"] == {
        "Pat Assistant": {"participants": 70, "average_months_of_support": 10.0}
    }
    assert json.loads(json.dumps(report)) == report


def test_boston_2009_2010_questionnaire() -> None:
    section = annual_report(YEAR, boston_cases(), GROUPS, boston_survey())["survey"]

    def row(key: str, sa: int, a: int, d: int, sd: int, agree: int) -> dict[str, object]:
        counts = {SA: sa, A: a, D: d, SD: sd}
        return {"key": key, "text": f"Statement {key}", "counts": counts, "agree_or_better": agree}

    assert section == {
        "key": "participant",
        "title": "Participant questionnaire",
        "sent": 70,
        "responses": 22,
        "response_rate": 0.314,  # 22 / 70 = 0.3142...
        "statements": [
            row("values_program", 17, 5, 0, 0, 22),
            row("adequate_access", 20, 2, 0, 0, 22),
            row("advocate", 21, 1, 0, 0, 22),
            row("concrete_suggestions", 19, 3, 0, 0, 22),
            row("school_culture", 19, 3, 0, 0, 22),
            row("understands_situation", 18, 4, 0, 0, 22),
            row("administrators", 9, 10, 1, 1, 19),  # one left it blank: 21 answers
        ],
        "comments": list(BOSTON_COMMENTS),
    }
    assert list(section["statements"][0]["counts"]) == list(SCALE)


# --- Boundaries (year 2009-07-01 .. 2010-06-30) -------------------------------------------------


def single(record: CaseRecord) -> tuple[int, dict[str, int], float]:
    report = annual_report(YEAR, [record], GROUPS, None)
    return report["participants"], report["outcome_groups"], report["average_months_of_support"]


def test_started_before_the_year_and_still_open_is_active_with_all_its_months() -> None:
    # 2008-09-01 .. 2010-06-30 = 667 days = 21.91 months (not 364 days = 12.0 from July 1).
    assert single(case(1, date(2008, 9, 1))) == (1, {MET: 0, OTHER: 0, "active": 1}, 21.9)


def test_closed_after_the_years_end_is_active_with_months_to_the_year_end() -> None:
    # 2009-09-01 .. 2010-06-30 = 302 days = 9.92 months (not 348 days to 2010-08-15).
    record = case(1, date(2009, 9, 1), date(2010, 8, 15), MET)
    assert single(record) == (1, {MET: 0, OTHER: 0, "active": 1}, 9.9)


def test_closed_exactly_on_the_years_start_counts_in_its_group() -> None:
    # 2008-10-01 .. 2009-07-01 = 273 days = 8.97 months.
    record = case(1, date(2008, 10, 1), date(2009, 7, 1), OTHER)
    assert single(record) == (1, {MET: 0, OTHER: 1, "active": 0}, 9.0)


def test_started_exactly_on_the_years_end_is_a_participant_with_no_months() -> None:
    assert single(case(1, date(2010, 6, 30))) == (1, {MET: 0, OTHER: 0, "active": 1}, 0.0)


def test_closed_on_the_years_end_counts_in_its_group() -> None:
    record = case(1, date(2010, 6, 1), date(2010, 6, 30), MET)  # 29 days = 0.95 months
    assert single(record) == (1, {MET: 1, OTHER: 0, "active": 0}, 1.0)


@pytest.mark.parametrize(
    "record",
    [
        case(1, date(2008, 9, 1), date(2009, 6, 30), MET),  # ended the day before the year
        case(1, date(2010, 7, 1)),  # starts the day after the year ends
        case(1, None),  # support never started
    ],
    ids=["ended-day-before", "starts-day-after", "never-started"],
)
def test_not_a_participant(record: CaseRecord) -> None:
    assert single(record) == (0, {MET: 0, OTHER: 0, "active": 0}, 0.0)
    report = annual_report(YEAR, [record], GROUPS, None)
    assert (report["by_track"], report["by_consulting_teacher"]) == ({}, {})


def test_worked_months_example() -> None:
    first = case(1, date(2009, 9, 1), date(2010, 6, 30), MET)  # 302 days = 9.921 months
    second = case(2, date(2009, 8, 30), date(2010, 6, 30), MET)  # 304 days = 9.987 months
    assert annual_report(YEAR, [first], GROUPS, None)["average_months_of_support"] == 9.9
    # (302 + 304) / 2 = 303 days = 9.954 months -> 10.0
    assert annual_report(YEAR, [first, second], GROUPS, None)["average_months_of_support"] == 10.0


def test_groups_tracks_and_teachers() -> None:
    cases = [
        case(1, date(2009, 9, 1), date(2010, 6, 30), MET, track="review", teacher="Lee"),
        case(2, date(2009, 9, 1), None, None, track="review", teacher=None),
        case(3, date(2010, 3, 1), date(2010, 5, 1), OTHER, track="assistance", teacher="Kim"),
        case(4, date(2009, 9, 1), date(2010, 6, 2), OTHER, track="assistance", teacher="Lee"),
    ]
    report = annual_report(YEAR, cases, GROUPS, None)
    assert report["survey"] is None
    assert report["by_track"] == {
        # 61 days (2010-03-01..05-01) and 274 days: 335 / 2 = 167.5 days = 5.50 months
        "assistance": track_row(0, 2, 0, 5.5),
        # 302 days and 302 days (open, to 2010-06-30) = 9.92 months
        "review": track_row(1, 0, 1, 9.9),
    }
    assert list(report["by_track"]) == ["assistance", "review"]
    assert report["by_consulting_teacher"] == {
        "Kim": {"participants": 1, "average_months_of_support": 2.0},  # 61 days = 2.00
        "Lee": {"participants": 2, "average_months_of_support": 9.5},  # 288 days = 9.46
        "unassigned": {"participants": 1, "average_months_of_support": 9.9},
    }
    assert list(report["by_consulting_teacher"]) == ["Kim", "Lee", "unassigned"]


def test_a_configured_active_group_is_not_repeated() -> None:
    # Boston ESP's "continuing next year" outcome closes a case into the "active" group.
    cases = [case(1, date(2009, 9, 1), date(2010, 6, 1), "active"), case(2, date(2009, 9, 1))]
    report = annual_report(YEAR, cases, (MET, "active", OTHER), None)
    assert report["outcome_groups"] == {MET: 0, "active": 2, OTHER: 0}
    assert list(report["outcome_groups"]) == [MET, "active", OTHER]


def test_a_closed_case_outside_the_report_groups_is_refused() -> None:
    record = case(7, date(2009, 9, 1), date(2010, 6, 1), "transferred")
    with pytest.raises(ValueError, match=r"case 7 .* 'transferred'"):
        annual_report(YEAR, [record], GROUPS, None)


def test_a_case_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before its support starts"):
        case(1, date(2010, 1, 2), date(2010, 1, 1), MET)


def test_survey_edge_cases() -> None:
    assert annual_report(YEAR, [], GROUPS, survey())["survey"]["response_rate"] == 0.0
    # 2 of 3 = 0.6667 -> 0.667 (half up)
    rate = annual_report(YEAR, [], GROUPS, survey(({}, {}), sent=3))["survey"]["response_rate"]
    assert rate == 0.667
    # 1 of 16 = 0.0625 exactly: half up gives 0.063 (round-half-even would give 0.062)
    rate = annual_report(YEAR, [], GROUPS, survey(({},), sent=16))["survey"]["response_rate"]
    assert rate == 0.063
    with pytest.raises(ValueError, match="sent must not be negative"):
        survey(sent=-1)
    with pytest.raises(ValueError, match="'maybe', not on the scale"):
        survey(({"value": "maybe"},), sent=1)
    with pytest.raises(ValueError, match="unknown statement 'other'"):
        survey(({"other": SA},), sent=1)


# --- school_year ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "first_day", "last_day"),
    [((), date(2009, 7, 1), date(2010, 6, 30)), (((9, 1),), date(2009, 9, 1), date(2010, 8, 31))],
    ids=["default-july-1", "september-1"],
)
def test_school_year(start: tuple[tuple[int, int]], first_day: date, last_day: date) -> None:
    assert school_year("2009-2010", *start) == SchoolYear("2009-2010", first_day, last_day)


@pytest.mark.parametrize("label", ["2009-2011", "2010-2009", "abc", "2009/2010", "09-10", ""])
def test_school_year_rejects_bad_labels(label: str) -> None:
    with pytest.raises(ValueError, match="school year"):
        school_year(label)


def test_school_year_rejects_a_start_that_is_not_a_date() -> None:
    with pytest.raises(ValueError, match="02-29"):
        school_year("2009-2010", (2, 29))


# --- compare_years ----------------------------------------------------------------------------


def test_compare_years_orders_columns_by_year() -> None:
    later = {"year": "2009-2010", "participants": 70, "average_months_of_support": 10.0,
             "outcome_groups": {MET: 10, OTHER: 39, "active": 21},
             "survey": {"response_rate": 0.314}}  # fmt: skip
    earlier = {"year": "2008-2009", "participants": 40, "average_months_of_support": 7.5,
               "outcome_groups": {MET: 5, "active": 35}, "survey": None}  # fmt: skip
    assert compare_years([later, earlier]) == {
        "years": ["2008-2009", "2009-2010"],
        "participants": [40, 70],
        "average_months_of_support": [7.5, 10.0],
        "outcome_groups": {MET: [5, 10], OTHER: [None, 39], "active": [35, 21]},
        "response_rate": [None, 0.314],
    }
    assert list(compare_years([later, earlier])["outcome_groups"]) == [MET, OTHER, "active"]
    with pytest.raises(ValueError, match="more than once"):
        compare_years([later, later])


# --- Properties -------------------------------------------------------------------------------

TRACKS = ("assistance", "review", "induction")
TEACHERS = ("Kim", "Lee", None)
days = st.dates(min_value=date(2008, 1, 1), max_value=date(2011, 12, 31))


@st.composite
def case_records(draw: st.DrawFn, ended_before: date | None = None) -> CaseRecord:
    """Any case; with ``ended_before``, one whose support ended before that day."""
    if ended_before is None:
        started = draw(st.none() | days)
        ended = draw(
            st.none() | st.dates(min_value=started or date(2008, 1, 1), max_value=date(2012, 6, 30))
        )
    else:
        ended = draw(st.dates(min_value=date(2007, 1, 1), max_value=ended_before - timedelta(1)))
        started = draw(st.none() | st.dates(min_value=date(2006, 1, 1), max_value=ended))
    return CaseRecord(
        case_id=draw(st.integers(1, 10_000)),
        track=draw(st.sampled_from(TRACKS)),
        track_kind="assistance",
        consulting_teacher=draw(st.sampled_from(TEACHERS)),
        started_on=started,
        ended_on=ended,
        report_group=None if ended is None else draw(st.sampled_from(GROUPS)),
    )


@given(st.lists(case_records(), max_size=30))
def test_outcome_groups_add_up_to_participants(cases: list[CaseRecord]) -> None:
    report = annual_report(YEAR, cases, GROUPS, None)
    assert sum(report["outcome_groups"].values()) == report["participants"]
    for row in report["by_track"].values():
        assert sum(row["outcome_groups"].values()) == row["participants"]


@given(st.lists(case_records(), max_size=30))
def test_participants_never_exceed_cases_and_split_by_track_and_teacher(
    cases: list[CaseRecord],
) -> None:
    report = annual_report(YEAR, cases, GROUPS, None)
    assert report["participants"] <= len(cases)
    for split in ("by_track", "by_consulting_teacher"):
        rows = report[split].values()
        assert sum(row["participants"] for row in rows) == report["participants"]


@given(st.lists(case_records(), max_size=20), case_records(ended_before=YEAR.start))
def test_a_case_ended_before_the_year_changes_nothing(
    cases: list[CaseRecord], old: CaseRecord
) -> None:
    before = annual_report(YEAR, cases, GROUPS, None)
    assert annual_report(YEAR, [*cases, old], GROUPS, None) == before


@given(st.lists(case_records(), max_size=20), st.randoms(use_true_random=False))
def test_case_order_never_changes_the_report(cases: list[CaseRecord], rng: Random) -> None:
    shuffled = list(cases)
    rng.shuffle(shuffled)
    # Compared as JSON text, so the order of keys counts too.
    reports = (annual_report(YEAR, order, GROUPS, None) for order in (shuffled, cases))
    assert json.dumps(next(reports)) == json.dumps(next(reports))


answer_maps = st.dictionaries(st.sampled_from(["value", "access"]), st.sampled_from(SCALE))


@given(st.lists(answer_maps, max_size=30), st.integers(0, 40))
def test_agree_or_better_never_exceeds_responses(answers: list[dict[str, str]], sent: int) -> None:
    section = annual_report(YEAR, [], GROUPS, survey(tuple(answers), sent=sent))["survey"]
    assert section["responses"] == len(answers)
    for statement in section["statements"]:
        assert statement["agree_or_better"] <= section["responses"]
        assert sum(statement["counts"].values()) <= section["responses"]


def test_months_distribution_bins_participants_by_whole_months():
    from app.reports.annual import months_distribution

    year = school_year("2009-2010")  # 2009-07-01 .. 2010-06-30
    records = [
        # 2010-05-01 .. 2010-06-30 = 60 days = 1.97 months -> "0-2"
        CaseRecord(1, "pa", "assistance", None, date(2010, 5, 1), None, None),
        # 2009-07-01 .. 2010-06-30 = 364 days = 11.96 months -> "9-11"
        CaseRecord(2, "pa", "assistance", None, date(2009, 7, 1), None, None),
        # 2008-07-01 .. 2010-06-30 = 729 days = 23.9 months -> "12+"
        CaseRecord(3, "pa", "assistance", None, date(2008, 7, 1), None, None),
        # ended before the year: not a participant
        CaseRecord(4, "pa", "assistance", None, date(2008, 1, 1), date(2009, 6, 30), "done"),
    ]
    assert months_distribution(year, records) == {
        "0-2": 1,
        "3-5": 0,
        "6-8": 0,
        "9-11": 1,
        "12+": 1,
    }
