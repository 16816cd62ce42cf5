"""A network release over every generated district, beside the bare SQL it rests on.

Each district publishes its last complete school year through the same service the
release job runs (``network.publish`` under the district's tenant, one commit each), after
one release rolled back and one floor to warm the process.
The floor is the bare aggregate SQL of the annual report for the same district and
year, timed in the same loop. The release may take at most ``MAX_RATIO`` times its floor.
"""

from __future__ import annotations

import time

from flask import Flask

from bench.db import owner_connection, urls
from bench.report import _year, bare
from bench.targets import Measure, at_least, at_most, info

#: The releases may take this many times their bare SQL.
MAX_RATIO = 2.0


def run(app: Flask, tenant_ids: list[int]) -> tuple[list[Measure], dict]:
    from sqlalchemy import func, select

    from app.core import uow
    from app.extensions import db
    from app.models.network import NetworkRelease
    from app.services import network
    from app.tenants.context import all_tenants, tenant_scope

    releases, floors, years = [], [], set()
    # A published year is final: start each run from years no district has published. The
    # benchmark's own bookkeeping, as the owner: the platform role deletes nothing.
    with owner_connection(urls()) as conn:
        conn.execute("DELETE FROM network_releases WHERE member_key NOT LIKE 'synthetic-%'")
        conn.execute("DELETE FROM privacy_spends")
    # Warm both sides like the report's benchmark: a release rolled back (it publishes
    # nothing) and the floor, so the first district does not carry the process's compiling.
    first = tenant_ids[0]
    with app.app_context(), tenant_scope(first):
        network.publish(_year(app, first).label)
        uow.rollback()
    bare(app, first, _year(app, first))
    for tenant_id in tenant_ids:
        year = _year(app, tenant_id)
        years.add(year.label)
        with app.app_context(), tenant_scope(tenant_id):
            began = time.perf_counter()
            network.publish(year.label)
            uow.commit()
            releases.append(time.perf_counter() - began)
        floors.append(bare(app, tenant_id, year))
    with app.app_context(), all_tenants():
        written = db.session.execute(
            select(func.count()).select_from(NetworkRelease).where(NetworkRelease.year.in_(years))
        ).scalar_one()
    total, floor = sum(releases), sum(floors)
    detail = f"{total:.1f} s for {len(tenant_ids)} districts, bare SQL {floor:.2f} s"
    raw = {"districts": len(tenant_ids), "release_s": releases, "bare_sql_s": floors}
    return [
        at_most(
            "network",
            f"release over {len(tenant_ids)} districts / bare SQL",
            total / floor,
            MAX_RATIO,
            "x",
            detail,
        ),
        at_most(
            "network",
            f"release of {len(tenant_ids)} districts",
            total,
            10.0,
            " s",
            "every district publishes its last complete year, one commit each",
        ),
        info("network", "release per district, mean", total / len(tenant_ids) * 1000, " ms"),
        at_least(
            "network",
            "releases written",
            written,
            len(tenant_ids),
            "",
            f"{written} release rows for {sorted(years)}",
        ),
    ], raw
