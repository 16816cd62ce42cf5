"""The relay hands a batch of outbox rows to RQ over one Redis connection, in one
transaction, as jobs of up to ``RELAY_BATCH`` rows each named by its first row; handing
the same rows over again adds no job.

What the relay sends is read from Redis itself (``MONITOR``), not from a stand-in.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from rq import Queue
from rq.job import Job
from sqlalchemy import func, select, text

from app.core.uow import commit
from app.extensions import db
from app.jobs.queues import queue, shared_connection
from app.jobs.relay import relay
from app.models.outbox import OutboxMessage, SentMail
from app.services import users
from app.tenants.context import all_tenants
from tests.conftest import make_app
from tests.test_jobs import _outbox, _work

ROWS = 40


class _Watch:
    """Every command Redis runs on one database while the block runs, with its client."""

    def __init__(self, redis, marker: str) -> None:
        self.redis = redis
        self.db = redis.connection_pool.connection_kwargs.get("db", 0)
        self.marker = marker
        self.commands: list[tuple[str, str]] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def _listen(self) -> None:
        with self.redis.monitor() as monitor:
            watching = False
            for seen in monitor.listen():
                if seen["db"] != self.db:
                    continue
                if seen["command"] == f"ECHO {self.marker}-start":
                    watching = True
                    self._ready.set()
                elif seen["command"] == f"ECHO {self.marker}-end":
                    return
                elif watching:
                    client = f"{seen['client_address']}:{seen['client_port']}"
                    self.commands.append((client, seen["command"].split(" ", 1)[0].upper()))

    def __enter__(self) -> _Watch:
        self._thread.start()
        # MONITOR takes a moment to start: say the marker until it is seen.
        while not self._ready.wait(0.05):
            self.redis.echo(f"{self.marker}-start")
        return self

    def __exit__(self, *exc) -> None:
        self.redis.echo(f"{self.marker}-end")
        self._thread.join(10)
        assert not self._thread.is_alive(), "MONITOR never saw the end marker"


@pytest.fixture
def redis_app(migrated, redis_url, smtp_server):
    port, _ = smtp_server
    app = make_app(migrated, REDIS_URL=redis_url, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)
    with app.app_context():
        shared_connection().flushdb()
    return app


@pytest.fixture
def pending_welcomes(migrated, make_tenant, redis_app):
    """Welcome rows of ``ROWS`` new people, committed while Redis was unreachable: pending."""
    tenant = make_tenant("alpha", "Alpha Unified")
    down = make_app(migrated, REDIS_URL="redis://127.0.0.1:1/0")
    with down.app_context():
        for n in range(ROWS):
            users.create_user(
                tenant.id, email=f"ct{n:02}@alpha.example.org", name=f"CT {n}", roles=["teacher"]
            )
        commit()
    rows = _outbox(redis_app)
    assert [row.status for row in rows] == ["pending"] * ROWS
    return [row.id for row in rows]


def test_a_batch_goes_over_one_connection_in_one_transaction_as_jobs_named_by_their_rows(
    redis_app,
    pending_welcomes,
):
    size = redis_app.config["RELAY_BATCH"]["mail"]
    assert 1 < size < ROWS
    with redis_app.app_context():
        redis = shared_connection()
        with _Watch(redis, "relay") as watch:
            assert relay(pending_welcomes, limit=ROWS) == ROWS
        mail = queue("mail")
        jobs = Job.fetch_many(mail.get_job_ids(), connection=redis)
    carried = {job.id: job.args[0] for job in jobs}
    # Each row keeps the time it would have had as a job of its own.
    assert {job.timeout for job in jobs} == {Queue.DEFAULT_TIMEOUT * size}
    # Every row in exactly one job, oldest first; each job full but the last, named by
    # its first row, which every other row of it names as its batch.
    assert sorted(i for ids in carried.values() for i in ids) == sorted(pending_welcomes)
    assert sorted(len(ids) for ids in carried.values()) == [size, size]
    assert all(job_id == ids[0] for job_id, ids in carried.items())
    rows = {row.id: row for row in _outbox(redis_app)}
    for job_id, ids in carried.items():
        assert [rows[i].job_id for i in ids] == [job_id] * len(ids)
        assert rows[job_id].batch_id is None
        created = [rows[i].created_at for i in ids]
        assert created == sorted(created)
    assert max(rows[i].created_at for i in carried[jobs[0].id]) <= min(
        rows[i].created_at for i in carried[jobs[1].id]
    ) or max(rows[i].created_at for i in carried[jobs[1].id]) <= min(
        rows[i].created_at for i in carried[jobs[0].id]
    )

    clients = {client for client, _ in watch.commands}
    assert len(clients) == 1, clients  # the shared connection, and only it
    verbs = Counter(verb for _, verb in watch.commands)
    assert (verbs["MULTI"], verbs["EXEC"], verbs["RPUSH"]) == (1, 1, ROWS // size)
    assert all(row.status == "enqueued" for row in rows.values())


def test_a_batch_handed_over_again_is_still_one_job_per_batch_and_one_mail_each(
    redis_app,
    pending_welcomes,
    owner_engine,
    smtp_server,
):
    """As if the commit after the hand-over were lost: the rows are pending again, the
    relay hands them over a second time, and every person is still welcomed once."""
    _, inbox = smtp_server
    with redis_app.app_context():
        assert relay(pending_welcomes, limit=ROWS) == ROWS
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE outbox_messages SET status = 'pending', enqueued_at = NULL"))
    with redis_app.app_context():
        assert relay(pending_welcomes, limit=ROWS) == ROWS
        redis = shared_connection()
        jobs = {row.job_id for row in _outbox(redis_app)}
        assert len(jobs) == ROWS // redis_app.config["RELAY_BATCH"]["mail"]
        assert sorted(key.decode() for key in redis.keys("rq:job:*")) == sorted(
            f"rq:job:{job_id}" for job_id in jobs
        )

    _work(redis_app)
    assert sorted(m["To"] for m in inbox) == [f"ct{n:02}@alpha.example.org" for n in range(ROWS)]
    assert {row.status for row in _outbox(redis_app)} == {"done"}
    with redis_app.app_context(), all_tenants():
        assert db.session.execute(select(func.count()).select_from(SentMail)).scalar() == ROWS
        assert (
            db.session.execute(select(func.max(OutboxMessage.attempts))).scalar() == 1
        )  # the second hand-over's run found its row done and stopped
