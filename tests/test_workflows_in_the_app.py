"""The workflow layer inside the product: versions, cases under them, HTML and API alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.outbox import OutboxMessage
from app.services import workflow_config as configs
from app.tenants.context import all_tenants, tenant_scope
from tests.factories import api_token, csrf_token, login


@pytest.fixture
def boston(make_tenant, make_user):
    tenant = make_tenant("boston", "Boston ESP", preset="boston_esp")
    people = {
        role: make_user(tenant, role, email=f"{role}@bps.example.org")
        for role in ("program_admin", "coordinator", "teacher")
    }
    return tenant, people


def _case(app, tenant, case_id) -> Case:
    with app.app_context(), tenant_scope(tenant.id):
        case = db.session.get(Case, case_id)
        number = case.workflow_version.number
        db.session.expunge_all()
    case.version_number = number
    return case


def test_a_district_starts_from_its_preset_as_version_1(app, boston):
    tenant, _ = boston
    with app.app_context(), tenant_scope(tenant.id):
        versions = configs.published_versions()
        assert [v.number for v in versions] == [1]
        assert versions[0].document["program"]["short_name"] == "ESP"
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "workflow.published" in actions


def test_the_programs_name_for_a_ct_is_read_once_and_forgotten_on_publishing(app, boston):
    """Asked by many places on one page, the title costs one lookup; a request that
    publishes new wording reads the new title."""
    import copy

    from app.services import roster

    tenant, _ = boston
    with app.app_context(), tenant_scope(tenant.id):
        before = roster.ct_title()
        document = copy.deepcopy(configs.latest_published().document)
        document["program"].setdefault("wording", {})["ct_title"] = "Lead Teacher"
        configs.save_draft(document)
        assert roster.ct_title() == before  # a draft changes nothing yet
        configs.publish(note="Rochester's word")
        after = roster.ct_title()
        db.session.rollback()
    assert before != "Lead Teacher"
    assert after == "Lead Teacher"


def test_a_case_keeps_its_version_when_a_new_one_is_published(app, boston, make_case):
    tenant, people = boston
    old = make_case(tenant, people["teacher"], "pa")
    with app.app_context(), tenant_scope(tenant.id):
        document = configs.latest_published().document
        document["tracks"]["pa"]["states"]["intake"]["label"] = "Intake conversation"
        configs.save_draft(document)
        configs.publish(note="clearer wording")
        uow.commit()
    new = make_case(tenant, people["teacher"], "pa")
    assert _case(app, tenant, old.id).version_number == 1
    assert _case(app, tenant, new.id).version_number == 2


def test_same_action_by_form_and_by_api_gives_same_state_audit_and_outbox(
    app, client, boston, make_case
):
    tenant, people = boston
    by_form = make_case(tenant, people["teacher"], "pa")
    by_api = make_case(tenant, people["teacher"], "pa")
    coordinator = people["coordinator"]

    login(client, tenant, coordinator)
    page = client.get(f"/t/boston/cases/{by_form.id}")
    assert "Decline the request" in page.text
    response = client.post(
        f"/t/boston/cases/{by_form.id}/actions/decline",
        data={"csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302

    token = api_token(client, tenant, coordinator)
    response = client.post(
        f"/api/v1/t/boston/cases/{by_api.id}/transitions",
        json={"action": "decline"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.json
    assert response.json["state"] == "declined"

    with app.app_context(), tenant_scope(tenant.id):
        states = {c.id: c.state for c in db.session.execute(select(Case)).scalars()}
        events = {
            int(e.object_id): (e.action, e.before, e.after, e.actor_label)
            for e in db.session.execute(
                select(AuditEvent).where(AuditEvent.action == "case.decline")
            ).scalars()
        }
    with app.app_context(), all_tenants():
        outbox = {
            m.payload["case_id"]: (m.job, m.payload["template"], m.payload["to"])
            for m in db.session.execute(
                select(OutboxMessage).where(OutboxMessage.job == "mail.case_notice")
            ).scalars()
        }
    assert states[by_form.id] == states[by_api.id] == "declined"
    assert events[by_form.id] == events[by_api.id]
    assert (
        outbox[by_form.id]
        == outbox[by_api.id]
        == (
            "mail.case_notice",
            "request_declined",
            ["case_teacher"],
        )
    )


def test_a_refused_action_lists_every_reason_and_changes_nothing(app, client, boston, make_case):
    tenant, people = boston
    case = make_case(tenant, people["teacher"], "pa", latest_rating="proficient")
    token = api_token(client, tenant, people["coordinator"])
    headers = {"Authorization": f"Bearer {token}"}
    client.post(
        f"/api/v1/t/boston/cases/{case.id}/transitions",
        json={"action": "begin_intake"},
        headers=headers,
    )
    response = client.post(
        f"/api/v1/t/boston/cases/{case.id}/transitions", json={"action": "accept"}, headers=headers
    )
    assert response.status_code == 409
    assert any("latest rating must be one of" in m for m in response.json["errors"]["action"])
    assert _case(app, tenant, case.id).state == "intake"


def test_a_teacher_may_not_take_the_coordinators_action(client, boston, make_case):
    tenant, people = boston
    case = make_case(tenant, people["teacher"], "pa")
    token = api_token(client, tenant, people["teacher"])
    response = client.post(
        f"/api/v1/t/boston/cases/{case.id}/transitions",
        json={"action": "begin_intake"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 409
    assert "is for" in response.json["errors"]["action"][0]


def test_a_teacher_may_withdraw_their_own_request(client, boston, make_case):
    tenant, people = boston
    case = make_case(tenant, people["teacher"], "pa")
    token = api_token(client, tenant, people["teacher"])
    response = client.post(
        f"/api/v1/t/boston/cases/{case.id}/transitions",
        json={"action": "withdraw"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json["state"] == "withdrawn"


def test_a_teacher_never_sees_a_colleagues_case(client, boston, make_case, make_user):
    tenant, people = boston
    colleague = make_user(tenant, "teacher", email="colleague@bps.example.org")
    case = make_case(tenant, colleague, "pa")
    login(client, tenant, people["teacher"])
    assert client.get(f"/t/boston/cases/{case.id}").status_code == 404
    token = api_token(client, tenant, people["teacher"])
    listing = client.get("/api/v1/t/boston/cases", headers={"Authorization": f"Bearer {token}"})
    assert listing.json["total"] == 0


def test_open_cases_migrate_to_a_new_version_with_a_state_map(app, client, boston, make_case):
    tenant, people = boston
    case = make_case(tenant, people["teacher"], "pa")
    token = api_token(client, tenant, people["program_admin"])
    headers = {"Authorization": f"Bearer {token}"}
    draft = client.get("/api/v1/t/boston/workflow/draft", headers=headers).json["document"]
    draft["tracks"]["pa"]["states"]["request"]["label"] = "Request received"
    assert (
        client.put(
            "/api/v1/t/boston/workflow/draft", json={"document": draft}, headers=headers
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/v1/t/boston/workflow/publish", json={"note": "wording"}, headers=headers
        ).status_code
        == 201
    )
    refused = client.post(
        "/api/v1/t/boston/workflow/migrations",
        json={"to_version": 2, "case_ids": [case.id], "state_map": {"request": "nowhere"}},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "does not have" in refused.json["errors"][f"cases.{case.id}"][0]
    assert _case(app, tenant, case.id).version_number == 1
    moved = client.post(
        "/api/v1/t/boston/workflow/migrations",
        json={"to_version": 2, "case_ids": [case.id], "state_map": {"request": "intake"}},
        headers=headers,
    )
    assert moved.status_code == 200, moved.json
    after = _case(app, tenant, case.id)
    assert (after.version_number, after.state) == (2, "intake")
    with app.app_context(), tenant_scope(tenant.id):
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.version_migrated")
        ).scalar_one()
    assert event.before == {"version": 1, "state": "request"}
