"""Each page beside its floor, in one process: its own SQL replayed prepared, its template alone.

A page's time is one WSGI call of the warm app (no HTTP, no gunicorn), median of N. Its floor
is what no implementation of the same page can avoid:

- **SQL**: the exact statements the page sent, with their parameters, in the same
  transactions, replayed on raw psycopg connections as the same role (the engine's URL), so
  the RLS scope is the one the page set (its ``set_config`` statements are replayed with the
  rest); prepared (``prepare=True``) and warm, each transaction committed so psycopg keeps
  its prepared statements;
- **template**: the template(s) the page rendered, rendered again by name with the context
  the ``template_rendered`` signal gave, inside the page's own request (after its render),
  so the current user, tenant, CSRF token and every object the page loaded are the page's.

The capture checks itself, since a floor that is not the page's own work says nothing: the
replay must return the rows the page read, statement by statement; the template rendered
alone must give the page's body, byte for byte, and send no SQL; the count of statements
must equal the one the queries benchmark counts for the same URL.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from flask import Flask, render_template, template_rendered
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import EnvironBuilder

from bench import queries


@dataclass(frozen=True)
class Step:
    """One thing a page did on one connection: a statement, or the end of a transaction."""

    dsn: str
    #: ``"execute"``, ``"commit"`` or ``"rollback"``.
    kind: str
    sql: str = ""
    params: Any = None
    #: The rows the page read (None for a statement that returns none).
    rows: list[tuple] | None = None

    @property
    def counted(self) -> bool:
        """Whether the queries benchmark counts it (it leaves out the per-transaction scope)."""
        return self.kind == "execute" and not _is_scope(self.sql)


@dataclass
class Capture:
    """What one request of a page sent to the database and rendered."""

    steps: list[Step] = field(default_factory=list)
    #: Per rendered template: its name and the milliseconds of each render alone.
    templates: list[tuple[str, list[float]]] = field(default_factory=list)
    #: What each template gave when rendered alone (the last one is the page's body).
    outputs: list[str] = field(default_factory=list)
    #: Statements sent while a template was rendered alone (a floor must send none).
    sent_by_templates: int = 0
    body: bytes = b""

    @property
    def statements(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "execute"]

    @property
    def counted(self) -> int:
        return sum(s.counted for s in self.steps)

    def template_ms(self) -> float:
        """The median render of each template, summed over the page's templates."""
        return sum(statistics.median(times) for _, times in self.templates)


def _is_scope(sql: str) -> bool:
    return sql.lstrip().upper().startswith(queries.NOT_COUNTED)


def _dsn(engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class _Recorder:
    """The listeners of one capture: statements, transaction ends, templates rendered."""

    def __init__(self, engines: dict, renders: int) -> None:
        self.capture = Capture()
        self.engines = engines
        self.renders = renders
        #: True while a template is rendered alone: what it sends is counted, not captured.
        self.rerendering = False

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.rerendering:
            self.capture.sent_by_templates += 1

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.rerendering:
            return
        rows = None
        if cursor.description is not None and isinstance(cursor, psycopg.Cursor):
            # A client-side cursor holds the whole result: read it, then rewind for the ORM.
            rows = cursor.fetchall()
            if rows:
                cursor.scroll(0, mode="absolute")
        dsn = self.engines[conn.engine]
        self.capture.steps.append(Step(dsn, "execute", statement, parameters, rows))

    def committed(self, conn) -> None:
        if not self.rerendering:
            self.capture.steps.append(Step(self.engines[conn.engine], "commit"))

    def rolled_back(self, conn) -> None:
        if not self.rerendering:
            self.capture.steps.append(Step(self.engines[conn.engine], "rollback"))

    def rendered(self, sender, template, context, **extra) -> None:
        if self.rerendering:
            return
        self.rerendering = True
        try:
            times, output = [], ""
            for n in range(self.renders + 1):
                began = time.perf_counter()
                output = render_template(template.name, **context)
                if n:
                    times.append((time.perf_counter() - began) * 1000)
            self.capture.templates.append((template.name, times))
            self.capture.outputs.append(output)
        finally:
            self.rerendering = False


@contextmanager
def capturing(app: Flask, renders: int) -> Iterator[Capture]:
    """Record every statement (with its parameters and rows) and time each template alone.

    Listens on every engine of the app, so a statement sent through another bind (another
    role) is replayed as that role. Each template the request renders is rendered again
    ``renders`` + 1 times right after (the first one warms caches and is not timed).
    """
    from app.extensions import db

    with app.app_context():
        engines = {e: _dsn(e) for e in set(db.engines.values())}
    recorder = _Recorder(engines, renders)
    listeners = (
        ("before_cursor_execute", recorder.before),
        ("after_cursor_execute", recorder.after),
        ("commit", recorder.committed),
        ("rollback", recorder.rolled_back),
    )
    with ExitStack() as stack:
        for engine in engines:
            for name, listener in listeners:
                event.listen(engine, name, listener)
                stack.callback(event.remove, engine, name, listener)
        stack.enter_context(template_rendered.connected_to(recorder.rendered, app))
        yield recorder.capture


def capture_page(app: Flask, client: FlaskClient, url: str, renders: int) -> Capture:
    """One warm request of ``url`` by ``client``, captured; raises when it is not a 200."""
    with capturing(app, renders) as capture:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    capture.body = response.get_data()
    return capture


@contextmanager
def connections(
    capture: Capture, direct: Callable[[str], str] | None = None
) -> Iterator[dict[str, psycopg.Connection]]:
    """One raw connection per role the page used, each as that role (its engine's URL).

    ``direct`` maps a URL to the server's own, past a transaction pooler: the floor replays
    prepared, which PgBouncer 1.18 cannot carry, and the floor is the statements' own cost.
    """
    with ExitStack() as stack:
        yield {
            dsn: stack.enter_context(psycopg.connect(direct(dsn) if direct else dsn))
            for dsn in dict.fromkeys(s.dsn for s in capture.steps)
        }


def replay(conns: dict[str, psycopg.Connection], steps: list[Step]) -> list[list[tuple] | None]:
    """Send the page's statements again, prepared, in its transactions; the rows of each.

    Every transaction is committed, whatever the page did: psycopg forgets its prepared
    statements on a rollback, and the floor is the prepared one. A transaction the page
    left open at the end is committed too, so the next replay starts clean.
    """
    rows: list[list[tuple] | None] = []
    for step in steps:
        conn = conns[step.dsn]
        if step.kind == "execute":
            cursor = conn.execute(step.sql, step.params, prepare=True)
            rows.append(cursor.fetchall() if cursor.description is not None else None)
        else:
            conn.commit()
    for conn in conns.values():
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.commit()
    return rows


def check(capture: Capture, replayed: list[list[tuple] | None], expected_count: int) -> None:
    """Refuse a floor that is not the page's own work (see the module's docstring)."""
    problems = []
    for n, (step, rows) in enumerate(zip(capture.statements, replayed, strict=True)):
        if step.rows is not None and rows != step.rows:
            problems.append(f"statement {n + 1} read other rows when replayed: {step.sql[:80]}")
    if capture.counted != expected_count:
        problems.append(
            f"{capture.counted} statements captured, the queries benchmark counts {expected_count}"
        )
    if not capture.templates:
        problems.append("no template rendered")
    elif capture.outputs[-1].encode() != capture.body:
        problems.append(
            f"the template alone gave {len(capture.outputs[-1].encode())} bytes,"
            f" the page {len(capture.body)}"
        )
    if capture.sent_by_templates:
        problems.append(f"the template alone sent {capture.sent_by_templates} statements")
    if problems:
        raise RuntimeError("; ".join(problems))


def wsgi_timer(app: Flask, client: FlaskClient, url: str) -> Callable[[], float]:
    """A function that calls the app once for ``url`` as ``client``'s user; milliseconds.

    A bare WSGI call with the client's session cookie, so the test client's own work
    (cookie jar, response wrapper) is not counted as the page's.
    """
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    if cookie is None:
        raise RuntimeError(f"the client has no {name} cookie")
    headers = {"Cookie": f"{name}={cookie.value}"}

    def call() -> float:
        environ = EnvironBuilder(
            path=url, environ_base=client.environ_base, headers=headers
        ).get_environ()
        statuses: list[str] = []

        def start_response(status, response_headers, exc_info=None):
            statuses.append(status)
            return lambda data: None

        began = time.perf_counter()
        answer = app(environ, start_response)
        try:
            for _ in answer:
                pass
        finally:
            if hasattr(answer, "close"):
                answer.close()
        elapsed = (time.perf_counter() - began) * 1000
        if not statuses or not statuses[0].startswith("200"):
            raise RuntimeError(f"{url} answered {statuses[:1]} to a bare WSGI call")
        return elapsed

    return call


@dataclass(frozen=True)
class Floor:
    """A page's median time beside its floor's two parts, all in milliseconds."""

    page_ms: float
    sql_ms: float
    template_ms: float
    statements: int
    scope_statements: int
    transactions: int
    #: The templates rendered and the start of each statement sent, for whoever reads the JSON.
    templates: tuple[str, ...] = ()
    sql: tuple[str, ...] = ()

    @property
    def floor_ms(self) -> float:
        return self.sql_ms + self.template_ms

    @property
    def ratio(self) -> float:
        return self.page_ms / self.floor_ms


def measure(
    app: Flask,
    client: FlaskClient,
    url: str,
    expected_count: int,
    repeats: int,
    direct: Callable[[str], str] | None = None,
) -> Floor:
    """The page and its floor, ``repeats`` times each after warming; medians.

    Page calls, replays and the template's renders alone alternate, so a change in the
    machine's load meets all three (the renders are taken in a request of their own each
    time, captured as the first: a template is rendered alone inside its page's request).
    """
    call = wsgi_timer(app, client, url)
    for _ in range(3):
        call()
    capture = capture_page(app, client, url, 1)
    page_ms, sql_ms, template_ms = [], [], []
    with connections(capture, direct) as conns:
        check(capture, replay(conns, capture.steps), expected_count)
        replay(conns, capture.steps)
        for _ in range(repeats):
            page_ms.append(call())
            began = time.perf_counter()
            replay(conns, capture.steps)
            sql_ms.append((time.perf_counter() - began) * 1000)
            template_ms.append(capture_page(app, client, url, 1).template_ms())
    return Floor(
        page_ms=statistics.median(page_ms),
        sql_ms=statistics.median(sql_ms),
        template_ms=statistics.median(template_ms),
        statements=capture.counted,
        scope_statements=len(capture.statements) - capture.counted,
        transactions=sum(s.kind != "execute" for s in capture.steps),
        templates=tuple(name for name, _ in capture.templates),
        sql=tuple(" ".join(s.sql.split())[:160] for s in capture.statements),
    )
