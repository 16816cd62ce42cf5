"""A full tenant export (every row as JSON Lines in a zip) at two sizes: time and memory.

Each export runs in a fresh process (``python -m bench.export SLUG``) so its peak resident
memory is its own; a thread samples it with psutil every 20 ms while the export job's
builder runs. Memory is flat when the peak at the larger district stays within 20% of the
peak at the smaller one. The floor for time is PostgreSQL's ``COPY ... TO STDOUT`` of the
same rows, read and thrown away; the larger export may take at most ``MAX_OVER_FLOOR``
times as long.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.db import Urls, owner_connection
from bench.targets import Measure, at_most, info

#: The larger export's peak may exceed the smaller's by this share.
MAX_GROWTH = 0.20
#: The larger export's time over its COPY floor, at most.
MAX_OVER_FLOOR = 5
#: The floor is the median of this many COPY runs: on a shared machine single runs of the
#: same COPY took between 0.58 and 1.08 s minutes apart, which alone nearly doubled the ratio.
FLOOR_RUNS = 3
ROOT = Path(__file__).resolve().parent.parent


def _tenant_tables(conn) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' "
        "AND table_schema = 'public' AND table_name NOT IN ('api_tokens', 'survey_invitations') "
        "ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows if r[0] != "outbox_messages"]


def copy_floor(target: Urls, slug: str) -> tuple[float, int]:
    """Seconds for PostgreSQL to hand over the district's rows once, and how many there are."""
    with owner_connection(target) as conn:
        tenant_id = conn.execute("SELECT id FROM tenants WHERE slug = %s", (slug,)).fetchone()[0]
        began, rows = time.perf_counter(), 0
        for table in _tenant_tables(conn):
            query = f"COPY (SELECT * FROM {table} WHERE tenant_id = {int(tenant_id)}) TO STDOUT"
            with conn.cursor().copy(query) as copy:
                for block in copy:
                    rows += bytes(block).count(b"\n")
        return time.perf_counter() - began, rows


def measure_one(target: Urls, slug: str) -> dict:
    """Run in its own process: one tenant archive export, timed, with its peak memory."""
    import psutil
    from sqlalchemy import select

    from app.extensions import db
    from app.models.export import ExportJob
    from app.models.tenant import Tenant
    from app.models.user import User
    from app.services import exports
    from app.tenants.context import all_tenants, tenant_scope
    from bench.db import bench_app

    app = bench_app(target)
    with app.app_context():
        with all_tenants():
            tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar()
        with tenant_scope(tenant_id):
            admin = db.session.execute(
                select(User.id).where(User.email == f"admin@{slug}.example.org")
            ).scalar_one()
            row = ExportJob(
                tenant_id=tenant_id, kind="tenant_archive", params={}, requested_by_id=admin
            )
            db.session.add(row)
            db.session.commit()
            export_id = row.id
        db.session.remove()
        process = psutil.Process()
        before = process.memory_info().rss
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], process.memory_info().rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        began = time.perf_counter()
        with tenant_scope(tenant_id):
            exports.build(export_id)
            db.session.commit()
            finished = db.session.get(ExportJob, export_id)
            status, key = finished.status, finished.file_key
        elapsed = time.perf_counter() - began
        done.set()
        sampler.join()
        peak[0] = max(peak[0], process.memory_info().rss)
        from app.services.storage import storage_for

        size = 0
        if key:
            with storage_for(app).open(tenant_id, key) as stored:
                while chunk := stored.read(1 << 20):
                    size += len(chunk)
            storage_for(app).delete(tenant_id, key)
    return {
        "slug": slug,
        "status": status,
        "seconds": elapsed,
        "rss_before_mb": before / 2**20,
        "rss_peak_mb": peak[0] / 2**20,
        "archive_mb": size / 2**20,
    }


def _in_process(slug: str) -> dict:
    output = subprocess.run(
        [sys.executable, "-m", "bench.export", slug],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run(target: Urls, small: tuple[str, int], large: tuple[str, int]) -> tuple[list[Measure], dict]:
    raw = {}
    for slug, cases in (small, large):
        result = _in_process(slug)
        if result["status"] != "ready":
            raise RuntimeError(f"the export of {slug} ended {result['status']}")
        floors = [copy_floor(target, slug) for _ in range(FLOOR_RUNS)]
        floor, rows = sorted(floors)[FLOOR_RUNS // 2]
        raw[str(cases)] = {
            **result,
            "copy_floor_s": floor,
            "copy_floor_runs_s": [seconds for seconds, _ in floors],
            "rows": rows,
        }
    few, many = raw[str(small[1])], raw[str(large[1])]
    growth = many["rss_peak_mb"] / few["rss_peak_mb"] - 1
    detail = (
        f"peak {few['rss_peak_mb']:.0f} MB at {small[1]:,} cases, "
        f"{many['rss_peak_mb']:.0f} MB at {large[1]:,}"
    )
    return [
        at_most(
            "export",
            "peak memory growth, 10x the cases",
            growth * 100,
            MAX_GROWTH * 100,
            "%",
            detail,
        ),
        info(
            "export",
            f"export of {large[1]:,} cases",
            many["seconds"],
            " s",
            f"{many['rows']:,} rows, {many['archive_mb']:.0f} MB zip",
        ),
        at_most(
            "export",
            f"export of {large[1]:,} cases / COPY floor",
            many["seconds"] / many["copy_floor_s"],
            MAX_OVER_FLOOR,
            "x",
            f"COPY TO STDOUT of the same rows: {many['copy_floor_s']:.2f} s"
            f" (median of {FLOOR_RUNS})",
        ),
    ], raw


if __name__ == "__main__":
    from bench.db import urls

    print(json.dumps(measure_one(urls(), sys.argv[1])))
