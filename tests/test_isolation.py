"""No district can reach another's data: every route, HTML and API, with the other's ids."""

from __future__ import annotations

import pytest

from app.security.roles import TENANT_ROLE_KEYS
from tests.conftest import make_app
from tests.factories import api_token
from tests.routes import calls, ids_in, object_args, sign_in


@pytest.fixture
def open_app(migrated):
    """CSRF off, so unsafe methods reach the object lookup rather than stopping at the token."""
    return make_app(migrated, WTF_CSRF_ENABLED=False)


@pytest.fixture
def two_districts(make_tenant, make_user):
    a = make_tenant("alpha", "Alpha Unified")
    b = make_tenant("bravo", "Bravo County Schools")
    everyone_a = make_user(a, *sorted(TENANT_ROLE_KEYS), email="all.roles@alpha.example.org")
    secret_b = make_user(
        b, "teacher", "program_admin", email="confidential.teacher@bravo.example.org"
    )
    return a, b, everyone_a, secret_b


def test_every_route_with_another_districts_ids_is_not_found(open_app, two_districts):
    a, b, user_a, user_b = two_districts
    token = None
    client = open_app.test_client()
    sign_in(client, user_a)
    walked = 0
    for call in calls(open_app):
        args = object_args(call.rule)
        if not args or "tenant_slug" not in call.rule.arguments:
            continue
        url = call.url(open_app, {"tenant_slug": a.slug, **ids_in(open_app, b.id, args)})
        headers = {}
        if call.is_api:
            token = token or api_token(client, a, user_a)
            headers["Authorization"] = f"Bearer {token}"
        response = client.open(url, method=call.method, headers=headers, json={})
        assert response.status_code == 404, f"{call.method} {url} gave {response.status_code}"
        assert user_b.email not in response.text, f"{call.method} {url} leaked tenant B data"
        walked += 1
    assert walked >= 3, "the walk found too few routes with object ids to mean anything"


def test_the_same_routes_with_own_ids_are_found(open_app, two_districts):
    """The control: the walk's 404s come from isolation, not from broken routes."""
    a, _, user_a, _ = two_districts
    client = open_app.test_client()
    sign_in(client, user_a)
    token = api_token(client, a, user_a)
    for call in calls(open_app):
        args = object_args(call.rule)
        if call.method != "GET" or not args or "tenant_slug" not in call.rule.arguments:
            continue
        url = call.url(open_app, {"tenant_slug": a.slug, **ids_in(open_app, a.id, args)})
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, f"GET {url} gave {response.status_code}"


def test_a_session_of_one_district_is_worthless_in_another(client, two_districts):
    a, b, user_a, _ = two_districts
    sign_in(client, user_a)
    assert client.get(f"/t/{a.slug}/").status_code == 200
    response = client.get(f"/t/{b.slug}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/t/{b.slug}/login")


def test_a_token_of_one_district_is_refused_by_another(client, two_districts):
    a, b, user_a, _ = two_districts
    token = api_token(client, a, user_a)
    response = client.get(f"/api/v1/t/{b.slug}/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "errors" in response.json
