"""In a real browser: a CT logs a visit, and the teacher sees it on their case."""

from __future__ import annotations

import pytest

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import users
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, base, slug, email):
    page.goto(f"{base}/t/{slug}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/t/{slug}/")


def test_a_ct_logs_a_visit_and_the_teacher_sees_it(
    app, live_server, browser, district, make_user, make_case
):
    boston = district("boston", "boston_esp")
    teacher = make_user(boston.tenant, "teacher", email="pat@boston.org")
    case = make_case(boston.tenant, teacher, "pa", latest_rating="needs_improvement")
    with app.app_context(), tenant_scope(boston.tenant.id):
        db.session.get(Case, case.id).ct_id = boston.people["ct"].id
        users.set_password(db.session.get(User, teacher.id), PASSWORD)
        uow.commit()

    ct_page = browser.new_context().new_page()
    _sign_in(ct_page, live_server, "boston", boston.people["ct"].email)
    ct_page.goto(f"{live_server}/t/boston/cases/{case.id}")
    ct_page.get_by_text("Log a visit").click()
    form = ct_page.get_by_test_id("visit-form")
    form.get_by_label("Type").select_option("coaching")
    form.get_by_label("Minutes").fill("50")
    form.get_by_label("Notes", exact=True).fill("Planned a lesson with exit tickets together")
    form.get_by_role("button", name="Save the visit").click()
    assert ct_page.get_by_text("Visit saved.").is_visible()

    teacher_page = browser.new_context().new_page()
    _sign_in(teacher_page, live_server, "boston", teacher.email)
    assert teacher_page.get_by_test_id("my-case").get_by_text(boston.people["ct"].name).is_visible()
    teacher_page.get_by_test_id("my-case").get_by_role("link").first.click()
    visits = teacher_page.get_by_test_id("visits")
    assert "Planned a lesson with exit tickets together" in visits.inner_text()
    assert "Coaching conversation" in visits.inner_text()
