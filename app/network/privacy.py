"""Disclosure control for the cross-district network's comparisons.

Only aggregates leave a district. Before a row of counts (one district-year's
outcome groups, say) is shared, this module protects it in two independent ways:

* **Small-cell suppression** (:func:`suppress`): a count between 1 and
  ``minimum - 1`` could point at a handful of identifiable teachers, so it is
  hidden, and enough further cells (or the total) are hidden with it that the
  hidden value cannot be recovered by subtraction from the published total.
* **Differential privacy** (:class:`NoisyCounter`): integer noise from OpenDP's
  discrete Laplace or discrete Gaussian mechanism, whose epsilon is charged to a
  :class:`Budget` so repeated releases cannot average the noise away.

When both are used, suppression is decided on the *noisy* counts
(:func:`noisy_then_suppressed`): a decision taken on the true counts would itself
leak them ("suppressed" would mean "the true count is below 10").

What is *not* protected: zero cells are published as 0 (see :func:`suppress`),
so a row may reveal that nobody, or everybody, in a district-year had an
outcome; and suppression alone gives no protection against differencing
releases that overlap (two years and their two-year total, say) — that is what
the noisy path and its budget are for.

This module is pure: no Flask, no database.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import opendp.prelude as dp

dp.enable_features("contrib")

Mechanism = Literal["laplace", "gaussian"]

TOTAL = "total"
"""The key under which a suppressed total appears in ``SuppressedRow.suppressed``."""

COMPLEMENTARY = "complementary"

DEFAULT_DELTA = 1e-6
"""Per-count delta for the Gaussian mechanism, far below 1 / (participants in any district)."""

_BUDGET_SLACK = 1e-9
"""Float tolerance when comparing epsilon sums, so 0.1 + 0.2 may spend a 0.3 budget."""


# --------------------------------------------------------------------------- suppression


@dataclass(frozen=True)
class SuppressedRow:
    """A row ready to publish: hidden cells (and possibly the total) are None.

    ``suppressed`` names every hidden cell and, when it is hidden, ``"total"``;
    ``reasons`` says why each was hidden (``"below 10"`` or ``"complementary"``).
    """

    cells: dict[str, int | None]
    total: int | None
    suppressed: frozenset[str]
    reasons: dict[str, str] = field(default_factory=dict)


def suppress(cells: Mapping[str, int], total: int | None, minimum: int = 10) -> SuppressedRow:
    """Hide small cells of one row, plus complements so they cannot be recomputed.

    Primary suppression: every cell with ``0 < count < minimum``. Zero cells are
    kept as 0: a zero points at nobody, so it carries no re-identification risk,
    and hiding zeros would make every sparse row useless. (What a zero can still
    reveal is group-level, e.g. "no one was non-renewed"; that is accepted.)

    The total is hidden when ``0 < total < minimum`` (every nonzero cell is then
    hidden too). Complementary suppression applies only when the total is
    published, because only then is ``total - published cells`` a real equation:
    while exactly one cell is hidden, or the hidden cells sum to less than
    ``minimum`` (the sum itself would then be a small cell), the smallest
    published nonzero cell is hidden too; if there is none left, the total is.

    ``total``, when given, must equal the sum of ``cells``: the complementary rule
    reasons about that subtraction, so any remainder must be an explicit cell.
    """
    _check_row(cells, total, minimum)
    below = f"below {minimum}"
    reasons = {key: below for key, count in cells.items() if 0 < count < minimum}
    if total is not None and 0 < total < minimum:
        reasons[TOTAL] = below
    if total is not None and TOTAL not in reasons:
        _add_complements(cells, reasons, minimum)
    hidden = frozenset(reasons)
    return SuppressedRow(
        cells={key: None if key in hidden else count for key, count in cells.items()},
        total=None if TOTAL in hidden or total is None else total,
        suppressed=hidden,
        reasons=reasons,
    )


def _add_complements(cells: Mapping[str, int], reasons: dict[str, str], minimum: int) -> None:
    """Grow ``reasons`` until ``total - published cells`` discloses no small value."""
    while reasons:
        hidden_sum = sum(cells[key] for key in reasons)
        if len(reasons) >= 2 and hidden_sum >= minimum:
            return
        candidates = [(count, key) for key, count in cells.items() if count and key not in reasons]
        if not candidates:
            reasons[TOTAL] = COMPLEMENTARY
            return
        reasons[min(candidates)[1]] = COMPLEMENTARY


def _check_row(cells: Mapping[str, int], total: int | None, minimum: int) -> None:
    if minimum < 1:
        raise ValueError(f"minimum must be at least 1, not {minimum}")
    if TOTAL in cells:
        raise ValueError(f"{TOTAL!r} is reserved for the row total and cannot name a cell")
    negative = sorted(key for key, count in cells.items() if count < 0)
    if negative:
        raise ValueError(f"counts cannot be negative: {', '.join(negative)}")
    if total is not None and total != sum(cells.values()):
        raise ValueError(
            f"total {total} is not the sum of the cells ({sum(cells.values())}); "
            "publish any remainder as its own cell so suppression can account for it"
        )


# --------------------------------------------------------------------- differential privacy


@lru_cache(maxsize=64)
def _measurement(
    epsilon: float, mechanism: Mechanism, delta: float
) -> tuple[dp.Measurement, float]:
    """OpenDP's integer mechanism for one count of sensitivity 1 at ``epsilon``.

    Laplace: discrete Laplace on i64 with scale ``1 / epsilon`` (pure epsilon-DP).
    Gaussian: discrete Gaussian on i64, whose native guarantee is rho-zCDP; the
    scale is the smallest for which OpenDP's own zCDP -> (epsilon, delta)
    conversion certifies ``(epsilon, delta)``, found with OpenDP's binary search.
    Returns the measurement and its scale.
    """
    space = dp.atom_domain(T="i64"), dp.absolute_distance(T="i64")
    if mechanism == "laplace":
        return dp.m.make_laplace(*space, scale=1.0 / epsilon), 1.0 / epsilon

    def approx_dp(scale: float) -> dp.Measurement:
        gaussian = dp.m.make_gaussian(*space, scale=scale)
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gaussian), delta)

    scale = dp.binary_search_param(approx_dp, d_in=1, d_out=(epsilon, delta))
    return dp.m.make_gaussian(*space, scale=scale), scale


class NoisyCounter:
    """Adds OpenDP integer noise to counts of sensitivity 1, one epsilon per count.

    Sensitivity 1: adding or removing one participant changes each count by at
    most 1. Accounting is basic (sequential) composition: releasing ``n`` counts
    costs ``n * epsilon_per_count`` (and, for Gaussian, ``n * delta``). That is
    conservative: it does not assume the counts are disjoint (parallel
    composition) nor use tighter zCDP composition, so the budget is never
    under-charged if a participant appears in several cells or rows.

    ``scale`` is the noise scale used (Laplace b, or the Gaussian's standard deviation).
    ``noise``, if given, replaces OpenDP: it receives the true count and returns
    the noisy count (the same contract as an OpenDP measurement). OpenDP's
    sampler draws from the operating system's secure randomness and cannot be
    seeded, so this is how tests get reproducible noise; production code
    should never pass it.
    """

    def __init__(
        self,
        epsilon_per_count: float,
        mechanism: Mechanism = "laplace",
        noise: Callable[[int], int] | None = None,
        delta_per_count: float = DEFAULT_DELTA,
    ) -> None:
        if not (math.isfinite(epsilon_per_count) and epsilon_per_count > 0):
            raise ValueError(f"epsilon_per_count must be positive, not {epsilon_per_count}")
        if mechanism not in ("laplace", "gaussian"):
            raise ValueError(f"mechanism must be 'laplace' or 'gaussian', not {mechanism!r}")
        if mechanism == "gaussian" and not 0 < delta_per_count < 1:
            raise ValueError(f"delta_per_count must be in (0, 1), not {delta_per_count}")
        self.epsilon_per_count = float(epsilon_per_count)
        self.mechanism: Mechanism = mechanism
        self.delta_per_count = delta_per_count if mechanism == "gaussian" else 0.0
        self._measurement, self.scale = _measurement(
            self.epsilon_per_count, mechanism, self.delta_per_count
        )
        self._charge = self.epsilon_per_count
        if mechanism == "laplace":
            # OpenDP's certified epsilon can exceed 1/scale by a rounding ulp; charge that.
            self._charge = max(self._charge, float(self._measurement.map(1)))
        self._noise = noise if noise is not None else self._opendp_noise

    def _opendp_noise(self, count: int) -> int:
        return int(self._measurement(count))

    def release(self, cells: Mapping[str, int]) -> dict[str, int]:
        """Return each count plus fresh noise, clamped at 0 (post-processing, free).

        The caller must charge ``privacy_cost(len(cells))`` to the budget.
        """
        negative = sorted(key for key, count in cells.items() if count < 0)
        if negative:
            raise ValueError(f"counts cannot be negative: {', '.join(negative)}")
        return {key: max(0, int(self._noise(int(count)))) for key, count in cells.items()}

    def privacy_cost(self, n_counts: int) -> float:
        """Epsilon spent by releasing ``n_counts`` counts (basic composition)."""
        if n_counts < 0:
            raise ValueError(f"n_counts cannot be negative, not {n_counts}")
        return n_counts * self._charge

    def delta_cost(self, n_counts: int) -> float:
        """Delta spent by releasing ``n_counts`` counts (0 for Laplace)."""
        if n_counts < 0:
            raise ValueError(f"n_counts cannot be negative, not {n_counts}")
        return n_counts * self.delta_per_count


def noisy_then_suppressed(
    cells: Mapping[str, int],
    total: int | None,
    minimum: int,
    counter: NoisyCounter,
) -> SuppressedRow:
    """Noise the cells, then suppress on the noisy values only.

    ``total`` only says whether a total is published (None: it is not). Its
    value, the true total, is deliberately ignored: the published total is the
    sum of the noisy cells, so it is consistent with them and leaks nothing the
    noise was meant to hide. Suppression thresholds likewise see only noisy
    counts, so whether a cell is hidden is itself differentially private.
    """
    noisy = counter.release(cells)
    noisy_total = sum(noisy.values()) if total is not None else None
    return suppress(noisy, noisy_total, minimum)


# ------------------------------------------------------------------------------- budget


class BudgetExceeded(ValueError):
    """A release would spend more epsilon than the budget has left."""


@dataclass(frozen=True)
class Budget:
    """An epsilon budget (e.g. one network's for one school year), immutable.

    ``spend`` returns a new Budget, so a refused release cannot leave a
    half-charged budget behind. ``scope`` names what the budget covers, for
    messages ("2009-2010").
    """

    limit: float
    spent: float = 0.0
    scope: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.limit) and self.limit >= 0):
            raise ValueError(f"limit must be a non-negative number, not {self.limit}")
        if not (math.isfinite(self.spent) and 0 <= self.spent <= self.limit + _BUDGET_SLACK):
            raise ValueError(f"spent must be between 0 and the limit, not {self.spent}")

    @property
    def remaining(self) -> float:
        return max(0.0, self.limit - self.spent)

    def can_spend(self, cost: float) -> bool:
        """Whether ``cost`` epsilon fits in what is left."""
        _check_cost(cost)
        return self.spent + cost <= self.limit + _BUDGET_SLACK

    def spend(self, cost: float) -> Budget:
        """Return the budget after spending ``cost``; raise BudgetExceeded if it does not fit."""
        if not self.can_spend(cost):
            scope = f" for {self.scope}" if self.scope else ""
            raise BudgetExceeded(
                f"this release would spend {_num(cost)} of the remaining "
                f"{_num(self.remaining)} epsilon{scope}"
            )
        return replace(self, spent=self.spent + cost)


def _check_cost(cost: float) -> None:
    if not (math.isfinite(cost) and cost >= 0):
        raise ValueError(f"cost must be a non-negative number, not {cost}")


def _num(value: float) -> str:
    return str(round(float(value), 6))


# ------------------------------------------------------------------------------ helpers


def quartiles(values: Sequence[float]) -> tuple[float, float, float] | None:
    """Return ``(q1, median, q3)`` of ``values``, or None when there are none.

    Method: linear interpolation between order statistics with the sample's
    min and max as the 0th and 100th percentiles (``statistics.quantiles``
    ``method="inclusive"``; Hyndman-Fan type 7, numpy's and Excel's default).
    A single value is its own three quartiles. This only summarizes values that
    are already aggregates (one per district); it adds no protection itself.
    """
    data = [float(value) for value in values]
    if not data:
        return None
    if any(math.isnan(value) for value in data):
        raise ValueError("quartiles of NaN are undefined")
    if len(data) == 1:
        return data[0], data[0], data[0]
    q1, median, q3 = statistics.quantiles(data, n=4, method="inclusive")
    return q1, median, q3


SIZE_BANDS: tuple[tuple[int, str], ...] = ((25, "under 25"), (100, "25-99"), (250, "100-249"))


def size_band(participants: int) -> str:
    """Band a program's size, so comparisons group districts without naming their size.

    Bands: "under 25", "25-99", "100-249", "250+".
    """
    if participants < 0:
        raise ValueError(f"participants cannot be negative, not {participants}")
    for upper, label in SIZE_BANDS:
        if participants < upper:
            return label
    return "250+"
