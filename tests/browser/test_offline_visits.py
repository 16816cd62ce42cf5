"""In Chromium: a consulting teacher logs a visit with the network off, and it arrives once.

Offline is both of Playwright's switches: ``set_offline`` (the page's own requests fail and
``navigator.onLine`` is false) and a route that aborts every request, since ``set_offline``
does not reach the service worker's own requests. The route records what it aborted, so the
test can see that the worker really tried the network and was refused.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.support import Visit
from app.tenants.context import tenant_scope
from tests.browser.pagewalk import Checks, problems_on
from tests.casework import to_support
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

NOTES = "Offline: read the exit tickets together"


@pytest.fixture
def toledo(district, make_user):
    d = district("toledo", "toledo")
    d.people["teacher"] = make_user(d.tenant, "teacher", email="lee@toledo.org")
    return d


def _second_case(app, toledo, make_user) -> int:
    toledo.people["teacher"] = make_user(toledo.tenant, "teacher", email="kim@toledo.org")
    return to_support(app, toledo, "intervention", "unsatisfactory")


def _visits(app, d, case_id: int, notes: str) -> list[Visit]:
    with app.app_context(), tenant_scope(d.tenant.id):
        query = select(Visit).where(Visit.case_id == case_id, Visit.notes == notes)
        return list(db.session.execute(query).scalars())


def _close(app, d, case_id: int) -> None:
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        case.state, case.closed_at = "closed", utcnow()
        uow.commit()


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/t/toledo/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/t/toledo/")


def _kept_pages(page) -> list[str]:
    return page.evaluate(
        """async () => {
            const cache = await caches.open("parley-pages:/t/toledo/");
            return (await cache.keys()).map((r) => new URL(r.url).pathname).sort();
        }"""
    )


def _queued(page) -> int:
    """How many visits wait on the device (read as the pages read them)."""
    return page.evaluate(
        '() => new ParleyOfflineStore("/t/toledo/").visits().then((items) => items.length)'
    )


def _until(check, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Offline:
    """Both switches at once; remembers which aborted requests came from the worker."""

    def __init__(self, context):
        self.context = context
        self.from_worker: list[str] = []

    def _abort(self, route):
        if route.request.service_worker is not None:
            self.from_worker.append(f"{route.request.method} {route.request.url}")
        route.abort("internetdisconnected")

    def __enter__(self):
        self.context.set_offline(True)
        self.context.route("**/*", self._abort)
        return self

    def __exit__(self, *exc):
        self.context.unroute("**/*", self._abort)
        self.context.set_offline(False)


def _log_visit(page, notes: str) -> None:
    page.get_by_text("Log a visit").click()
    form = page.get_by_test_id("visit-form")
    form.get_by_label("Type").select_option("observation")
    form.get_by_label("Minutes").fill("40")
    form.get_by_label("Notes", exact=True).fill(notes)
    form.get_by_role("button", name="Save the visit").click()


def test_a_visit_logged_offline_arrives_once_and_a_closed_case_is_a_conflict(
    app, live_server, browser, toledo, make_user
):
    first = to_support(app, toledo, "intervention", "unsatisfactory")
    second = _second_case(app, toledo, make_user)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    checks = Checks(page)
    _sign_in(page, live_server, toledo.people["ct"].email)

    # The caseload page names what the device may keep: itself and its cases.
    wanted = sorted(["/t/toledo/", f"/t/toledo/cases/{first}", f"/t/toledo/cases/{second}"])
    _until(lambda: _kept_pages(page) == wanted, "the caseload to be kept")

    with Offline(context) as offline:
        page.goto(f"{live_server}/t/toledo/cases/{first}")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Person lee")
        # The worker marks the copy it serves, whatever the browser believes of the network.
        expect(page.get_by_test_id("offline-summary")).to_contain_text(
            "this page is the copy kept on this device"
        )
        _log_visit(page, NOTES)
        page.wait_for_url(f"**/t/toledo/cases/{first}#offline-queue-heading")
        summary = page.get_by_test_id("offline-summary")
        _until(lambda: "1 visit waiting to be sent" in summary.inner_text(), "the queue")
        assert any(r.startswith("POST ") for r in offline.from_worker), offline.from_worker

        page.goto(f"{live_server}/t/toledo/cases/{second}")
        _log_visit(page, NOTES + " (second case)")
        page.wait_for_url(f"**/t/toledo/cases/{second}#offline-queue-heading")
        summary = page.get_by_test_id("offline-summary")
        _until(lambda: "2 visits waiting to be sent" in summary.inner_text(), "two in the queue")
        queue = page.get_by_test_id("offline-queue")
        assert "Person lee" in queue.inner_text() and "Person kim" in queue.inner_text()
        assert problems_on(page, phone=True) == []  # the queue, read on a phone, offline
        assert _visits(app, toledo, first, NOTES) == []
        _close(app, toledo, second)  # closed by the program while the CT was offline

    # The connection returns: the page sends the queue.
    arrived = lambda: len(_visits(app, toledo, first, NOTES)) == 1  # noqa: E731
    _until(arrived, f"the visit to arrive (the page heard: {checks.heard})", timeout=30)
    summary = page.get_by_test_id("offline-summary")
    _until(lambda: "1 visit not accepted" in summary.inner_text(), "the conflict to show")
    queue_text = page.get_by_test_id("offline-queue").inner_text()
    assert "This case is closed and read-only." in queue_text
    assert "waiting to be sent" not in summary.inner_text()
    assert _visits(app, toledo, second, NOTES + " (second case)") == []
    assert problems_on(page, phone=True) == []
    heard = checks.take()  # requests refused while offline are expected; nothing else is
    assert [h for h in heard if "CSP" in h or "uncaught" in h] == [], heard

    # Loading pages again sends nothing twice, and the conflict is not retried.
    for _ in range(2):
        page.goto(f"{live_server}/t/toledo/cases/{first}")
        page.get_by_test_id("offline-summary").wait_for(state="attached")
        time.sleep(0.5)
    assert len(_visits(app, toledo, first, NOTES)) == 1
    assert _visits(app, toledo, second, NOTES + " (second case)") == []
    expect(page.get_by_test_id("offline-summary")).to_contain_text("1 visit not accepted")

    # The CT removes the refused visit from the device.
    page.get_by_role("button", name="Remove from this device").click()
    _until(lambda: page.get_by_test_id("offline-queue").is_hidden(), "the queue to empty")
    context.close()


def test_a_visit_whose_answer_was_lost_is_stored_once(app, live_server, browser, toledo):
    """The server kept the visit but its answer never reached the device: the worker queues
    it, and sending it again finds the visit already there."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, live_server, toledo.people["ct"].email)
    _until(lambda: f"/t/toledo/cases/{case_id}" in _kept_pages(page), "the case to be kept")
    page.goto(f"{live_server}/t/toledo/cases/{case_id}")

    sent_by: list[str] = []

    def lose_the_answer(route):  # every sending, the worker's and the page's retries alike
        if route.request.method == "POST":
            sent_by.append("worker" if route.request.service_worker else "page")
            route.fetch()  # the server stores the visit (or finds it stored) ...
            route.abort("internetdisconnected")  # ... and its answer is lost
        else:
            route.continue_()

    context.route("**/cases/*/visits", lose_the_answer)
    _log_visit(page, NOTES)
    page.wait_for_url(f"**/t/toledo/cases/{case_id}#offline-queue-heading")
    assert len(_visits(app, toledo, case_id, NOTES)) == 1  # stored the first time
    _until(lambda: _queued(page) == 1, "the visit to wait on the device")
    assert sent_by[0] == "worker"
    context.unroute("**/cases/*/visits", lose_the_answer)
    page.reload()  # each load sends the queue
    _until(lambda: _queued(page) == 0, "the queue to be sent")
    assert len(_visits(app, toledo, case_id, NOTES)) == 1
    context.close()


def test_a_kept_page_says_so_when_the_server_cannot_be_reached_online(
    app, live_server, browser, toledo
):
    """A school's Wi-Fi without the internet: the browser counts itself online, the server
    cannot be reached, and the page served is the kept copy, which says so."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, live_server, toledo.people["ct"].email)
    _until(lambda: f"/t/toledo/cases/{case_id}" in _kept_pages(page), "the case to be kept")
    unreachable = lambda route: route.abort("addressunreachable")  # noqa: E731
    context.route("**/*", unreachable)
    page.goto(f"{live_server}/t/toledo/cases/{case_id}")
    assert page.evaluate("navigator.onLine") is True
    expect(page.get_by_test_id("offline-summary")).to_contain_text(
        "The server could not be reached: this page is the copy kept on this device."
    )
    context.unroute("**/*", unreachable)
    page.goto(f"{live_server}/t/toledo/cases/{case_id}")  # the server's own page again
    expect(page.get_by_test_id("offline-queue")).to_be_hidden()
    context.close()


def test_signing_out_empties_what_the_device_kept(app, live_server, browser, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, live_server, toledo.people["ct"].email)
    _until(lambda: f"/t/toledo/cases/{case_id}" in _kept_pages(page), "the case to be kept")
    with Offline(context):  # kept: readable offline
        page.goto(f"{live_server}/t/toledo/cases/{case_id}")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Person lee")

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url("**/t/toledo/login")
    kept = page.evaluate(
        """async () => ({
            caches: await caches.keys(),
            workers: (await navigator.serviceWorker.getRegistrations()).length,
            databases: (await indexedDB.databases()).map((d) => d.name),
        })"""
    )
    assert kept == {"caches": [], "workers": 0, "databases": []}
    with Offline(context):
        try:
            page.goto(f"{live_server}/t/toledo/cases/{case_id}")
        except Exception as exc:  # Chromium's own offline error: nothing served it
            assert "ERR_INTERNET_DISCONNECTED" in str(exc)
        else:
            assert "Person lee" not in page.content()
    context.close()
