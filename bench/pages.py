"""Pages: each beside its floor in one process, then under load (gunicorn, 2 workers, wrk).

In process (``bench/floors.py``), every page's median time is compared with its floor: its
own SQL replayed prepared plus its template rendered alone with the same context; beside them,
for the record, the least signed-in page (``LEAST_PAGE``), whose time above its floor every
page pays before its own work. Under load,
the four pages the issue measured on 2026-11-23 are compared with that day's throughput, and
each is measured right after the bare route (``bench/serve.py``) in the same gunicorn, whose
figure is reported beside for the record. wrk keeps one connection per worker (closed loop: a
connection sends its next request when the answer arrives), so the latency is the page's
own, not a queue's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import requests
from flask import Flask

from bench import floors, queries
from bench.db import UPLOADS, Urls, owner_connection
from bench.generate import PASSWORD
from bench.targets import Measure, at_least, at_most, info

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk_report.lua"
USER_AGENT = "parley-bench"
WORKERS = 2
#: The p95 every page under load must stay under, in milliseconds.
MAX_P95_MS = 100.0
#: A page's in-process time as a multiple of its floor (its SQL prepared + its template).
MAX_FLOOR_RATIO = 1.5
# Requests per second on 2 workers in the committed run of 2026-11-23 (bench/results/latest.md,
# full scale): the "today" the throughput targets multiply. Constants, not a file read,
# because the targets are a ratio to that day's figures, whatever a later run writes there.
COORDINATOR_LIST_RPS_2026_11_23 = 73.0
CT_HOME_RPS_2026_11_23 = 134.0
CASE_PAGE_CT_RPS_2026_11_23 = 59.0
TEACHER_HOME_RPS_2026_11_23 = 191.0
#: Throughput against 2026-11-23 the case page must reach; the other pages reach ``OTHER_GAIN``.
CASE_PAGE_GAIN = 4.0
OTHER_GAIN = 2.0
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass(frozen=True)
class Page:
    name: str
    email: str
    path: str
    #: Requests per second on 2026-11-23, for the pages measured under load; None otherwise.
    baseline_rps: float | None = None
    #: How many times ``baseline_rps`` the page must serve now.
    gain: float = OTHER_GAIN
    #: Whether its time / floor is judged (``MAX_FLOOR_RATIO``); the least page is measured
    #: for what it tells of the others.
    judged: bool = True


#: The page that does nothing but what every signed-in page does: the district's lookup, the
#: person with their roles, a small form of its own (changing one's password), the read-only
#: transaction's commit. What it costs above its floor, every page pays above its own.
LEAST_PAGE = "least signed-in page (own password form)"


def pages_of(target: Urls, slug: str) -> list[Page]:
    """The pages of one generated district, with the people who read them.

    The case is a CT's case in support; the panel session is the one with the most agenda
    items (the latest of those), read by the panel's chair.
    """
    domain = f"{slug}.example.org"
    ct = f"ct1@{domain}"
    coordinator = f"coordinator@{domain}"
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
        session_id = conn.execute(
            "SELECT s.id FROM panel_sessions s JOIN agenda_items i ON i.session_id = s.id "
            "WHERE s.tenant_id = %s GROUP BY s.tenant_id, s.id "
            "ORDER BY count(*) DESC, s.meets_on DESC LIMIT 1",
            (tenant_id,),
        ).fetchone()[0]
        chair = conn.execute(
            "SELECT u.email FROM panel_members m JOIN users u ON u.id = m.user_id "
            "WHERE m.tenant_id = %s AND m.is_chair ORDER BY m.id LIMIT 1",
            (tenant_id,),
        ).fetchone()[0]
    base = f"/t/{slug}"
    case = f"{base}/cases/{case_id}"
    return [
        Page(
            "coordinator case list",
            coordinator,
            f"{base}/cases/?track={track}",
            COORDINATOR_LIST_RPS_2026_11_23,
        ),
        Page("CT caseload (CT home)", ct, f"{base}/", CT_HOME_RPS_2026_11_23),
        Page("case page (its CT)", ct, case, CASE_PAGE_CT_RPS_2026_11_23, CASE_PAGE_GAIN),
        Page("teacher home", teacher, f"{base}/", TEACHER_HOME_RPS_2026_11_23),
        Page("case page (coordinator)", coordinator, case),
        Page("case page (its teacher)", teacher, case),
        Page("panel session (its chair)", chair, f"{base}/panel/sessions/{session_id}"),
        Page("annual report (coordinator)", coordinator, f"{base}/reports/annual"),
        Page(LEAST_PAGE, teacher, f"{base}/account/password", judged=False),
    ]


def floor_measures(
    app: Flask, slug: str, pages: list[Page], repeats: int, target: Urls | None = None
) -> tuple[list[Measure], dict]:
    """Each page's in-process time against its floor, one page after the other."""
    measures, raw = [], {}
    for page in pages:
        client = queries.signed_in_client(app, slug, page.email)
        expected = queries.count_page(app, slug, page.email, page.path.removeprefix(f"/t/{slug}"))
        direct = target.direct if target else None
        floor = floors.measure(app, client, page.path, expected, repeats, direct)
        raw[page.name] = {"path": page.path, "repeats": repeats, **asdict(floor)}
        detail = (
            f"page {floor.page_ms:.1f} ms vs floor {floor.floor_ms:.1f} ms"
            f" (SQL {floor.sql_ms:.1f} + template {floor.template_ms:.1f});"
            f" {floor.statements} statements + {floor.scope_statements} scope"
        )
        name = f"{page.name}: time / floor"
        if page.judged:
            measures.append(at_most("pages", name, floor.ratio, MAX_FLOOR_RATIO, "x", detail))
        else:
            detail += f"; {floor.page_ms - floor.floor_ms:.1f} ms above it, paid by every page"
            measures.append(info("pages", name, floor.ratio, "x", detail))
    return measures, raw


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(target: Urls, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PARLEY_ENV": "testing",
        **target.environment(),
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


def wrk_all(bases: tuple[str, ...], path: str, seconds: float, cookie: str | None) -> dict:
    """wrk on every instance at once (``make cluster`` has two): throughput summed."""
    with ThreadPoolExecutor(len(bases)) as pool:
        runs = list(pool.map(lambda base: wrk(base + path, seconds, cookie), bases))
    if len(runs) == 1:
        return runs[0]
    merged = {key: max(run[key] for run in runs) for key in ("p50_ms", "p95_ms", "p99_ms")}
    merged["rps"] = sum(run["rps"] for run in runs)
    merged["requests"] = sum(run["requests"] for run in runs)
    return merged


def _load_measures(
    bases: tuple[str, ...], page: Page, seconds: float, bare_route: bool
) -> tuple[list[Measure], dict]:
    """One page under load right after the bare route; its throughput against 2026-11-23."""
    cookie = _cookie(bases[0], page)
    wrk_all(bases, page.path, max(1.0, seconds / 4), cookie)  # warm the workers' caches
    bare = wrk_all(bases, "/bare/", seconds, None) if bare_route else None
    measured = wrk_all(bases, page.path, seconds, cookie)
    gain = measured["rps"] / page.baseline_rps
    beside = f" (bare route {bare['rps']:.0f})" if bare else f" ({len(bases)} instances)"
    detail = (
        f"{measured['rps']:.0f} req/s vs {page.baseline_rps:.0f} on 2026-11-23{beside};"
        f" p50 {measured['p50_ms']:.1f} p95 {measured['p95_ms']:.1f}"
        f" p99 {measured['p99_ms']:.1f} ms;"
        # Another day's figure means something only on a machine as quiet as that day's.
        f" load average {os.getloadavg()[0]:.1f}"
    )
    measures = [
        at_least("pages", f"{page.name}: throughput / 2026-11-23", gain, page.gain, "x", detail),
        at_most("pages", f"{page.name}: p95", measured["p95_ms"], MAX_P95_MS, " ms"),
    ]
    return measures, {"path": page.path, "bare": bare, "page": measured}


def run(
    target: Urls, app: Flask, slug: str, seconds: float, repeats: int
) -> tuple[list[Measure], dict]:
    """Every page against its floor in process, then the loaded pages under gunicorn (the
    benchmark's own, or the running instances of ``make cluster`` with ``--cluster``)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install wrk (make bench installs it)")
    pages = pages_of(target, slug)
    measures, in_process = floor_measures(app, slug, pages, repeats, target)
    raw = {"floors": in_process, "workers": WORKERS, "connections": WORKERS, "seconds": seconds}
    server = None
    if target.web:
        bases = target.web
        raw["instances"] = list(bases)
    else:
        port = _free_port()
        bases = (f"http://127.0.0.1:{port}",)
        server = _serve(target, port)
    bare_rps, bare_p95 = [], []
    try:
        for page in (p for p in pages if p.baseline_rps is not None):
            loaded, raw[page.name] = _load_measures(bases, page, seconds, server is not None)
            measures += loaded
            if raw[page.name]["bare"]:
                bare_rps.append(raw[page.name]["bare"]["rps"])
                bare_p95.append(raw[page.name]["bare"]["p95_ms"])
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    if bare_rps:
        record = "for the record: a bare Flask route in the same gunicorn, median of its runs"
        measures += [
            info("pages", "bare route: throughput", statistics.median(bare_rps), " req/s", record),
            info("pages", "bare route: p95", statistics.median(bare_p95), " ms"),
        ]
    return measures, raw
