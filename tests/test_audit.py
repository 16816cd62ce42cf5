"""The audit trail: every change recorded, chained, and tampering detected."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select, text

from app.extensions import db
from app.models.audit import AuditEvent
from app.services.audit import verify_chain
from app.tenants.context import tenant_scope


def _events(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        return [(e.seq, e.action, e.object_type) for e in rows]


def test_creating_a_district_and_a_user_are_recorded_in_order(app, make_tenant, make_user):
    tenant = make_tenant("alpha")
    make_user(tenant, "coordinator")
    assert _events(app, tenant.id) == [
        (1, "tenant.created", "tenant"),
        (2, "signing.key_created", "signing_key"),  # the district's document-signing key
        (3, "user.created", "user"),
    ]


def test_chains_are_per_tenant_and_verify(app, make_tenant, make_user):
    a, b = make_tenant("alpha"), make_tenant("bravo")
    for _ in range(3):
        make_user(a, "teacher")
    make_user(b, "teacher")
    with app.app_context():
        assert verify_chain(a.id).checked == 5  # the district, its signing key, three people
        assert verify_chain(b.id).ok


def test_an_edited_event_breaks_the_chain(app, make_tenant, make_user, owner_engine):
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher")
    make_user(tenant, "teacher")
    with owner_engine.begin() as conn:  # only the owner can rewrite history
        conn.execute(text("UPDATE audit_events SET action = 'user.deleted' WHERE seq = 2"))
    with app.app_context():
        report = verify_chain(tenant.id)
    assert not report.ok
    assert report.broken_at == 2


def test_a_deleted_event_breaks_the_chain(app, make_tenant, make_user, owner_engine):
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher")
    make_user(tenant, "teacher")
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    with app.app_context():
        assert verify_chain(tenant.id).broken_at == 3


def test_the_app_role_cannot_rewrite_the_trail(app, make_tenant):
    tenant = make_tenant("alpha")
    with app.app_context(), tenant_scope(tenant.id):
        try:
            db.session.execute(text("UPDATE audit_events SET action = 'x'"))
            raised = False
        except Exception as exc:
            raised = "permission denied" in str(exc)
        db.session.rollback()
    assert raised


def test_audit_verify_command(app, make_tenant, make_user, owner_engine):
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher")
    runner = CliRunner()
    with app.app_context():
        ok = runner.invoke(app.cli, ["audit", "verify", "--tenant", "alpha"])
    assert ok.exit_code == 0, ok.output
    assert "ok: 3 events" in ok.output
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET after = NULL WHERE seq = 1"))
    with app.app_context():
        broken = runner.invoke(app.cli, ["audit", "verify", "--tenant", "alpha"])
    assert broken.exit_code == 1
    assert "BROKEN at event 1" in broken.output


def test_the_chain_verifies_when_the_database_answers_in_another_time_zone(
    migrated, make_tenant, make_user
):
    from tests.conftest import make_app

    tenant = make_tenant("alpha")
    make_user(tenant, "teacher")
    eastern = make_app(
        migrated,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": "-c timezone=America/New_York"}},
    )
    with eastern.app_context():
        assert db.session.execute(text("SHOW timezone")).scalar() == "America/New_York"
        assert verify_chain(tenant.id).ok
        db.engine.dispose()
