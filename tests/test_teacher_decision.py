"""The teacher learns the approved decision: on their case page, as a letter, never by mail."""

from __future__ import annotations

import copy
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.tenants.context import tenant_scope
from app.workflows import load_preset, validate
from tests.casework import Api, Browser
from tests.test_panel import _pdf_text

RATIONALE = "The record of visits and evidence shows steady growth"


def _approve(app, waiting):
    """The Superintendent approves the case at their desk; the case's teacher is noted."""
    approved = Api(app, waiting.district, waiting.authority).post(
        f"/cases/{waiting.case_id}/approvals",
        json={"approve": True, "outcome": "met_standards", "note": "Approved."},
    )
    assert approved.status_code == 200, approved.json
    assert approved.json["state"] == "closed"
    with app.app_context(), tenant_scope(waiting.district.tenant.id):
        case = db.session.get(Case, waiting.case_id)
        waiting.teacher = db.session.get(User, case.teacher_id)
    return waiting


@pytest.fixture
def decided(app, awaiting_approval):
    """A Boston PAR case the Superintendent approved, with its teacher."""
    return _approve(app, awaiting_approval("boston", "boston_esp", "par", "needs_improvement"))


def _page(app, waiting, user) -> str:
    response = Browser(app, waiting.district, user).get(f"/cases/{waiting.case_id}")
    assert response.status_code == 200
    return response.text


def _sharing(app, awaiting_approval, slug: str, items: list[str]):
    """A Boston PAR case decided under a published program whose track shares ``items``
    with the teacher (the presets share nothing with the teacher)."""
    document = copy.deepcopy(load_preset("boston_esp"))
    document["tracks"]["par"]["shared_with_teacher"] = items
    return _approve(
        app, awaiting_approval(slug, "boston_esp", "par", "needs_improvement", document)
    )


def test_the_teacher_reads_the_final_rating_and_the_panels_decision(app, decided):
    page = _page(app, decided, decided.teacher)
    section = page.split('data-testid="decision"', 1)[1].split("</section>", 1)[0]
    assert "Met standards" in section  # the outcome's label, never its key
    assert "met_standards" not in page
    assert "Decided: " in section
    assert "Decided: Proficient" in section  # the panel voted the rating itself
    assert "Superintendent" in section
    assert f"/cases/{decided.case_id}/decision.pdf" in section
    # Sealed ballots: no ballot, no tally, no member's name reaches the teacher.
    assert "Ballot" not in page and "Tally" not in page
    assert "chair@boston.org" not in page


def test_the_final_report_shows_only_where_the_track_shares_it(app, decided, awaiting_approval):
    assert RATIONALE not in _page(app, decided, decided.teacher)
    shared = _sharing(app, awaiting_approval, "newton", ["recommendation"])
    page = _page(app, shared, shared.teacher)
    assert 'data-testid="final-report"' in page and RATIONALE in page


def test_a_track_shares_nothing_else_with_the_teacher():
    """Only the final report may be shared with the teacher: evidence is refused by name."""
    document = copy.deepcopy(load_preset("boston_esp"))
    document["tracks"]["par"]["shared_with_teacher"] = ["evidence"]
    errors = validate(document).errors
    assert any("shared_with_teacher" in path for path in errors), errors


def test_nobody_outside_the_case_sees_the_decision_section(app, decided):
    chair = Browser(app, decided.district, _user(app, decided, "chair@boston.org"))
    response = chair.get(f"/cases/{decided.case_id}")
    assert response.status_code in (200, 404)
    assert 'data-testid="decision"' not in response.text


def test_the_letter_downloads_for_the_teacher_and_names_the_rating(app, decided):
    response = Browser(app, decided.district, decided.teacher).get(
        f"/cases/{decided.case_id}/decision.pdf"
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    words = re.sub(r"\)\s*Tj\s*T\*\s*\(", " ", _pdf_text(response.data))
    assert "Final rating: Met standards" in words
    assert "Decided: " in words and "Superintendent" in words
    assert "Boston Schools" in words and decided.teacher.name in words
    assert "Tally" not in words


def test_the_ct_and_the_coordinator_may_download_the_letter(app, decided):
    for key in ("ct", "coordinator"):
        response = Browser(app, decided.district, decided.district.people[key]).get(
            f"/cases/{decided.case_id}/decision.pdf"
        )
        assert response.status_code == 200, key
        assert response.data.startswith(b"%PDF")


def test_the_letter_is_not_found_for_a_panel_member_another_teacher_or_district(
    app, decided, district, make_user
):
    path = f"/cases/{decided.case_id}/decision.pdf"
    chair = _user(app, decided, "chair@boston.org")
    assert Browser(app, decided.district, chair).get(path).status_code == 404
    principal = decided.district.people["principal"]
    assert Browser(app, decided.district, principal).get(path).status_code == 404
    other = make_user(decided.district.tenant, "teacher", email="other@boston.org")
    assert Browser(app, decided.district, other).get(path).status_code == 404
    toledo = district("toledo", "toledo")
    assert Browser(app, toledo, toledo.people["coordinator"]).get(path).status_code == 404


def test_the_letter_waits_for_the_approval(app, awaiting_approval):
    waiting = awaiting_approval("boston", "boston_esp", "par", "needs_improvement")
    coordinator = Browser(app, waiting.district, waiting.district.people["coordinator"])
    assert coordinator.get(f"/cases/{waiting.case_id}/decision.pdf").status_code == 404
    assert 'data-testid="decision"' not in coordinator.get(f"/cases/{waiting.case_id}").text


def test_the_decision_mail_links_the_case_page_and_never_names_the_rating(
    app, awaiting_approval, monkeypatch
):
    """The mail the approval sends (relayed as the request commits) says a decision is
    there and where; the rating and the panel's words stay in the portal."""
    from app.services import mailer

    sent = []
    monkeypatch.setattr(mailer, "send", sent.append)
    waiting = awaiting_approval("boston", "boston_esp", "par", "needs_improvement")
    sent.clear()  # the mails of the steps before the approval
    _approve(app, waiting)
    to_teacher = [m for m in sent if m["To"] == waiting.teacher.email]
    assert [m["Subject"] for m in to_teacher] == ["Boston Schools: Final rating"]
    text = to_teacher[0]["Subject"] + "\n" + to_teacher[0].get_content()
    assert f"/t/boston/cases/{waiting.case_id}\n" in text
    assert "Met standards" not in text and "met_standards" not in text
    assert "Proficient" not in text and "Decided" not in text


def _user(app, waiting, email: str) -> User:
    with app.app_context(), tenant_scope(waiting.district.tenant.id):
        return db.session.execute(select(User).where(User.email == email)).scalar_one()
