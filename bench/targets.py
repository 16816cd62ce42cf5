"""Targets and results: every benchmark reports measures, some of them judged.

A measure with a target passes or fails; one without (``passed is None``) is reported for
the record. ``make bench`` exits 1 when any judged measure fails. Results go to
``bench/results/<benchmark>.json`` (the full run's are committed) and the table to
``bench/results/latest.md``, which docs/scaling.md quotes (``--quick`` runs write to
``bench/results/quick/`` instead, so a check never replaces the record).
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Measure:
    benchmark: str
    name: str
    value: float
    unit: str
    #: The target in words ("≥ 0.30"), empty when the measure is for the record only.
    target: str = ""
    passed: bool | None = None
    detail: str = ""

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "info"}[self.passed]


def at_least(
    benchmark: str, name: str, value: float, limit: float, unit: str, detail: str = ""
) -> Measure:
    return Measure(benchmark, name, value, unit, f">= {limit:g}{unit}", value >= limit, detail)


def at_most(
    benchmark: str, name: str, value: float, limit: float, unit: str, detail: str = ""
) -> Measure:
    return Measure(benchmark, name, value, unit, f"<= {limit:g}{unit}", value <= limit, detail)


def info(benchmark: str, name: str, value: float, unit: str, detail: str = "") -> Measure:
    return Measure(benchmark, name, value, unit, "", None, detail)


@dataclass
class Run:
    """Everything one ``python -m bench`` measured, in the order it was measured."""

    scale: str
    #: Where the JSON and ``latest.md`` go (quick runs keep theirs apart from the full run's).
    folder: Path = RESULTS
    measures: list[Measure] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def add(self, benchmark: str, measures: list[Measure], raw: dict) -> None:
        """Keep ``measures``, print them, and write the benchmark's JSON with its raw data."""
        self.measures.extend(measures)
        print(table(measures), flush=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        body = {
            "benchmark": benchmark,
            "scale": self.scale,
            "started": self.started,
            "machine": machine(),
            "measures": [asdict(m) for m in measures],
            "raw": raw,
        }
        (self.folder / f"{benchmark}.json").write_text(json.dumps(body, indent=2, default=str))

    @property
    def failed(self) -> list[Measure]:
        return [m for m in self.measures if m.passed is False]

    def finish(self) -> str:
        """Write ``latest.md`` and return the final table."""
        text = table(self.measures)
        judged = [m for m in self.measures if m.passed is not None]
        lines = [
            f"Run of {self.started} ({self.scale}) on {machine()['summary']}.",
            "",
            markdown(self.measures),
            "",
            f"{len(judged) - len(self.failed)} of {len(judged)} targets met.",
        ]
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "latest.md").write_text("\n".join(lines) + "\n")
        return text


def _value(m: Measure) -> str:
    return f"{m.value:,.3g}{m.unit}" if abs(m.value) < 1000 else f"{m.value:,.0f}{m.unit}"


def table(measures: list[Measure]) -> str:
    """A plain-text table for the terminal."""
    rows = [("benchmark", "measure", "value", "target", "result")]
    rows += [(m.benchmark, m.name, _value(m), m.target or "-", m.verdict) for m in measures]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(measures: list[Measure]) -> str:
    lines = [
        "| benchmark | measure | value | target | result | detail |",
        "|---|---|---|---|---|---|",
    ]
    for m in measures:
        target = (m.target or "-").replace(">=", "≥").replace("<=", "≤")
        lines.append(
            f"| {m.benchmark} | {m.name} | {_value(m)} | {target} | {m.verdict} | {m.detail} |"
        )
    return "\n".join(lines)


def machine() -> dict:
    """Where the numbers come from: they only mean something beside this."""
    import os

    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        memory = "?"
    cores = os.cpu_count()
    return {
        "python": platform.python_version(),
        "cpus": cores,
        "memory": memory,
        "summary": f"{cores} CPUs, {memory}, Python {platform.python_version()}",
    }
