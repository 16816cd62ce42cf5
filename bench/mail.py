"""The outbox relay and a mail worker, delivering into a real SMTP server on loopback.

Case notices are written to the outbox as pending rows (as a transition would leave
them), the relay hands them to RQ, and one ``flask worker --burst`` process sends them
through ``smtplib`` to aiosmtpd. The floor is ``smtplib`` alone sending the same number
of messages to the same server, a connection each (the floor issue 22 set its target
against). The worker keeps one SMTP session across its jobs, so ``smtplib`` over one
session is measured beside it, for the record: what the job's own work (its row, the
case and its people, the record of the send, RQ's bookkeeping) costs on top of the wire.
"""

from __future__ import annotations

import json
import os
import smtplib
import statistics
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from bench.db import UPLOADS, Urls, bench_app, owner_connection
from bench.pages import _free_port
from bench.targets import Measure, at_least, at_most, info

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
#: Runs of each ``smtplib`` floor; the median is the floor.
FLOOR_RUNS = 3


class _Inbox:
    """Counts what arrives, with the time of each arrival."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.arrivals.extend(time.perf_counter() for _ in envelope.rcpt_tos)
        return "250 OK"

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if len(self.arrivals) >= count:
                return True
            time.sleep(0.05)
        return False


def _floor_message(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "bench@parley.local", f"floor{n}@example.org"
    message["Subject"] = "Parley: consulting teacher assigned"
    message.set_content("Your case has a new step; sign in to see it.\n")
    return message


def _floor(port: int, count: int) -> float:
    """Seconds for smtplib alone to send ``count`` messages, a connection each."""
    began = time.perf_counter()
    for n in range(count):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(_floor_message(n))
    return time.perf_counter() - began


def _one_session(port: int, count: int) -> float:
    """Seconds for smtplib alone to send ``count`` messages over one session."""
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        for n in range(count):
            smtp.send_message(_floor_message(n))
    return time.perf_counter() - began


def _queue_notices(target: Urls, slug: str, count: int) -> list[str]:
    """Pending case notices to each open case's CT, written as a transition writes them."""
    with owner_connection(target) as conn:
        cases = conn.execute(
            "SELECT c.id, c.tenant_id FROM cases c JOIN tenants t ON t.id = c.tenant_id "
            "WHERE t.slug = %s AND c.ct_id IS NOT NULL AND c.closed_at IS NULL "
            "ORDER BY c.id LIMIT %s",
            (slug, count),
        ).fetchall()
        ids = []
        with conn.cursor().copy(
            "COPY outbox_messages (id, tenant_id, job, queue, payload, status, attempts, "
            "created_at) FROM STDIN"
        ) as copy:
            for n in range(count):
                case_id, tenant_id = cases[n % len(cases)]
                message_id = str(uuid.uuid4())
                ids.append(message_id)
                payload = {"case_id": case_id, "template": "ct_assigned", "to": ["assigned_ct"]}
                copy.write_row(
                    (
                        message_id,
                        tenant_id,
                        "mail.case_notice",
                        "mail",
                        json.dumps(payload),
                        "pending",
                        0,
                        "now",
                    )
                )
    return ids


def worker_env(target: Urls, redis_url: str, port: int) -> dict[str, str]:
    """What a ``flask worker`` process of a benchmark runs with: the target's roles, the
    benchmark's Redis, mail to the SMTP server on ``port``."""
    return {
        **os.environ,
        "PARLEY_ENV": "testing",
        **target.environment(),
        "REDIS_URL": redis_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "MAIL_SUPPRESS_SEND": "0",
        "UPLOAD_ROOT": UPLOADS,
    }


def run(target: Urls, slug: str, count: int) -> tuple[list[Measure], dict]:
    from rq import Queue

    from app.core.redis import redis_connection
    from app.jobs.relay import relay

    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # Medians of a few runs each: one run of the floor alone varied by a fifth from one
        # run of the benchmark to the next.
        floor = statistics.median(_floor(port, count) for _ in range(FLOOR_RUNS))
        one_session = statistics.median(_one_session(port, count) for _ in range(FLOOR_RUNS))
        inbox.arrivals.clear()
        ids = _queue_notices(target, slug, count)
        app = bench_app(target, REDIS_URL=redis_url)
        with app.app_context():
            Queue("mail", connection=redis_connection()).empty()
            # The first notice alone opens the connections, as a process that relays after
            # every commit has them open already; the rest are timed as one batch.
            warm = relay(ids[:1], limit=1)
            began = time.perf_counter()
            timed = relay(ids[1:], limit=len(ids))
            relay_s = time.perf_counter() - began
            handed = warm + timed
        env = worker_env(target, redis_url, port)
        started = time.perf_counter()
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            inbox.wait_for(count, timeout=max(120, count))
        finally:
            worker.wait(timeout=600)
        arrivals = sorted(inbox.arrivals)
    finally:
        controller.stop()
    delivered = len(arrivals)
    total_s = (arrivals[-1] - started) if arrivals else float("inf")
    steady = (delivered - 1) / (arrivals[-1] - arrivals[0]) if delivered > 1 else 0.0
    floor_rate = count / floor
    raw = {
        "notices": count,
        "relayed": handed,
        "relay_timed": timed,
        "relay_s": relay_s,
        "delivered": delivered,
        "worker_total_s": total_s,
        "worker_steady_per_s": steady,
        "smtplib_floor_s": floor,
        "smtplib_one_session_s": one_session,
    }
    return [
        at_least(
            "mail",
            "outbox relay, one Redis connection, pipelined",
            timed / relay_s,
            2000,
            " msg/s",
            f"{timed} rows to RQ in {relay_s * 1000:.0f} ms, after one to open the connections",
        ),
        info(
            "mail",
            "one mail worker, notifications",
            steady,
            "/s",
            f"{delivered} delivered in {total_s:.1f} s with start-up",
        ),
        at_least(
            "mail",
            "mail worker / smtplib alone",
            steady / floor_rate,
            0.5,
            "x",
            f"smtplib alone, a connection each: {floor_rate:.0f}/s (median of {FLOOR_RUNS})",
        ),
        info(
            "mail",
            "mail worker / smtplib over one session",
            steady * one_session / count,
            "x",
            f"smtplib alone, one session: {count / one_session:.0f}/s",
        ),
        at_most(
            "mail",
            "notices lost or sent twice",
            abs(delivered - count),
            0,
            "",
            f"{delivered} of {count}",
        ),
    ], raw
