"""A consequential choice has no default and is confirmed: the CT's recommendation, and
every other rating or outcome picked on a case page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.support import Recommendation
from app.models.user import User
from app.services import support
from app.tenants.context import tenant_scope
from tests.browser.conftest import browser, live_server  # noqa: F401 - fixtures of the browser test
from tests.casework import Api, Browser
from tests.factories import PASSWORD, csrf_token

RATIONALE = "Eight observations show steady growth in questioning and in feedback."


class _Page(HTMLParser):
    """The selects and forms of a page: enough to check what a person is offered."""

    def __init__(self, html: str):
        super().__init__()
        self.selects: list[dict] = []
        self.forms: list[dict] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "buttons": []})
        elif tag == "select":
            form = self.forms[-1]["action"] if self.forms else None
            self._select = {**a, "form": form, "options": []}
            self.selects.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"].setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "textarea" and self.forms:
            self._textarea = a["name"]
            self.forms[-1]["fields"][a["name"]] = [""]
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append(a)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data.strip()
        if self._textarea:
            self.forms[-1]["fields"][self._textarea][0] += data

    def form(self, action_ending: str) -> dict:
        found = [f for f in self.forms if f["action"].endswith(action_ending)]
        assert len(found) == 1, [f["action"] for f in self.forms]
        return found[0]


def _pickers(html: str, name: str) -> list[dict]:
    return [s for s in _Page(html).selects if s.get("name") == name]


@pytest.fixture
def par(app, district, make_user, make_case):
    """A Boston PAR case at the CT's recommendation step, with a visit and evidence."""
    d = district("boston", "boston_esp")
    teacher = make_user(d.tenant, "teacher", email="t1@boston.org")
    case = make_case(d.tenant, teacher, "par", latest_rating="needs_improvement")
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.get(Case, case.id)
        ct = db.session.get(User, d.people["ct"].id)
        row.ct_id, row.principal_id = ct.id, d.people["principal"].id
        support.log_visit(
            row,
            ct,
            support.VisitInput("observation", row.enrolled_on, 40, notes="Private coaching note"),
        )
        support.add_evidence(row, ct, "Unit plan review", ["teaching_all_students"], None)
        row.state = "recommendation"
        uow.commit()
    return d, case.id


def _state(app, d, case_id) -> tuple[str, str | None, int, int]:
    """The case's state and recommended rating, its recommendations and its audit events."""
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        recommendations = db.session.execute(
            select(func.count())
            .select_from(Recommendation)
            .where(Recommendation.case_id == case_id)
        ).scalar_one()
        events = db.session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action.in_(["recommendation.submitted", "case.submit_recommendation"])
            )
        ).scalar_one()
        return case.state, case.recommended_rating, recommendations, events


def _post(person: Browser, case_id: int, path: str, data: dict, page: str | None = None):
    """Post like the page does: with the CSRF token of the page the form is on."""
    html = page if page is not None else person.get(f"/cases/{case_id}").text
    return person.client.post(
        f"/t/{person.slug}/cases/{case_id}{path}", data={**data, "csrf_token": csrf_token(html)}
    )


def test_the_recommended_rating_starts_empty_is_required_and_shows_labels(app, par):
    d, case_id = par
    page = _Page(Browser(app, d, d.people["ct"]).get(f"/cases/{case_id}").text)
    (rating,) = [s for s in page.selects if s.get("name") == "rating"]
    first, *levels = rating["options"]
    assert (first["value"], first["text"]) == ("", "Choose a rating")
    assert "required" in rating
    assert not any(o["selected"] for o in rating["options"])
    assert [(o["value"], o["text"]) for o in levels] == [
        ("exemplary", "Exemplary"),
        ("proficient", "Proficient"),
        ("needs_improvement", "Needs Improvement"),
        ("unsatisfactory", "Unsatisfactory"),
    ]


def test_the_case_page_has_one_rating_picker_for_the_recommendation(app, par):
    d, case_id = par
    html = Browser(app, d, d.people["ct"]).get(f"/cases/{case_id}").text
    pickers = _pickers(html, "rating")
    assert len(pickers) == 1, [s["form"] for s in pickers]
    assert "Recommend a rating to the Panel" in html  # the step is named, its picker is the form's


def test_a_recommendation_without_a_rating_is_refused_and_changes_nothing(app, par):
    d, case_id = par
    ct = Browser(app, d, d.people["ct"])
    before = _state(app, d, case_id)
    response = _post(ct, case_id, "/recommendation", {"rating": "", "rationale": RATIONALE})
    assert response.status_code == 400
    assert "Choose a rating." in response.text
    assert "Confirm and send to the panel" not in response.text
    assert _state(app, d, case_id) == before == ("recommendation", None, 0, 0)


def test_the_recommendation_is_shown_for_confirmation_before_it_reaches_the_panel(app, par):
    d, case_id = par
    ct = Browser(app, d, d.people["ct"])
    draft = {"rating": "needs_improvement", "rationale": RATIONALE}
    shown = _post(ct, case_id, "/recommendation", draft)
    assert shown.status_code == 200
    text = shown.text
    assert "Needs Improvement" in text and RATIONALE in text
    assert "What the panel will see" in text
    assert "Unit plan review" in text and "Observation" in text  # the packet: evidence, visits
    assert "Private coaching note" not in text  # the panel never reads visit notes
    assert "Confirm and send to the panel" in text and "Go back and edit" in text
    assert _state(app, d, case_id) == ("recommendation", None, 0, 0)

    confirmation = _Page(text).form("/recommendation")
    carried = {k: v[0] for k, v in confirmation["fields"].items() if k != "csrf_token"}
    assert carried == draft
    assert {b.get("name") for b in confirmation["buttons"]} == {"confirm", "edit"}
    confirmed = _post(ct, case_id, "/recommendation", {**carried, "confirm": "y"}, page=text)
    assert confirmed.status_code == 302, confirmed.text
    assert _state(app, d, case_id) == ("panel_review", "needs_improvement", 1, 2)


def test_going_back_keeps_what_was_written_and_changes_nothing(app, par):
    d, case_id = par
    ct = Browser(app, d, d.people["ct"])
    draft = {"rating": "proficient", "rationale": RATIONALE}
    shown = _post(ct, case_id, "/recommendation", draft).text
    back = _post(ct, case_id, "/recommendation", {**draft, "edit": "y"}, page=shown)
    assert back.status_code == 200
    page = _Page(back.text)
    (rating,) = [s for s in page.selects if s.get("name") == "rating"]
    assert [o["value"] for o in rating["options"] if o["selected"]] == ["proficient"]
    assert page.form("/recommendation")["fields"]["rationale"][0].strip() == RATIONALE
    assert _state(app, d, case_id) == ("recommendation", None, 0, 0)


def test_the_confirmation_is_protected_by_csrf(app, par):
    d, case_id = par
    ct = Browser(app, d, d.people["ct"])
    forged = ct.client.post(
        f"/t/{d.slug}/cases/{case_id}/recommendation",
        data={"rating": "unsatisfactory", "rationale": RATIONALE, "confirm": "y"},
    )
    assert forged.status_code == 400
    assert _state(app, d, case_id) == ("recommendation", None, 0, 0)


def test_the_api_requires_an_explicit_rating(app, par):
    d, case_id = par
    api = Api(app, d, d.people["ct"])
    missing = api.post(f"/cases/{case_id}/recommendation", json={"rationale": RATIONALE})
    assert missing.status_code == 422 and "rating" in missing.json["errors"]
    empty = api.post(
        f"/cases/{case_id}/recommendation", json={"rating": "", "rationale": RATIONALE}
    )
    assert empty.status_code == 422 and "rating" in empty.json["errors"]
    assert _state(app, d, case_id) == ("recommendation", None, 0, 0)
    sent = api.post(
        f"/cases/{case_id}/recommendation", json={"rating": "proficient", "rationale": RATIONALE}
    )
    assert sent.status_code == 201  # a JSON client's explicit request is its own confirmation
    assert _state(app, d, case_id) == ("panel_review", "proficient", 1, 2)


def test_the_closing_outcome_starts_empty_is_required_and_shows_labels(
    app, district, make_user, make_case
):
    d = district("boston", "boston_esp")
    teacher = make_user(d.tenant, "teacher", email="t1@boston.org")
    case = make_case(d.tenant, teacher, "pa", latest_rating="needs_improvement")
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.get(Case, case.id)
        row.ct_id, row.state = d.people["ct"].id, "support"
        uow.commit()
    ct = Browser(app, d, d.people["ct"])
    (outcome,) = _pickers(ct.get(f"/cases/{case.id}").text, "outcome")
    first, *outcomes = outcome["options"]
    assert (first["value"], first["text"]) == ("", "Choose an outcome")
    assert "required" in outcome and not any(o["selected"] for o in outcome["options"])
    assert ("met_standards", "Met standards") in [(o["value"], o["text"]) for o in outcomes]
    assert all(o["text"] != o["value"] for o in outcomes)
    refused = _post(ct, case.id, "/actions/close", {"outcome": ""})
    assert refused.status_code == 409 and "choose an outcome" in refused.text
    with app.app_context(), tenant_scope(d.tenant.id):
        assert db.session.get(Case, case.id).closed_at is None


def test_steps_taken_elsewhere_offer_no_picker_on_the_case_page(app, par, make_user):
    d, case_id = par
    superintendent = make_user(d.tenant, "final_authority", email="sup@boston.org")
    with app.app_context(), tenant_scope(d.tenant.id):
        db.session.get(Case, case_id).state = "final_approval"
        uow.commit()
    html = Browser(app, d, superintendent).get(f"/cases/{case_id}").text
    assert "Approve the final rating" in html and "approvals page" in html
    assert _pickers(html, "rating") == _pickers(html, "outcome") == []


def test_reopening_asks_for_a_state_with_no_default(app, par):
    d, case_id = par
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        case.state, case.closed_at, case.outcome = "closed", case.created_at, "met_standards"
        uow.commit()
    admin = Browser(app, d, d.people["admin"])
    (to_state,) = _pickers(admin.get(f"/cases/{case_id}").text, "to_state")
    assert to_state["options"][0]["value"] == "" and "required" in to_state
    assert not any(o["selected"] for o in to_state["options"])
    refused = _post(admin, case_id, "/reopen", {"to_state": "", "reason": "Closed by mistake"})
    assert refused.status_code == 400 and "Choose the state to reopen into." in refused.text
    with app.app_context(), tenant_scope(d.tenant.id):
        assert db.session.get(Case, case_id).closed_at is not None


@pytest.mark.browser
def test_a_ct_chooses_confirms_and_sends_the_recommendation_in_a_browser(
    app,
    par,
    live_server,  # noqa: F811 - the browser test's fixtures
    browser,  # noqa: F811
):
    d, case_id = par
    page = browser.new_context().new_page()
    page.goto(f"{live_server}/t/{d.slug}/login")
    page.get_by_label("E-mail").fill(d.people["ct"].email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/t/{d.slug}/")
    page.goto(f"{live_server}/t/{d.slug}/cases/{case_id}")

    rating = page.get_by_label("Recommended rating")
    assert rating.input_value() == ""
    page.get_by_label("Rationale").fill(RATIONALE)
    page.get_by_role("button", name="Submit the recommendation").click()
    assert rating.evaluate("el => !el.validity.valid")  # the browser itself asks for a rating
    assert _state(app, d, case_id) == ("recommendation", None, 0, 0)

    rating.select_option(label="Needs Improvement")
    page.get_by_role("button", name="Submit the recommendation").click()
    page.get_by_role("button", name="Go back and edit").click()
    assert page.get_by_label("Recommended rating").input_value() == "needs_improvement"
    assert page.get_by_label("Rationale").input_value().strip() == RATIONALE
    page.get_by_label("Recommended rating").select_option(label="Unsatisfactory")
    page.get_by_role("button", name="Submit the recommendation").click()
    assert page.get_by_text("What the panel will see").is_visible()
    assert _state(app, d, case_id) == ("recommendation", None, 0, 0)
    page.get_by_role("button", name="Confirm and send to the panel").click()
    assert page.get_by_text("Recommendation submitted.").is_visible()
    assert page.get_by_test_id("case-state").inner_text() == "Panel review"
    assert _state(app, d, case_id) == ("panel_review", "unsatisfactory", 1, 2)
