"""A queue's outbox rows travel several to an RQ job (``RELAY_BATCH``), and each row keeps
its own fate: a failing row leaves the rest of its batch done, the retry runs only it, and
the sweep judges every row by the job that carries it (``batch_id``), live or lost.

Real parts: RQ on Redis, a real worker, mail over SMTP to aiosmtpd.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from rq.registry import StartedJobRegistry
from sqlalchemy import text

from app.core.redis import redis_connection
from app.core.uow import commit
from app.jobs.queues import queue
from app.jobs.relay import STALE_AFTER, relay, sweep
from app.jobs.runner import run_messages
from app.services import users
from tests.conftest import make_app
from tests.mailserver import _free_port
from tests.test_jobs import _outbox, _work

PEOPLE = [f"ct{n}@alpha.example.org" for n in range(3)]


class _Refusing:
    """Accepts mail, except for the addresses in ``refused`` (a permanent 550 at RCPT)."""

    def __init__(self) -> None:
        self.refused: set[str] = set()
        self.delivered: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.delivered.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def sink():
    handler = _Refusing()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def batch(migrated, redis_url, sink, make_tenant):
    """Three welcome rows handed to RQ as one job; the app, the rows' ids, the sink."""
    handler, port = sink
    settings = {"MAIL_SUPPRESS_SEND": False, "MAIL_PORT": port, "RELAY_BATCH": {"mail": 3}}
    app = make_app(migrated, REDIS_URL=redis_url, **settings)
    with app.app_context():
        redis_connection().flushdb()
    tenant = make_tenant("alpha", "Alpha Unified")
    down = make_app(migrated, REDIS_URL="redis://127.0.0.1:1/0", **settings)
    with down.app_context():
        for n, email in enumerate(PEOPLE):
            users.create_user(tenant.id, email=email, name=f"CT {n}", roles=["teacher"])
            commit()
    ids = [row.id for row in sorted(_outbox(app), key=lambda row: row.created_at)]
    with app.app_context():
        assert relay(ids, limit=10) == 3
        assert queue("mail").get_job_ids() == [ids[0]]
    return app, ids, handler


def _rows(app) -> dict[str, object]:
    return {row.id: row for row in _outbox(app)}


def test_a_failing_row_leaves_the_rest_of_its_batch_done_and_the_retry_runs_it_alone(batch):
    app, ids, sink = batch
    sink.refused.add(PEOPLE[1])
    _work(app)  # the job runs every row, then fails for the refused one (RQ retries later)

    rows = _rows(app)
    assert [rows[i].status for i in ids] == ["done", "enqueued", "done"]
    assert "SMTPRecipientsRefused" in rows[ids[1]].last_error
    assert sorted(sink.delivered) == [PEOPLE[0], PEOPLE[2]]

    sink.refused.clear()
    with app.app_context():  # RQ's retry: the same job, with the same rows
        assert run_messages(ids) == "done (1 of 3 runnable)"
    rows = _rows(app)
    assert {rows[i].status for i in ids} == {"done"}
    assert [rows[i].attempts for i in ids] == [1, 2, 1]
    assert Counter(sink.delivered) == Counter(PEOPLE)


def _claimed_by_a_worker(app, owner_engine, ids: list[str], beating: bool) -> None:
    """As if a worker had taken the batch's job and claimed its rows; its entry in RQ's
    started registry expires in a minute (a beating worker) or expired a minute ago."""
    with owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE outbox_messages SET status = 'running', started_at = now()"),
        )
    with app.app_context():
        registry = StartedJobRegistry("mail", connection=redis_connection())
        expires = time.time() + (60 if beating else -60)
        redis_connection().zadd(registry.key, {f"{ids[0]}:execution-1": expires})


def test_the_rows_of_a_batch_whose_worker_beats_stay_running(batch, owner_engine):
    app, ids, _ = batch
    _claimed_by_a_worker(app, owner_engine, ids, beating=True)
    with app.app_context():
        sweep()
    assert {row.status for row in _rows(app).values()} == {"running"}


def test_the_rows_of_a_batch_whose_worker_died_are_handed_over_again(batch, owner_engine):
    app, ids, sink = batch
    _claimed_by_a_worker(app, owner_engine, ids, beating=False)
    with app.app_context():
        queue("mail").empty()
        assert sweep() == 3  # released, and relayed as a job again
    _work(app)
    assert {row.status for row in _rows(app).values()} == {"done"}
    assert Counter(sink.delivered) == Counter(PEOPLE)


def test_an_old_batch_whose_job_is_still_queued_is_not_handed_over_again(batch, owner_engine):
    app, ids, _ = batch
    with owner_engine.begin() as conn:  # queued long ago: a busy queue, not a lost job
        conn.execute(
            text("UPDATE outbox_messages SET enqueued_at = now() - :age"),
            {"age": STALE_AFTER + timedelta(minutes=1)},
        )
    with app.app_context():
        assert sweep() == 0
        assert queue("mail").get_job_ids() == [ids[0]]
    assert {row.status for row in _rows(app).values()} == {"enqueued"}


def test_a_batch_out_of_time_stops_and_leaves_its_unrun_rows_to_the_sweep(batch, monkeypatch):
    """RQ's timeout stops the job itself: the row it interrupted is marked for its retry,
    the rows after it are not started (they stay running until the sweep sees the job
    gone), and the timeout reaches RQ."""
    from rq.timeouts import JobTimeoutException

    from app.jobs import registry

    app, ids, sink = batch
    welcome = registry.JOBS["mail.welcome"]

    def slow_first(payload, message_id):
        if message_id == ids[0]:
            raise JobTimeoutException("Task exceeded maximum timeout value (540 seconds)")
        welcome(payload, message_id)

    monkeypatch.setitem(registry.JOBS, "mail.welcome", slow_first)
    with app.app_context(), pytest.raises(JobTimeoutException):
        run_messages(ids)
    rows = _rows(app)
    assert [rows[i].status for i in ids] == ["enqueued", "running", "running"]
    assert "JobTimeoutException" in rows[ids[0]].last_error
    assert sink.delivered == []
