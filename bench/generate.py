"""The data generator: districts with years of history, loaded with COPY.

Districts are created by the app itself (``create_tenant`` with a preset, so each has a
real, published program configuration); everything that fills them (people, cases over
tracks and years, visits, evidence, goals, recommendations, panel sessions with ballots,
survey answers) is written with ``COPY`` in foreign-key order, because row-by-row ORM
inserts would take hours at 200 districts x 500 cases. The same seed and scale give the
same rows: every district draws from its own ``random.Random`` seeded with the run's
seed and its slug.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from bench.db import Urls, owner_connection
from bench.district import District
from bench.rows import Writer

PRESETS = (
    "boston_esp",
    "toledo",
    "rochester",
    "montgomery",
    "boston_pap_2007",
    "induction_minimal",
)
#: Every generated account's password (the page benchmarks sign in with it).
PASSWORD = "parley-bench-password"


@dataclass(frozen=True)
class Scale:
    """How much to generate. The defaults are the issue's scale: 200 districts x 500 cases."""

    districts: int = 200
    cases_per_district: int = 500
    years: int = 5
    seed: int = 2026


@dataclass(frozen=True)
class DistrictSpec:
    """One district to generate. ``shape`` "history" spreads cases over tracks and years;
    "rows" puts every case on one CT and ``cases`` rows on one teacher's case, so a page's
    query count can be compared at two sizes."""

    slug: str
    preset: str
    cases: int
    years: int
    shape: str = "history"


def network_specs(scale: Scale) -> list[DistrictSpec]:
    """The network's districts, cycling through the presets."""
    return [
        DistrictSpec(
            f"district-{n:03d}",
            PRESETS[(n - 1) % len(PRESETS)],
            scale.cases_per_district,
            scale.years,
        )
        for n in range(1, scale.districts + 1)
    ]


def generate(app: Flask, target: Urls, specs: list[DistrictSpec], seed: int) -> dict[str, int]:
    """Create and fill each district not yet present; returns slug -> tenant id for all."""
    ids: dict[str, int] = {}
    writer = Writer(target)
    try:
        for spec in specs:
            tenant_id, created = _tenant(app, spec)
            ids[spec.slug] = tenant_id
            if created:
                with app.app_context():
                    context = _context(tenant_id)
                District(writer, spec, tenant_id, context, seed).fill()
                writer.commit()
        writer.finish()
    finally:
        writer.close()
    return ids


def _tenant(app: Flask, spec: DistrictSpec) -> tuple[int, bool]:
    """The district's tenant id, creating it through the app the first time."""
    from app.core import uow
    from app.extensions import db
    from app.models.tenant import Tenant
    from app.services.provisioning import create_tenant
    from app.tenants.context import all_tenants

    with app.app_context(), all_tenants():
        found = db.session.execute(select(Tenant.id).where(Tenant.slug == spec.slug)).scalar()
        if found is not None:
            return found, False
        name = f"{spec.slug.replace('-', ' ').title()} Public Schools"
        tenant = create_tenant(spec.slug, name, preset=spec.preset)
        uow.commit()
        return tenant.id, True


@dataclass(frozen=True)
class _Context:
    version_id: int
    config: object
    password_hash: str


def _context(tenant_id: int) -> _Context:
    from app.security.passwords import hash_password
    from app.services import workflow_config as configs
    from app.tenants.context import tenant_scope

    with tenant_scope(tenant_id):
        version = configs.latest_published()
        return _Context(version.id, configs.config_of(version), hash_password(PASSWORD))


def mark_relay_rows_done(target: Urls) -> None:
    """Provisioning queues a Stripe customer per district; with no Stripe here those rows
    would sit pending and skew the relay benchmark, so they are closed as done."""
    with owner_connection(target) as conn:
        conn.execute(
            "UPDATE outbox_messages SET status = 'done' WHERE status IN ('pending', 'failed')"
        )
