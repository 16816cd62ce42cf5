"""``python -m bench [--quick] [--fresh] [--only NAME,...]``: generate, measure, judge.

Builds (or reuses) the benchmark database, loads the generated districts unless the same
seed and scale are loaded already, runs every benchmark, prints each target with its
measured value and PASS/FAIL, writes ``bench/results/`` and exits 1 when a target fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from dataclasses import dataclass

from bench import db
from bench.targets import RESULTS, Measure, Run

BENCHMARKS = ("queries", "report", "pages", "network", "export", "mail", "queues")


@dataclass(frozen=True)
class Plan:
    """Everything a run generates and how long it measures."""

    districts: int
    cases_per_district: int
    years: int
    annual_cases: int
    export_sizes: tuple[int, int]
    rows: tuple[int, int]
    wrk_seconds: float
    repeats: int
    notices: int
    #: Requests of each page, and replays of its floor, in the pages' in-process comparison.
    page_repeats: int
    #: Notices queued while the largest district's export runs (``bench/queues.py``).
    queue_notices: int = 20

    def marker(self, seed: int) -> str:
        return (
            f"v1 seed={seed} districts={self.districts}x{self.cases_per_district}"
            f"x{self.years}y annual={self.annual_cases} export={self.export_sizes}"
            f" rows={self.rows}"
        )

    def describe(self) -> str:
        return (
            f"{self.districts} districts x {self.cases_per_district} cases over {self.years}"
            f" years; annual report district {self.annual_cases:,} cases over 10 years;"
            f" exports of {self.export_sizes[0]:,} and {self.export_sizes[1]:,} cases"
        )


FULL = Plan(200, 500, 5, 5000, (10_000, 100_000), (10, 500), 8, 15, 500, 60)
QUICK = Plan(4, 100, 5, 5000, (1_000, 10_000), (10, 500), 3, 5, 100, 20)


def _specs(plan: Plan):
    from bench.generate import DistrictSpec, Scale, network_specs

    specs = network_specs(Scale(plan.districts, plan.cases_per_district, plan.years))
    specs.append(DistrictSpec("annual", "boston_esp", plan.annual_cases, 10))
    specs += [DistrictSpec(f"rows-{n}", "boston_esp", n, 1, "rows") for n in plan.rows]
    specs += [DistrictSpec(f"export-{n}", "boston_esp", n, 10) for n in plan.export_sizes]
    return specs


def prepare(plan: Plan, seed: int, fresh: bool) -> dict[str, int]:
    """The database with this plan's data loaded; returns slug -> tenant id."""
    from bench.generate import generate, mark_relay_rows_done

    target = db.urls()
    created = db.ensure_database(target, fresh=fresh)
    db.migrate(target)
    wanted = plan.marker(seed)
    drift = db.schema_drift(target)
    if drift:
        print(f"The schema lacks {', '.join(drift)}: rebuilding the database.", flush=True)
    if not created and (drift or db.read_marker(target) != wanted):
        print("Rebuilding the database for this plan.", flush=True)
        db.ensure_database(target, fresh=True)
        db.migrate(target)
    loaded = db.read_marker(target) == wanted
    began = time.perf_counter()
    print(("Reusing" if loaded else "Generating") + f" {plan.describe()}.", flush=True)
    ids = generate(db.bench_app(target), target, _specs(plan), seed)
    if not loaded:
        mark_relay_rows_done(target)
        db.write_marker(target, wanted)
        print(f"Generated in {time.perf_counter() - began:.0f} s.", flush=True)
    return ids


def _measure(run: Run, name: str, plan: Plan, ids: dict[str, int]) -> None:
    from bench import export, mail, network, pages, queries, queues, report

    target = db.urls()
    app = db.bench_app(target)
    if name == "queries":
        small, large = (f"rows-{n}" for n in plan.rows)
        measures, raw = queries.run(app, small, large, plan.rows)
    elif name == "report":
        measures, raw = report.run(app, "annual", ids["annual"], plan.repeats)
    elif name == "pages":
        measures, raw = pages.run(target, app, "district-001", plan.wrk_seconds, plan.page_repeats)
    elif name == "network":
        network_ids = [v for k, v in ids.items() if k.startswith("district-")]
        measures, raw = network.run(app, network_ids)
    elif name == "export":
        small, large = plan.export_sizes
        measures, raw = export.run(target, (f"export-{small}", small), (f"export-{large}", large))
    elif name == "mail":
        measures, raw = mail.run(target, "district-001", plan.notices)
    else:
        large = plan.export_sizes[-1]
        measures, raw = queues.run(target, f"export-{large}", "district-001", plan.queue_notices)
    run.add(name, measures, raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small scale, to check a run fast")
    parser.add_argument("--fresh", action="store_true", help="drop the database and generate")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated names")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="against make cluster: its database, PgBouncer, replica and web instances",
    )
    args = parser.parse_args(argv)
    if args.cluster:
        os.environ["BENCH_CLUSTER"] = "1"
    plan = QUICK if args.quick else FULL
    if args.quick and not args.cluster and not os.environ.get("BENCH_DATABASE_URL"):
        # Its own database, so a quick check never throws away the full plan's data.
        os.environ["BENCH_DATABASE_URL"] = db.DEFAULT_URL + "_quick"
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {', '.join(BENCHMARKS)}")
    if args.cluster:
        from bench import cluster

        cluster.check_up()
    ids = prepare(plan, args.seed, args.fresh)
    if args.cluster:
        # A rebuilt database lost the demo districts the cluster's logins and drill use.
        cluster.database()
    folder = RESULTS / "quick" if args.quick else RESULTS
    if args.cluster:
        folder = folder / "cluster"
    label = ("quick: " if args.quick else "") + ("make cluster: " if args.cluster else "")
    run = Run(label + plan.describe(), folder)
    for name in chosen:
        print(f"\n== {name}", flush=True)
        began = time.perf_counter()
        try:
            _measure(run, name, plan, ids)
        except Exception as exc:
            traceback.print_exc()
            failure = Measure(name, "benchmark ran to the end", 0, "", "completes", False, str(exc))
            run.add(name, [failure], {"error": repr(exc)})
        print(f"({name}: {time.perf_counter() - began:.0f} s)", flush=True)
    print("\n== every target\n")
    print(run.finish())
    failed = run.failed
    print(f"\n{len(failed)} target(s) failed." if failed else "\nEvery target met.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
