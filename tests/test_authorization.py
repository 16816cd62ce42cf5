"""The authorization matrix is complete, and each route admits exactly its roles."""

from __future__ import annotations

import pytest

from app.core.uow import commit
from app.security.matrix import MATRIX, PLATFORM, PUBLIC, TENANT, TENANT_PUBLIC
from app.security.roles import PLATFORM_ROLE_KEYS, TENANT_ROLE_KEYS
from app.services import users
from tests.conftest import make_app
from tests.factories import PASSWORD, api_token
from tests.routes import calls, object_args, sign_in, values_in


@pytest.fixture
def open_app(migrated):
    return make_app(migrated, WTF_CSRF_ENABLED=False)


def test_every_route_is_in_the_matrix_and_the_matrix_names_only_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - MATRIX.keys()) == []
    assert sorted(MATRIX.keys() - endpoints) == []


def test_an_endpoint_missing_from_the_matrix_is_refused(migrated):
    app = make_app(migrated)

    @app.get("/unlisted")
    def unlisted():
        return "should never be served"

    response = app.test_client().get("/unlisted")
    assert response.status_code == 403


def _tenant_calls(app):
    return [c for c in calls(app) if MATRIX[c.endpoint].audience == TENANT]


@pytest.fixture
def district(seed_district):
    seeded = seed_district("matrix", "toledo", "intervention", extra_versions=1)
    return seeded.tenant, seeded.people, seeded.natural


@pytest.mark.parametrize("role", sorted(TENANT_ROLE_KEYS))
def test_tenant_routes_admit_exactly_the_roles_the_matrix_lists(open_app, district, role):
    tenant, people, natural = district
    client = open_app.test_client()
    sign_in(client, people[role])
    token = api_token(client, tenant, people[role])
    for call in _tenant_calls(open_app):
        if call.endpoint in ("auth.logout", "auth.logout_everywhere", "api.revoke_token"):
            continue  # they end the very session the walk uses; checked below
        rule = MATRIX[call.endpoint]
        values = {
            "tenant_slug": tenant.slug,
            **values_in(open_app, tenant.id, object_args(call.rule), natural),
        }
        url = call.url(open_app, values)
        response = client.open(
            url, method=call.method, json={}, headers={"Authorization": f"Bearer {token}"}
        )
        where = f"{call.method} {url} as {role}"
        if role in rule.roles:
            assert response.status_code not in (401, 403), where
            assert response.status_code < 500, where
            assert "/login" not in response.headers.get("Location", ""), where
        else:
            assert response.status_code == 403, f"{where} gave {response.status_code}"


_SIGN_OUTS = {
    "auth.logout": ("POST", "/t/matrix/logout"),
    "auth.logout_everywhere": ("POST", "/t/matrix/logout/everywhere"),
    "api.revoke_token": ("DELETE", "/api/v1/t/matrix/auth/token"),
}


@pytest.mark.parametrize("endpoint", sorted(_SIGN_OUTS))
def test_every_role_may_sign_out(open_app, district, endpoint):
    tenant, people, _ = district
    method, url = _SIGN_OUTS[endpoint]
    for role, person in people.items():
        client = open_app.test_client()
        sign_in(client, person)
        token = api_token(client, tenant, person)
        response = client.open(url, method=method, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (204, 302), role
        if method == "POST":
            assert response.headers["Location"] == "/t/matrix/login", role


def test_anonymous_callers_are_sent_to_sign_in_or_told_401(open_app, district):
    tenant, _, natural = district
    client = open_app.test_client()
    for call in _tenant_calls(open_app):
        values = {
            "tenant_slug": tenant.slug,
            **values_in(open_app, tenant.id, object_args(call.rule), natural),
        }
        url = call.url(open_app, values)
        response = client.open(url, method=call.method, json={})
        if call.is_api:
            assert response.status_code == 401, url
            assert response.json["errors"]["auth"]
        else:
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith(f"/t/{tenant.slug}/login")


@pytest.mark.parametrize("role", sorted(PLATFORM_ROLE_KEYS))
def test_platform_routes_admit_exactly_their_roles(open_app, role):
    with open_app.app_context():
        users.create_platform_user(f"{role}@parley.example.org", role, role, PASSWORD)
        commit()
    client = open_app.test_client()
    page = client.post(
        "/ops/login", data={"email": f"{role}@parley.example.org", "password": PASSWORD}
    )
    assert page.status_code == 302
    for call in calls(open_app):
        rule = MATRIX[call.endpoint]
        if rule.audience != PLATFORM or call.endpoint == "ops.logout":
            continue
        response = client.open(call.url(open_app, {}), method=call.method)
        if role in rule.roles:
            assert response.status_code == 200, call.endpoint
        else:
            assert response.status_code == 403, call.endpoint


def test_a_platform_account_cannot_use_a_district_portal(open_app, district):
    tenant, _, _ = district
    with open_app.app_context():
        users.create_platform_user("op@parley.example.org", "Op", "operator", PASSWORD)
        commit()
    client = open_app.test_client()
    client.post("/ops/login", data={"email": "op@parley.example.org", "password": PASSWORD})
    response = client.get(f"/t/{tenant.slug}/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_public_routes_need_no_sign_in(open_app, district):
    tenant, _, natural = district
    client = open_app.test_client()
    for call in calls(open_app):
        rule = MATRIX[call.endpoint]
        if rule.audience not in (PUBLIC, TENANT_PUBLIC) or call.method != "GET":
            continue
        values = values_in(open_app, tenant.id, object_args(call.rule), natural)
        if "tenant_slug" in call.rule.arguments:
            values["tenant_slug"] = tenant.slug
        url = call.url(open_app, values)
        response = client.get(url)
        # Single sign-on's doors send a district without it back to the password form.
        to_login = response.status_code == 302 and response.location.endswith("/login")
        assert response.status_code in (200, 400) or to_login, f"{url} gave {response.status_code}"
