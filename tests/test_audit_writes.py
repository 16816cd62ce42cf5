"""Appending to the audit chain: one lock per transaction, and still one chain under
concurrent writers and rolled-back savepoints."""

from __future__ import annotations

import threading

from sqlalchemy import event, select

from app.extensions import db
from app.models.audit import AuditEvent
from app.services import audit
from app.services.actors import Actor
from app.services.audit import verify_chain
from app.tenants.context import tenant_scope


def _record(tenant_id: int, action: str) -> None:
    audit.record(tenant_id, action, "probe", 1, actor=Actor.system())


def _actions(tenant_id: int) -> list[tuple[int, str]]:
    with tenant_scope(tenant_id):
        rows = db.session.execute(select(AuditEvent.seq, AuditEvent.action).order_by("seq"))
        return [tuple(r) for r in rows if r.action.startswith("probe")]


def test_a_transaction_locks_the_chain_once_for_several_events(app, make_tenant):
    tenant = make_tenant("alpha")
    locks: list[str] = []

    def note(conn, cursor, statement, *args):
        if "FOR UPDATE" in statement:
            locks.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            with tenant_scope(tenant.id):
                for n in range(3):
                    _record(tenant.id, f"probe.{n}")
                db.session.commit()
                _record(tenant.id, "probe.next")  # a new transaction locks again
                db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        assert len(locks) == 2
        seqs = [seq for seq, _ in _actions(tenant.id)]
        assert seqs == list(range(seqs[0], seqs[0] + 4))
        assert verify_chain(tenant.id).ok


def test_events_of_a_rolled_back_savepoint_leave_no_gap(app, make_tenant):
    tenant = make_tenant("alpha")
    with app.app_context(), tenant_scope(tenant.id):
        _record(tenant.id, "probe.kept")
        savepoint = db.session.begin_nested()
        _record(tenant.id, "probe.undone")
        savepoint.rollback()
        _record(tenant.id, "probe.after")
        db.session.commit()
        actions = _actions(tenant.id)
        assert [a for _, a in actions] == ["probe.kept", "probe.after"]
        assert actions[1][0] == actions[0][0] + 1
        assert verify_chain(tenant.id).ok


def test_a_second_writer_waits_and_continues_the_chain(app, make_tenant):
    """The first writer holds its transaction open after appending; the second, in its own
    transaction, must wait for the lock and then append after the first one's event."""
    tenant = make_tenant("alpha")
    appended, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with app.app_context(), tenant_scope(tenant.id):
                _record(tenant.id, "probe.first")
                appended.set()
                release.wait(10)
                db.session.commit()
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
            appended.set()

    def second() -> None:
        try:
            with app.app_context(), tenant_scope(tenant.id):
                _record(tenant.id, "probe.second")
                db.session.commit()
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=first)
    one.start()
    assert appended.wait(10)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.5)
    assert two.is_alive(), "the second writer did not wait for the chain's lock"
    release.set()
    one.join(10)
    two.join(10)
    assert not errors, errors
    with app.app_context():
        actions = _actions(tenant.id)
        assert [a for _, a in actions] == ["probe.first", "probe.second"]
        assert actions[1][0] == actions[0][0] + 1
        assert verify_chain(tenant.id).ok
