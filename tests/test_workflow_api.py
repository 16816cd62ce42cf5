"""The configuration API: draft, validation errors by path, publish, versions, diff."""

from __future__ import annotations

import pytest

from tests.factories import api_token


@pytest.fixture
def admin(client, make_tenant, make_user):
    tenant = make_tenant("toledo", "Toledo PAR", preset="toledo")
    user = make_user(tenant, "program_admin")
    return client, {"Authorization": f"Bearer {api_token(client, tenant, user)}"}


def test_bad_document_is_422_with_every_error_by_path_and_nothing_saved(admin):
    client, headers = admin
    document = client.get("/api/v1/t/toledo/workflow/draft", headers=headers).json["document"]
    document["panel"]["quorum"] = 12
    document["outcomes"]["resigned"]["group"] = "other_exits"
    response = client.put(
        "/api/v1/t/toledo/workflow/draft", json={"document": document}, headers=headers
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["panel.quorum"] == ["must be <= seats (9)"]
    assert errors["outcomes.resigned.group"] == ["unknown report group 'other_exits'"]
    current = client.get("/api/v1/t/toledo/workflow/draft", headers=headers).json
    assert current["document"]["panel"]["quorum"] == 7


def test_validate_without_saving(admin):
    client, headers = admin
    response = client.post(
        "/api/v1/t/toledo/workflow/draft/validate",
        json={"text": "schema_version: 1\nprogram: {}\n"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json["ok"] is False
    assert response.json["errors"]


def test_unreadable_yaml_names_the_line(admin):
    client, headers = admin
    response = client.put(
        "/api/v1/t/toledo/workflow/draft", json={"text": "tracks: [unclosed"}, headers=headers
    )
    assert response.status_code == 422
    assert "line" in response.json["errors"]["(document)"][0]


def test_change_publish_list_and_diff(admin):
    client, headers = admin
    document = client.get("/api/v1/t/toledo/workflow/draft", headers=headers).json["document"]
    document["panel"]["decision_rule"] = {"kind": "majority"}
    saved = client.put(
        "/api/v1/t/toledo/workflow/draft", json={"document": document}, headers=headers
    )
    assert saved.status_code == 200, saved.json
    published = client.post("/api/v1/t/toledo/workflow/publish", json={}, headers=headers)
    assert published.status_code == 201
    assert published.json["number"] == 2
    again = client.post("/api/v1/t/toledo/workflow/publish", json={}, headers=headers)
    assert again.status_code == 422
    versions = client.get("/api/v1/t/toledo/workflow/versions", headers=headers).json
    assert [v["number"] for v in versions["items"]] == [2, 1]
    assert client.get("/api/v1/t/toledo/workflow/versions/1", headers=headers).status_code == 200
    assert client.get("/api/v1/t/toledo/workflow/versions/9", headers=headers).status_code == 404
    changes = client.get("/api/v1/t/toledo/workflow/versions/1/diff/2", headers=headers).json
    assert any(c["path"].startswith("panel.decision_rule") for c in changes["changes"])


def test_a_teacher_cannot_read_the_configuration(client, make_tenant, make_user):
    tenant = make_tenant("toledo", preset="toledo")
    teacher = make_user(tenant, "teacher")
    token = api_token(client, tenant, teacher)
    response = client.get(
        "/api/v1/t/toledo/workflow/draft", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
