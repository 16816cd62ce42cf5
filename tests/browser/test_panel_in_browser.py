"""In a real browser: the chair casts the deciding ballot and closes the vote; the
superintendent approves and the case closes."""

from __future__ import annotations

from datetime import date

import pytest

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.services import panel
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from tests.casework import Api
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, base, slug, email):
    page.goto(f"{base}/t/{slug}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/t/{slug}/")


def test_chair_decides_and_the_superintendent_approves(app, live_server, browser, toledo_panel):
    setup = toledo_panel
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        session = panel.sessions.schedule(date.today(), "Board room", Actor.system())
        panel.sessions.add_to_agenda(session, db.session.get(Case, setup.case_id), Actor.system())
        for member in panel.seats.members():
            panel.sessions.set_attendance(session, member, True, Actor.system())
        uow.commit()
        sid = session.id
    for key in ("teacher2", "teacher3", "teacher4", "teacher5", "admin1"):
        Api(app, setup.district, setup.members[key]).post(
            f"/panel-sessions/{sid}/cases/{setup.case_id}/ballots", json={"option": "affirm"}
        )

    chair = browser.new_context().new_page()
    _sign_in(chair, live_server, "toledo", setup.members["teacher1"].email)
    chair.goto(f"{live_server}/t/toledo/panel/sessions/{sid}")
    item = chair.get_by_test_id(f"agenda-item-{setup.case_id}")
    assert item.get_by_test_id("ballot-count").inner_text() == "5"
    # The ballot starts on no choice; casting it shows the member their own ballot.
    assert item.get_by_label("Your vote").input_value() == ""
    item.get_by_label("Your vote").select_option("affirm")
    item.get_by_role("button", name="Cast my ballot").click()
    assert chair.get_by_text("Your ballot is in: Affirm").is_visible()
    item = chair.get_by_test_id(f"agenda-item-{setup.case_id}")
    assert "Your ballot: Affirm" in item.get_by_test_id("my-ballot").inner_text()
    item.get_by_role("button", name="Close the vote").click()
    decided = chair.get_by_test_id(f"agenda-item-{setup.case_id}").inner_text()
    assert "Decided: Affirm the consulting teacher's recommendation" in decided
    assert "Affirm the consulting teacher's recommendation 6" in decided

    superintendent = browser.new_context().new_page()
    _sign_in(superintendent, live_server, "toledo", setup.final_authority.email)
    superintendent.get_by_role("link", name="Panel decisions waiting for you").click()
    card = superintendent.get_by_test_id(f"approval-{setup.case_id}")
    # Nothing is preselected: the decision and the outcome are both chosen.
    assert card.get_by_label("Decision").input_value() == ""
    card.get_by_label("Decision").select_option("approve")
    card.get_by_label("Outcome that closes the case").select_option("released")
    card.get_by_label("Note").fill("Approved as the panel decided.")
    card.get_by_role("button", name="Record the decision").click()
    assert superintendent.get_by_text("Decision recorded.").is_visible()
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        case = db.session.get(Case, setup.case_id)
        assert (case.state, case.outcome) == ("closed", "released")
