"""No district can reach another's data: every route, HTML and API, with the other's ids."""

from __future__ import annotations

import pytest

from app.security.matrix import MATRIX
from app.security.roles import TENANT_ROLE_KEYS
from tests.conftest import make_app
from tests.factories import api_token
from tests.routes import calls, object_args, sign_in, values_in


@pytest.fixture
def open_app(migrated):
    """CSRF off, so unsafe methods reach the object lookup rather than stopping at the token."""
    return make_app(migrated, WTF_CSRF_ENABLED=False)


def _tenant_routes_with_args(app):
    return [c for c in calls(app) if object_args(c.rule) and "tenant_slug" in c.rule.arguments]


def test_every_route_with_another_districts_ids_is_not_found(open_app, two_districts):
    alpha, bravo = two_districts
    client = open_app.test_client()
    user = alpha.people["all"]
    sign_in(client, user)
    headers = {"Authorization": f"Bearer {api_token(client, alpha.tenant, user)}"}
    secrets = [bravo.people["teacher"].email, "Bravo Schools", "Revision 3"]
    walked = 0
    for call in _tenant_routes_with_args(open_app):
        values = values_in(open_app, bravo.tenant.id, object_args(call.rule), bravo.natural)
        url = call.url(open_app, {"tenant_slug": alpha.tenant.slug, **values})
        response = client.open(url, method=call.method, headers=headers, json={})
        assert response.status_code == 404, f"{call.method} {url} gave {response.status_code}"
        for secret in secrets:
            assert secret not in response.text, f"{call.method} {url} leaked {secret!r}"
        walked += 1
    assert walked >= 10, "the walk found too few routes with arguments to mean anything"


def test_the_same_routes_with_own_ids_are_found(open_app, two_districts):
    """The control: the walk's 404s come from isolation, not from broken routes."""
    alpha, _ = two_districts
    client = open_app.test_client()
    user = alpha.people["all"]
    sign_in(client, user)
    headers = {"Authorization": f"Bearer {api_token(client, alpha.tenant, user)}"}
    for call in _tenant_routes_with_args(open_app):
        if call.method != "GET":
            continue
        values = values_in(open_app, alpha.tenant.id, object_args(call.rule), alpha.natural)
        url = call.url(open_app, {"tenant_slug": alpha.tenant.slug, **values})
        response = client.get(url, headers=headers)
        assert response.status_code == 200, f"GET {url} gave {response.status_code}"


def test_list_pages_show_nothing_of_another_district(open_app, two_districts):
    alpha, bravo = two_districts
    client = open_app.test_client()
    user = alpha.people["all"]
    sign_in(client, user)
    headers = {"Authorization": f"Bearer {api_token(client, alpha.tenant, user)}"}
    secrets = [bravo.people["teacher"].email, "Bravo Schools", "Revision 3"]
    listed = 0
    for call in calls(open_app):
        if (
            call.method != "GET"
            or object_args(call.rule)
            or "tenant_slug" not in call.rule.arguments
        ):
            continue
        url = call.url(open_app, {"tenant_slug": alpha.tenant.slug})
        response = client.get(url, headers=headers)
        assert response.status_code in (200, 302), f"GET {url} gave {response.status_code}"
        body = response.get_data()  # bytes: an image or a file is read as well as a page
        for secret in secrets:
            assert secret.encode() not in body, f"GET {url} leaked {secret!r}"
        listed += 1
    assert listed >= 8


def test_a_session_of_one_district_is_worthless_in_another(client, two_districts):
    alpha, _bravo = two_districts
    sign_in(client, alpha.people["all"])
    assert client.get("/t/alpha/").status_code == 200
    response = client.get("/t/bravo/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/t/bravo/login")


def test_a_token_of_one_district_is_refused_by_another(client, two_districts):
    alpha, _ = two_districts
    token = api_token(client, alpha.tenant, alpha.people["all"])
    response = client.get("/api/v1/t/bravo/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "errors" in response.json


@pytest.mark.parametrize("role", sorted(TENANT_ROLE_KEYS))
def test_each_role_walks_its_own_routes_with_another_districts_ids_and_gets_nothing(
    open_app, two_districts, role
):
    """The same walk as each single role: whatever a role may call, another district's ids
    give nothing (404, or 403 where the role may not touch such a record at all)."""
    alpha, bravo = two_districts
    client = open_app.test_client()
    user = alpha.people[role]
    sign_in(client, user)
    headers = {"Authorization": f"Bearer {api_token(client, alpha.tenant, user)}"}
    secrets = [bravo.people["teacher"].email, "Bravo Schools", "Revision 3"]
    walked = 0
    for call in _tenant_routes_with_args(open_app):
        if role not in MATRIX[call.endpoint].roles:
            continue
        values = values_in(open_app, bravo.tenant.id, object_args(call.rule), bravo.natural)
        url = call.url(open_app, {"tenant_slug": alpha.tenant.slug, **values})
        response = client.open(url, method=call.method, headers=headers, json={})
        assert response.status_code in (403, 404), (
            f"{role}: {call.method} {url} gave {response.status_code}"
        )
        for secret in secrets:
            assert secret not in response.text, f"{role}: {call.method} {url} leaked {secret!r}"
        walked += 1
    assert walked >= 3, f"{role} walked too few routes to mean anything"
