"""Pooled connections are checked before they are lent: a live one costs no round trip,
one the server closed is replaced, one idle for long is pinged (``app.core.pooled``).

What the server saw is read from ``pg_stat_activity`` (the backend's pid and the moment
its state last changed, which every statement moves), not from the checking code.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.core import pooled
from app.extensions import db
from tests.conftest import make_app


@pytest.fixture
def engine(migrated):
    app = make_app(migrated, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    with app.app_context():
        yield db.engine
        db.engine.dispose()


def _backend(engine) -> int:
    """Use a connection once and return it to the pool; the pid of its server process."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        conn.commit()
    return pid


def _last_change(owner_engine, pid: int):
    with owner_engine.connect() as owner:
        return owner.execute(
            text("SELECT state_change FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar_one()


def _checkout(engine) -> int:
    """Check a connection out and in again, sending nothing on it; its pid."""
    with engine.connect() as conn:
        return conn.connection.dbapi_connection.info.backend_pid


def test_a_live_connection_is_lent_without_a_round_trip(engine, owner_engine):
    pid = _backend(engine)
    before = _last_change(owner_engine, pid)
    assert _checkout(engine) == pid
    assert _last_change(owner_engine, pid) == before


def test_a_connection_idle_past_the_limit_is_pinged(engine, owner_engine, monkeypatch):
    pid = _backend(engine)
    before = _last_change(owner_engine, pid)
    monkeypatch.setattr(pooled, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _checkout(engine) == pid
    assert _last_change(owner_engine, pid) > before


def test_a_connection_the_server_closed_is_replaced_before_it_is_lent(engine, owner_engine):
    pid = _backend(engine)
    with owner_engine.connect() as owner:
        assert owner.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()
    with engine.connect() as conn:
        fresh = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert fresh != pid
