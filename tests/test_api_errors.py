"""Bad input to the API is a 4xx ``{"errors": {...}}`` that changes nothing, never a 500.

Each test here pins a request the fuzzer (tests/test_api_fuzz.py) once turned into a crash
or an answer the OpenAPI document did not describe.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.case import Case
from app.models.support import Evidence
from app.tenants.context import tenant_scope
from tests.casework import Api

TOO_BIG = 2**31  # one past the largest PostgreSQL ``integer``


@pytest.fixture
def toledo(district):
    return district("toledo", "toledo")


@pytest.fixture
def admin(app, toledo) -> Api:
    return Api(app, toledo, toledo.people["admin"])


def _count(app, toledo, model) -> int:
    with app.app_context(), tenant_scope(toledo.tenant.id):
        return db.session.execute(select(func.count(model.id))).scalar()


def test_a_nul_character_in_a_json_string_is_a_422_that_writes_nothing(app, toledo):
    coordinator = Api(app, toledo, toledo.people["coordinator"])
    response = coordinator.post(
        "/enrollments",
        json={
            "name": "Ann Able",
            "email": "ann@toledo.org",
            "school": "Adams",
            "track": "intervention",
            "letter": "I would like\x00 support.",
        },
    )
    assert response.status_code == 422
    assert response.json == {"errors": {"letter": ["must not contain NUL characters"]}}
    assert _count(app, toledo, Case) == 0


def test_a_nul_character_in_a_nested_key_is_named_without_it(admin):
    response = admin.client.put(
        f"/api/v1/t/{admin.slug}/workflow/draft",
        json={"document": {"pro\x00gram": {}}},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert response.json == {"errors": {"document.pro\\0gram": ["must not contain NUL characters"]}}


def test_a_nul_character_in_the_query_string_is_a_422(admin):
    response = admin.get("/cases?school=Adams%00")
    assert response.status_code == 422
    assert response.json == {"errors": {"school": ["must not contain NUL characters"]}}


def test_a_nul_character_in_a_multipart_field_is_a_422_that_writes_nothing(
    app, toledo, make_user, make_case
):
    teacher = make_user(toledo.tenant, "teacher")
    case = make_case(toledo.tenant, teacher, "intervention")
    staff = make_user(toledo.tenant, "consulting_teacher", "program_admin")
    response = Api(app, toledo, staff).post(
        f"/cases/{case.id}/evidence",
        data={"text": "Lesson\x00 plan", "file": (io.BytesIO(b"%PDF-1.4\n"), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.json == {"errors": {"text": ["must not contain NUL characters"]}}
    assert _count(app, toledo, Evidence) == 0


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", f"/cases/{TOO_BIG}"),
        ("POST", f"/cases/{TOO_BIG}/transitions"),
        ("GET", f"/users/{TOO_BIG}"),
        ("PUT", f"/users/{TOO_BIG}/roles"),
        ("GET", f"/panel-sessions/{TOO_BIG}"),
        ("GET", f"/workflow/versions/{TOO_BIG}"),
        ("GET", f"/workflow/versions/1/diff/{TOO_BIG}"),
    ],
)
def test_an_id_no_row_can_have_is_a_json_404(admin, method, path):
    response = admin.client.open(
        f"/api/v1/t/{admin.slug}{path}", method=method, headers=admin.headers, json={}
    )
    assert response.status_code == 404
    assert response.json == {"errors": {"_request": ["Not found."]}}


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/cases", {"teacher_id": TOO_BIG, "track": "intervention"}, "teacher_id"),
        ("/panel-members", {"user_id": TOO_BIG, "constituency": "teachers"}, "user_id"),
        ("/workflow/migrations", {"to_version": 1, "case_ids": [TOO_BIG]}, "case_ids.0"),
    ],
)
def test_an_id_in_the_body_no_row_can_have_is_a_422_naming_it(
    app, toledo, admin, path, body, field
):
    response = admin.post(path, json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert _count(app, toledo, Case) == 0


def test_a_page_no_list_can_have_is_a_422(admin):
    response = admin.get(f"/users?page={2**63}")
    assert response.status_code == 422
    assert "page" in response.json["errors"]


def test_an_unknown_track_kind_for_the_network_is_a_422(app, client):
    from app.core import uow
    from app.services import users
    from tests.factories import PASSWORD

    with app.app_context():
        users.create_platform_user("an@parley.org", "Analyst", "network_analyst", PASSWORD)
        uow.commit()
    from tests.factories import csrf_token

    page = client.get("/ops/login")
    client.post(
        "/ops/login",
        data={"email": "an@parley.org", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    response = client.get("/api/v1/network/outcomes?track_kind=everything")
    assert response.status_code == 422
    assert "track_kind" in response.json["errors"]


def _operation(client, path: str, method: str) -> dict:
    return client.get("/api/v1/openapi.json").json["paths"][path][method]


def test_the_document_declares_the_refusals_every_operation_can_give(client):
    for path, operations in client.get("/api/v1/openapi.json").json["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert {"400", "404", "422", "429"} <= statuses, f"{method} {path}"
            if "security" in operation and "{tenant_slug}" in path:
                assert {"401", "402", "403"} <= statuses, f"{method} {path}"


def test_the_document_declares_a_wrong_password_and_the_validation_report(client):
    token = _operation(client, "/api/v1/t/{tenant_slug}/auth/token", "post")
    assert token["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    validate = _operation(client, "/api/v1/t/{tenant_slug}/workflow/draft/validate", "post")
    assert validate["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationReport"
    }


def test_the_document_declares_query_arguments_and_multipart_bodies(client):
    cases = _operation(client, "/api/v1/t/{tenant_slug}/cases", "get")
    query = {p["name"] for p in cases["parameters"] if p["in"] == "query"}
    assert {"page", "track", "state", "ct_id", "school", "year", "open"} <= query
    evidence = _operation(client, "/api/v1/t/{tenant_slug}/cases/{case_id}/evidence", "post")
    assert "multipart/form-data" in evidence["requestBody"]["content"]
    version = _operation(client, "/api/v1/t/{tenant_slug}/workflow/versions/{number}", "get")
    number = next(p for p in version["parameters"] if p["name"] == "number")
    assert number["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def test_a_lone_surrogate_in_a_json_string_is_a_422_that_writes_nothing(app, toledo):
    coordinator = Api(app, toledo, toledo.people["coordinator"])
    body = (
        '{"name": "Ann Able", "email": "ann@toledo.org", "school": "Adams", '
        '"track": "intervention", "letter": "half a pair: \\udc00"}'
    )
    response = coordinator.client.post(
        f"/api/v1/t/{coordinator.slug}/enrollments",
        data=body,
        content_type="application/json",
        headers=coordinator.headers,
    )
    assert response.status_code == 422
    assert response.json == {"errors": {"letter": ["must be valid Unicode text"]}}
    assert _count(app, toledo, Case) == 0


def test_an_unknown_multipart_field_is_a_422_that_writes_nothing(app, toledo, make_user, make_case):
    teacher = make_user(toledo.tenant, "teacher")
    case = make_case(toledo.tenant, teacher, "intervention")
    staff = make_user(toledo.tenant, "consulting_teacher", "program_admin")
    response = Api(app, toledo, staff).post(
        f"/cases/{case.id}/evidence",
        data={"text": "Lesson plan", "colour": "blue"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.json == {"errors": {"colour": ["Unknown field."]}}
    assert _count(app, toledo, Evidence) == 0


def test_a_file_field_sent_as_text_is_a_422(admin):
    response = admin.post(
        "/imports/cases", data={"file": "external_id\n"}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert response.json == {
        "errors": {"file": ["Attach a file (a multipart part with a file name)."]}
    }


def test_pages_and_api_answer_404_for_a_slug_or_id_no_row_can_have(client, make_tenant, make_user):
    from tests.factories import login

    tenant = make_tenant("alpha")
    admin = make_user(tenant, "program_admin")
    assert client.get("/t/al%00pha/login").status_code == 404
    assert client.get("/api/v1/t/al%00pha/me").status_code == 404
    login(client, tenant, admin)
    assert client.get("/t/alpha/admin/users/2147483648").status_code == 404
    assert client.get("/t/alpha/admin/users/2147483647").status_code == 404
