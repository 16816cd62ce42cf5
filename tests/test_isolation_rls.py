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
