"""The one operation shape: every view in a unit of work, refusals mapped in one place,
bad input refused at the edge. Probes that used to reach a 500 are 4xx and change nothing."""

from __future__ import annotations

import json
from datetime import date

from flask import abort
from sqlalchemy import func, select

from app.blueprints import operation
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.user import User
from app.services import audit
from app.services.actors import Actor
from app.services.errors import Conflict
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser
from tests.factories import csrf_token


def _count(app, tenant_id: int, model) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_json_nested_a_thousand_deep_is_a_400_even_anonymously(app, district):
    d = district("boston", "boston_esp")
    body = "[" * 1000 + "]" * 1000
    response = app.test_client().post(
        f"/api/v1/t/{d.slug}/auth/token", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "deeper than" in response.json["errors"]["_schema"][0]


def test_a_workflow_document_nested_three_thousand_deep_is_refused(app, district):
    d = district("boston", "boston_esp")
    admin = Api(app, d, d.people["admin"])
    yaml_text = "a: " + "[" * 3000 + "]" * 3000
    response = admin.post("/workflow/draft/validate", json={"text": yaml_text})
    assert response.status_code == 422, response.text
    assert "nests deeper than 32 levels" in response.text
    page = Browser(app, d, d.people["admin"])
    form = page.post("/admin/workflow/yaml", "/admin/workflow/yaml", {"text": yaml_text})
    assert 400 <= form.status_code < 500
    assert "nests deeper than 32 levels" in form.text


def test_nul_in_the_public_enrollment_form_is_refused_and_writes_nothing(app, district):
    d = district("boston", "boston_esp")
    client = app.test_client()
    page = client.get(f"/t/{d.slug}/enroll")
    before = _count(app, d.tenant.id, Case), _count(app, d.tenant.id, User)
    response = client.post(
        f"/t/{d.slug}/enroll",
        data={
            "name": "Ann\x00Lee",
            "email": "ann@bps.org",
            "school": "Adams",
            "track": "pa",
            "letter": "Please.",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 422
    assert "NUL" in response.text
    assert (_count(app, d.tenant.id, Case), _count(app, d.tenant.id, User)) == before


def _writes_an_event_then(app, tenant_id: int, answer):
    """A view that writes an audit event, then answers as ``answer`` says."""

    def view():
        audit.record(tenant_id, "probe.wrote", "probe", 1, actor=Actor.system())
        return answer()

    with app.test_request_context("/", method="POST"), tenant_scope(tenant_id):
        try:
            return operation.unit_of_work(view)()
        except Exception as exc:  # the error handlers' job, outside this probe
            return exc


def _probes(app, tenant_id: int) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "probe.wrote")
        ).scalar_one()


def test_the_unit_of_work_keeps_a_success_and_nothing_of_a_failure(app, district):
    d = district("boston", "boston_esp")
    tid = d.tenant.id
    _writes_an_event_then(app, tid, lambda: ("refused", 409))
    _writes_an_event_then(app, tid, lambda: abort(404))
    raised = _writes_an_event_then(app, tid, lambda: (_ for _ in ()).throw(Conflict("no")))
    assert isinstance(raised, Conflict)
    assert _probes(app, tid) == 0
    _writes_an_event_then(app, tid, lambda: ("done", 200))
    assert _probes(app, tid) == 1


def test_a_unique_key_taken_at_commit_is_a_409_not_a_500(app, district):
    """Two people with one address, the second written behind the service's back: the
    database refuses it and the request answers 409 with nothing kept."""
    d = district("boston", "boston_esp")
    tid = d.tenant.id

    def view():
        db.session.add(User(tenant_id=tid, email=d.people["admin"].email, name="Twin"))
        return "done", 200

    with app.test_request_context("/", method="POST"), tenant_scope(tid):
        try:
            operation.unit_of_work(view)()
        except Exception as exc:
            refusal = operation.as_refusal(exc)
    assert refusal is not None and refusal.status == 409
    assert _count(app, tid, User) == len(d.people)


def test_json_depth_is_read_without_parsing():
    assert operation.json_depth(b'{"a": [1, {"b": "[[[["}]}') == 3
    assert operation.json_depth(json.dumps({"x": "\\" + '"' + "{{{"}).encode()) == 1
    assert operation.json_depth(b"[" * 40 + b"]" * 40) == 40


def test_an_out_of_range_id_in_a_query_is_a_4xx(app, district):
    d = district("boston", "boston_esp")
    api = Api(app, d, d.people["coordinator"])
    response = api.get("/cases", query_string={"ct_id": "99999999999", "year": date.today().year})
    assert 400 <= response.status_code < 500, response.text
