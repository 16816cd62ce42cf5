"""A district-year's release, built from teacher-years: what it publishes, from what, and
what it costs."""

from __future__ import annotations

import pytest

from app.network.release import (
    DAY_EDGES,
    MONTH_EDGES,
    SHARES,
    Survey,
    TeacherYear,
    build,
)

KINDS = ["induction", "review"]


def _inductees(n: int, **kwargs) -> list[TeacherYear]:
    fields = {"group": "met_standards", "wait_days": 20, **kwargs}
    return [TeacherYear("induction", months=3 + n % 9 + 0.5, **fields) for n in range(n)]


LONE = TeacherYear(
    "review", "non_renewal_or_dismissal", months=7.3, wait_days=23, panel="overruled"
)


def constant(value: int = 12):
    """Noise that ignores the true counts: a release drawn with it must not depend on them."""
    return lambda counts, scale: [value] * len(counts)


def spy(calls: list):
    def noise(counts, scale):
        calls.append((list(counts), scale))
        return counts

    return noise


# ------------------------------------------------------------------------------ exact


def test_a_lone_teachers_row_shows_nothing_of_them() -> None:
    figures = build([*_inductees(40), LONE], None, KINDS, 10).figures
    review = figures["review"]
    assert review["participants"] is None
    assert review["months_mean"] is None and review["months_quartiles"] is None
    assert review["days_to_assignment_median"] is None
    assert figures["induction"]["months_mean"] is not None


def test_rows_exist_for_the_configured_kinds_whoever_took_part() -> None:
    figures = build(_inductees(20), None, ["assistance", "induction", "review"], 10).figures
    assert list(figures) == ["all", "assistance", "induction", "review"]
    assert figures["assistance"]["participants"] == 0
    other_kind = TeacherYear("unknown", "met_standards", 3.0)
    assert build([other_kind], None, KINDS, 10).figures["all"]["participants"] == 0


def test_a_rate_is_published_only_when_both_of_its_counts_are() -> None:
    few_overruled = _inductees(40, panel="followed")[:38] + _inductees(2, panel="overruled")
    assert build(few_overruled, None, KINDS, 10).figures["induction"]["panel_agreement"] is None
    enough = _inductees(30, panel="followed") + _inductees(12, panel="overruled")
    assert build(enough, None, KINDS, 10).figures["induction"]["panel_agreement"] == 0.714


def test_a_survey_rate_with_one_disagreement_is_hidden() -> None:
    survey = Survey.from_answers(
        ("valued", "access"),
        tuple([{"valued": True, "access": True}] * 9 + [{"valued": False, "access": True}]),
    )
    rates = build(_inductees(20), survey, KINDS, 10).figures["all"]["survey_agreement"]
    assert rates == {"valued": None, "access": 1.0}


def test_the_size_band_comes_from_the_published_total_only() -> None:
    assert build(_inductees(7), None, KINDS, 10).size_band is None
    assert build(_inductees(30), None, KINDS, 10).size_band == "25-99"


# ------------------------------------------------------------------------------ noisy


def _population(extra: list[TeacherYear], answers: int) -> tuple[list[TeacherYear], Survey]:
    records = [*_inductees(40, panel="followed"), *extra]
    answered = tuple([{"valued": True}] * answers)
    return records, Survey.from_answers(("valued",), answered)


def test_a_noisy_release_is_computed_from_noised_values_only() -> None:
    """Two populations a teacher apart, the same noise outputs: the same release, figure
    for figure (size band, row existence and rates included)."""
    a = build(*_population([], 20), KINDS, 10, noisy=True, epsilon=1.0, noise=constant())
    b = build(*_population([LONE], 21), KINDS, 10, noisy=True, epsilon=1.0, noise=constant())
    assert a.figures == b.figures
    assert a.size_band == b.size_band
    assert a.figures["review"]["months_mean"] is not None  # something was published


def test_noise_scales_follow_the_chosen_epsilon_split_by_figure() -> None:
    for epsilon in (0.5, 2.0):
        calls: list = []
        records, _ = _population([LONE], 20)
        survey = Survey.from_answers(("valued", "access"), tuple([{"valued": True}] * 20))
        made = build(records, survey, KINDS, 10, noisy=True, epsilon=epsilon, noise=spy(calls))
        scales = sorted(round(scale, 9) for _, scale in calls)
        expected = sorted(
            round(sensitivity / (epsilon * SHARES[name]), 9)
            for name, sensitivity in (
                ("outcomes", 1),
                ("months", 1),
                ("days", 1),
                ("panel", 1),
                ("survey", 2),  # two statements, each answered once by a respondent
            )
        )
        assert scales == expected
        assert made.epsilon == pytest.approx(epsilon)
        assert made.spent_by == pytest.approx({k: epsilon * v for k, v in SHARES.items()})


def test_without_a_survey_a_release_spends_less_than_its_budget() -> None:
    made = build(_inductees(20), None, KINDS, 10, noisy=True, epsilon=1.0)
    assert made.epsilon == pytest.approx(1.0 - SHARES["survey"])


def test_one_teacher_year_moves_each_noised_histogram_by_its_sensitivity_at_most() -> None:
    """What the budget relies on: one more teacher-year (and their answer to each of the
    survey's statements) moves each teacher-year histogram by 1 and the survey's by at most
    its number of statements."""
    before, after = [], []
    answers = tuple([{"valued": True, "access": False}] * 20)
    survey = Survey.from_answers(("valued", "access"), answers)
    more = Survey.from_answers(survey.statements, (*answers, {"valued": False, "access": True}))
    records = _population([], 0)[0]
    build(records, survey, KINDS, 10, noisy=True, epsilon=1.0, noise=spy(before))
    build([*records, LONE], more, KINDS, 10, noisy=True, epsilon=1.0, noise=spy(after))
    assert len(before) == len(after) == 5
    moved = [
        sum(abs(p - q) for p, q in zip(x, y, strict=True))
        for (x, _), (y, _) in zip(before, after, strict=True)
    ]
    assert moved == [1, 1, 1, 1, 2]


def test_the_noisy_figures_are_summaries_of_binned_histograms() -> None:
    made = build(
        _inductees(60),
        None,
        ["induction"],
        10,
        noisy=True,
        epsilon=1.0,
        noise=lambda counts, scale: counts,
    )
    row = made.figures["induction"]
    assert row["participants"] == 60
    assert MONTH_EDGES[0] <= row["months_quartiles"][0] <= row["months_quartiles"][2] <= 24
    assert DAY_EDGES[2] <= row["days_to_assignment_median"] <= DAY_EDGES[3]


def test_a_noisy_release_needs_an_epsilon() -> None:
    with pytest.raises(ValueError, match="epsilon"):
        build([], None, KINDS, 10, noisy=True)
    with pytest.raises(ValueError, match="track kind"):
        build([], None, [], 10)
