"""Test fixtures: a real PostgreSQL database and Redis per xdist worker.

The schema is built by the migrations (never ``create_all``), as the owner;
the app connects as the migrations' NOSUPERUSER NOBYPASSRLS role, so row-level
security is live in every test. Each test starts from empty tables.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import tempfile
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.tenants.rls import app_role_name, platform_role_name
from tests.fuzzing import EXPLORE

# Every property test in the suite replays fixed examples with no time limit: a landing is
# never refused for an input nobody's change brought in, nor for a slow machine. ``make fuzz``
# explores fresh inputs instead.
hypothesis_settings.register_profile("suite", derandomize=True, deadline=None, database=None)
hypothesis_settings.register_profile("explore", deadline=None)
hypothesis_settings.load_profile("explore" if EXPLORE else "suite")

pytest_plugins = [
    "tests.factories",
    "tests.mailserver",
    "tests.seeded",
    "tests.casework",
    "tests.panelwork",
    "tests.stripe_server",
    "tests.oidc_provider",
]

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
#: Evidence files written by tests go to a folder of this process, never the repository.
_UPLOADS = tempfile.mkdtemp(prefix="parley-uploads-")


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(re.sub(r"\D", "", worker) or 0)


def _admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if "+" not in url else url


@pytest.fixture(scope="session")
def database_urls() -> Iterator[dict[str, str]]:
    """Create this worker's database and return the owner's and the app's URLs."""
    admin = make_url(_admin_url())
    # One database per test process, so parallel workers (and parallel runs) never meet.
    name = f"parley_test_{_worker_index()}_{os.getpid()}"
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # A test database need not outlive a crash of the server: commits do not wait
            # for the disk (every test commits many times).
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        engine.dispose()
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is required at {admin.render_as_string()} "
            f"(set TEST_DATABASE_URL, or start it: pg_ctlcluster ... main start): {exc}",
            pytrace=False,
        )
    owner = admin.set(database=name)
    app_user = owner.set(username=app_role_name(), password=None)
    platform_user = owner.set(username=platform_role_name(), password=None)
    yield {
        "owner": owner.render_as_string(hide_password=False),
        "app": app_user.render_as_string(hide_password=False),
        "platform": platform_user.render_as_string(hide_password=False),
    }
    for engine in _ENGINES.values():
        engine.dispose()
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """This worker's own Redis database, so parallel workers never share queues.

    ``TEST_REDIS_FIRST_DB`` moves the range, so two runs at once on one Redis keep apart too.
    """
    base = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    first = int(os.environ.get("TEST_REDIS_FIRST_DB", "1"))
    url = re.sub(r"/\d*$", "", base) + f"/{first + _worker_index()}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        pytest.fail(
            f"Redis is required at {url} (set REDIS_URL, or start redis-server): {exc}",
            pytrace=False,
        )
    return url


#: Every app this process built, so each test can start with no abuse-limit counts.
_APPS: list[Flask] = []


def make_app(database_urls: dict[str, str], **overrides) -> Flask:
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_urls["app"],
        "MIGRATION_DATABASE_URL": database_urls["owner"],
        "PLATFORM_DATABASE_URL": database_urls["platform"],
        "REDIS_URL": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "UPLOAD_ROOT": _UPLOADS,
    }
    settings.update(overrides)
    app = create_app("testing", settings)
    _APPS.append(app)
    return app


@pytest.fixture(autouse=True)
def _own_stop_signals() -> Iterator[None]:
    """SIGTERM and SIGINT keep pytest's own handlers after a test that ran an RQ worker in
    this process: RQ installs its own and never puts them back, so a later signal would stop
    the test worker as if it were RQ's, leaving the tests it had not run unreported."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in handlers.items():
        if signal.getsignal(sig) is not handler:
            signal.signal(sig, handler)


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """Each test starts with no counted requests (many tests sign in from the same address)."""
    yield
    from app.security import limits

    for app in _APPS:
        with app.app_context():  # one context for both (each costs a little, times every app)
            # An app a test pointed at a Redis that is down on purpose has counted nothing.
            with contextlib.suppress(redis.exceptions.ConnectionError):
                limits.reset()
            # Every app keeps a pool of idle connections; closed after each test, so the apps
            # a worker builds over a run never hold PostgreSQL's connection slots between tests.
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture(scope="session")
def migrated(database_urls) -> dict[str, str]:
    """Run every migration once per worker, as the owner."""
    from flask_migrate import upgrade

    app = make_app(database_urls)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_urls


@pytest.fixture(scope="session")
def app(migrated) -> Flask:
    return make_app(migrated)


@pytest.fixture
def ctx(app) -> Iterator[None]:
    """An app context for factories and services called directly from a test."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _empty_tables(request) -> Iterator[None]:
    """Start each database test from empty tables and sequences, as the owner.

    ``DELETE`` with the owner's triggers and keys off (``session_replication_role``), not
    ``TRUNCATE``: a test leaves a few rows, and truncating fifty tables makes fresh files for
    each and their indexes, about 100 ms a test against 15 ms. An owner that is not a
    superuser may not switch the triggers off, and truncates instead.
    """
    yield
    if "migrated" not in request.fixturenames:
        return
    urls = request.getfixturevalue("migrated")
    engine = _owner_engine(urls["owner"])
    with engine.begin() as conn:
        conn.execute(text(_emptying(conn, urls["owner"])))


_EMPTYING: dict[str, str] = {}


def _emptying(conn, url: str) -> str:
    """The statements that empty this database's tables (read once per database)."""
    if url not in _EMPTYING:
        tables = (
            conn.execute(
                text(
                    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version' ORDER BY tablename"
                )
            )
            .scalars()
            .all()
        )
        superuser = conn.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
        if superuser:
            _EMPTYING[url] = (
                "SET LOCAL session_replication_role = replica; "
                + "".join(f"DELETE FROM {table}; " for table in tables)
                + "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
            )
        else:
            _EMPTYING[url] = f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"
    return _EMPTYING[url]


_ENGINES: dict[str, object] = {}


def _owner_engine(url: str):
    if url not in _ENGINES:
        _ENGINES[url] = create_engine(url)
    return _ENGINES[url]


@pytest.fixture
def owner_engine(migrated):
    """A connection as the schema owner, for tests that inspect the database itself."""
    return _owner_engine(migrated["owner"])
