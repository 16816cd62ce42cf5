"""Jobs: the outbox commits with the change, a real RQ worker sends real mail, nothing is lost."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from app.core.redis import redis_connection
from app.core.uow import commit, rollback
from app.extensions import db
from app.jobs.queues import queue
from app.jobs.relay import sweep
from app.models.outbox import OutboxMessage, SentMail
from app.services import users
from app.tenants.context import all_tenants
from tests.conftest import make_app


@pytest.fixture
def mail_app(migrated, redis_url, smtp_server):
    port, _ = smtp_server
    app = make_app(migrated, REDIS_URL=redis_url, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)
    with app.app_context():
        redis_connection().flushdb()
    return app


def _work(app) -> None:
    """A real RQ worker, in-process, until the queues are empty."""
    with app.app_context():
        connection = redis_connection()
        queues = [queue(name, connection) for name in app.config["RQ_QUEUES"]]
        SimpleWorker(queues, connection=connection).work(burst=True)


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context(), all_tenants():
        rows = db.session.execute(select(OutboxMessage)).scalars().all()
        db.session.expunge_all()
        return rows


def _add_user(app, tenant, email="new.ct@alpha.example.org"):
    with app.app_context():
        users.create_user(tenant.id, email=email, name="New CT", roles=["consulting_teacher"])
        commit()


def test_welcome_mail_reaches_smtp_through_an_rq_worker(mail_app, make_tenant, smtp_server):
    _, inbox = smtp_server
    tenant = make_tenant("alpha", "Alpha Unified")
    _add_user(mail_app, tenant)
    [row] = _outbox(mail_app)
    assert row.status == "enqueued"
    _work(mail_app)
    assert len(inbox) == 1
    assert inbox[0]["To"] == "new.ct@alpha.example.org"
    assert "Alpha Unified" in inbox[0]["Subject"]
    assert "/t/alpha/login" in inbox[0].get_payload()
    [row] = _outbox(mail_app)
    assert row.status == "done"


def test_a_rolled_back_change_sends_nothing(mail_app, make_tenant, smtp_server):
    _, inbox = smtp_server
    tenant = make_tenant("alpha")
    with mail_app.app_context():
        users.create_user(tenant.id, email="x@alpha.example.org", name="X", roles=["teacher"])
        rollback()
    _work(mail_app)
    assert inbox == []
    assert _outbox(mail_app) == []


def test_with_redis_down_the_outbox_keeps_the_message_until_it_is_back(
    migrated, mail_app, make_tenant, smtp_server
):
    _, inbox = smtp_server
    tenant = make_tenant("alpha")
    down = make_app(
        migrated,
        REDIS_URL="redis://127.0.0.1:1/0",
        MAIL_SUPPRESS_SEND=False,
        MAIL_PORT=smtp_server[0],
    )
    _add_user(down, tenant)  # the commit succeeds although Redis is unreachable
    [row] = _outbox(down)
    assert row.status == "pending"

    with mail_app.app_context():
        assert sweep() == 1
    _work(mail_app)
    with mail_app.app_context():
        assert sweep() == 0  # nothing pending: no second hand-over
    _work(mail_app)
    assert len(inbox) == 1
    assert _outbox(mail_app)[0].status == "done"


def test_a_job_delivered_again_after_it_ran_sends_nothing_more(
    mail_app, make_tenant, smtp_server, owner_engine
):
    """RQ delivers at least once: even a row put back to "enqueued" must not re-send."""
    from sqlalchemy import text

    from app.jobs.runner import run_message

    _, inbox = smtp_server
    tenant = make_tenant("alpha")
    _add_user(mail_app, tenant)
    [row] = _outbox(mail_app)
    _work(mail_app)
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE outbox_messages SET status = 'enqueued'"))
    with mail_app.app_context():
        assert run_message(row.id) == "done"
        with all_tenants():
            assert db.session.execute(select(func.count()).select_from(SentMail)).scalar() == 1
    assert len(inbox) == 1


def test_a_message_running_elsewhere_is_not_run_twice(
    mail_app, make_tenant, smtp_server, owner_engine
):
    from sqlalchemy import text

    from app.jobs.runner import run_message

    _, inbox = smtp_server
    tenant = make_tenant("alpha")
    _add_user(mail_app, tenant)
    [row] = _outbox(mail_app)
    with owner_engine.begin() as conn:  # another worker has claimed it
        conn.execute(text("UPDATE outbox_messages SET status = 'running'"))
    with mail_app.app_context():
        assert run_message(row.id).startswith("not runnable")
    assert inbox == []


def test_a_job_taken_by_a_worker_that_died_before_running_it_is_handed_over_again(
    mail_app, make_tenant, smtp_server
):
    """The worker took the job off the queue and died before the job claimed its row: RQ
    still lists the job as started, with an expiry that has passed. The sweep puts the
    row back and relays it, and takes the dead entry out of RQ's registry."""
    from rq.executions import Execution
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    _, inbox = smtp_server
    tenant = make_tenant("alpha")
    _add_user(mail_app, tenant)
    [row] = _outbox(mail_app)
    with mail_app.app_context():
        connection = redis_connection()
        registry = StartedJobRegistry("mail", connection=connection)
        queue("mail", connection).remove(row.id)
        with connection.pipeline() as pipeline:
            dead = Execution("dead", row.id, connection)
            registry.add_execution(dead, pipeline, ttl=0)  # expires now: no beat came
            pipeline.execute()
        assert row.id in registry.get_expired_job_ids()

        assert sweep() == 1
        assert registry.get_job_ids(cleanup=False) == []
        assert Job.fetch(row.id, connection=connection).get_status() == "queued"
    [row] = _outbox(mail_app)
    assert row.status == "enqueued" and "worker" in row.last_error
    _work(mail_app)
    assert len(inbox) == 1
    assert _outbox(mail_app)[0].status == "done"


def test_a_job_that_keeps_losing_its_worker_stops_after_the_last_attempt(
    mail_app, make_tenant, smtp_server, owner_engine
):
    """Running, with no worker beating for it, on its fifth attempt: the sweep marks it
    failed instead of handing it over again (a message that kills every worker it meets
    must not circle for ever)."""
    from sqlalchemy import text

    _, inbox = smtp_server
    tenant = make_tenant("alpha")
    _add_user(mail_app, tenant)
    with mail_app.app_context():
        redis_connection().flushdb()  # the job is gone from RQ with its worker
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE outbox_messages SET status = 'running', attempts = 5"))
    with mail_app.app_context():
        assert sweep() == 0
    [row] = _outbox(mail_app)
    assert row.status == "failed" and "worker" in row.last_error
    assert inbox == []


def test_without_redis_jobs_run_inline_after_commit(migrated, make_tenant, smtp_server):
    port, inbox = smtp_server
    inline = make_app(migrated, REDIS_URL=None, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)
    tenant = make_tenant("alpha")
    _add_user(inline, tenant)
    assert len(inbox) == 1
    assert _outbox(inline)[0].status == "done"


def test_a_failing_job_keeps_its_error_and_stays_retryable(migrated, make_tenant):
    closed_smtp = make_app(migrated, REDIS_URL=None, MAIL_SUPPRESS_SEND=False, MAIL_PORT=1)
    tenant = make_tenant("alpha")
    _add_user(closed_smtp, tenant)
    [row] = _outbox(closed_smtp)
    assert row.status == "pending"
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error


def test_every_job_the_outbox_may_ask_for_has_a_handler():
    """The outbox's closed list of names and the registry's handlers are the same set."""
    from app.core.outbox import JOB_NAMES
    from app.jobs.registry import JOBS

    assert set(JOBS) == JOB_NAMES


def test_jobs_and_services_import_each_other_in_one_direction_only():
    """Services stand on ``app.core``; nothing under ``app/services`` or ``app/core`` imports
    ``app.jobs`` (the relay is named to the unit of work by the app factory)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "app"
    found = []
    for path in [*root.joinpath("services").rglob("*.py"), *root.joinpath("core").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.jobs"):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []


def test_a_worker_per_queue_works_its_own_queue_alone(mail_app, make_tenant, smtp_server):
    """``flask worker --queue exports`` leaves a notice for the mail queue's worker."""
    from app.jobs.worker import run_worker

    _, inbox = smtp_server
    tenant = make_tenant("alpha", "Alpha Unified")
    _add_user(mail_app, tenant)
    run_worker(mail_app, burst=True, queue_names=("exports",))
    assert inbox == []
    assert _outbox(mail_app)[0].status == "enqueued"
    run_worker(mail_app, burst=True, queue_names=("mail",))
    assert [message["To"] for message in inbox] == ["new.ct@alpha.example.org"]
    assert _outbox(mail_app)[0].status == "done"
    with pytest.raises(ValueError, match="no queue named mails"):
        run_worker(mail_app, burst=True, queue_names=("mails",))
