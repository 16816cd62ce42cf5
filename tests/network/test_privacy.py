"""Disclosure control for network comparisons: suppression, noise, budget, summaries."""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Callable, Mapping

import opendp.prelude as dp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.network.privacy import (
    Budget,
    BudgetExceeded,
    NoisyCounter,
    SuppressedRow,
    noisy_then_suppressed,
    quartiles,
    size_band,
    suppress,
)

OUTCOMES = ("met_standards", "non_renewal_or_dismissal", "resigned_or_retired", "other", "active")


def seeded_noise(seed: int, spread: int = 3) -> Callable[[int], int]:
    """Reproducible test noise: the count plus a seeded integer in [-spread, spread]."""
    rng = random.Random(seed)
    return lambda count: count + rng.randint(-spread, spread)


def shift(delta: int) -> Callable[[int], int]:
    return lambda count: count + delta


def assert_not_recoverable(row: SuppressedRow, original: Mapping[str, int], minimum: int) -> None:
    """No published small cell, and no small value derivable as total - published cells."""
    for key, value in row.cells.items():
        assert value is None or value == original[key]
        assert value is None or value == 0 or value >= minimum, (key, value)
    hidden = [key for key, value in row.cells.items() if value is None]
    assert set(hidden) | ({"total"} if "total" in row.suppressed else set()) == row.suppressed
    if row.total is not None:
        assert row.total == 0 or row.total >= minimum
        # total - published = sum of hidden cells: never a single cell, never a small sum.
        assert len(hidden) != 1
        derivable = row.total - sum(v for v in row.cells.values() if v is not None)
        assert derivable == 0 or derivable >= minimum


# ------------------------------------------------------------------------- suppression


def test_three_non_renewals_cannot_be_recovered_from_the_total() -> None:
    cells = {
        "met_standards": 40,
        "non_renewal_or_dismissal": 3,
        "resigned_or_retired": 12,
        "other": 0,
        "active": 25,
    }
    row = suppress(cells, total=80)

    assert row.cells["non_renewal_or_dismissal"] is None
    assert row.reasons["non_renewal_or_dismissal"] == "below 10"
    hidden = [key for key, value in row.cells.items() if value is None]
    assert len(hidden) >= 2 or row.total is None
    # The smallest other nonzero cell is the complement; zero and large cells stay.
    assert row.reasons["resigned_or_retired"] == "complementary"
    assert row.cells == {**cells, "non_renewal_or_dismissal": None, "resigned_or_retired": None}
    assert row.total == 80
    # What an attacker can compute is 3 + 12, never 3.
    published = sum(value for value in row.cells.values() if value is not None)
    assert row.total - published == 15
    assert_not_recoverable(row, cells, 10)


def test_the_total_is_hidden_when_no_other_cell_can_be_the_complement() -> None:
    cells = {"met_standards": 0, "non_renewal_or_dismissal": 3, "active": 0}
    row = suppress(cells, total=3)
    assert row.cells == {"met_standards": 0, "non_renewal_or_dismissal": None, "active": 0}
    assert row.total is None
    assert row.suppressed == {"non_renewal_or_dismissal", "total"}


def test_a_complement_is_hidden_even_when_the_total_is_large_enough() -> None:
    cells = {"met_standards": 30, "other": 0, "non_renewal_or_dismissal": 3}
    row = suppress(cells, total=33)
    assert row.total == 33
    assert row.cells == {"met_standards": None, "other": 0, "non_renewal_or_dismissal": None}
    assert row.reasons == {"non_renewal_or_dismissal": "below 10", "met_standards": "complementary"}


def test_two_small_cells_summing_below_the_minimum_get_a_third() -> None:
    cells = {"met_standards": 40, "non_renewal_or_dismissal": 3, "other": 4, "active": 20}
    row = suppress(cells, total=67)
    assert row.reasons == {
        "non_renewal_or_dismissal": "below 10",
        "other": "below 10",
        "active": "complementary",
    }
    assert row.cells["met_standards"] == 40
    assert row.total == 67


def test_a_small_total_is_hidden_and_zeros_stay_published() -> None:
    row = suppress({"met_standards": 4, "other": 0}, total=4)
    assert row.total is None
    assert row.reasons == {"met_standards": "below 10", "total": "below 10"}
    assert row.cells == {"met_standards": None, "other": 0}


def test_without_a_published_total_no_complement_is_needed() -> None:
    row = suppress({"met_standards": 40, "non_renewal_or_dismissal": 3}, total=None)
    assert row.cells == {"met_standards": 40, "non_renewal_or_dismissal": None}
    assert row.suppressed == {"non_renewal_or_dismissal"}
    assert row.total is None


def test_rows_with_only_large_or_zero_cells_are_published_whole() -> None:
    cells = {"met_standards": 40, "other": 0, "active": 10}
    row = suppress(cells, total=50)
    assert row == SuppressedRow(cells=dict(cells), total=50, suppressed=frozenset(), reasons={})


def test_the_minimum_is_configurable_and_named_in_the_reason() -> None:
    row = suppress({"met_standards": 12, "other": 30}, total=None, minimum=20)
    assert row.reasons == {"met_standards": "below 20"}


@pytest.mark.parametrize(
    ("cells", "total", "minimum", "message"),
    [
        ({"a": 5, "b": 20}, 30, 10, "not the sum"),
        ({"a": -1}, None, 10, "negative"),
        ({"a": 1}, None, 0, "minimum"),
        ({"total": 1}, None, 10, "reserved"),
    ],
)
def test_inconsistent_rows_are_refused(cells, total, minimum, message) -> None:
    with pytest.raises(ValueError, match=message):
        suppress(cells, total, minimum)


rows = st.dictionaries(
    keys=st.sampled_from(OUTCOMES),
    values=st.one_of(st.integers(0, 12), st.integers(0, 200)),
    min_size=1,
)


@given(cells=rows, minimum=st.integers(1, 25), publish_total=st.booleans())
def test_no_small_cell_is_ever_published_or_derivable(cells, minimum, publish_total) -> None:
    total = sum(cells.values()) if publish_total else None
    row = suppress(cells, total, minimum)

    assert_not_recoverable(row, cells, minimum)
    for key, count in cells.items():
        if 0 < count < minimum:
            assert row.reasons[key] == f"below {minimum}"
    if not any(0 < count < minimum for count in cells.values()):
        assert row.suppressed <= {"total"}


# ------------------------------------------------------------------------------- noise


def test_injected_seeded_noise_is_reproducible() -> None:
    cells = {f"cell{i}": 20 + i for i in range(30)}
    first = NoisyCounter(0.5, noise=seeded_noise(7)).release(cells)
    again = NoisyCounter(0.5, noise=seeded_noise(7)).release(cells)
    other = NoisyCounter(0.5, noise=seeded_noise(8)).release(cells)

    assert first == again
    assert first != other
    assert first != cells


def test_noisy_counts_are_clamped_at_zero() -> None:
    counter = NoisyCounter(1.0, noise=shift(-5))
    assert counter.release({"a": 2, "b": 5, "c": 9}) == {"a": 0, "b": 0, "c": 4}


@pytest.mark.parametrize("mechanism", ["laplace", "gaussian"])
def test_opendp_noise_is_nonnegative_integer_and_varies(mechanism) -> None:
    counter = NoisyCounter(0.5, mechanism=mechanism)
    released = counter.release({"met_standards": 50, "other": 0, "active": 3})
    assert set(released) == {"met_standards", "other", "active"}
    assert all(type(value) is int and value >= 0 for value in released.values())

    draws = [counter.release({"x": 50})["x"] for _ in range(300)]
    expected_sd = counter.scale * (2**0.5 if mechanism == "laplace" else 1)
    assert len(set(draws)) > 5
    assert abs(statistics.fmean(draws) - 50) < 6 * expected_sd / 300**0.5
    assert expected_sd / 2 < statistics.stdev(draws) < expected_sd * 2


def test_laplace_scale_is_one_over_epsilon_and_costs_add_up() -> None:
    counter = NoisyCounter(0.25)
    assert counter.scale == 4.0
    assert counter.privacy_cost(5) == 1.25
    assert counter.privacy_cost(0) == 0
    assert counter.delta_cost(5) == 0


def test_gaussian_scale_is_certified_by_opendp_for_the_requested_epsilon() -> None:
    counter = NoisyCounter(0.5, mechanism="gaussian", delta_per_count=1e-6)
    space = dp.atom_domain(T="i64"), dp.absolute_distance(T="i64")
    gaussian = dp.m.make_gaussian(*space, scale=counter.scale)
    epsilon, delta = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gaussian), 1e-6).map(1)
    assert 0.49 < epsilon <= 0.5
    assert delta == 1e-6
    assert counter.privacy_cost(4) == 2.0
    assert counter.delta_cost(4) == pytest.approx(4e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epsilon_per_count": 0}, "positive"),
        ({"epsilon_per_count": float("inf")}, "positive"),
        ({"epsilon_per_count": 1, "mechanism": "exponential"}, "mechanism"),
        ({"epsilon_per_count": 1, "mechanism": "gaussian", "delta_per_count": 0}, "delta"),
    ],
)
def test_bad_counter_settings_are_refused(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        NoisyCounter(**kwargs)


def test_a_true_nine_made_eleven_by_noise_is_published() -> None:
    cells = {"met_standards": 40, "non_renewal_or_dismissal": 9}
    row = noisy_then_suppressed(cells, 49, 10, NoisyCounter(1.0, noise=shift(+2)))

    assert row.cells == {"met_standards": 42, "non_renewal_or_dismissal": 11}
    assert row.suppressed == frozenset()
    assert row.total == 53  # the sum of the noisy cells, not the true 49


def test_a_true_eleven_made_nine_by_noise_is_suppressed() -> None:
    cells = {"met_standards": 40, "non_renewal_or_dismissal": 11}
    row = noisy_then_suppressed(cells, 51, 10, NoisyCounter(1.0, noise=shift(-2)))

    assert row.cells == {"met_standards": None, "non_renewal_or_dismissal": None}
    assert row.reasons == {
        "non_renewal_or_dismissal": "below 10",
        "met_standards": "complementary",
    }
    assert row.total == 47  # 38 + 9, the noisy total


def test_no_total_is_published_when_none_is_asked_for() -> None:
    row = noisy_then_suppressed({"a": 30}, None, 10, NoisyCounter(1.0, noise=shift(1)))
    assert row.cells == {"a": 31}
    assert row.total is None


@given(cells=rows, minimum=st.integers(1, 25), seed=st.integers(0, 10_000))
def test_noisy_rows_keep_the_suppression_guarantees(cells, minimum, seed) -> None:
    counter = NoisyCounter(1.0, noise=seeded_noise(seed, spread=5))
    noisy = NoisyCounter(1.0, noise=seeded_noise(seed, spread=5)).release(cells)
    row = noisy_then_suppressed(cells, sum(cells.values()), minimum, counter)

    assert_not_recoverable(row, noisy, minimum)
    if "total" not in row.suppressed:
        assert row.total == sum(noisy.values())


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
    assert isinstance(raised.value, ValueError)
    assert budget == Budget(limit=1.0, spent=0.0, scope="2009-2010")


def test_a_release_is_charged_its_counters_cost() -> None:
    counter = NoisyCounter(0.25)
    budget = Budget(limit=1.0, spent=0.5, scope="2010-2011")
    cost = counter.privacy_cost(len(OUTCOMES))
    assert not budget.can_spend(cost)
    with pytest.raises(BudgetExceeded, match=re.escape("spend 1.25 of the remaining 0.5 epsilon")):
        budget.spend(cost)
    assert budget.spend(counter.privacy_cost(2)).spent == 1.0


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
        ([3, 1, 4, 1, 5, 9, 2, 6], (1.75, 3.5, 5.25)),
    ],
)
def test_quartiles_on_known_lists(values, expected) -> None:
    assert quartiles(values) == expected


def test_quartiles_refuse_nan() -> None:
    with pytest.raises(ValueError):
        quartiles([1.0, float("nan")])


@pytest.mark.parametrize(
    ("participants", "band"),
    [
        (0, "under 25"),
        (24, "under 25"),
        (25, "25-99"),
        (99, "25-99"),
        (100, "100-249"),
        (249, "100-249"),
        (250, "250+"),
        (10_000, "250+"),
    ],
)
def test_size_band_boundaries(participants, band) -> None:
    assert size_band(participants) == band


def test_size_band_refuses_negative_sizes() -> None:
    with pytest.raises(ValueError):
        size_band(-1)
