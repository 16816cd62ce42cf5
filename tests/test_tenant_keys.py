"""The third wall: keys. ``tenant_id`` leads every district table's primary key and every
reference between district tables, so PostgreSQL itself refuses a row that points into
another district, and its refusal says no more about another district's id than about an
id that exists nowhere."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.base import TenantScoped
from app.tenants.context import tenant_scope
from tests.conftest import make_app

#: The relay's queue: a platform table whose rows may have no district (see docs/scaling.md).
PLATFORM_TABLES_WITH_A_TENANT_COLUMN = {"outbox_messages"}

#: The revision before the keys (the migration itself is ``b5d6e7f8a9c0``).
BEFORE_KEYS = "a1b2c3d4e5f7"

KEYS_SQL = """
SELECT c.conname, c.contype, t.relname AS owner, r.relname AS referred,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)
         AS columns,
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
         AS referred_columns
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
LEFT JOIN pg_class r ON r.oid = c.confrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
WHERE c.contype IN ('p', 'f', 'u')
"""

UNIQUE_INDEXES_SQL = """
SELECT t.relname AS owner, i.relname AS name,
       ARRAY(SELECT a.attname FROM unnest(x.indkey) k(n)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n) AS columns
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
WHERE x.indisunique
"""


def district_tables() -> set[str]:
    return {
        mapper.class_.__tablename__
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    }


def test_every_district_table_is_keyed_by_tenant_in_the_migrated_database(app, owner_engine):
    with app.app_context():
        tables = district_tables()
    with owner_engine.connect() as conn:
        constraints = conn.execute(text(KEYS_SQL)).mappings().all()
        unique_indexes = conn.execute(text(UNIQUE_INDEXES_SQL)).mappings().all()
        with_tenant_column = set(
            conn.execute(
                text(
                    "SELECT table_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
                )
            ).scalars()
        )
    assert with_tenant_column - PLATFORM_TABLES_WITH_A_TENANT_COLUMN == tables
    assert len(tables) > 40

    keys = {row["owner"]: row["columns"] for row in constraints if row["contype"] == "p"}
    assert {table: keys.get(table) for table in tables} == {
        table: ["tenant_id", "id"] for table in tables
    }

    references = [
        row
        for row in constraints
        if row["contype"] == "f" and row["owner"] in tables and row["referred"] != "tenants"
    ]
    assert len(references) > 50
    wrong = [
        f"{row['conname']}: {row['columns']} -> {row['referred']} {row['referred_columns']}"
        for row in references
        if row["referred"] not in tables
        or len(row["columns"]) != 2
        or row["columns"][0] != "tenant_id"
        or row["referred_columns"] != ["tenant_id", "id"]
    ]
    assert wrong == []

    unique = [
        f"{row['owner']}.{row['name']} {row['columns']}"
        for row in unique_indexes
        if row["owner"] in tables and "tenant_id" not in row["columns"]
    ]
    assert unique == []


@pytest.fixture
def two_cases(district, make_user, make_case):
    """One case in each of two districts."""
    made = {}
    for slug in ("alpha", "beta"):
        d = district(slug, "boston_esp")
        teacher = make_user(d.tenant, email=f"teacher@{slug}.org")
        made[slug] = (d.tenant.id, make_case(d.tenant, teacher, "pa").id)
    return made


def insert_goal(tenant_id: int, case_id: int) -> None:
    """As the web role, inside the district's scope: the path a careless service would take."""
    db.session.execute(
        text(
            "INSERT INTO goals (tenant_id, case_id, text, progress, created_at, updated_at) "
            "VALUES (:tenant, :case, 'Plan lessons', 0, now(), now())"
        ),
        {"tenant": tenant_id, "case": case_id},
    )


def refusal(tenant_id: int, case_id: int) -> str:
    with pytest.raises(IntegrityError) as refused:
        insert_goal(tenant_id, case_id)
    db.session.rollback()
    return str(refused.value.orig)


def test_the_database_refuses_a_reference_into_another_district(app, two_cases):
    (alpha, alpha_case), (_beta, beta_case) = two_cases["alpha"], two_cases["beta"]
    with app.app_context(), tenant_scope(alpha):
        # The control: the same statement with the district's own case is accepted.
        insert_goal(alpha, alpha_case)
        db.session.rollback()

        across = refusal(alpha, beta_case)
        nowhere = refusal(alpha, beta_case + 10_000)
    assert "fk_goals_case_id_cases" in across
    # Another district's real case and a case that exists nowhere read the same.
    assert across.replace(str(beta_case), "N") == nowhere.replace(str(beta_case + 10_000), "N")


def test_a_reference_cannot_be_moved_into_another_district(app, two_cases):
    (alpha, alpha_case), (_beta, beta_case) = two_cases["alpha"], two_cases["beta"]
    with app.app_context(), tenant_scope(alpha):
        insert_goal(alpha, alpha_case)
        with pytest.raises(IntegrityError) as refused:
            db.session.execute(
                text("UPDATE goals SET case_id = :case WHERE tenant_id = :tenant"),
                {"case": beta_case, "tenant": alpha},
            )
        db.session.rollback()
    assert re.search(r"fk_goals_case_id_cases", str(refused.value.orig))


@pytest.fixture
def spare_database(migrated) -> Iterator[dict[str, str]]:
    """A database of its own, so migrating it down and up disturbs no other test."""
    owner = make_url(migrated["owner"])
    name = f"{owner.database}_keys"
    admin = create_engine(owner.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    urls = {
        role: make_url(url).set(database=name).render_as_string(hide_password=False)
        for role, url in migrated.items()
    }
    yield urls
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def table_digests(engine, tables: set[str]) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows, in id order (as the owner)."""
    digest = "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {} t"
    with engine.connect() as conn:
        return {
            table: tuple(conn.execute(text(digest.format(f'"{table}"'))).one())
            for table in sorted(tables)
        }


def test_the_migration_keeps_every_row_down_and_up(spare_database):
    from flask_migrate import downgrade, upgrade

    from app.services.demo import seed_demo

    app = make_app(spare_database)
    owner = create_engine(spare_database["owner"])
    try:
        with app.app_context():
            upgrade()
            seed_demo()
            db.session.commit()
            tables = district_tables()
            seeded = table_digests(owner, tables)
            downgrade(revision=BEFORE_KEYS)
            assert table_digests(owner, tables) == seeded
            upgrade()
            assert table_digests(owner, tables) == seeded
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    finally:
        owner.dispose()
    assert sum(count for count, _ in seeded.values()) > 100
    assert seeded["cases"][0] > 0 and seeded["visits"][0] > 0
