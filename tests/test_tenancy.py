"""The tenant layer: resolution, automatic scoping, the write guard, and PostgreSQL RLS."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models.base import tenant_scoped_tables
from app.models.tenant import Tenant
from app.models.user import User
from app.services import network, reports
from app.tenants.context import all_tenants, tenant_scope
from app.tenants.rls import app_role_name
from app.tenants.scoping import CrossTenantWrite, ScopedStatementAcrossTenants, scoped


@pytest.fixture
def pair(make_tenant, make_user):
    a, b = make_tenant("alpha"), make_tenant("bravo")
    return a, b, make_user(a, "teacher"), make_user(b, "teacher")


def test_unknown_district_gets_a_friendly_404(client):
    response = client.get("/t/atlantis/login")
    assert response.status_code == 404
    assert "No district here" in response.text


def test_suspended_district_is_closed(app, client, make_tenant):
    tenant = make_tenant("closing")
    with app.app_context():
        db.session.get(Tenant, tenant.id).status = "suspended"
        db.session.commit()
    assert client.get("/t/closing/login").status_code == 404


def test_orm_queries_see_only_the_current_tenant(app, pair):
    a, _b, user_a, _user_b = pair
    with app.app_context():
        with tenant_scope(a.id):
            emails = db.session.execute(select(User.email)).scalars().all()
            joined = db.session.execute(
                select(func.count()).select_from(User).join(Tenant, Tenant.id == User.tenant_id)
            ).scalar()
        assert emails == [user_a.email]
        assert joined == 1
        with all_tenants():
            assert db.session.execute(select(func.count(User.id))).scalar() == 2


def test_one_statement_run_in_turn_under_two_scopes_asks_for_each_district(app, pair):
    """The scope's criteria is one option whose district is read as each statement runs:
    the same statement, compiled once, asks for the district in scope each time (seen in
    the parameters sent, so row-level security cannot be what answers)."""
    a, b, user_a, user_b = pair
    statement = select(User.email).order_by(User.id)
    sent: list[dict] = []
    with app.app_context():
        engine = db.engine

        def note(conn, cursor, sql, parameters, context, executemany):
            if "FROM users" in sql:
                sent.append(parameters)

        event.listen(engine, "before_cursor_execute", note)
        try:
            read = []
            for tenant in (a, b, a):
                with tenant_scope(tenant.id):
                    read.append(db.session.execute(statement).scalars().all())
            db.session.rollback()
            read.append(db.session.execute(statement).scalars().all())
        finally:
            event.remove(engine, "before_cursor_execute", note)
    assert read == [[user_a.email], [user_b.email], [user_a.email], []]
    asked = [p["parley_scope_tenant_id"] for p in sent]
    assert asked == [a.id, b.id, a.id, -1]


def test_a_statement_built_scoped_reads_its_district_and_is_refused_across_districts(app, pair):
    """A statement built once with the scope on it (``scoped``) asks for the district in
    scope as it runs, and refuses to run across districts rather than find nothing."""
    a, b, user_a, user_b = pair
    statement = scoped(select(User.email))
    with app.app_context():
        for tenant, user in ((a, user_a), (b, user_b)):
            with tenant_scope(tenant.id):
                assert db.session.execute(statement).scalars().all() == [user.email]
        with all_tenants(), pytest.raises(ScopedStatementAcrossTenants):
            db.session.execute(statement)


def test_with_no_tenant_in_scope_scoped_queries_find_nothing(app, pair):
    with app.app_context():
        assert db.session.execute(select(User)).scalars().all() == []


def test_writing_another_tenants_row_raises(app, pair):
    a, b, _, _user_b = pair
    with app.app_context(), tenant_scope(a.id):
        db.session.add(User(tenant_id=b.id, email="x@bravo.example.org", name="X"))
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()


def test_new_rows_take_the_current_tenant(app, pair):
    a, *_ = pair
    with app.app_context(), tenant_scope(a.id):
        user = User(email="new@alpha.example.org", name="New")
        db.session.add(user)
        db.session.flush()
        assert user.tenant_id == a.id
        db.session.rollback()


def test_rls_hides_other_tenants_rows_from_raw_sql(app, pair):
    """The second wall: SQL that bypasses the ORM filter still sees one tenant only."""
    a, _b, user_a, _user_b = pair
    with app.app_context(), tenant_scope(a.id):
        rows = db.session.execute(text("SELECT email FROM users")).scalars().all()
        assert rows == [user_a.email]
        db.session.rollback()


def test_rls_refuses_a_raw_write_of_another_tenants_row(app, pair):
    a, b, *_ = pair
    with app.app_context(), tenant_scope(a.id):
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(
                text(
                    "INSERT INTO users (tenant_id, email, name, active, session_version, "
                    "created_at) VALUES (:t, 'intruder@bravo.example.org', 'I', true, 1, now())"
                ),
                {"t": b.id},
            )
        db.session.rollback()


def test_rls_raw_update_cannot_touch_another_tenants_rows(app, pair):
    a, b, _, _user_b = pair
    with app.app_context():
        with tenant_scope(a.id):
            result = db.session.execute(text("UPDATE users SET name = 'hacked'"))
            db.session.commit()
            assert result.rowcount == 1
        with tenant_scope(b.id):
            name = db.session.execute(text("SELECT name FROM users")).scalar_one()
        assert name != "hacked"


def test_rls_with_no_tenant_set_matches_nothing(app, pair):
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_every_tenant_table_is_behind_forced_rls(app, owner_engine):
    with app.app_context():
        expected = tenant_scoped_tables(db.metadata)
    with owner_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relrowsecurity AND relforcerowsecurity"
            )
        ).scalars()
        protected = set(rows)
    assert expected and set(expected) <= protected, set(expected) - protected


def test_the_app_connects_as_a_role_that_cannot_bypass_rls(app):
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
        ).one()
    assert row == (app_role_name(), False, False)


def test_a_pooled_connection_never_carries_a_tenant_over(migrated, pair):
    """After commit, the same pooled connection must hold no tenant setting at all."""
    from tests.conftest import make_app

    a, *_ = pair
    single = make_app(migrated, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    with single.app_context():
        with tenant_scope(a.id):
            assert db.session.execute(text("SELECT count(*) FROM users")).scalar() == 1
            db.session.commit()
        db.session.close()
        with db.engine.connect() as raw:  # no ORM session: nothing sets the scope again
            setting = raw.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()
        db.engine.dispose()
    assert setting in ("", None)


def test_session_get_does_not_hand_out_another_tenants_cached_row(app, pair):
    a, b, _, user_b = pair
    with app.app_context():
        with tenant_scope(b.id):
            cached = db.session.get(User, user_b.id)
            assert cached is not None
        with tenant_scope(a.id):
            assert db.session.get(User, user_b.id) is None
        db.session.rollback()


def test_a_failed_scope_switch_leaves_no_scope_behind(app):
    from app.tenants.context import current_scope

    with app.app_context():
        with pytest.raises(DBAPIError):
            db.session.execute(text("SELECT 1/0"))
        # Re-sending the scope on the failed transaction fails: the scope is undone.
        with pytest.raises(DBAPIError), tenant_scope(1):
            pass
        assert current_scope().tenant_id is None
        db.session.rollback()


def test_re_entering_the_same_scope_sends_nothing(app, make_tenant):
    """A service that re-enters its caller's scope (the audit trail does, on every change)
    costs no statement; a different scope is sent."""
    from sqlalchemy import event

    tenant = make_tenant("alpha")
    sent: list[str] = []

    def note(conn, cursor, statement, params, context, executemany):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", note)
        try:
            with tenant_scope(tenant.id):
                db.session.execute(text("SELECT 1"))
                before = len(sent)
                with tenant_scope(tenant.id):
                    pass
                same = len(sent) - before
                with tenant_scope(tenant.id + 1000):
                    pass
                other = len(sent) - before
            db.session.rollback()
        finally:
            event.remove(engine, "before_cursor_execute", note)
    assert same == 0
    assert other == 2  # there and back


@pytest.mark.parametrize(
    "built",
    [
        lambda: reports._version_query(comments=True),
        lambda: reports._version_query(comments=False),
        reports._records_query,
        reports._groups_query,
        network._cases_with_decisions,
        network.portable_cases_with_decisions,
        network._member_and_year,
    ],
    ids=[
        "report version",
        "release version",
        "records",
        "groups",
        "decisions",
        "portable",
        "member",
    ],
)
def test_the_reports_statements_are_built_once_with_the_scope(app, pair, built):
    """The annual report reads every year of its trend with the same few statements, and
    a network release every district's; built once with the scope on them, they keep their
    cache keys (computing a big statement's key again was a third of its time in Python),
    and never run across districts."""
    statement = built()
    assert statement is built()
    with app.app_context(), all_tenants(), pytest.raises(ScopedStatementAcrossTenants):
        db.session.execute(statement, {"year": "2025-2026", "start": None, "end": None})
