"""A request that only reads runs in a read-only transaction that commits, so the
connection keeps what psycopg prepared; the scope goes out in one statement."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import InternalError

from app.extensions import db
from app.models.tenant import Tenant
from app.models.user import User
from app.tenants import resolution
from app.tenants.context import tenant_scope
from tests.casework import Browser
from tests.conftest import make_app


def test_a_get_transaction_is_read_only_and_a_post_one_is_not(app, district):
    boston = district("boston", "boston_esp")
    with app.test_request_context("/t/boston/cases/", method="GET"):
        with tenant_scope(boston.tenant.id):
            assert db.session.execute(text("SHOW transaction_read_only")).scalar() == "on"
            user = db.session.get(User, boston.people["ct"].id)
            user.name = "Written on a GET"
            with pytest.raises(InternalError, match="read-only transaction"):
                db.session.flush()
        db.session.rollback()
    with app.test_request_context("/t/boston/cases/", method="POST"):
        with tenant_scope(boston.tenant.id):
            assert db.session.execute(text("SHOW transaction_read_only")).scalar() == "off"
        db.session.rollback()


def test_a_page_sets_its_scope_once_and_commits(app, district):
    boston = district("boston", "boston_esp")
    reader = Browser(app, boston, boston.people["coordinator"])
    assert reader.get("/cases/").status_code == 200
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def note(conn, cursor, statement, params, context, executemany):
        sent.append(statement)

    ends: list[str] = []
    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", lambda conn: ends.append("commit"))
    event.listen(engine, "rollback", lambda conn: ends.append("rollback"))
    try:
        assert reader.get("/cases/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    scopes = [s for s in sent if "set_config" in s]
    assert len(scopes) == 1, scopes
    assert "transaction_read_only" in scopes[0]
    # The district's lookup carries the scope: no statement of its own for it.
    assert scopes[0] is sent[0] and "FROM tenants" in scopes[0], sent[:2]
    assert ends and ends[0] == "commit", ends


def test_a_closed_districts_lookup_sets_no_scope(app, make_tenant):
    """The lookup that carries the scope sets a district's id only when the district is
    open: the 404 of a suspended one runs with the scope as empty as before."""
    tenant = make_tenant("closing")
    with app.app_context():
        db.session.get(Tenant, tenant.id).status = "suspended"
        db.session.commit()
    setting = text("SELECT current_setting('app.tenant_id', true)")
    with app.test_request_context("/t/closing/login"):
        found, sent = resolution._lookup("closing")
        assert found is not None and found.id == tenant.id and sent
        assert db.session.execute(setting).scalar() == ""
        db.session.rollback()
    with app.app_context():
        db.session.get(Tenant, tenant.id).status = "active"
        db.session.commit()
    with app.test_request_context("/t/closing/login"):
        found, sent = resolution._lookup("closing")
        assert db.session.execute(setting).scalar() == str(tenant.id)
        db.session.rollback()


def test_a_pages_statements_are_prepared_on_its_connection(migrated, district):
    """One pooled connection, the same page ten times: its statements are prepared
    server-side (``pg_prepared_statements``); a GET that rolled back would lose them."""
    app = make_app(
        migrated,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0},
    )
    boston = district("boston", "boston_esp")
    reader = Browser(app, boston, boston.people["coordinator"])
    for _ in range(10):
        assert reader.get("/cases/").status_code == 200
    with app.app_context():
        with db.engine.connect() as conn:
            prepared = (
                conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
            )
        db.engine.dispose()
    assert any("FROM cases" in statement for statement in prepared), prepared
    assert any("set_config" in statement for statement in prepared), prepared
