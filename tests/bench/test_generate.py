"""The benchmark generator at tiny scale: consistent rows, the same rows for the same seed.

The generator loads with COPY as the owner, past the ORM and (as a superuser) past the
per-row foreign-key triggers, so these tests check what those would have: every row
points at rows of its own district, and the app still works on top of the load.
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.services import users
from app.tenants.context import tenant_scope
from bench.db import Urls
from bench.generate import DistrictSpec, Scale, generate, network_specs

TINY = Scale(districts=2, cases_per_district=20, years=2)

#: (child table, column, parent table): references that must stay inside one district.
SAME_DISTRICT = [
    ("cases", "teacher_id", "users"),
    ("cases", "ct_id", "users"),
    ("cases", "principal_id", "users"),
    ("cases", "workflow_version_id", "workflow_versions"),
    ("visits", "case_id", "cases"),
    ("visits", "author_id", "users"),
    ("evidence", "case_id", "cases"),
    ("goals", "case_id", "cases"),
    ("assignments", "case_id", "cases"),
    ("case_deadlines", "case_id", "cases"),
    ("recommendations", "case_id", "cases"),
    ("agenda_items", "case_id", "cases"),
    ("agenda_items", "session_id", "panel_sessions"),
    ("ballots", "item_id", "agenda_items"),
    ("ballots", "member_id", "panel_members"),
    ("panel_attendance", "session_id", "panel_sessions"),
    ("final_decisions", "item_id", "agenda_items"),
    ("survey_responses", "round_id", "survey_rounds"),
    ("role_grants", "user_id", "users"),
    ("consulting_teachers", "user_id", "users"),
]
#: What "the same data" means: every generated table, without the password hashes
#: (Argon2 salts them at random by design).
DIGESTED = {
    "users": "email, name, school, active",
    "cases": "*",
    "visits": "*",
    "evidence": "*",
    "goals": "*",
    "agenda_items": "*",
    "ballots": "*",
    "survey_responses": "*",
    "network_memberships": "*",
}


def _target(migrated) -> Urls:
    return Urls(owner=migrated["owner"], app=migrated["app"])


def _digest(owner_engine) -> str:
    digest = hashlib.sha256()
    with owner_engine.connect() as conn:
        for table, columns in DIGESTED.items():
            order = "id" if table != "survey_responses" else "round_id, id"
            for row in conn.execute(text(f"SELECT {columns} FROM {table} ORDER BY {order}")):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _truncate(owner_engine) -> None:
    with owner_engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


def test_every_reference_stays_inside_its_district(app, migrated, owner_engine):
    ids = generate(app, _target(migrated), network_specs(TINY), seed=1)
    assert sorted(ids) == ["district-001", "district-002"]
    with owner_engine.connect() as conn:
        for child, column, parent in SAME_DISTRICT:
            broken = conn.execute(
                text(
                    f"SELECT count(*) FROM {child} c LEFT JOIN {parent} p ON p.id = c.{column} "
                    f"WHERE c.{column} IS NOT NULL "
                    f"AND (p.id IS NULL OR p.tenant_id <> c.tenant_id)"
                )
            ).scalar_one()
            assert broken == 0, f"{child}.{column}: {broken} rows point outside their district"
        per_district = dict(
            conn.execute(text("SELECT tenant_id, count(*) FROM cases GROUP BY tenant_id")).all()
        )
        assert per_district == {ids["district-001"]: 20, ids["district-002"]: 20}


def test_cases_carry_a_plausible_record(app, migrated, owner_engine):
    generate(app, _target(migrated), network_specs(TINY), seed=1)
    with owner_engine.connect() as conn:
        # Support started means a CT, 10-40 logged visits within the support, and evidence.
        rows = conn.execute(
            text(
                "SELECT c.id, c.ct_id, c.started_on, c.ended_on, "
                "count(v.id) FILTER (WHERE NOT v.planned), "
                "min(v.visited_on) FILTER (WHERE NOT v.planned), "
                "max(v.visited_on) FILTER (WHERE NOT v.planned), "
                "(SELECT count(*) FROM evidence e WHERE e.case_id = c.id) "
                "FROM cases c LEFT JOIN visits v ON v.case_id = c.id "
                "WHERE c.started_on IS NOT NULL GROUP BY c.tenant_id, c.id"
            )
        ).all()
        assert rows
        for case_id, ct_id, started, ended, logged, first, last, evidence in rows:
            assert ct_id is not None, case_id
            assert 10 <= logged <= 40, (case_id, logged)
            assert first >= started and (ended is None or last <= ended), case_id
            assert evidence >= 1, case_id
        # A closed case has an outcome whose group the configuration names.
        closed = conn.execute(
            text(
                "SELECT count(*) FROM cases WHERE state = 'closed' "
                "AND (outcome IS NULL OR report_group IS NULL OR ended_on IS NULL)"
            )
        ).scalar_one()
        assert closed == 0
        # A decided agenda item has one ballot per seat.
        uneven = conn.execute(
            text(
                "SELECT count(*) FROM agenda_items i WHERE i.status = 'closed' AND "
                "(SELECT count(*) FROM ballots b WHERE b.item_id = i.id) <> "
                "(SELECT count(*) FROM panel_members m WHERE m.tenant_id = i.tenant_id)"
            )
        ).scalar_one()
        assert uneven == 0


def test_the_app_works_on_top_of_the_load(app, migrated):
    ids = generate(app, _target(migrated), network_specs(TINY), seed=1)
    first, second = ids["district-001"], ids["district-002"]
    with app.app_context():
        # Row-level security shows each district its own cases only, as the app's role.
        with tenant_scope(first):
            seen = db.session.execute(select(Case.tenant_id).distinct()).scalars().all()
        assert seen == [first]
        # The sequences were moved past the loaded ids: the app's own inserts still work.
        with tenant_scope(second):
            person = users.create_user(
                second,
                email="new.person@example.org",
                name="New",
                roles=["teacher"],
                password="a long enough password",
                send_welcome=False,
            )
            uow.commit()
            assert person.id > 0


def test_the_same_seed_gives_the_same_rows(app, migrated, owner_engine):
    target = _target(migrated)
    specs = [*network_specs(TINY), DistrictSpec("rows-10", "boston_esp", 10, 1, "rows")]
    generate(app, target, specs, seed=7)
    once = _digest(owner_engine)
    _truncate(owner_engine)
    generate(app, target, specs, seed=7)
    assert _digest(owner_engine) == once
    _truncate(owner_engine)
    generate(app, target, specs, seed=8)
    assert _digest(owner_engine) != once


@pytest.mark.parametrize("rows", [10, 40])
def test_the_rows_shape_puts_n_rows_on_one_case(app, migrated, owner_engine, rows):
    generate(app, _target(migrated), [DistrictSpec("rows", "toledo", rows, 1, "rows")], seed=1)
    with owner_engine.connect() as conn:
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM visits WHERE case_id = c.id), "
                "(SELECT count(*) FROM evidence WHERE case_id = c.id), "
                "(SELECT count(*) FROM goals WHERE case_id = c.id) "
                "FROM cases c JOIN users t ON t.id = c.teacher_id "
                "WHERE t.email = 'teacher1@rows.example.org'"
            )
        ).one()
        assert tuple(counts) == (rows, rows, rows)
        assert conn.execute(text("SELECT count(DISTINCT ct_id) FROM cases")).scalar_one() == 1
