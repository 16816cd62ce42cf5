"""A page's floor is the page's own work: its statements, its rows, its template, its output.

The pages benchmark judges every page against a floor it builds from one captured request;
these tests check that the floor is that request's and nothing else, on a tiny generated
district, so a ratio in ``make bench`` compares like with like.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench import floors, queries
from bench.db import Urls
from bench.generate import Scale, generate, network_specs
from bench.pages import LEAST_PAGE, floor_measures, pages_of

SLUG = "district-001"


class _Recording:
    """A psycopg connection that notes what ``floors.replay`` asks it to execute."""

    def __init__(self, conn: psycopg.Connection, sent: list) -> None:
        self._conn, self._sent = conn, sent

    def execute(self, sql, params=None, *, prepare=None):
        self._sent.append((sql, params, prepare))
        return self._conn.execute(sql, params, prepare=prepare)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@pytest.fixture
def district(app, migrated) -> Iterator[dict[str, str]]:
    """One generated district; its pages by name, as (reader, path)."""
    generate(app, Urls(owner=migrated["owner"], app=migrated["app"]), _specs(), seed=3)
    # Signed-in clients are kept per person; the ids behind their cookies die with the tables.
    queries.signed_in_client.cache_clear()
    target = Urls(owner=migrated["owner"], app=migrated["app"])
    yield {page.name: (page.email, page.path) for page in pages_of(target, SLUG)}
    queries.signed_in_client.cache_clear()


def _specs():
    return network_specs(Scale(districts=1, cases_per_district=20, years=2))


def _capture(app, district, name: str) -> floors.Capture:
    email, path = district[name]
    client = queries.signed_in_client(app, SLUG, email)
    client.get(path)  # warm, as the benchmark does
    return floors.capture_page(app, client, path, renders=2)


def test_the_replay_sends_exactly_the_page_statements_prepared_and_reads_its_rows(app, district):
    capture = _capture(app, district, "case page (its CT)")
    assert capture.counted > 5
    sent: list = []
    with floors.connections(capture) as conns:
        recording = {dsn: _Recording(conn, sent) for dsn, conn in conns.items()}
        rows = floors.replay(recording, capture.steps)
        assert [(sql, params) for sql, params, _ in sent] == [
            (s.sql, s.params) for s in capture.statements
        ]
        assert {prepare for *_, prepare in sent} == {True}
        assert rows == [s.rows for s in capture.statements]
        assert any(r for r in rows), "the page read rows, and so must its replay"
        # Prepared on the server, not only asked for: psycopg kept them past the commit.
        for dsn, conn in conns.items():
            prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
            assert prepared >= len({s.sql for s in capture.statements if s.dsn == dsn})


def test_the_replay_keeps_the_page_role_and_tenant_scope(app, district, migrated):
    capture = _capture(app, district, "teacher home")
    owner = make_url(migrated["owner"]).username
    # The district's lookup sets the scope in the same statement (a counted one).
    scopes = [s for s in capture.statements if "set_config" in s.sql]
    assert len(scopes) == 1 and scopes[0].counted, [s.sql[:60] for s in scopes]
    assert scopes[0].sql.startswith("SELECT tenants.")
    unscoped = [s for s in capture.steps if s not in scopes]
    with floors.connections(capture) as conns:
        for dsn, conn in conns.items():
            role = conn.execute("SELECT current_user").fetchone()[0]
            assert role == make_url(dsn).username != owner, "as the page's role, under RLS"
        floors.check(capture, floors.replay(conns, capture.steps), capture.counted)
        # Without the page's scope, row-level security hides every tenant's rows (the
        # tenants table itself is the platform's): the floor depends on the replayed scope.
        without = floors.replay(conns, unscoped)
    read = [s for s in capture.statements if s not in scopes]
    assert read and all(step.rows for step in read[:1]), "the page read rows under its scope"
    for rows in without:
        assert not rows


def test_the_template_alone_gives_the_page_body_and_sends_nothing(app, district):
    for name in ("coordinator case list", "case page (its teacher)"):
        capture = _capture(app, district, name)
        assert capture.templates and all(len(t) == 2 for _, t in capture.templates)
        assert capture.outputs[-1].encode() == capture.body
        assert capture.sent_by_templates == 0


def test_the_count_is_the_queries_benchmarks_count(app, district):
    email, path = district["coordinator case list"]
    capture = _capture(app, district, "coordinator case list")
    assert capture.counted == queries.count_page(app, SLUG, email, path.removeprefix(f"/t/{SLUG}"))


def test_a_floor_that_is_not_the_page_is_refused(app, district):
    capture = _capture(app, district, "CT caseload (CT home)")
    with floors.connections(capture) as conns:
        replayed = floors.replay(conns, capture.steps)
    floors.check(capture, replayed, capture.counted)
    with pytest.raises(RuntimeError, match="queries benchmark counts"):
        floors.check(capture, replayed, capture.counted + 1)
    read = next(n for n, rows in enumerate(replayed) if rows)
    other_rows = [*replayed[:read], [], *replayed[read + 1 :]]
    with pytest.raises(RuntimeError, match="other rows"):
        floors.check(capture, other_rows, capture.counted)
    capture.body += b" "
    with pytest.raises(RuntimeError, match="the template alone gave"):
        floors.check(capture, replayed, capture.counted)


def test_a_statement_with_other_parameters_reads_other_rows(app, district):
    capture = _capture(app, district, "case page (its CT)")
    steps = capture.steps
    index, step = next(
        (n, s)
        for n, s in enumerate(steps)
        if s.counted and s.rows and isinstance(s.params, dict) and "case_id" in s.params
    )
    other = replace(step, params={**step.params, "case_id": -1})
    with floors.connections(capture) as conns:
        replayed = floors.replay(conns, [*steps[:index], other, *steps[index + 1 :]])
    with pytest.raises(RuntimeError, match="other rows"):
        floors.check(capture, replayed, capture.counted)


def test_measure_gives_the_page_and_its_floor(app, district, monkeypatch):
    """The template's renders alone are sampled between the page's calls, as its replays
    are: one captured request for the check, then one per repeat."""
    email, path = district["case page (coordinator)"]
    client = queries.signed_in_client(app, SLUG, email)
    expected = queries.count_page(app, SLUG, email, path.removeprefix(f"/t/{SLUG}"))
    captured = []
    real_capture = floors.capture_page

    def capture_page(*args):
        captured.append(args)
        return real_capture(*args)

    monkeypatch.setattr(floors, "capture_page", capture_page)
    floor = floors.measure(app, client, path, expected, repeats=3)
    assert len(captured) == 1 + 3
    assert floor.statements == expected
    assert floor.page_ms > 0 and floor.sql_ms > 0 and floor.template_ms > 0
    assert floor.ratio == pytest.approx(floor.page_ms / (floor.sql_ms + floor.template_ms))


def test_a_measured_request_carries_the_cookie_a_browser_would(app, district):
    """The page is timed with the session a browser holds once it has seen a page: one
    with its CSRF token. With the sign-in's own cookie every timed request made a new token
    and signed a new cookie, work a browser's requests never cause."""
    for name in ("teacher home", "case page (its CT)"):
        email, path = district[name]
        client = queries.signed_in_client(app, SLUG, email)
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        environ = {"HTTP_COOKIE": f"{cookie.key}={cookie.value}"}
        answer = app.test_client(use_cookies=False).get(path, environ_base=environ)
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers, name


def test_the_least_page_sends_only_what_every_signed_in_page_sends(app, district):
    """Its cost above its floor is read as what every page pays before its own work, so it
    must do no work of its own: its statements are the ones each other page opens with."""
    least = _capture(app, district, LEAST_PAGE)
    read_from = [" ".join(s.sql.split()).split(" FROM ")[1].split()[0] for s in least.statements]
    assert read_from == ["tenants", "users"]
    for name in ("teacher home", "case page (its CT)", "coordinator case list"):
        page = _capture(app, district, name)
        assert [s.sql for s in page.statements[:2]] == [s.sql for s in least.statements], name


def test_every_page_is_judged_but_the_least_one(app, district, migrated):
    """The least page is measured for the record, with what it pays above its floor; every
    other page's time / floor is judged against the target."""
    pages = pages_of(Urls(owner=migrated["owner"], app=migrated["app"]), SLUG)
    measures, raw = floor_measures(app, SLUG, pages, repeats=2)
    by_name = {m.name.removesuffix(": time / floor"): m for m in measures}
    assert set(by_name) == {page.name for page in pages}
    for name, measure in by_name.items():
        floor = raw[name]
        floor_ms = floor["sql_ms"] + floor["template_ms"]
        assert measure.value == floor["page_ms"] / floor_ms
        if name == LEAST_PAGE:
            assert measure.passed is None and measure.target == ""
            above = f"{floor['page_ms'] - floor_ms:.1f} ms above it, paid by every page"
            assert measure.detail.endswith(above)
        else:
            assert measure.passed is not None and measure.target == "<= 1.5x", name
