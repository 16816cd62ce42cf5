"""The benchmark's own PostgreSQL database, built like the test databases.

The migrations run as the owner; the app connects as ``parley_app`` (NOSUPERUSER,
NOBYPASSRLS), so row-level security costs what it costs in production. The
generator loads data as the owner (``COPY`` bypasses nothing it should not: it
writes rows that carry their own ``tenant_id``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import normalise_db_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/parley_bench"
#: Uploads and built exports of the benchmark runs (never the repository's instance folder).
UPLOADS = os.path.join(tempfile.gettempdir(), "parley-bench-uploads")


@dataclass(frozen=True)
class Urls:
    """The owner's URL (migrations, bulk loads) and the app's (everything measured).

    Against ``make cluster`` (``--cluster``) the app and platform roles go through its
    PgBouncer, reads go to its replica (``settings``), and the pages are loaded on its
    running web instances (``web``) instead of a gunicorn the benchmark starts.
    """

    owner: str
    app: str
    platform_url: str | None = None
    #: What the app's processes run with beyond the two URLs (the replica, the pooler).
    settings: tuple[tuple[str, str], ...] = ()
    #: The running web instances to load; empty: the benchmark serves its own.
    web: tuple[str, ...] = ()
    #: ``(pooler, server)`` as ``host:port``: where the pooler forwards to.
    pooled: tuple[str, str] | None = None

    def direct(self, url: str) -> str:
        """``url`` with the pooler's address replaced by the server's (or as it is)."""
        if self.pooled is None:
            return url
        return url.replace(f"@{self.pooled[0]}/", f"@{self.pooled[1]}/", 1)

    @property
    def owner_dsn(self) -> str:
        """The owner's URL as libpq wants it, for raw ``psycopg`` connections (COPY)."""
        return make_url(self.owner).set(drivername="postgresql").render_as_string(False)

    @property
    def app_dsn(self) -> str:
        return make_url(self.app).set(drivername="postgresql").render_as_string(False)

    @property
    def platform(self) -> str:
        """The platform role's URL: work across districts (relay, releases) connects as it."""
        if self.platform_url:
            return self.platform_url
        from app.tenants.rls import platform_role_name

        role = platform_role_name()
        return make_url(self.owner).set(username=role, password=None).render_as_string(False)

    def environment(self) -> dict[str, str]:
        """The database settings of a process the benchmark starts (gunicorn, a worker)."""
        return {
            "DATABASE_URL": self.app,
            "PLATFORM_DATABASE_URL": self.platform,
            **dict(self.settings),
        }


def urls() -> Urls:
    """``BENCH_DATABASE_URL`` (the owner) or the local default, and the app role beside it;
    with ``BENCH_CLUSTER`` set, the database ``make cluster`` serves, reached as it does."""
    from app.tenants.rls import app_role_name

    if os.environ.get("BENCH_CLUSTER"):
        return cluster_urls()
    owner = make_url(normalise_db_url(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL))
    app_user = owner.set(username=app_role_name(), password=None)
    return Urls(owner.render_as_string(False), app_user.render_as_string(False))


def cluster_urls() -> Urls:
    """The cluster's database on the primary (the owner), its roles through PgBouncer."""
    from bench import cluster

    settings = cluster.settings()
    owner = normalise_db_url(cluster.url(cluster.PRIMARY_PORT, "postgres"))
    extra = {
        key: settings[key]
        for key in (
            "REPLICA_DATABASE_URL",
            "PLATFORM_REPLICA_DATABASE_URL",
            "DATABASE_TRANSACTION_POOLER",
        )
    }
    return Urls(
        owner,
        normalise_db_url(settings["DATABASE_URL"]),
        normalise_db_url(settings["PLATFORM_DATABASE_URL"]),
        tuple(sorted(extra.items())),
        tuple(f"http://127.0.0.1:{port}" for port in cluster.WEB_PORTS),
        (f"127.0.0.1:{cluster.POOLER_PORT}", f"127.0.0.1:{cluster.PRIMARY_PORT}"),
    )


def ensure_database(target: Urls, *, fresh: bool = False) -> bool:
    """Create the database (dropping it first when ``fresh``); True when it was created."""
    owner = make_url(target.owner)
    name = owner.database
    engine = create_engine(owner.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return not exists


def bench_app(target: Urls, **overrides) -> Flask:
    """The real app on the benchmark database, as the app role, jobs inline unless told."""
    from app import create_app

    settings = {
        "SQLALCHEMY_DATABASE_URI": target.app,
        "MIGRATION_DATABASE_URL": target.owner,
        "PLATFORM_DATABASE_URL": target.platform,
        **{key: value for key, value in target.settings if key.endswith("_URL")},
        "DATABASE_TRANSACTION_POOLER": bool(
            dict(target.settings).get("DATABASE_TRANSACTION_POOLER")
        ),
        "REDIS_URL": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "UPLOAD_ROOT": UPLOADS,
    }
    settings.update(overrides)
    return create_app("testing", settings)


def migrate(target: Urls) -> None:
    """Bring the schema to the newest migration, as the owner (like ``tests/conftest.py``)."""
    from flask_migrate import upgrade

    from app.extensions import db

    app = bench_app(target)
    with app.app_context():
        upgrade()
        for engine in db.engines.values():
            engine.dispose()


@contextmanager
def owner_connection(target: Urls) -> Iterator[psycopg.Connection]:
    """A raw connection as the owner, committed on success (bulk loads and bookkeeping)."""
    with psycopg.connect(target.owner_dsn) as conn:
        yield conn


def read_marker(target: Urls) -> str | None:
    """What the generator last loaded (seed and scale), or None for an empty database."""
    with owner_connection(target) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_marker (loaded text NOT NULL)")
        row = conn.execute("SELECT loaded FROM bench_marker").fetchone()
    return row[0] if row else None


def write_marker(target: Urls, loaded: str) -> None:
    with owner_connection(target) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_marker (loaded text NOT NULL)")
        conn.execute("DELETE FROM bench_marker")
        conn.execute("INSERT INTO bench_marker (loaded) VALUES (%s)", (loaded,))


def schema_drift(target: Urls) -> list[str]:
    """Model columns the database lacks: a migration edited after it was applied here.

    The benchmark database outlives runs (generating it takes minutes), so a migration
    rewritten in place would otherwise go unnoticed until a page fails.
    """
    from sqlalchemy import inspect

    from app import models  # noqa: F401 - every table on the metadata
    from app.extensions import db

    engine = create_engine(target.owner)
    try:
        inspector = inspect(engine)
        present = set(inspector.get_table_names())
        missing = []
        for table in db.metadata.sorted_tables:
            if table.name not in present:
                missing.append(table.name)
                continue
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            missing += [f"{table.name}.{c.name}" for c in table.c if c.name not in columns]
    finally:
        engine.dispose()
    return missing
