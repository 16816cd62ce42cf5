"""A worker killed in the middle of a notice: nothing lost, nothing sent twice, nothing stuck.

The drill runs a real ``run_worker`` process against a real SMTP server on loopback and
kills it with SIGKILL between two recipients of one notice. The SMTP server holds the
second message on the wire, so the kill falls exactly there: after the server accepted
the first message, before it accepted the second.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from app.core import outbox, uow
from app.core.redis import redis_connection
from app.extensions import db
from app.jobs.relay import sweep
from app.jobs.runner import run_message
from app.jobs.worker import run_worker
from app.models.outbox import OutboxMessage, SentMail
from app.services.mailer import message_id_for
from app.tenants.context import all_tenants, tenant_scope
from tests.conftest import make_app
from tests.mailserver import _free_port
from tests.test_jobs import _work

ROOT = Path(__file__).resolve().parents[1]
#: The drill's heartbeat expiry (seconds), short so the test is; production's is 20 s.
HEARTBEAT = 2
RECIPIENTS = ["ct@alpha.example.org", "principal@alpha.example.org", "teacher@alpha.example.org"]

#: A worker process as ``flask worker`` starts one, with the drill's settings and heartbeat.
_WORKER = """
import json, sys
from app import create_app
from app.jobs.worker import run_worker
run_worker(create_app("testing", json.loads(sys.argv[1])), heartbeat_ttl=int(sys.argv[2]))
"""


class _Sink:
    """Keeps what it accepts; can hold the ``hold``-th message on the wire until let go.

    A held message is then accepted (``refuse_held=False``) or refused with a temporary
    error and not kept: its sender died before the server said yes.
    """

    def __init__(self, hold: int, refuse_held: bool) -> None:
        self.messages: list[Message] = []
        self.hold = hold
        self.refuse_held = refuse_held
        self.seen = 0
        self.holding = threading.Event()
        self.let_go = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen == self.hold:
            self.holding.set()
            while not self.let_go.is_set():
                await asyncio.sleep(0.05)
            if self.refuse_held:
                return "451 Try again later"
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def sink_at():
    """``sink_at(hold, refuse_held)``: a started ``_Sink`` and its port."""
    controllers = []

    def _start(hold: int, refuse_held: bool) -> tuple[_Sink, int]:
        sink = _Sink(hold, refuse_held)
        controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
        controller.start()
        controllers.append((sink, controller))
        return sink, controller.port

    yield _start
    for sink, controller in controllers:
        sink.let_go.set()
        controller.stop()


class _Workers:
    """Worker processes of one test, and the scheduler each forked; all gone at the end."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.processes: list[subprocess.Popen] = []

    def start(self, settings: dict, log: Path) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, json.dumps(settings), str(HEARTBEAT)],
            cwd=ROOT,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def scheduler_of(self, worker: subprocess.Popen) -> int:
        """RQ's scheduler process, which the worker forks as it starts."""
        assert _until(lambda: _children(worker.pid), 30)
        [pid] = _children(worker.pid)
        self.pids.append(pid)
        return pid

    def end(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for pid in self.pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def workers():
    started = _Workers()
    yield started
    started.end()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie (ended, waiting for whoever adopted it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _until(condition, timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def _row(app, message_id: str) -> OutboxMessage:
    with app.app_context(), all_tenants():
        row = db.session.get(OutboxMessage, message_id)
        db.session.expunge(row)
        return row


def _notice(app, make_tenant, make_user, make_case) -> str:
    """A case notice to the case's teacher, CT and principal, committed and handed to RQ."""
    tenant = make_tenant("alpha", "Alpha Unified", preset="toledo")
    teacher = make_user(tenant, "teacher", email="teacher@alpha.example.org")
    ct = make_user(tenant, "consulting_teacher", email="ct@alpha.example.org")
    principal = make_user(tenant, "principal", email="principal@alpha.example.org")
    case = make_case(tenant, teacher, "intervention", ct_id=ct.id, principal_id=principal.id)
    with app.app_context(), tenant_scope(tenant.id):
        message = outbox.add(
            "mail.case_notice",
            {
                "case_id": case.id,
                "template": "ct_assigned",
                "to": ["case_teacher", "assigned_ct", "case_principal"],
            },
            tenant_id=tenant.id,
            queue="mail",
        )
        message_id = message.id
        uow.commit()
    assert _row(app, message_id).status == "enqueued"
    return message_id


def _drill_app(migrated, redis_url, port, tmp_path):
    settings = {
        "SQLALCHEMY_DATABASE_URI": migrated["app"],
        "PLATFORM_DATABASE_URL": migrated["platform"],
        "REDIS_URL": redis_url,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_PORT": port,
        "UPLOAD_ROOT": str(tmp_path / "uploads"),
    }
    app = make_app(migrated, **settings)
    with app.app_context():
        redis_connection().flushdb()
    return app, settings


def _each_once_with_its_message_id(app, messages: list[Message], message_id: str) -> None:
    assert Counter(m["To"] for m in messages) == Counter(RECIPIENTS)
    with app.app_context():
        for m in messages:
            assert m["Message-ID"] == message_id_for(message_id, m["To"])
            assert re.fullmatch(
                rf"<{message_id.replace('-', '')}\.[0-9a-f]{{16}}@parley\.local>", m["Message-ID"]
            )


def test_a_worker_killed_between_two_recipients_loses_and_repeats_nothing(
    migrated, redis_url, tmp_path, sink_at, workers, make_tenant, make_user, make_case
):
    sink, port = sink_at(hold=2, refuse_held=True)
    app, settings = _drill_app(migrated, redis_url, port, tmp_path)
    message_id = _notice(app, make_tenant, make_user, make_case)
    log = tmp_path / "worker.log"
    worker = workers.start(settings, log)
    scheduler = workers.scheduler_of(worker)

    assert sink.holding.wait(60), log.read_text()
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    killed_at = time.monotonic()
    sink.let_go.set()
    assert [m["To"] for m in sink.messages] == [RECIPIENTS[0]]
    assert _row(app, message_id).status == "running"

    # The scheduler notices its worker is gone within a round or two, and stops.
    assert _until(lambda: not _alive(scheduler), 10)

    # Once the heartbeat has expired, the next sweep hands the job over again.
    def released() -> bool:
        with app.app_context():
            sweep()
        return _row(app, message_id).status != "running"

    assert _until(released, 30, every=0.25)
    released_after = time.monotonic() - killed_at
    row = _row(app, message_id)
    assert row.status == "enqueued" and "worker" in row.last_error
    assert released_after < HEARTBEAT + 5, released_after

    run_worker(app, burst=True)  # the job again, in a worker of its own

    _each_once_with_its_message_id(app, sink.messages, message_id)
    row = _row(app, message_id)
    assert (row.status, row.attempts) == ("done", 2)
    with app.app_context(), all_tenants():
        recorded = db.session.execute(select(SentMail.recipient, SentMail.message_id)).all()
        assert sorted(recorded) == [(to, message_id_for(message_id, to)) for to in RECIPIENTS]


def test_a_job_refused_at_its_second_recipient_keeps_the_first_as_sent(
    migrated, redis_url, tmp_path, sink_at, make_tenant, make_user, make_case
):
    """The same boundary without a crash: the server refuses the second message, the job
    fails, and its retry sends the rest without repeating the first."""
    sink, port = sink_at(hold=2, refuse_held=True)
    sink.let_go.set()
    app, _ = _drill_app(migrated, redis_url, port, tmp_path)
    message_id = _notice(app, make_tenant, make_user, make_case)
    with app.app_context(), pytest.raises(smtplib.SMTPDataError):
        run_message(message_id)
    assert [m["To"] for m in sink.messages] == [RECIPIENTS[0]]
    row = _row(app, message_id)
    assert row.status == "enqueued" and "SMTPDataError" in row.last_error

    with app.app_context():
        assert run_message(message_id) == "done"
    _each_once_with_its_message_id(app, sink.messages, message_id)


def test_a_job_whose_worker_still_beats_is_left_running(
    migrated, redis_url, tmp_path, sink_at, workers, make_tenant, make_user, make_case
):
    """A slow job is not a lost one: sweeps while it outlasts its heartbeat expiry thrice
    leave it alone, and it finishes once, every recipient told once."""
    sink, port = sink_at(hold=1, refuse_held=False)
    app, settings = _drill_app(migrated, redis_url, port, tmp_path)
    message_id = _notice(app, make_tenant, make_user, make_case)
    log = tmp_path / "worker.log"
    worker = workers.start(settings, log)
    scheduler = workers.scheduler_of(worker)

    assert sink.holding.wait(60), log.read_text()
    held_until = time.monotonic() + 3 * HEARTBEAT
    while time.monotonic() < held_until:
        with app.app_context():
            sweep()
        assert _row(app, message_id).status == "running", log.read_text()
        time.sleep(0.25)
    sink.let_go.set()

    assert _until(lambda: _row(app, message_id).status == "done", 30), log.read_text()
    _each_once_with_its_message_id(app, sink.messages, message_id)
    assert _row(app, message_id).attempts == 1

    worker.send_signal(signal.SIGTERM)  # a warm stop takes its scheduler down too
    assert worker.wait(30) == 0, log.read_text()
    assert not _alive(scheduler)


def test_a_message_repeated_after_a_crash_before_its_record_has_the_same_message_id(
    migrated, redis_url, tmp_path, smtp_server, make_tenant, make_user, make_case, owner_engine
):
    """The one message a crash can repeat (accepted by the server, not yet recorded) goes
    out again with the Message-ID it had, so it is recognisable as the same message."""
    port, inbox = smtp_server
    app, _ = _drill_app(migrated, redis_url, port, tmp_path)
    message_id = _notice(app, make_tenant, make_user, make_case)
    _work(app)
    assert Counter(m["To"] for m in inbox) == Counter(RECIPIENTS)
    with owner_engine.begin() as conn:  # as if the worker died before this record's commit
        conn.execute(text("DELETE FROM sent_mails WHERE recipient = :to"), {"to": RECIPIENTS[1]})
        conn.execute(text("UPDATE outbox_messages SET status = 'enqueued'"))
    with app.app_context():
        assert run_message(message_id) == "done"

    assert Counter(m["To"] for m in inbox) == Counter([*RECIPIENTS, RECIPIENTS[1]])
    first, again = [m for m in inbox if m["To"] == RECIPIENTS[1]]
    assert first["Message-ID"] == again["Message-ID"]
    assert len({m["Message-ID"] for m in inbox}) == len(RECIPIENTS)


def test_a_job_failing_between_two_sends_keeps_the_first_recorded(
    migrated, redis_url, tmp_path, smtp_server, make_tenant, make_user, make_case, monkeypatch
):
    """The second recipient's mail cannot be written (its template fails) after the first
    went out: the first's record survives the job's rollback, so the retry tells only the
    other two."""
    from app.jobs import mail

    port, inbox = smtp_server
    app, _ = _drill_app(migrated, redis_url, port, tmp_path)
    message_id = _notice(app, make_tenant, make_user, make_case)
    real = mail.render_template
    calls = []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the template could not be rendered")
        return real(*args, **kwargs)

    monkeypatch.setattr(mail, "render_template", second_fails)
    with app.app_context(), pytest.raises(RuntimeError):
        run_message(message_id)
    assert len(inbox) == 1
    with app.app_context(), all_tenants():
        recorded = db.session.execute(select(SentMail.recipient)).scalars().all()
    assert recorded == [inbox[0]["To"]]

    monkeypatch.setattr(mail, "render_template", real)
    with app.app_context():
        assert run_message(message_id) == "done"
    _each_once_with_its_message_id(app, inbox, message_id)
