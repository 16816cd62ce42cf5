"""In a real browser, the strict Content Security Policy breaks no page: nothing is blocked."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_the_pages_run_under_the_policy_with_nothing_blocked(live_server, browser, seed_district):
    seeded = seed_district("alpha", "induction_minimal", "induction")
    person = seeded.people["all"]
    page = browser.new_context().new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: blocked.append(str(error)))

    first = page.goto(f"{live_server}/t/alpha/login")
    assert "script-src 'self'" in first.headers["content-security-policy"]
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/t/alpha/")

    visited = 0
    for path in (
        "/t/alpha/",
        "/t/alpha/cases/",
        "/t/alpha/admin/workflow",
        "/t/alpha/admin/users",
        "/t/alpha/admin/sso",
        "/t/alpha/reports/annual",
        "/t/alpha/panel/",
        "/t/alpha/roster/",
    ):
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, f"{path} gave {response.status}"
        page.wait_for_load_state("load")
        # The stylesheet applied: the page is styled, so 'self' styles were not blocked.
        assert page.evaluate("document.styleSheets.length") >= 1
        visited += 1
    assert visited == 8
    assert blocked == []
