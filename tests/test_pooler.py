"""Through PgBouncer in transaction mode: the district scope, set per transaction, never
crosses to another district's transaction on the same server connection, and statements
are not prepared (PgBouncer 1.18 cannot follow them from one server connection to another).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.tenants.rls import app_role_name, platform_role_name
from tests.casework import Browser
from tests.conftest import make_app
from tests.pooler import Pooler


@pytest.fixture(scope="module")
def pooler(migrated) -> Iterator[Pooler]:
    upstream = make_url(migrated["owner"])
    started = Pooler(upstream.port or 5432, [app_role_name(), platform_role_name(), "postgres"])
    try:
        yield started
    finally:
        started.close()


def _through(pooler: Pooler, urls: dict[str, str], user: str) -> str:
    return pooler.url(make_url(urls["owner"]).database, user)


def _dsn(pooler: Pooler, urls: dict[str, str]) -> str:
    url = make_url(_through(pooler, urls, app_role_name())).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pooled_app(migrated, pooler):
    """The app connecting through the pooler, as its role and as the platform's."""
    return make_app(
        migrated,
        SQLALCHEMY_DATABASE_URI=_through(pooler, migrated, app_role_name()),
        PLATFORM_DATABASE_URL=_through(pooler, migrated, platform_role_name()),
        DATABASE_TRANSACTION_POOLER=True,
    )


@pytest.fixture
def two_districts(district, make_user, make_case):
    """alpha and beta, each with three cases of teachers of its own."""
    made = {}
    for slug in ("alpha", "beta"):
        d = district(slug, "boston_esp")
        teachers = [make_user(d.tenant, email=f"{slug}teacher{n}@{slug}.org") for n in range(3)]
        made[slug] = (d, [make_case(d.tenant, t, "pa").id for t in teachers])
    return made


def test_two_districts_interleaved_over_one_server_connection_never_see_each_other(
    pooled_app, pooler, two_districts
):
    browsers = {
        slug: Browser(pooled_app, d, d.people["coordinator"])
        for slug, (d, _) in two_districts.items()
    }
    failures: list[str] = []

    def read(slug: str, other: str) -> None:
        for _ in range(10):
            for case_id in two_districts[slug][1]:
                if browsers[slug].get(f"/cases/{case_id}").status_code != 200:
                    failures.append(f"{slug} could not read its case {case_id}")
            for case_id in two_districts[other][1]:
                if browsers[slug].get(f"/cases/{case_id}").status_code != 404:
                    failures.append(f"{slug} read {other}'s case {case_id}")
            listing = browsers[slug].get("/cases/").text
            if f"Person {other}teacher" in listing or f"Person {slug}teacher0" not in listing:
                failures.append(f"{slug}'s case list is not its own")

    threads = [
        threading.Thread(target=read, args=("alpha", "beta")),
        threading.Thread(target=read, args=("beta", "alpha")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    # Every transaction of the app's role went over the one server connection of its pool.
    app_servers = [s for s in pooler.servers() if s["user"] == app_role_name()]
    assert len(app_servers) == 1, app_servers


def test_a_district_set_for_a_whole_session_reaches_no_later_transaction(
    pooler, migrated, two_districts
):
    """A client that sets the district for its session (the app never does) leaves nothing
    on the server connection: the next transaction sees what it sets itself, or nothing."""
    alpha, beta = two_districts["alpha"][0], two_districts["beta"][0]
    dsn = _dsn(pooler, migrated)
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as careless:
        careless.execute(f"SET app.tenant_id = '{alpha.tenant.id}'")
    with psycopg.connect(dsn, prepare_threshold=None) as other:
        assert other.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
        other.rollback()
        with other.transaction():
            other.execute("SELECT set_config('app.tenant_id', %s, true)", (str(beta.tenant.id),))
            assert other.execute("SELECT count(*) FROM cases").fetchone()[0] == 3
        assert other.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_statements_are_not_prepared_through_the_pooler(pooled_app, pooler, migrated):
    """Two clients' prepared statements would meet on the one server connection (psycopg
    names them alike) or vanish with it: with the pooler setting none is prepared."""
    options = pooled_app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["prepare_threshold"] is None
    assert "options" not in options["connect_args"]
    engine = create_engine(_through(pooler, migrated, app_role_name()), **options)
    first, second = engine.connect(), engine.connect()
    try:
        for _ in range(10):
            for conn in (first, second):
                assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
                conn.commit()
    finally:
        first.close()
        second.close()
        engine.dispose()

    # Without it psycopg prepares a statement after a few runs, and on the shared server
    # connection the other client finds the name taken, or the statement gone.
    dsn = _dsn(pooler, migrated)
    refused = (psycopg.errors.DuplicatePreparedStatement, psycopg.errors.InvalidSqlStatementName)
    with (
        pytest.raises(refused),
        psycopg.connect(dsn, autocommit=True) as one,
        psycopg.connect(dsn, autocommit=True) as two,
    ):
        for _ in range(10):
            one.execute("SELECT count(*) FROM cases")
            two.execute("SELECT count(*) FROM cases")
