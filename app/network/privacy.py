"""Disclosure control for the network: a release is a table, protected as a table.

Two independent protections, both pure (no Flask, no database):

* **Table suppression** (:func:`protect_table`). A release's counts form a table: one row
  per track kind, one column per outcome group, each row's total, and the all-tracks row
  that is the sum of the kind rows. Any count from 1 to ``minimum - 1`` is hidden
  (*primary*), and further cells are hidden (*complementary*) until no combination of the
  published cells, with the knowledge that counts are whole and not negative, narrows a
  hidden primary cell to fewer than ``minimum + 1`` possible values, nor pins any hidden
  cell to one value. Zeros are published.

  How it decides: the table's equations (every row and every column of the table with its
  margins sums to zero once margins are negated) make the hidden cells the edges of a
  graph whose nodes are rows and columns; how far a hidden cell can move while every
  published cell stays put and every count stays >= 0 is a maximum flow between the two
  ends of its edge. A cell whose movement is too small gets the cheapest path of cells
  (the smallest counts) that gives it enough room. The tests check the result with an
  independent integer program over the published cells.

* **Differential privacy** (:func:`noisy_counts`). Histograms of teacher-years get OpenDP's
  discrete Laplace noise at scale ``sensitivity / epsilon``, where the sensitivity is how
  far one teacher-year can move the histogram (1: one teacher-year is one element of it);
  OpenDP's privacy map certifies the epsilon at that sensitivity. Everything a noisy release
  publishes is computed from such noisy counts (post-processing).

The :class:`Budget` adds the epsilons of every noisy histogram of a release (basic
sequential composition) against the district's yearly budget.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import opendp.prelude as dp

dp.enable_features("contrib")

TOTAL = "total"
"""The column of a row's total."""

ALL = "all"
"""The row that is the sum of the others (the all-tracks row)."""

COMPLEMENTARY = "complementary"

_BUDGET_SLACK = 1e-9
"""Float tolerance when comparing epsilon sums, so 0.1 + 0.2 may spend a 0.3 budget."""

_INF = 10**12
"""A cell's room to move when nothing bounds it."""

Cell = tuple[str, str]
Noise = Callable[[list[int], float], list[int]]
"""A test's stand-in for OpenDP's sampler: (true counts, scale) -> noisy counts."""


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class ProtectedTable:
    """A table ready to publish: ``cells[row][column]`` with None where hidden.

    Every row has a ``"total"`` column; with ``all_row`` the ``"all"`` row holds the column
    sums. ``reasons`` says why each hidden cell is hidden (``"below 10"`` or
    ``"complementary"``).
    """

    cells: dict[str, dict[str, int | None]]
    hidden: frozenset[Cell]
    reasons: dict[Cell, str]


def protect_table(
    rows: Mapping[str, Mapping[str, int]], minimum: int = 10, all_row: bool = True
) -> ProtectedTable:
    """Hide the small cells of a table and enough others that none can be worked out.

    ``rows`` maps each row (a track kind, say) to its counts by column; every row has the
    same columns. Each row gets a total; with ``all_row`` the table also publishes the
    ``"all"`` row of column sums (and its total). Without it, rows are unrelated (survey
    statements answered by the same people, say): only each row's total ties its cells.

    Guarantee: for every hidden cell whose count is 1 to ``minimum - 1``, the published
    cells leave at least ``minimum + 1`` whole, non-negative values possible; every other
    hidden cell has at least two.
    """
    values = _table_values(rows, minimum, all_row)
    order = {cell: n for n, cell in enumerate(values)}
    below = f"below {minimum}"
    reasons = {cell: below for cell, value in values.items() if 0 < value < minimum}
    primary = frozenset(reasons)
    hidden = set(primary)
    work = sorted(hidden, key=order.__getitem__)
    while work:
        cell = work.pop(0)
        target = minimum if cell in primary else 1
        down, room = _room(cell, values, hidden, all_row, target)
        if room >= target:
            continue
        added = [
            other
            for other in _cheapest_path(cell, values, hidden, all_row, target - down, order)
            if other not in hidden
        ]
        for other in added:
            hidden.add(other)
            reasons[other] = COMPLEMENTARY
        work = sorted({*work, *added, cell}, key=order.__getitem__)
    cells: dict[str, dict[str, int | None]] = {}
    for (row, column), value in values.items():
        cells.setdefault(row, {})[column] = None if (row, column) in hidden else value
    return ProtectedTable(cells=cells, hidden=frozenset(hidden), reasons=reasons)


def _table_values(
    rows: Mapping[str, Mapping[str, int]], minimum: int, all_row: bool
) -> dict[Cell, int]:
    if minimum < 1:
        raise ValueError(f"minimum must be at least 1, not {minimum}")
    if not rows:
        raise ValueError("a table needs at least one row")
    columns = list(next(iter(rows.values())))
    values: dict[Cell, int] = {}
    for row, counts in rows.items():
        if row in (ALL, TOTAL) or TOTAL in counts:
            raise ValueError(f"{ALL!r} and {TOTAL!r} are reserved for the table's margins")
        if list(counts) != columns:
            raise ValueError(f"row {row!r} has columns {list(counts)}, not {columns}")
        negative = sorted(column for column, count in counts.items() if count < 0)
        if negative:
            raise ValueError(f"counts cannot be negative: {row} {', '.join(negative)}")
        for column in columns:
            values[(row, column)] = int(counts[column])
        values[(row, TOTAL)] = sum(values[(row, column)] for column in columns)
    if all_row:
        for column in [*columns, TOTAL]:
            values[(ALL, column)] = sum(values[(row, column)] for row in rows)
    return values


def _is_margin(cell: Cell, all_row: bool) -> bool:
    row, column = cell
    return (column == TOTAL) != (row == ALL) if all_row else column == TOTAL


def _ends(cell: Cell, all_row: bool) -> tuple[tuple[str, str], tuple[str, str]]:
    """The cell as an edge: its row's node and its column's node. Without an all-tracks
    row no column is an equation, so every column is one free node."""
    row, column = cell
    return ("row", row), ("column", column if all_row else "*")


def _capacities(cell: Cell, value: int, all_row: bool) -> tuple[int, int]:
    """How far the cell can carry flow (forward: row -> column, backward) from its value.

    Flow forward raises an inner cell (no limit) and lowers a margin (down to 0); flow
    backward does the opposite. The grand total counts as an inner cell: both signs flip.
    """
    if _is_margin(cell, all_row):
        return value, _INF
    return _INF, value


def _max_flow(edges: list[tuple], source, sink, limit: int) -> int:
    """Edmonds-Karp on the few nodes of a table, stopped once ``limit`` is reached."""
    residual: dict = defaultdict(lambda: defaultdict(int))
    for start, end, capacity in edges:
        residual[start][end] += capacity
    flow = 0
    while flow < limit:
        parent = {source: None}
        queue = deque([source])
        while queue and sink not in parent:
            node = queue.popleft()
            for following, capacity in residual[node].items():
                if capacity > 0 and following not in parent:
                    parent[following] = node
                    queue.append(following)
        if sink not in parent:
            break
        path, node = [], sink
        while parent[node] is not None:
            path.append((parent[node], node))
            node = parent[node]
        push = min(limit - flow, *(residual[a][b] for a, b in path))
        for a, b in path:
            residual[a][b] -= push
            residual[b][a] += push
        flow += push
    return flow


def _room(
    cell: Cell, values: Mapping[Cell, int], hidden: set[Cell], all_row: bool, target: int
) -> tuple[int, int]:
    """(how far the cell can go down, how far down and up together), up to ``target``."""
    edges = []
    for other in hidden:
        if other == cell:
            continue
        start, end = _ends(other, all_row)
        forward, backward = _capacities(other, values[other], all_row)
        edges += [(start, end, forward), (end, start, backward)]
    row, column = _ends(cell, all_row)
    value = values[cell]
    # Raising an inner cell sends flow row -> column through it, so back column -> row
    # through the others; a margin the other way round.
    start, end = (row, column) if _is_margin(cell, all_row) else (column, row)
    down = min(value, _max_flow(edges, end, start, value))
    up = _max_flow(edges, start, end, target)
    return down, down + up


def _cheapest_path(
    cell: Cell,
    values: Mapping[Cell, int],
    hidden: set[Cell],
    all_row: bool,
    need: int,
    order: Mapping[Cell, int],
) -> list[Cell]:
    """The cells of the cheapest path that lets ``cell`` rise by ``need``: hidden cells cost
    nothing, published ones their count; zeros are never used."""
    adjacency: dict = defaultdict(list)
    for other in sorted(values, key=order.__getitem__):
        if other == cell or values[other] == 0:
            continue
        start, end = _ends(other, all_row)
        forward, backward = _capacities(other, values[other], all_row)
        if forward >= need:
            adjacency[start].append((end, other))
        if backward >= need:
            adjacency[end].append((start, other))
    row, column = _ends(cell, all_row)
    source, sink = (row, column) if _is_margin(cell, all_row) else (column, row)
    best = {source: 0}
    came: dict = {}
    heap = [(0, 0, source)]
    counter = 1
    while heap:
        cost, _, node = heapq.heappop(heap)
        if node == sink:
            break
        if cost > best.get(node, _INF):
            continue
        for following, other in adjacency[node]:
            step = cost + (0 if other in hidden else values[other])
            if step < best.get(following, _INF):
                best[following] = step
                came[following] = (node, other)
                heapq.heappush(heap, (step, counter, following))
                counter += 1
    if sink not in came:  # pragma: no cover - the margins always give a path
        raise AssertionError(f"no complement can protect {cell}")
    path, node = [], sink
    while node != source:
        node, other = came[node]
        path.append(other)
    return path


# ------------------------------------------------------------------- differential privacy


@dataclass(frozen=True)
class NoisyCounts:
    """Noisy counts (clamped at 0), the noise scale, and the epsilon OpenDP certifies."""

    counts: tuple[int, ...]
    scale: float
    epsilon: float


@lru_cache(maxsize=64)
def _laplace(scale: float) -> dp.Measurement:
    """OpenDP's discrete Laplace on a vector of counts, with its L1 privacy map."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    return dp.m.make_laplace(*space, scale=scale)


@lru_cache(maxsize=256)
def _certified(scale: float, sensitivity: int) -> float:
    return float(_laplace(scale).map(sensitivity))


def histogram(categories: Sequence[str], elements: Sequence[str]) -> list[int]:
    """Count ``elements`` by category; an element in no category is not counted."""
    index = {category: n for n, category in enumerate(categories)}
    if len(index) != len(categories) or not categories:
        raise ValueError("categories must be distinct and not empty")
    counts = [0] * len(categories)
    for element in elements:
        n = index.get(element)
        if n is not None:
            counts[n] += 1
    return counts


def noisy_counts(
    counts: Sequence[int], epsilon: float, sensitivity: int = 1, noise: Noise | None = None
) -> NoisyCounts:
    """``counts`` plus OpenDP's discrete Laplace noise, ``epsilon``-differentially private.

    ``sensitivity`` is how far (in L1 distance) one teacher-year added or removed can move
    the whole vector: 1 for a histogram of teacher-years (one teacher-year is one element),
    the number of statements for the survey's answers (one respondent answers each once).
    The scale is ``sensitivity / epsilon``; the epsilon charged is the one OpenDP's privacy
    map certifies at that sensitivity. ``noise``, in tests only, replaces OpenDP's
    unseedable sampler: it receives the true counts and the scale.
    """
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be positive, not {epsilon}")
    if sensitivity < 1:
        raise ValueError(f"sensitivity must be at least 1, not {sensitivity}")
    negative = [count for count in counts if count < 0]
    if negative or not counts:
        raise ValueError("counts must be a non-empty list of counts >= 0")
    scale = sensitivity / epsilon
    true = [int(count) for count in counts]
    drawn = noise(true, scale) if noise else _laplace(scale)(true)
    return NoisyCounts(
        counts=tuple(max(0, int(count)) for count in drawn),
        scale=scale,
        epsilon=_certified(scale, sensitivity),
    )


# ------------------------------------------------------------------------------- budget


class BudgetExceeded(ValueError):
    """A release would spend more epsilon than the budget has left."""


@dataclass(frozen=True)
class Budget:
    """An epsilon budget (one district's for one school year), immutable.

    ``spend`` returns a new Budget, so a refused release cannot leave a half-charged
    budget behind. ``scope`` names what the budget covers, for messages ("2009-2010").
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
        return replace(self, spent=min(self.limit, self.spent + cost))


def _check_cost(cost: float) -> None:
    if not (math.isfinite(cost) and cost >= 0):
        raise ValueError(f"cost must be a non-negative number, not {cost}")


def _num(value: float) -> str:
    return str(round(float(value), 6))


# ------------------------------------------------------------------------------ summaries


def quartiles(values: Sequence[float]) -> tuple[float, float, float] | None:
    """Return ``(q1, median, q3)`` of ``values``, or None when there are none.

    Method: linear interpolation between order statistics with the sample's min and max
    as the 0th and 100th percentiles (``statistics.quantiles`` ``method="inclusive"``;
    Hyndman-Fan type 7, numpy's and Excel's default). A single value is its own three
    quartiles. This adds no protection itself.
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


def bin_of(value: float, edges: Sequence[float]) -> int:
    """The bin of ``value`` among ``edges`` (values past either end go to the end bins)."""
    for n in range(len(edges) - 2, -1, -1):
        if value >= edges[n]:
            return n
    return 0


def histogram_quantile(counts: Sequence[int], edges: Sequence[float], share: float) -> float:
    """The value below which ``share`` of a histogram's mass lies, interpolating linearly
    inside the bin (counts spread evenly over it)."""
    total = sum(counts)
    if total <= 0:
        raise ValueError("a histogram with no mass has no quantiles")
    target, below = share * total, 0
    for n, count in enumerate(counts):
        if count and below + count >= target:
            return edges[n] + (target - below) / count * (edges[n + 1] - edges[n])
        below += count
    return float(edges[-1])


def histogram_mean(counts: Sequence[int], edges: Sequence[float]) -> float:
    """The mean of a histogram, each bin at its midpoint."""
    total = sum(counts)
    if total <= 0:
        raise ValueError("a histogram with no mass has no mean")
    middles = [(edges[n] + edges[n + 1]) / 2 for n in range(len(counts))]
    return sum(c * m for c, m in zip(counts, middles, strict=True)) / total


SIZE_BANDS: tuple[tuple[int, str], ...] = ((25, "under 25"), (100, "25-99"), (250, "100-249"))
BAND_NAMES = ("under 25", "25-99", "100-249", "250+")


def size_band(participants: int) -> str:
    """Band a program's size: "under 25", "25-99", "100-249", "250+"."""
    if participants < 0:
        raise ValueError(f"participants cannot be negative, not {participants}")
    for upper, label in SIZE_BANDS:
        if participants < upper:
            return label
    return "250+"
