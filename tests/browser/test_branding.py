"""In a real browser, each district's portal wears its own name and colours."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, base, slug, email):
    page.goto(f"{base}/t/{slug}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/t/{slug}/")


def test_two_districts_each_show_their_own_branding(live_server, browser, make_tenant, make_user):
    boston = make_tenant(
        "boston", "Boston Educator Supports", primary_color="#00447c", accent_color="#fdb913"
    )
    toledo = make_tenant(
        "toledo", "Toledo Peer Review", primary_color="#5b2c6f", accent_color="#e67e22"
    )
    b_user = make_user(boston, "teacher", email="t@boston.example.org")
    t_user = make_user(toledo, "teacher", email="t@toledo.example.org")
    context = browser.new_context()
    page = context.new_page()

    _sign_in(page, live_server, "boston", b_user.email)
    assert page.get_by_test_id("tenant-name").inner_text() == "Boston Educator Supports"
    header_bg = page.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(0, 68, 124)"

    _sign_in(page, live_server, "toledo", t_user.email)
    assert page.get_by_test_id("tenant-name").inner_text() == "Toledo Peer Review"
    header_bg = page.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(91, 44, 111)"
    page.screenshot(path="/tmp/parley-toledo-home.png")
    context.close()
