"""Disclosure control for network releases: the table rule, noise, the budget, summaries.

The table rule is checked against an independent attacker (``tests/network/solver.py``, an
integer program over the published cells), never against the release code's own reasoning.
"""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.network.privacy import (
    ALL,
    TOTAL,
    Budget,
    BudgetExceeded,
    bin_of,
    histogram,
    histogram_mean,
    histogram_quantile,
    noisy_counts,
    protect_table,
    quartiles,
    size_band,
)
from tests.network import solver


def seeded_noise(seed: int, spread: int = 3) -> Callable[[list[int], float], list[int]]:
    """Reproducible test noise: each count plus a seeded integer in [-spread, spread]."""
    rng = random.Random(seed)
    return lambda counts, scale: [c + rng.randint(-spread, spread) for c in counts]


def published_of(table) -> dict:
    return {(row, column): v for row, cells in table.cells.items() for column, v in cells.items()}


def true_of(rows: dict, all_row: bool = True) -> dict:
    out = {}
    for row, cells in rows.items():
        out.update({(row, c): v for c, v in cells.items()})
        out[(row, TOTAL)] = sum(cells.values())
    if all_row:
        columns = list(next(iter(rows.values())))
        for c in [*columns, TOTAL]:
            out[(ALL, c)] = sum(out[(row, c)] for row in rows)
    return out


def assert_protected(rows: dict, minimum: int, all_row: bool = True) -> None:
    """The guarantee, checked by the attacker's integer program: a hidden count from 1 to
    minimum - 1 keeps at least minimum + 1 possible values, any other hidden cell two."""
    table = protect_table(rows, minimum, all_row)
    columns = list(next(iter(rows.values())))
    truth = true_of(rows, all_row)
    published = published_of(table)
    for cell, value in published.items():
        assert value is None or value == truth[cell], cell
        assert value is None or value == 0 or value >= minimum, (cell, value)
    found = solver.intervals(list(rows), columns, published, all_row=all_row)
    assert set(found) == {c for c, v in published.items() if v is None}
    for cell, (lo, hi) in found.items():
        assert lo <= truth[cell] <= hi, (cell, truth[cell], lo, hi)
        needed = minimum if 0 < truth[cell] < minimum else 1
        assert hi - lo >= needed, f"{cell}={truth[cell]} narrowed to [{lo}, {hi}]"


# ---------------------------------------------------------------------- the table rule

GROUPS = ("met", "dismissed", "retired", "other", "active")


def _row(**counts) -> dict[str, int]:
    return {g: counts.get(g, 0) for g in GROUPS}


def test_a_kind_row_cannot_be_recovered_from_the_all_tracks_row() -> None:
    """Toledo: all-tracks dismissed 13 minus induction's 12 would give review's 1."""
    rows = {"induction": _row(met=30, dismissed=12), "review": _row(met=14, dismissed=1)}
    table = protect_table(rows)
    assert table.cells["review"]["dismissed"] is None
    assert table.cells["induction"]["dismissed"] is None  # its complement in the column
    assert solver.recovered(list(rows), GROUPS, published_of(table)) == {}
    assert_protected(rows, 10)


def test_a_single_kind_hides_the_same_cells_in_the_all_tracks_row() -> None:
    rows = {"assistance": _row(met=15, retired=3, active=12)}
    table = protect_table(rows)
    assert table.cells["assistance"]["retired"] is None
    assert table.cells[ALL]["retired"] is None
    assert table.cells[ALL][TOTAL] == 30
    assert table.reasons[("assistance", "retired")] == "below 10"
    assert_protected(rows, 10)


def test_a_small_total_hides_the_row_and_its_complements() -> None:
    rows = {"induction": _row(met=40), "review": _row(dismissed=1)}
    table = protect_table(rows)
    assert table.cells["review"][TOTAL] is None
    assert table.cells["review"]["dismissed"] is None
    assert_protected(rows, 10)


def test_rows_with_only_large_or_zero_cells_are_published_whole() -> None:
    rows = {"induction": _row(met=40, active=10), "review": _row(met=12)}
    table = protect_table(rows)
    assert table.hidden == frozenset()
    assert table.cells[ALL] == {**_row(met=52, active=10), TOTAL: 62}


def test_without_an_all_tracks_row_each_row_stands_alone() -> None:
    """Survey statements: the same people answer each, so rows are not summed."""
    rows = {"valued": {"agree": 9, "disagree": 1}, "access": {"agree": 30, "disagree": 12}}
    table = protect_table(rows, all_row=False)
    assert ALL not in table.cells
    assert table.cells["valued"] == {"agree": None, "disagree": None, TOTAL: 10}
    assert table.cells["access"] == {"agree": 30, "disagree": 12, TOTAL: 42}
    assert_protected(rows, 10, all_row=False)


def test_the_minimum_is_configurable_and_named_in_the_reason() -> None:
    table = protect_table({"a": {"x": 12, "y": 30}}, minimum=20)
    assert table.reasons[("a", "x")] == "below 20"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"a": {"x": -1}}, "negative"),
        ({"a": {"x": 1}, "b": {"y": 1}}, "columns"),
        ({"all": {"x": 1}}, "reserved"),
        ({"a": {"total": 1}}, "reserved"),
        ({}, "at least one row"),
    ],
)
def test_inconsistent_tables_are_refused(rows, message) -> None:
    with pytest.raises(ValueError, match=message):
        protect_table(rows)


small_counts = st.one_of(st.integers(0, 12), st.integers(0, 60))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(small_counts, min_size=3, max_size=3), min_size=1, max_size=3).map(
        lambda rows: {f"k{n}": dict(zip("xyz", r, strict=True)) for n, r in enumerate(rows)}
    ),
    minimum=st.integers(2, 12),
    all_row=st.booleans(),
)
def test_no_published_combination_narrows_a_hidden_cell(rows, minimum, all_row) -> None:
    assert_protected(rows, minimum, all_row)


def test_a_release_sized_table_is_protected_quickly() -> None:
    """Four rows by five groups, many small cells: protected, and fast enough for 200
    districts a release."""
    import time

    rng = random.Random(3)
    rows = {k: {g: rng.choice((0, 1, 2, 5, 9, 14, 40)) for g in GROUPS} for k in "abc"}
    began = time.perf_counter()
    protect_table(rows)
    assert time.perf_counter() - began < 0.5
    assert_protected(rows, 10)


# ------------------------------------------------------------------------------- noise


def test_injected_seeded_noise_is_reproducible() -> None:
    counts = [20 + n for n in range(30)]
    first = noisy_counts(counts, 0.5, noise=seeded_noise(7)).counts
    again = noisy_counts(counts, 0.5, noise=seeded_noise(7)).counts
    other = noisy_counts(counts, 0.5, noise=seeded_noise(8)).counts
    assert first == again != other


def test_a_histogram_counts_each_element_once_in_its_category() -> None:
    assert histogram(["a", "b", "c"], ["a", "a", "c", "elsewhere", ""]) == [2, 0, 1]
    with pytest.raises(ValueError, match="distinct"):
        histogram(["a", "a"], [])


def test_noisy_counts_are_clamped_at_zero() -> None:
    drawn = noisy_counts([2, 0], 1.0, noise=lambda c, s: [x - 5 for x in c])
    assert drawn.counts == (0, 0)


@pytest.mark.parametrize(("epsilon", "sensitivity"), [(0.25, 1), (2.0, 1), (0.3, 6)])
def test_the_scale_follows_epsilon_and_sensitivity_and_opendp_certifies_it(
    epsilon, sensitivity
) -> None:
    drawn = noisy_counts([50], epsilon, sensitivity)
    assert drawn.scale == sensitivity / epsilon
    assert drawn.epsilon == pytest.approx(epsilon)


def test_opendp_noise_varies_with_the_expected_spread() -> None:
    draws = [noisy_counts([50], 0.25).counts[0] for _ in range(300)]
    expected_sd = 4 * 2**0.5
    assert len(set(draws)) > 5
    assert abs(statistics.fmean(draws) - 50) < 6 * expected_sd / 300**0.5
    assert expected_sd / 2 < statistics.stdev(draws) < expected_sd * 2


@pytest.mark.parametrize(
    ("args", "message"),
    [(([1], 0.0), "positive"), (([1], 1.0, 0), "sensitivity"), (([], 1.0), "counts")],
)
def test_bad_noise_requests_are_refused(args, message) -> None:
    with pytest.raises(ValueError, match=message):
        noisy_counts(*args)


# ------------------------------------------------------------------------------ budget


def test_spending_within_the_limit_accumulates() -> None:
    budget = Budget(limit=1.0, spent=0.0)
    after = budget.spend(0.4).spend(0.5)
    assert after.spent == pytest.approx(0.9)
    assert budget.spent == 0.0  # immutable: spending returns a new budget
    assert after.can_spend(0.1)
    assert not after.can_spend(0.2)
    assert Budget(limit=0.3).spend(0.1).spend(0.2).spent == pytest.approx(0.3)


def test_a_release_past_the_limit_raises_and_leaves_the_budget_unchanged() -> None:
    budget = Budget(limit=1.0, spent=0.0, scope="2009-2010")
    with pytest.raises(BudgetExceeded) as raised:
        budget.spend(1.5)
    assert str(raised.value) == (
        "this release would spend 1.5 of the remaining 1.0 epsilon for 2009-2010"
    )
    assert budget == Budget(limit=1.0, spent=0.0, scope="2009-2010")
    with pytest.raises(BudgetExceeded, match=re.escape("spend 0.6 of the remaining 0.5")):
        Budget(limit=1.0, spent=0.5).spend(0.6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Budget(limit=-1.0),
        lambda: Budget(limit=1.0, spent=2.0),
        lambda: Budget(limit=1.0).spend(-0.1),
        lambda: Budget(limit=1.0).can_spend(float("nan")),
    ],
)
def test_nonsense_budgets_and_costs_are_refused(make) -> None:
    with pytest.raises(ValueError):
        make()


# ----------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([7], (7.0, 7.0, 7.0)),
        ([1, 2, 3, 4], (1.75, 2.5, 3.25)),
        ([1, 2, 3, 4, 5], (2.0, 3.0, 4.0)),
        ([10, 0, 5], (2.5, 5.0, 7.5)),
    ],
)
def test_quartiles_on_known_lists(values, expected) -> None:
    assert quartiles(values) == expected


def test_quartiles_refuse_nan() -> None:
    with pytest.raises(ValueError):
        quartiles([1.0, float("nan")])


def test_histogram_summaries_interpolate_inside_bins() -> None:
    edges = (0, 3, 6, 9)
    assert [bin_of(v, edges) for v in (-1, 0, 2.9, 3, 8.9, 9, 40)] == [0, 0, 0, 1, 2, 2, 2]
    counts = [10, 20, 10]
    assert histogram_quantile(counts, edges, 0.5) == 4.5
    assert histogram_quantile(counts, edges, 0.25) == 3.0
    assert histogram_mean(counts, edges) == 4.5
    with pytest.raises(ValueError):
        histogram_mean([0, 0, 0], edges)


@pytest.mark.parametrize(
    ("participants", "band"),
    [(0, "under 25"), (24, "under 25"), (25, "25-99"), (249, "100-249"), (250, "250+")],
)
def test_size_band_boundaries(participants, band) -> None:
    assert size_band(participants) == band


def test_size_band_refuses_negative_sizes() -> None:
    with pytest.raises(ValueError):
        size_band(-1)
