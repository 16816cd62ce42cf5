"""Workers per queue: how long a notice waits while a district's whole export runs.

The export of the largest export district is requested through the app (``exports.request``,
relayed to RQ like any request's), and as soon as it is running, case notices are queued.
Two arrangements, one after the other on the same data: one worker for every queue
(``flask worker``), then a worker per queue (``flask worker --queue exports`` beside
``flask worker --queue mail``). Each notice's latency is measured from its hand-over to RQ
to its arrival at a real SMTP server on loopback.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time

from aiosmtpd.controller import Controller

from bench.db import Urls, bench_app, owner_connection
from bench.mail import DEFAULT_REDIS, ROOT, _Inbox, _queue_notices, worker_env
from bench.pages import _free_port
from bench.targets import Measure, at_most, info

#: Seconds a notice may wait, with a worker per queue, while the export runs.
MAX_NOTICE_WAIT_S = 5.0
ARRANGEMENTS = {
    "one worker for every queue": [[]],
    "a worker per queue": [["--queue", "exports"], ["--queue", "mail"]],
}


def _program_admin(target: Urls, slug: str) -> tuple[int, int]:
    with owner_connection(target) as conn:
        return conn.execute(
            "SELECT t.id, u.id FROM users u JOIN tenants t ON t.id = u.tenant_id "
            "JOIN role_grants g ON g.user_id = u.id "
            "WHERE t.slug = %s AND g.role = 'program_admin' ORDER BY u.id LIMIT 1",
            (slug,),
        ).fetchone()


def _export_status(target: Urls, export_id: int) -> str:
    with owner_connection(target) as conn:
        row = conn.execute("SELECT status FROM export_jobs WHERE id = %s", (export_id,))
        return row.fetchone()[0]


def _request_export(app, tenant_id: int, user_id: int) -> int:
    """The whole-district export, requested as its program admin (committed and relayed)."""
    from app.core import uow
    from app.extensions import db
    from app.models.user import User
    from app.services import exports
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        row = exports.request(db.session.get(User, user_id), "tenant_archive", {})
        export_id = row.id
        uow.commit()
    return export_id


def _one(target: Urls, port: int, inbox: _Inbox, arrangement: list[list[str]], slugs, count):
    from rq import Queue

    from app.core.redis import redis_connection
    from app.jobs.relay import relay

    export_slug, mail_slug = slugs
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    app = bench_app(target, REDIS_URL=redis_url)
    with app.app_context():
        for name in app.config["RQ_QUEUES"]:
            Queue(name, connection=redis_connection()).empty()
    env = worker_env(target, redis_url, port)
    tenant_id, user_id = _program_admin(target, export_slug)
    export_id = _request_export(app, tenant_id, user_id)
    workers = [
        subprocess.Popen(
            # Not --burst: the mail worker starts before any notice is queued.
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *queues],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for queues in arrangement
    ]
    try:
        deadline = time.monotonic() + 120
        while _export_status(target, export_id) == "queued" and time.monotonic() < deadline:
            time.sleep(0.02)
        inbox.arrivals.clear()
        ids = _queue_notices(target, mail_slug, count)
        with app.app_context():
            handed_at = time.perf_counter()
            relay(ids, limit=len(ids))
        inbox.wait_for(count, timeout=120)
        while _export_status(target, export_id) == "running" and time.monotonic() < deadline + 600:
            time.sleep(0.1)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    waits = sorted(arrival - handed_at for arrival in inbox.arrivals)
    return {
        "export_status": _export_status(target, export_id),
        "notices": count,
        "delivered": len(waits),
        "median_wait_s": statistics.median(waits) if waits else float("inf"),
        "max_wait_s": waits[-1] if waits else float("inf"),
    }


def run(target: Urls, export_slug: str, mail_slug: str, count: int) -> tuple[list[Measure], dict]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        raw = {
            name: _one(target, port, inbox, arrangement, (export_slug, mail_slug), count)
            for name, arrangement in ARRANGEMENTS.items()
        }
    finally:
        controller.stop()
    shared, apart = raw["one worker for every queue"], raw["a worker per queue"]
    measures = [
        info(
            "queues",
            "one worker for every queue: longest notice wait during an export",
            shared["max_wait_s"],
            " s",
            f"median {shared['median_wait_s']:.2f} s; {shared['delivered']} of {count} delivered;"
            f" export {shared['export_status']}",
        ),
        at_most(
            "queues",
            "a worker per queue: longest notice wait during an export",
            apart["max_wait_s"],
            MAX_NOTICE_WAIT_S,
            " s",
            f"median {apart['median_wait_s']:.2f} s; {apart['delivered']} of {count} delivered;"
            f" export {apart['export_status']} ({export_slug})",
        ),
        at_most(
            "queues",
            "notices lost, either arrangement",
            (count - shared["delivered"]) + (count - apart["delivered"]),
            0,
            "",
            f"{shared['delivered'] + apart['delivered']} of {2 * count}",
        ),
    ]
    return measures, raw
