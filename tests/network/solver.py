"""The attacker's arithmetic: what the published cells of a release pin down.

A release's table obeys linear equations: each row's cells add up to its total, and the
all-tracks row is the sum of the track-kind rows. Given whatever was published, the attacker
asks, for every cell that was not, the least and the most it can be among all non-negative
integer tables that agree with the published cells (and with any bounds the attacker also
knows, such as a size band): two integer programs per cell, solved by HiGHS through scipy.
When the two meet, the hidden cell is recovered.

This is written independently of the release code (which reasons with flows on a graph), so
the two cannot share a mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

TOTAL = "total"
ALL = "all"
#: Upper bound on any one count; an interval reaching it is open-ended.
BIG = 100_000

Cell = tuple[str, str]


def table_cells(kinds: Sequence[str], columns: Sequence[str], all_row: bool = True) -> list[Cell]:
    rows = [*kinds, ALL] if all_row else list(kinds)
    return [(row, column) for row in rows for column in [*columns, TOTAL]]


def _expression(cell: Cell, kinds: Sequence[str], columns: Sequence[str]) -> np.ndarray:
    """The cell as a combination of the interior cells (one variable per kind and column)."""
    row, column = cell
    vector = np.zeros(len(kinds) * len(columns))
    for k, kind in enumerate(kinds):
        if row not in (kind, ALL):
            continue
        for c, name in enumerate(columns):
            if column in (name, TOTAL):
                vector[k * len(columns) + c] = 1
    return vector


def intervals(
    kinds: Sequence[str],
    columns: Sequence[str],
    published: Mapping[Cell, int | None],
    known: Iterable[tuple[Cell, int, int]] = (),
    all_row: bool = True,
) -> dict[Cell, tuple[int, int]]:
    """For every cell of the table not in ``published`` with a value: its (least, most).

    ``known`` adds bounds the attacker has on a cell (``(cell, low, high)``).
    """
    rows, low, high = [], [], []
    for cell, value in published.items():
        if value is not None:
            rows.append(_expression(cell, kinds, columns))
            low.append(value)
            high.append(value)
    for cell, lo, hi in known:
        rows.append(_expression(cell, kinds, columns))
        low.append(lo)
        high.append(hi)
    n = len(kinds) * len(columns)
    constraints = [LinearConstraint(np.array(rows), low, high)] if rows else []
    out = {}
    for cell in table_cells(kinds, columns, all_row):
        if published.get(cell) is not None:
            continue
        objective = _expression(cell, kinds, columns)
        ends = []
        for sign in (1, -1):
            result = milp(
                sign * objective,
                constraints=constraints,
                integrality=np.ones(n),
                bounds=Bounds(0, BIG),
            )
            assert result.status == 0, f"the published table is inconsistent: {result.message}"
            ends.append(round(sign * result.fun))
        out[cell] = (ends[0], ends[1])
    return out


def recovered(
    kinds: Sequence[str],
    columns: Sequence[str],
    published: Mapping[Cell, int | None],
    known: Iterable[tuple[Cell, int, int]] = (),
    all_row: bool = True,
) -> dict[Cell, int]:
    """The hidden cells the published ones pin to a single value."""
    return {
        cell: lo
        for cell, (lo, hi) in intervals(kinds, columns, published, known, all_row).items()
        if lo == hi
    }


def published_cells(rows: Mapping[str, Mapping | None], columns: Sequence[str]) -> dict:
    """The cells of an analyst's rows (``{row: figures or None}``) keyed for ``intervals``."""
    cells: dict[Cell, int | None] = {}
    for row, figures in rows.items():
        if figures is None:
            continue
        cells[(row, TOTAL)] = figures["participants"]
        for column in columns:
            cells[(row, column)] = figures["outcomes"].get(column)
    return cells
