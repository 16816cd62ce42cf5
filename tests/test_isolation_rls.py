"""The second wall on its own: with the ORM's tenant filter switched off, PostgreSQL's
row-level security still returns nothing of another district; jobs run as their tenant."""

from __future__ import annotations

from rq import SimpleWorker
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from app.core import outbox
from app.core.redis import redis_connection
from app.core.uow import commit
from app.extensions import db
from app.jobs import registry
from app.jobs.queues import queue
from app.tenants import scoping
from app.tenants.context import current_tenant_id, tenant_scope
from tests.conftest import make_app
from tests.routes import id_models


def test_with_the_orm_filter_off_rls_alone_hides_every_other_tenants_row(
    app, two_districts, owner_engine
):
    alpha, bravo = two_districts
    models = sorted(set(id_models().values()), key=lambda m: m.__name__)
    event.remove(Session, "do_orm_execute", scoping._scope_statement)
    try:
        with app.app_context(), tenant_scope(alpha.tenant.id):
            seen_of_bravo = {}
            walked = 0
            for model in models:
                tenants = set(db.session.execute(select(model.tenant_id).distinct()).scalars())
                assert tenants <= {alpha.tenant.id}, f"{model.__name__} showed {tenants}"
                seen_of_bravo[model.__name__] = tenants - {alpha.tenant.id}
                walked += 1
            db.session.rollback()
    finally:
        event.listen(Session, "do_orm_execute", scoping._scope_statement)
    # The control: Bravo really has rows in these tables, so the walk proved something.
    with owner_engine.connect() as conn:
        bravo_tables = {
            model.__tablename__
            for model in models
            if conn.execute(
                text(f'SELECT count(*) FROM "{model.__tablename__}" WHERE tenant_id = :t'),
                {"t": bravo.tenant.id},
            ).scalar()
        }
    assert walked == len(models)
    assert {"users", "cases", "visits", "evidence", "audit_events"} <= bravo_tables, bravo_tables


def test_with_the_orm_filter_off_a_lookup_by_id_of_another_tenant_finds_nothing(app, two_districts):
    from app.models.case import Case

    alpha, bravo = two_districts
    with app.app_context(), tenant_scope(bravo.tenant.id):
        bravo_case = db.session.execute(select(Case.id)).scalars().first()
        db.session.rollback()
    event.remove(Session, "do_orm_execute", scoping._scope_statement)
    try:
        with app.app_context(), tenant_scope(alpha.tenant.id):
            found = db.session.execute(select(Case).where(Case.id == bravo_case)).first()
            db.session.rollback()
    finally:
        event.listen(Session, "do_orm_execute", scoping._scope_statement)
    assert bravo_case is not None
    assert found is None


def test_rq_jobs_run_with_their_tenant_set(migrated, redis_url, make_tenant, monkeypatch):
    """A job sees its own tenant in the ORM scope and in the database session's setting."""
    seen: list[tuple[int | None, str, int]] = []

    def probe(payload: dict, message_id: str) -> None:
        setting = db.session.execute(text("SELECT current_setting('app.tenant_id', true)"))
        users = db.session.execute(text("SELECT count(*) FROM users")).scalar()
        seen.append((current_tenant_id(), setting.scalar(), users))

    monkeypatch.setitem(registry.JOBS, "test.probe", probe)
    monkeypatch.setattr(outbox, "JOB_NAMES", outbox.JOB_NAMES | {"test.probe"})
    app = make_app(migrated, REDIS_URL=redis_url)
    alpha = make_tenant("alpha")
    bravo = make_tenant("bravo")
    with app.app_context():
        redis_connection().flushdb()
        for tenant in (alpha, bravo):
            with tenant_scope(tenant.id):
                from app.services import users

                users.create_user(
                    tenant.id,
                    email=f"one@{tenant.slug}.example.org",
                    name="One",
                    roles=["teacher"],
                    send_welcome=False,
                )
                outbox.add("test.probe", {}, tenant_id=tenant.id)
                commit()
        connection = redis_connection()
        queues = [queue(name, connection) for name in app.config["RQ_QUEUES"]]
        SimpleWorker(queues, connection=connection).work(burst=True)
    assert sorted(seen) == sorted([(alpha.id, str(alpha.id), 1), (bravo.id, str(bravo.id), 1)])


def _tenant_tables(owner_engine) -> list[str]:
    with owner_engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT tablename FROM pg_policies WHERE schemaname = 'public' "
                    "AND policyname = 'tenant_isolation' ORDER BY tablename"
                )
            ).scalars()
        )


def _rows_of(conn, table: str, tenant_id: int) -> int:
    return conn.execute(
        text(f'SELECT count(*) FROM "{table}" WHERE tenant_id = :t'), {"t": tenant_id}
    ).scalar()


def test_the_web_role_sees_no_other_district_whatever_it_sets(
    migrated, two_districts, owner_engine
):
    """Every setting, session-wide or local, and every role switch: still one district."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    from app.tenants.rls import platform_role_name

    alpha, bravo = two_districts
    tables = _tenant_tables(owner_engine)
    with owner_engine.connect() as conn:
        bravo_rows = {t: _rows_of(conn, t, bravo.tenant.id) for t in tables}
    assert sum(bravo_rows.values()) > 0  # the control: there is something to leak
    web = create_engine(migrated["app"])
    attempts = [
        f"SELECT set_config('app.tenant_id', '{alpha.tenant.id}', true), "
        "set_config('app.all_tenants', 'on', true)",
        "SELECT set_config('app.all_tenants', 'on', false)",
        "SET app.all_tenants = 'on'",
    ]
    try:
        for attempt in attempts:
            with web.begin() as conn:
                conn.execute(text(attempt))
                seen = {t: _rows_of(conn, t, bravo.tenant.id) for t in tables}
                assert not any(seen.values()), (attempt, {t: n for t, n in seen.items() if n})
        with web.connect() as conn:
            try:
                conn.execute(text(f"SET ROLE {platform_role_name()}"))
                switched = True
            except DBAPIError:
                switched = False
            assert not switched, "the web role must not be able to become the platform role"
    finally:
        web.dispose()


def test_the_platform_role_sees_every_district_only_when_it_asks(
    migrated, two_districts, owner_engine
):
    from sqlalchemy import create_engine

    alpha, bravo = two_districts
    platform = create_engine(migrated["platform"])
    try:
        with platform.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 0
            conn.execute(text(f"SELECT set_config('app.tenant_id', '{alpha.tenant.id}', true)"))
            assert _rows_of(conn, "cases", alpha.tenant.id) > 0
            assert _rows_of(conn, "cases", bravo.tenant.id) == 0
        with platform.begin() as conn:
            conn.execute(text("SELECT set_config('app.all_tenants', 'on', true)"))
            assert _rows_of(conn, "cases", alpha.tenant.id) > 0
            assert _rows_of(conn, "cases", bravo.tenant.id) > 0
            # It adds and updates, and deletes nothing.
            from sqlalchemy.exc import DBAPIError

            try:
                conn.execute(text("DELETE FROM cases WHERE false"))
                deleted = True
            except DBAPIError:
                deleted = False
            assert not deleted
    finally:
        platform.dispose()


def test_work_across_districts_connects_as_the_platform_role(app, two_districts):
    """A district's work runs as the app's role; ``all_tenants()`` as the platform's; a
    transaction keeps its one connection, fenced to the district again when it returns."""
    from app.tenants.context import all_tenants
    from app.tenants.rls import app_role_name, platform_role_name

    alpha, _ = two_districts

    def role_and_districts() -> tuple[str, int]:
        role = db.session.execute(text("SELECT current_user")).scalar()
        seen = db.session.execute(text("SELECT count(DISTINCT tenant_id) FROM cases")).scalar()
        return role, seen

    with app.app_context():
        with tenant_scope(alpha.tenant.id):
            district = role_and_districts()
            with all_tenants():
                across = role_and_districts()
            back = role_and_districts()
        db.session.rollback()
        with tenant_scope(alpha.tenant.id):
            next_transaction = role_and_districts()
        db.session.rollback()
    assert district == (app_role_name(), 1)
    assert across[0] == platform_role_name() and across[1] >= 2
    assert back == (platform_role_name(), 1)
    assert next_transaction == (app_role_name(), 1)


def test_platform_work_inside_a_districts_writes_is_refused(app, two_districts):
    """Its rows could not be seen from the platform's connection before the commit."""
    import pytest

    from app.models.user import User
    from app.tenants.context import all_tenants
    from app.tenants.session import PlatformWorkInsideWrites

    alpha, _ = two_districts
    with app.app_context(), tenant_scope(alpha.tenant.id):
        user = db.session.execute(select(User)).scalars().first()
        user.name = "Renamed"
        db.session.flush()
        with pytest.raises(PlatformWorkInsideWrites), all_tenants():
            pass
        db.session.rollback()
