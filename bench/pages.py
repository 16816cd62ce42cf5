"""Pages under load: gunicorn with 2 workers, wrk on loopback, beside a bare Flask route.

Each page is measured right after the bare route (``bench/serve.py``) in the same
gunicorn, so the throughput ratio compares two runs a few seconds apart on the same
machine. wrk keeps one connection per worker (closed loop: a connection sends its next
request when the answer arrives), so the latency is the page's own, not a queue's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.db import UPLOADS, Urls, owner_connection
from bench.generate import PASSWORD
from bench.targets import Measure, at_least, at_most, info

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk_report.lua"
USER_AGENT = "parley-bench"
WORKERS = 2
#: The throughput a page must keep, as a share of the bare route's.
MIN_SHARE = 0.30
#: The p95 every page must stay under, in milliseconds.
MAX_P95_MS = 100.0
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass(frozen=True)
class Page:
    name: str
    email: str
    path: str


def pages_of(target: Urls, slug: str) -> list[Page]:
    """The four pages of one generated district, with the people who read them."""
    domain = f"{slug}.example.org"
    ct = f"ct1@{domain}"
    with owner_connection(target) as conn:
        tenant_id = conn.execute("SELECT id FROM tenants WHERE slug = %s", (slug,)).fetchone()[0]
        track = conn.execute(
            "SELECT track_key FROM cases WHERE tenant_id = %s "
            "GROUP BY track_key ORDER BY count(*) DESC, track_key LIMIT 1",
            (tenant_id,),
        ).fetchone()[0]
        case_id, teacher = conn.execute(
            "SELECT c.id, t.email FROM cases c JOIN users t ON t.id = c.teacher_id "
            "JOIN users ct ON ct.id = c.ct_id WHERE c.tenant_id = %s AND ct.email = %s "
            "AND c.state = 'support' AND c.closed_at IS NULL ORDER BY c.id LIMIT 1",
            (tenant_id, ct),
        ).fetchone()
    base = f"/t/{slug}"
    return [
        Page("coordinator case list", f"coordinator@{domain}", f"{base}/cases/?track={track}"),
        Page("CT caseload (CT home)", ct, f"{base}/"),
        Page("case page (its CT)", ct, f"{base}/cases/{case_id}"),
        Page("teacher home", teacher, f"{base}/"),
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(target: Urls, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PARLEY_ENV": "testing",
        "DATABASE_URL": target.app,
        "UPLOAD_ROOT": UPLOADS,
        "SECRET_KEY": "bench-secret-key-bench-secret-key-0123",
    }
    env.pop("REDIS_URL", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "bench.serve:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/bare/", timeout=5).ok:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    server.wait(timeout=30)
    raise RuntimeError("gunicorn did not start within a minute")


def _cookie(base: str, page: Page) -> str:
    """Sign in through the login form; the session cookie as a header value."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    slug = page.path.split("/")[2]
    form = session.get(f"{base}/t/{slug}/login", timeout=10)
    token = _CSRF.search(form.text).group(1)
    answer = session.post(
        f"{base}/t/{slug}/login",
        data={"email": page.email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{page.email} could not sign in ({answer.status_code})")
    check = session.get(base + page.path, timeout=30)
    if check.status_code != 200:
        raise RuntimeError(f"{page.path} answered {check.status_code} for {page.email}")
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def wrk(url: str, seconds: float, cookie: str | None = None) -> dict:
    """One wrk run; requests per second and latency percentiles in milliseconds."""
    command = ["wrk", "-t1", f"-c{WORKERS}", f"-d{seconds:g}s", "--timeout", "10s"]
    command += ["-s", str(LUA), "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    if raw["non_2xx_3xx"] or raw["socket_errors"]:
        raise RuntimeError(
            f"{url}: {raw['non_2xx_3xx']} bad answers, {raw['socket_errors']} errors"
        )
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
    }


def run(target: Urls, slug: str, seconds: float) -> tuple[list[Measure], dict]:
    """Measure each page beside the bare route; returns measures and the raw runs."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install wrk (make bench installs it)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(target, port)
    measures, raw = [], {"workers": WORKERS, "connections": WORKERS, "seconds": seconds}
    try:
        for page in pages_of(target, slug):
            cookie = _cookie(base, page)
            wrk(base + page.path, max(1.0, seconds / 4), cookie)  # warm the workers' caches
            bare = wrk(f"{base}/bare/", seconds)
            measured = wrk(base + page.path, seconds, cookie)
            raw[page.name] = {"path": page.path, "bare": bare, "page": measured}
            share = measured["rps"] / bare["rps"]
            detail = (
                f"{measured['rps']:.0f} vs {bare['rps']:.0f} req/s; p50 {measured['p50_ms']:.1f}"
                f" p95 {measured['p95_ms']:.1f} p99 {measured['p99_ms']:.1f} ms"
            )
            measures += [
                at_least("pages", f"{page.name}: throughput / bare", share, MIN_SHARE, "x", detail),
                at_most("pages", f"{page.name}: p95", measured["p95_ms"], MAX_P95_MS, " ms"),
            ]
        measures.append(info("pages", "bare route p95", bare["p95_ms"], " ms"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return measures, raw
