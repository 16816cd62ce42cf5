"""The JSON API: tokens, ``me``, users, error bodies, and the OpenAPI document."""

from __future__ import annotations

import pytest

from tests.factories import api_token


@pytest.fixture
def admin_api(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    admin = make_user(tenant, "program_admin", email="admin@alpha.example.org")
    token = api_token(client, tenant, admin)
    return client, {"Authorization": f"Bearer {token}"}, admin


def test_token_then_me_returns_the_user_and_roles(admin_api):
    client, headers, admin = admin_api
    response = client.get("/api/v1/t/alpha/me", headers=headers)
    assert response.status_code == 200
    assert response.json == {
        "id": admin.id,
        "email": "admin@alpha.example.org",
        "name": admin.name,
        "roles": ["program_admin"],
        "active": True,
    }


def test_token_response_has_token_and_expiry(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    user = make_user(tenant, "teacher")
    response = client.post(
        "/api/v1/t/alpha/auth/token",
        json={"email": user.email, "password": "correct horse battery"},
    )
    assert response.status_code == 201
    assert set(response.json) == {"token", "expires_at"}


def test_bad_json_body_names_each_field(client, make_tenant):
    make_tenant("alpha")
    response = client.post("/api/v1/t/alpha/auth/token", json={"email": "not-an-email"})
    assert response.status_code == 422
    assert response.json["errors"]["email"] == ["Not a valid email address."]
    assert response.json["errors"]["password"] == ["Missing data for required field."]


def test_a_body_that_is_not_an_object_is_422(client, make_tenant):
    make_tenant("alpha")
    response = client.post("/api/v1/t/alpha/auth/token", data="nope")
    assert response.status_code == 422
    assert "_schema" in response.json["errors"]


def test_admin_creates_a_user_and_pages_through_users(admin_api):
    client, headers, _ = admin_api
    created = client.post(
        "/api/v1/t/alpha/users",
        headers=headers,
        json={"email": "CT@alpha.example.org", "name": "Casey", "roles": ["consulting_teacher"]},
    )
    assert created.status_code == 201
    assert created.json["email"] == "ct@alpha.example.org"
    listing = client.get("/api/v1/t/alpha/users", headers=headers)
    assert listing.json["total"] == 2
    assert [u["name"] for u in listing.json["items"]] == sorted(
        u["name"] for u in listing.json["items"]
    )


def test_duplicate_email_is_a_409_that_changes_nothing(admin_api):
    client, headers, admin = admin_api
    response = client.post(
        "/api/v1/t/alpha/users",
        headers=headers,
        json={"email": admin.email, "name": "Again", "roles": ["teacher"]},
    )
    assert response.status_code == 409
    assert "already has an account" in response.json["errors"]["email"][0]
    assert client.get("/api/v1/t/alpha/users", headers=headers).json["total"] == 1


def test_unknown_role_is_422(admin_api):
    client, headers, _ = admin_api
    response = client.post(
        "/api/v1/t/alpha/users",
        headers=headers,
        json={"email": "x@alpha.example.org", "name": "X", "roles": ["superintendent"]},
    )
    assert response.status_code == 422
    assert "roles.0" in response.json["errors"]


def test_replacing_roles(admin_api):
    client, headers, _ = admin_api
    created = client.post(
        "/api/v1/t/alpha/users",
        headers=headers,
        json={"email": "p@alpha.example.org", "name": "P", "roles": ["teacher"]},
    ).json
    response = client.put(
        f"/api/v1/t/alpha/users/{created['id']}/roles",
        headers=headers,
        json={"roles": ["principal", "panel_member"]},
    )
    assert response.status_code == 200
    assert response.json["roles"] == ["panel_member", "principal"]


def test_a_missing_object_is_a_json_404(admin_api):
    client, headers, _ = admin_api
    response = client.get("/api/v1/t/alpha/users/999999", headers=headers)
    assert response.status_code == 404
    assert response.json == {"errors": {"_request": ["Not found."]}}


def test_a_teacher_is_403_on_admin_endpoints(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    token = api_token(client, tenant, teacher)
    response = client.get("/api/v1/t/alpha/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json["errors"]["_request"] == ["Your role does not allow this."]


def test_openapi_document_lists_every_api_route_with_schemas(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    api_rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
    }
    documented = {path.replace("{", "<").replace("}", ">") for path in spec["paths"]}
    normalised = {r.replace("<int:", "<") for r in api_rules}
    assert normalised == documented
    schemas = spec["components"]["schemas"]
    assert {"TokenRequest", "Token", "User", "UserCreate"} <= set(schemas)
    token_op = spec["paths"]["/api/v1/t/{tenant_slug}/auth/token"]["post"]
    assert "security" not in token_op
    assert "422" in token_op["responses"]
