"""The program admin's workspace: read, edit by form or YAML, see errors by path, publish."""

from __future__ import annotations

import pytest

from app.services import workflow_config as configs
from app.tenants.context import tenant_scope
from tests.factories import csrf_token, login


@pytest.fixture
def admin_client(client, make_tenant, make_user):
    tenant = make_tenant("toledo", "Toledo PAR", preset="toledo")
    admin = make_user(tenant, "program_admin")
    login(client, tenant, admin)
    return client, tenant


def _form_data(page_text: str, **changes) -> dict:
    from html.parser import HTMLParser

    class _Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self._textarea, self._select = {}, None, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "input" and a.get("name"):
                self.data[a["name"]] = a.get("value", "")
            elif tag == "textarea":
                self._textarea = a["name"]
                self.data[a["name"]] = ""
            elif tag == "select":
                self._select = a["name"]
            elif tag == "option" and self._select and ("selected" in a):
                self.data[self._select] = a["value"]

        def handle_endtag(self, tag):
            if tag == "textarea":
                self._textarea = None
            if tag == "select":
                self._select = None

        def handle_data(self, data):
            if self._textarea:
                self.data[self._textarea] += data

    parser = _Fields()
    parser.feed(page_text)
    data = {k: v.lstrip("\n") for k, v in parser.data.items()}
    data.update(changes)
    return data


def test_the_configuration_reads_in_words_with_diagrams(admin_client):
    client, _ = admin_client
    page = client.get("/t/toledo/admin/workflow")
    assert page.status_code == 200
    assert "Decision needs 6 of 9 seats" in page.text
    assert "version 1" in page.text
    diagram = client.get("/t/toledo/admin/workflow/tracks/intervention.svg")
    assert diagram.status_code == 200
    assert diagram.mimetype == "image/svg+xml"
    assert b"<svg" in diagram.data


def test_form_edit_changes_panel_rule_and_scale_then_publish(app, admin_client):
    client, tenant = admin_client
    page = client.get("/t/toledo/admin/workflow/edit")
    data = _form_data(
        page.text,
        decision_kind="majority",
        at_least="",
        per_constituency_minimum="1",
    )
    data["rating_scale"] = data["rating_scale"].replace("| no", "| no", 1)
    response = client.post("/t/toledo/admin/workflow/edit", data=data)
    assert response.status_code == 302, response.text
    overview = client.get("/t/toledo/admin/workflow")
    assert "at least 1 from each side" in overview.text
    assert "Changes in the draft" in overview.text
    published = client.post(
        "/t/toledo/admin/workflow/publish",
        data={"csrf_token": csrf_token(overview.text), "note": "simple majority"},
    )
    assert published.status_code == 302
    with app.app_context(), tenant_scope(tenant.id):
        latest = configs.latest_published()
        assert latest.number == 2
        assert latest.document["panel"]["decision_rule"] == {"kind": "majority"}


def test_form_errors_appear_beside_their_fields_with_paths(app, admin_client):
    client, tenant = admin_client
    page = client.get("/t/toledo/admin/workflow/edit")
    data = _form_data(page.text, quorum="40")
    data["outcomes"] += "\nvanished | Vanished | nowhere"
    response = client.post("/t/toledo/admin/workflow/edit", data=data)
    assert response.status_code == 422
    assert "panel.quorum: must be &lt;= seats (9)" in response.text
    assert "outcomes.vanished.group: unknown report group &#39;nowhere&#39;" in response.text
    with app.app_context(), tenant_scope(tenant.id):
        assert configs.draft().document["panel"]["quorum"] == 7


def test_yaml_editor_lists_each_error_by_path_and_saves_nothing(app, admin_client):
    client, tenant = admin_client
    page = client.get("/t/toledo/admin/workflow/yaml")
    text = _form_data(page.text)["text"].replace("quorum: 7", "quorum: 10")
    response = client.post(
        "/t/toledo/admin/workflow/yaml", data={"csrf_token": csrf_token(page.text), "text": text}
    )
    assert response.status_code == 422
    assert "<code>panel.quorum</code>: must be &lt;= seats (9)" in response.text
    with app.app_context(), tenant_scope(tenant.id):
        assert configs.draft().document["panel"]["quorum"] == 7


def test_dry_run_shows_the_guard_that_stops_a_case(admin_client):
    client, _ = admin_client
    page = client.get(
        "/t/toledo/admin/workflow/dry-run",
        query_string={
            "track": "intervention",
            "actions": "begin_intake, accept, assign_ct, hold_introduction, end_support",
            "visits": "0",
        },
    )
    assert page.status_code == 200
    assert page.text.count('data-allowed="yes"') == 4
    assert page.text.count('data-allowed="no"') == 1
    assert "visits" in page.text.split('data-allowed="no"')[1]
