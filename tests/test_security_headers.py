"""Each security header, on pages, API answers and errors; HSTS only where https is promised."""

from __future__ import annotations

import pytest

from app.security import headers
from tests.conftest import make_app
from tests.factories import login


@pytest.fixture
def page(client, make_tenant):
    make_tenant("alpha")
    return client.get("/t/alpha/login")


def test_the_content_security_policy_allows_no_inline_script(page):
    policy = page.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"


def _form_action(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    return directives["form-action"].split()


def test_forms_leave_only_for_stripe(page, migrated, make_tenant):
    assert _form_action(page) == [
        "'self'",
        "https://checkout.stripe.com",
        "https://billing.stripe.com",
    ]
    # A deployment pointed at another Stripe (a test server) sends people to its pages.
    app = make_app(migrated, STRIPE_API_BASE="http://127.0.0.1:8420/v1")
    other = app.test_client().get("/t/alpha/login")
    assert _form_action(other)[-1] == "http://127.0.0.1:8420"
    assert "https://evil.example" not in _form_action(other)


def test_no_framing(page):
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_nosniff(page):
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_referrer_policy(page):
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_no_hsts_where_https_is_not_promised(page):
    assert "Strict-Transport-Security" not in page.headers


def test_hsts_in_production(migrated, make_tenant):
    app = make_app(migrated, HSTS=True)
    make_tenant("alpha")
    response = app.test_client().get("/t/alpha/login")
    assert response.headers["Strict-Transport-Security"] == headers.HSTS
    from config import Production

    assert Production.HSTS is True


def test_api_answers_and_errors_carry_the_headers_too(client, make_tenant):
    make_tenant("alpha")
    for response in (client.get("/api/v1/openapi.json"), client.get("/t/alpha/no-such-page")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_signed_in_pages_are_not_cached(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    login(client, tenant, teacher)
    assert client.get("/t/alpha/").headers["Cache-Control"] == "no-store"


def test_the_request_size_is_capped(client, make_tenant, app):
    make_tenant("alpha")
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/t/alpha/login", data=too_big, content_type="text/plain")
    assert response.status_code == 413
