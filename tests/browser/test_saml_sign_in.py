"""SAML sign-in in a real browser: the provider is another site (``localhost`` beside the
app's ``127.0.0.1``), so its POST to the ACS is cross-site and the ``SameSite=Lax`` session
cookie stays behind; the sign-in must still find the request it started. The settings page
reads well at both widths."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug.serving import make_server

from app.core import uow
from app.services import saml_sso
from app.tenants.context import tenant_scope
from tests.browser.conftest import _free_port
from tests.browser.pagewalk import DESKTOP, PHONE, Checks, problems_on, session_cookie
from tests.conftest import make_app
from tests.saml_idp import IdentityProvider, start

pytestmark = pytest.mark.browser


@pytest.fixture
def saml_site(migrated) -> Iterator[tuple[object, str]]:
    """The app served on loopback, with ``PUBLIC_BASE_URL`` the address it is served at."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(migrated, PUBLIC_BASE_URL=base)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, base
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def cross_site_idp(tmp_path_factory) -> Iterator[IdentityProvider]:
    yield from start(tmp_path_factory, "browser-idp", host="localhost")


def test_a_person_signs_in_through_the_provider_in_chromium(
    saml_site, cross_site_idp, make_tenant, make_user, browser
):
    app, base = saml_site
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher", email="t@alpha.example.org")
    cross_site_idp.trust(requests.get(f"{base}/t/alpha/sso/saml/metadata", timeout=10).text)
    cross_site_idp.add_user("tess", mail="t@alpha.example.org", displayName="Tess")
    with app.app_context(), tenant_scope(tenant.id):
        saml_sso.save_settings(
            {
                "enabled": True,
                "idp_metadata": cross_site_idp.metadata(),
                "passwords_allowed": True,
                "new_users": "refuse",
            }
        )
        uow.commit()

    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{base}/t/alpha/login")
    page.get_by_role("link", name="Sign in with your district").click()
    page.wait_for_url(f"{cross_site_idp.sso_url}*")
    page.get_by_label("User name").fill("tess")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/t/alpha/")
    assert page.get_by_test_id("tenant-name").inner_text() == "Alpha Public Schools"
    assert "Sign in to" not in page.content()


def test_the_saml_settings_page_reads_well_at_both_widths(
    app, browser, live_server, make_tenant, make_user, cross_site_idp
):
    """With a provider set up (its facts shown first); the page walk reads it without."""
    tenant = make_tenant("alpha")
    admin = make_user(tenant, "program_admin")
    with app.app_context(), tenant_scope(tenant.id):
        saml_sso.save_settings(
            {
                "enabled": True,
                "idp_metadata": cross_site_idp.metadata(),
                "passwords_allowed": True,
                "new_users": "refuse",
            }
        )
        uow.commit()
    context = browser.new_context()
    name = app.config["SESSION_COOKIE_NAME"]
    context.add_cookies([{"name": name, "value": session_cookie(app, admin), "url": live_server}])
    page = context.new_page()
    checks = Checks(page)
    problems = []
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        response = page.goto(f"{live_server}/t/alpha/admin/sso")
        assert response.status == 200
        assert page.get_by_label("Identity provider metadata (XML)").is_visible()
        assert cross_site_idp.sso_url in page.content()
        problems += problems_on(page, phone=size is PHONE) + checks.take()
    assert problems == []
