"""Roles come from the program admin: no import, enrollment or referral grants one.

A case import names its teacher and consulting teacher by e-mail; the public
enrollment form and referrals name the teacher. An address that belongs to an
account without the needed role is refused (with its line and column, or beside
the form's e-mail field), and nothing changes: no case, no role.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser
from tests.factories import csrf_token

HEADER = (
    "external_id,teacher_name,teacher_email,school,track,consulting_teacher_email,"
    "requested_on,started_on,ended_on,outcome\n"
)
ROW = "{id},Ann Able,{teacher},Adams,peer_assistance,{ct},2009-08-20,2009-09-10,,\n"
GOOD_ROW = ROW.format(id="B-001", teacher="ann@bps.org", ct="")
ENROLLMENT = {
    "name": "Pat Teacher",
    "school": "Lincoln Elementary",
    "track": "pa",
    "letter": "I would like a second set of eyes on my classroom management.",
}
REFUSED = "This address cannot enroll through this form; ask your program office."


@pytest.fixture
def pap(district):
    return district("bostonpap", "boston_pap_2007")


@pytest.fixture
def boston(district):
    return district("boston", "boston_esp")


def _import(app, d, text: str):
    return Api(app, d, d.people["coordinator"]).post(
        "/imports/cases",
        data={"file": (io.BytesIO(text.encode()), "cases.csv")},
        content_type="multipart/form-data",
    )


def _roles(app, d, email: str) -> frozenset[str]:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(select(User).where(User.email == email)).scalar_one().roles


def _cases(app, d) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(select(func.count(Case.id))).scalar_one()


def _field_errors(html: str, field: str) -> list[str]:
    match = re.search(rf'<ul class="errors" id="{field}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


@pytest.mark.parametrize("who", ["admin", "coordinator", "principal", "ct"])
def test_an_import_never_makes_a_staff_member_a_teacher(app, pap, who):
    staff = pap.people[who]
    before = _roles(app, pap, staff.email)
    bad = ROW.format(id="B-002", teacher=staff.email.upper(), ct="")
    response = _import(app, pap, HEADER + GOOD_ROW + bad)
    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["rows[3].teacher_email"]
    assert "does not hold the teacher role" in message
    assert "an import never grants a role" in message
    assert list(response.json["errors"]) == ["rows[3].teacher_email"]
    assert _roles(app, pap, staff.email) == before
    assert _cases(app, pap) == 0


@pytest.mark.parametrize("who", ["admin", "coordinator", "principal", "committee1"])
def test_an_import_never_makes_a_staff_member_a_consulting_teacher(app, pap, who):
    staff = pap.people[who]
    before = _roles(app, pap, staff.email)
    bad = ROW.format(id="B-002", teacher="ben@bps.org", ct=staff.email)
    response = _import(app, pap, HEADER + GOOD_ROW + bad)
    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["rows[3].consulting_teacher_email"]
    assert "does not hold the consulting_teacher role" in message
    assert _roles(app, pap, staff.email) == before
    assert _cases(app, pap) == 0
    with app.app_context(), tenant_scope(pap.tenant.id):
        assert db.session.execute(select(User).where(User.email == "ben@bps.org")).first() is None


def test_an_import_never_makes_a_teacher_a_consulting_teacher(app, pap, make_user):
    make_user(pap.tenant, "teacher", email="tess@bps.org")
    bad = ROW.format(id="B-002", teacher="ben@bps.org", ct="tess@bps.org")
    response = _import(app, pap, HEADER + GOOD_ROW + bad)
    assert response.status_code == 422
    assert "rows[3].consulting_teacher_email" in response.json["errors"]
    assert _roles(app, pap, "tess@bps.org") == {"teacher"}
    assert _cases(app, pap) == 0


def test_an_import_cannot_make_one_new_person_both_teacher_and_consulting_teacher(app, pap):
    twice = ROW.format(id="B-002", teacher="ben@bps.org", ct="ann@bps.org")
    response = _import(app, pap, HEADER + GOOD_ROW + twice)
    assert response.status_code == 422
    [message] = response.json["errors"]["rows[3].consulting_teacher_email"]
    assert "teacher_email on line 2" in message
    assert _cases(app, pap) == 0


def test_an_import_accepts_people_who_already_hold_the_role(app, pap, make_user):
    teacher = make_user(pap.tenant, "teacher", email="ann@bps.org")
    ct = pap.people["ct"]
    row = ROW.format(id="B-001", teacher=teacher.email, ct=ct.email)
    first = _import(app, pap, HEADER + row)
    assert first.status_code == 200, first.json
    again = _import(app, pap, HEADER + row.replace("2009-09-10", "2009-09-11"))
    assert again.json == {"created": 0, "updated": 1}
    assert _roles(app, pap, teacher.email) == {"teacher"}
    assert _roles(app, pap, ct.email) == {"consulting_teacher"}


def test_an_import_still_creates_new_people_with_the_role_their_column_names(app, pap):
    row = ROW.format(id="B-001", teacher="ann@bps.org", ct="ct.new@bps.org")
    response = _import(app, pap, HEADER + row)
    assert response.status_code == 200, response.json
    assert _roles(app, pap, "ann@bps.org") == {"teacher"}
    assert _roles(app, pap, "ct.new@bps.org") == {"consulting_teacher"}


def _enroll(app, d, email: str):
    client = app.test_client()
    page = client.get(f"/t/{d.slug}/enroll")
    return client.post(
        f"/t/{d.slug}/enroll",
        data={**ENROLLMENT, "email": email, "csrf_token": csrf_token(page.text)},
    )


@pytest.mark.parametrize("who", ["admin", "coordinator", "ct", "principal"])
def test_the_enrollment_form_never_opens_a_case_for_a_staff_account(app, boston, who):
    staff = boston.people[who]
    before = _roles(app, boston, staff.email)
    response = _enroll(app, boston, staff.email.upper())
    assert response.status_code == 422
    assert _field_errors(response.text, "email") == [REFUSED]
    assert "Thank you" not in response.text
    assert _cases(app, boston) == 0
    assert _roles(app, boston, staff.email) == before


def test_the_enrollment_form_still_opens_a_case_for_an_existing_teacher(app, boston, make_user):
    teacher = make_user(boston.tenant, "teacher", email="tess@boston.org")
    response = _enroll(app, boston, teacher.email)
    assert response.status_code == 200 and "Thank you" in response.text, response.text
    with app.app_context(), tenant_scope(boston.tenant.id):
        case = db.session.execute(select(Case)).scalar_one()
        assert case.teacher_id == teacher.id
    assert _roles(app, boston, teacher.email) == {"teacher"}


def test_a_disabled_teachers_account_cannot_enroll_or_be_referred(app, boston, make_user):
    teacher = make_user(boston.tenant, "teacher", email="gone@boston.org")
    with app.app_context(), tenant_scope(boston.tenant.id):
        db.session.get(User, teacher.id).active = False
        db.session.commit()
    response = _enroll(app, boston, teacher.email)
    assert response.status_code == 422
    assert _field_errors(response.text, "email") == [REFUSED]
    principal = Browser(app, boston, boston.people["principal"])
    response = principal.post(
        "/refer", "/refer", {**ENROLLMENT, "email": teacher.email, "source": "principal"}
    )
    assert response.status_code == 422
    [message] = _field_errors(response.text, "email")
    assert "disabled" in message
    assert _cases(app, boston) == 0


def test_a_referral_never_opens_a_case_for_a_staff_account(app, boston):
    admin = boston.people["admin"]
    principal = Browser(app, boston, boston.people["principal"])
    response = principal.post(
        "/refer", "/refer", {**ENROLLMENT, "email": admin.email, "source": "principal"}
    )
    assert response.status_code == 422
    [message] = _field_errors(response.text, "email")
    assert "not a teacher" in message
    assert _cases(app, boston) == 0
    assert _roles(app, boston, admin.email) == {"program_admin"}


def test_an_enrollment_over_the_api_never_opens_a_case_for_a_staff_account(app, boston):
    ct = boston.people["ct"]
    api = Api(app, boston, boston.people["coordinator"])
    response = api.post("/enrollments", json={**ENROLLMENT, "email": ct.email})
    assert response.status_code == 422
    assert "not a teacher" in response.json["errors"]["email"][0]
    assert _cases(app, boston) == 0
    assert _roles(app, boston, ct.email) == {"consulting_teacher"}


def test_the_referral_form_speaks_of_the_teacher_not_of_the_one_referring(app, boston):
    page = Browser(app, boston, boston.people["principal"]).get("/refer").text
    for label in (
        "Teacher&#39;s name",
        "The teacher&#39;s school",
        "What the teacher is referred for",
    ):
        assert label in page
    for first_person in ("Your name", "Your school e-mail", "I have permanent"):
        assert first_person not in page
