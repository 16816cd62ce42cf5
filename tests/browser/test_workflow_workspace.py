"""In a real browser: a program admin edits the panel rule, sees a bad edit's errors, publishes."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_admin_edits_panel_rule_sees_errors_and_publishes(
    live_server, browser, make_tenant, make_user
):
    tenant = make_tenant("toledo", "Toledo PAR", preset="toledo")
    admin = make_user(tenant, "program_admin", email="admin@toledo.example.org")
    page = browser.new_context().new_page()
    page.goto(f"{live_server}/t/toledo/login")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server}/t/toledo/admin/workflow")
    assert page.get_by_text("Decision needs 6 of 9 seats").is_visible()
    page.get_by_role("link", name="Edit", exact=True).click()

    page.get_by_label("Panel quorum").fill("40")
    page.get_by_role("button", name="Save the draft").click()
    error = page.locator("#quorum-errors")
    assert "panel.quorum: must be <= seats (9)" in error.inner_text()
    assert page.get_by_label("Panel quorum").get_attribute("aria-invalid") == "true"

    page.get_by_label("Panel quorum").fill("5")
    page.get_by_label("Decision rule").select_option("majority")
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(f"{live_server}/t/toledo/admin/workflow")
    assert page.get_by_text("Changes in the draft, not yet published").is_visible()
    page.get_by_role("button", name="Publish as version 2").click()
    assert page.get_by_text("Published version 2").is_visible()
    panel = page.locator("section", has=page.get_by_role("heading", name="Panel")).inner_text()
    assert "Decision needs 6 of 9 seats" not in panel
    assert "majority" in panel
