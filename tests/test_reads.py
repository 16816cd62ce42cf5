"""Rows read on the request's connection (``app.tenants.reads``): scoped as every statement,
inside the session's own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models.user import User
from app.tenants import reads
from app.tenants.context import all_tenants, tenant_scope
from app.tenants.scoping import ScopedStatementAcrossTenants, scoped


@pytest.fixture
def pair(make_tenant, make_user):
    a, b = make_tenant("alpha"), make_tenant("bravo")
    return a, b, make_user(a, "teacher"), make_user(b, "teacher")


def _sent_scopes(run) -> list:
    """The district each statement of ``run`` asked for in its own criteria."""
    sent = []

    def note(conn, cursor, sql, parameters, context, executemany):
        if "FROM users" in sql:
            sent.append((parameters or {}).get("parley_scope_tenant_id"))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return sent


def test_a_statement_built_bare_gets_the_districts_criteria(app, pair):
    """Row-level security would hide the other district anyway; the criteria are the first
    wall, and the statement must carry them itself."""
    a, b, user_a, user_b = pair
    statement = select(User.email).order_by(User.id)
    with app.app_context():
        read = []

        def run():
            for tenant in (a, b):
                with tenant_scope(tenant.id):
                    read.append(list(reads.rows(statement)))

        assert _sent_scopes(run) == [a.id, b.id]
        assert [[r.email for r in rows] for rows in read] == [[user_a.email], [user_b.email]]


def test_a_statement_built_scoped_keeps_its_criteria_and_is_refused_across_districts(app, pair):
    a, _b, user_a, _user_b = pair
    statement = scoped(select(User.email).where(User.id == user_a.id))
    with app.app_context():
        with tenant_scope(a.id):
            assert reads.scalar(statement) == user_a.email
            assert reads.first(statement).email == user_a.email
        with all_tenants(), pytest.raises(ScopedStatementAcrossTenants):
            reads.rows(statement)


def test_another_districts_row_is_not_found(app, pair):
    a, _b, _user_a, user_b = pair
    with app.app_context(), tenant_scope(a.id):
        assert reads.first(select(User.email).where(User.id == user_b.id)) is None


def test_rows_are_read_in_the_sessions_transaction_after_its_pending_changes(app, pair):
    """What the request changed and has not flushed yet is flushed first and read back, on
    the same connection: the session's own reads see the same."""
    a, _b, user_a, _user_b = pair
    with app.app_context(), tenant_scope(a.id):
        user = db.session.get(User, user_a.id)
        user.name = "Renamed In This Request"
        statement = select(User.name).where(User.id == user_a.id)
        assert reads.scalar(statement) == "Renamed In This Request"
        db.session.rollback()
        assert reads.scalar(statement) != "Renamed In This Request"
