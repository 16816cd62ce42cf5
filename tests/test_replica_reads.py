"""Reports read from a real streaming replica; writes never go there; a replica that trails
says so on the page, and one that is down sends the reads back to the primary.

The module's app runs on a primary and replica of its own (``tests.replication``), made
and migrated once per worker that runs these tests.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from app.tenants import replica as replicas
from app.tenants.rls import app_role_name, platform_role_name
from tests.casework import Api, Browser
from tests.conftest import make_app
from tests.replication import Pair
from tests.test_annual_report import HISTORY
from tests.test_imports import HEADER, _post

DATABASE = "parley"
#: The module's database is not emptied between its tests: each makes its own district.
_serial = itertools.count(1)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    made = Pair()
    try:
        made.primary.execute(f"CREATE DATABASE {DATABASE}")
        yield made
    finally:
        made.close()


def _urls(pair: Pair, server) -> dict[str, str]:
    return {
        "owner": server.url(DATABASE),
        "app": server.url(DATABASE, app_role_name()),
        "platform": server.url(DATABASE, platform_role_name()),
    }


@pytest.fixture(scope="module")
def app(pair):
    """The app on the pair's primary, reading reports from its replica."""
    from flask_migrate import upgrade

    primary, replica = _urls(pair, pair.primary), _urls(pair, pair.replica)
    built = make_app(
        primary,
        REPLICA_DATABASE_URL=replica["app"],
        PLATFORM_REPLICA_DATABASE_URL=replica["platform"],
        REPLICA_LAG_NOTICE_SECONDS=1,
    )
    with built.app_context():
        upgrade()
        for engine in db.engines.values():
            engine.dispose()
    return built


@contextmanager
def statements(app, bind: str | None) -> Iterator[list[str]]:
    """Every statement the engine of ``bind`` (None: the primary's app role) runs inside."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engines[bind]

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def district_with_history(app, district, pair):
    pap = district(f"pap{next(_serial)}", "boston_pap_2007")
    assert _post(app, pap, HEADER + HISTORY).status_code == 200
    pair.caught_up()
    return pap


def _reads_cases(sql: str) -> bool:
    """Whether a statement reads the cases table (from it, or joined to years' bounds)."""
    return re.search(r"\b(FROM|JOIN) cases\b", sql) is not None


def test_the_report_reads_from_the_replica_and_a_write_never_goes_there(
    app, pair, district_with_history
):
    pap = district_with_history
    coordinator = Browser(app, pap, pap.people["coordinator"])
    with statements(app, "replica") as on_replica, statements(app, None) as on_primary:
        page = coordinator.get("/reports/annual?year=2009-2010")
    assert page.status_code == 200
    assert "Teachers supported</dt><dd>3" in page.text.replace("\n", "")
    assert any(_reads_cases(sql) for sql in on_replica), on_replica
    assert not any(_reads_cases(sql) for sql in on_primary), on_primary
    assert 'data-testid="replica-lag"' not in page.text

    api = Api(app, pap, pap.people["coordinator"])
    with statements(app, "replica") as on_replica:
        report = api.get("/reports/annual?year=2009-2010")
        chart = coordinator.get("/reports/annual.svg?year=2009-2010&chart=outcomes")
    assert report.json["participants"] == 3 and chart.status_code == 200
    assert sum(_reads_cases(sql) for sql in on_replica) >= 2

    # A write (a sign-in records itself; an import writes cases) never touches the replica.
    with statements(app, "replica") as on_replica:
        Browser(app, pap, pap.people["ct"])
        assert _post(app, pap, HEADER + HISTORY.replace("B-", "C-")).status_code == 200
    assert on_replica == []


def test_reads_after_a_write_stay_on_the_primary(app, district_with_history):
    from app.core import uow
    from app.models.user import User
    from app.tenants.context import tenant_scope

    pap = district_with_history
    with app.app_context(), tenant_scope(pap.tenant.id):
        person = db.session.get(User, pap.people["ct"].id)
        person.name = "Renamed Before The Report"
        db.session.flush()
        with replicas.replica_reads():
            assert not replicas.is_replica(db.session.get_bind())
            assert db.session.get(User, person.id).name == "Renamed Before The Report"
        uow.rollback()
        with replicas.replica_reads():
            db.session.execute(replicas.LAG_SQL)
            assert replicas.is_replica(db.session.get_bind())
        assert not db.session().in_transaction()


def test_a_replica_that_trails_says_how_old_the_figures_are(app, pair, district_with_history):
    pap = district_with_history
    coordinator = Browser(app, pap, pap.people["coordinator"])
    pair.replica.execute("SELECT pg_wal_replay_pause()")
    try:
        # The primary moves on; the replica receives it and does not replay it.
        Browser(app, pap, pap.people["principal"])
        page = coordinator.get("/reports/annual?year=2009-2010")
        deadline = time.monotonic() + 10
        while 'data-testid="replica-lag"' not in page.text and time.monotonic() < deadline:
            time.sleep(0.3)
            page = coordinator.get("/reports/annual?year=2009-2010")
        assert page.status_code == 200
        assert 'data-testid="replica-lag"' in page.text, page.text
        assert "last brought up to date at" in page.text
        assert "lagging" in app.test_client().get("/healthz").json["replica"]
    finally:
        pair.replica.execute("SELECT pg_wal_replay_resume()")
    pair.caught_up()


def test_a_replica_that_is_down_sends_the_reads_to_the_primary(app, pair, district_with_history):
    pap = district_with_history
    coordinator = Browser(app, pap, pap.people["coordinator"])
    pair.replica.stop()
    try:
        with statements(app, None) as on_primary:
            page = coordinator.get("/reports/annual?year=2009-2010")
        assert page.status_code == 200
        assert "Teachers supported</dt><dd>3" in page.text.replace("\n", "")
        assert any(_reads_cases(sql) for sql in on_primary)
        health = app.test_client().get("/healthz")
        assert health.status_code == 200, health.json
        assert health.json["replica"].startswith("down")
        assert "reads go to the primary" in health.json["replica"]
    finally:
        pair.replica.start()
        replicas._down_until.clear()
    pair.caught_up()
    with statements(app, "replica") as on_replica:
        assert coordinator.get("/reports/annual?year=2009-2010").status_code == 200
    assert any(_reads_cases(sql) for sql in on_replica)
