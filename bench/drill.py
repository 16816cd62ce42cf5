"""The failover drill on ``make cluster``: parts stopped one at a time under load.

``python -m bench.drill`` (the cluster must be up) signs a demo coordinator in once and
keeps asking for pages as a load balancer would: the two gunicorn instances in turn, and
the other one when an instance does not answer or answers 503, the words of an instance
that cannot reach its database (a refused connection or a 503 is retried there once, as
nginx's ``proxy_next_upstream error http_503`` does for a GET; any other answer is not).
Case notices are queued in every phase. In turn it stops one gunicorn, the mail queue's
worker, the first web instance's PgBouncer (also the workers') and the replica, each for a
few seconds,
and starts it again (``bench.cluster`` starts whatever is missing). At the end every notice
must have been sent exactly once. It prints, per phase, the requests, the answers of 500
and over, the requests another instance took, and the notices.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from bench import cluster
from bench.db import Urls, bench_app, owner_connection
from bench.mail import _queue_notices

SLUG = "boston"
PAGES = ("/", "/cases/", "/reports/annual")
OUTAGE_S = 6.0
NOTICES_PER_PHASE = 10


@dataclass
class Phase:
    name: str
    answers: Counter = field(default_factory=Counter)
    taken_over: int = 0
    unanswered: int = 0
    notices: list[str] = field(default_factory=list)


class Balancer:
    """A signed-in client that spreads requests over the instances and fails over."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.turn = 0
        self.phase: Phase | None = None
        self.stop = threading.Event()
        base = f"http://127.0.0.1:{cluster.WEB_PORTS[0]}/t/{SLUG}"
        form = self.http.get(f"{base}/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        answer = self.http.post(
            f"{base}/login",
            data={
                "email": f"coordinator@{SLUG}.example.org",
                "password": "parley-demo-password",
                "csrf_token": token,
            },
            allow_redirects=False,
            timeout=10,
        )
        if answer.status_code != 302:
            raise SystemExit(f"drill: the coordinator could not sign in ({answer.status_code})")

    def run(self) -> None:
        while not self.stop.is_set():
            self.turn += 1
            path = PAGES[self.turn % len(PAGES)]
            ports = list(cluster.WEB_PORTS)
            first = ports[self.turn % 2]
            status = None
            for port in (first, *(p for p in ports if p != first)):
                try:
                    url = f"http://127.0.0.1:{port}/t/{SLUG}{path}"
                    status = self.http.get(url, timeout=10).status_code
                except requests.ConnectionError:
                    continue
                if status == 503 and port == first:
                    continue
                if port != first:
                    self.phase.taken_over += 1
                break
            if status is None:
                self.phase.unanswered += 1
                time.sleep(0.05)
            else:
                self.phase.answers[status] += 1


def _target() -> Urls:
    owner = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.PRIMARY_PORT}/{cluster.DATABASE}"
    app = owner.replace("postgres@", f"{cluster.APP_ROLE}@", 1)
    return Urls(owner, app)


def _notices(target: Urls, app) -> list[str]:
    from app.jobs.relay import relay

    ids = _queue_notices(target, SLUG, NOTICES_PER_PHASE)
    with app.app_context():
        relay(ids, limit=len(ids))
    return ids


def _stop_process(name: str) -> None:
    pid = json.loads((cluster.RUN / "pids.json").read_text())[name]
    os.killpg(pid, signal.SIGTERM)
    while cluster.alive(pid):
        time.sleep(0.1)


def _stop_pooler() -> None:
    """The first web instance's PgBouncer, which the workers and the scheduler use too."""
    folder = cluster.pooler_folder(cluster.POOLER_PORTS[0])
    pid = int((folder / "pgbouncer.pid").read_text().strip())
    os.kill(pid, signal.SIGTERM)
    while cluster.alive(pid):
        time.sleep(0.1)


def _stop_replica() -> None:
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", cluster.VERSION]
    subprocess.run([*command, cluster.REPLICA_CLUSTER, "stop"], check=True)


def _replica_health() -> str:
    port = cluster.WEB_PORTS[1]
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json().get("replica")
    except requests.RequestException as exc:
        return f"no answer ({type(exc).__name__})"


def main() -> None:
    if not (cluster.RUN / "pids.json").exists():
        raise SystemExit("drill: start the cluster first (make cluster)")
    target = _target()
    app = bench_app(target, REDIS_URL=cluster.REDIS_URL)
    balancer = Balancer()
    phases: list[Phase] = []
    outages = {
        "both instances up": (None, None),
        "one gunicorn stopped": (lambda: _stop_process("web-5001"), cluster.processes),
        "the mail worker stopped": (lambda: _stop_process("worker-mail"), cluster.processes),
        "a PgBouncer stopped": (_stop_pooler, cluster.pooler),
        "the replica stopped": (_stop_replica, cluster.replica),
    }
    notes = {}
    worker = threading.Thread(target=balancer.run, daemon=True)
    balancer.phase = Phase("warm-up")
    worker.start()
    time.sleep(1)
    for name, (stop, start) in outages.items():
        phase = Phase(name)
        balancer.phase = phase
        if stop:
            stop()
        phase.notices = _notices(target, app)
        time.sleep(OUTAGE_S)
        if name == "the replica stopped":
            notes[name] = f"/healthz said: {_replica_health()}"
        if start:
            start()
        phases.append(phase)
    balancer.stop.set()
    worker.join(timeout=15)
    every = [n for phase in phases for n in phase.notices]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with owner_connection(target) as conn:
            sent = conn.execute(
                "SELECT outbox_id, count(*) FROM sent_mails WHERE outbox_id = ANY(%s) "
                "GROUP BY outbox_id",
                (every,),
            ).fetchall()
        if len(sent) == len(every):
            break
        time.sleep(1)
    twice = [row for row in sent if row[1] > 1]
    print("\nphase                    requests  5xx  taken over  unanswered  notices  answers")
    for phase in phases:
        total = sum(phase.answers.values())
        errors = sum(n for status, n in phase.answers.items() if status >= 500)
        print(
            f"{phase.name:<24} {total:>8}  {errors:>3}  {phase.taken_over:>10}"
            f"  {phase.unanswered:>10}  {len(phase.notices):>7}"
            f"  {dict(sorted(phase.answers.items()))}"
        )
    for name, note in notes.items():
        print(f"{name}: {note}")
    print(f"notices: {len(every)} queued, {len(sent)} sent, {len(twice)} sent twice")


if __name__ == "__main__":
    main()
