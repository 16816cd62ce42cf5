"""A district's own rules hold where its people are edited: the roster keeps within the
caseload limit and term its program sets, a principal's school links them to its cases,
and the roster speaks of consulting teachers in the program's own title."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.roster import ConsultingTeacher
from app.models.user import User
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser, errors_beside

PROGRAM = "Montgomery County Peer Assistance and Review"
TOO_MANY = f"{PROGRAM} allows at most 23 cases per Consulting Teacher."
TOO_LONG = (
    f"{PROGRAM} allows a Consulting Teacher's term of at most 5 years: one that starts on "
    "2024-08-26 ends by 2029-08-26."
)


@pytest.fixture
def montgomery(district):
    return district("montgomery", "montgomery")


@pytest.fixture
def rochester(district):
    return district("rochester", "rochester")


def _profile(app, d) -> ConsultingTeacher:
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.execute(
            select(ConsultingTeacher).where(ConsultingTeacher.user_id == d.people["ct"].id)
        ).scalar_one()
        db.session.expunge(row)
        return row


def _save(app, d, **values):
    row = _profile(app, d)
    admin = Browser(app, d, d.people["admin"])
    return admin.post(f"/roster/{row.id}", f"/roster/{row.id}", values)


# The roster keeps within the program's caseload limit and term ------------------------------


def test_montgomery_refuses_a_caseload_of_30_and_an_8_year_term_and_changes_nothing(
    app, montgomery
):
    before = _profile(app, montgomery)
    response = _save(
        app,
        montgomery,
        caseload_limit="30",
        term_start="2024-08-26",
        term_end="2032-08-25",
        home_school="Elsewhere High",
    )
    assert response.status_code == 422
    assert TOO_MANY in errors_beside(response.text, "caseload_limit")
    assert TOO_LONG in errors_beside(response.text, "term_end")
    after = _profile(app, montgomery)
    assert (after.caseload_limit, after.term_start, after.term_end, after.home_school) == (
        before.caseload_limit,
        before.term_start,
        before.term_end,
        before.home_school,
    )


def test_montgomery_refuses_each_bound_on_its_own(app, montgomery):
    too_many = _save(app, montgomery, caseload_limit="24")
    assert too_many.status_code == 422
    assert TOO_MANY in errors_beside(too_many.text, "caseload_limit")
    assert errors_beside(too_many.text, "term_end") == ""

    too_long = _save(
        app, montgomery, caseload_limit="18", term_start="2024-08-26", term_end="2029-08-27"
    )
    assert too_long.status_code == 422
    assert TOO_LONG in errors_beside(too_long.text, "term_end")
    assert errors_beside(too_long.text, "caseload_limit") == ""
    assert _profile(app, montgomery).caseload_limit != 18


def test_montgomery_refuses_a_caseload_below_its_minimum(app, montgomery):
    before = _profile(app, montgomery)
    too_few = _save(app, montgomery, caseload_limit="17")
    assert too_few.status_code == 422
    assert (
        f"{PROGRAM} sets a caseload of at least 18 cases per Consulting Teacher."
        in errors_beside(too_few.text, "caseload_limit")
    )
    assert _profile(app, montgomery).caseload_limit == before.caseload_limit


def test_montgomery_saves_a_caseload_and_term_within_its_bounds(app, montgomery):
    response = _save(
        app, montgomery, caseload_limit="23", term_start="2024-08-26", term_end="2029-08-26"
    )
    assert response.status_code == 302, response.text
    row = _profile(app, montgomery)
    assert row.caseload_limit == 23
    assert (row.term_start.isoformat(), row.term_end.isoformat()) == ("2024-08-26", "2029-08-26")


def test_a_program_that_sets_no_bound_leaves_the_fields_free(app, rochester):
    """Rochester's configuration names no largest caseload and no term length."""
    response = _save(
        app, rochester, caseload_limit="30", term_start="2024-09-01", term_end="2032-08-31"
    )
    assert response.status_code == 302, response.text
    row = _profile(app, rochester)
    assert (row.caseload_limit, row.term_end.isoformat()) == (30, "2032-08-31")


# The roster speaks in the program's title --------------------------------------------------


def test_rochesters_roster_says_lead_teacher(app, rochester):
    admin = Browser(app, rochester, rochester.people["admin"])
    index = admin.get("/roster/")
    assert index.status_code == 200
    assert "<h1>Lead Teacher roster</h1>" in index.text
    assert "Consulting teacher" not in index.text
    edit = admin.get(f"/roster/{_profile(app, rochester).id}")
    assert "Lead Teacher roster</a>" in edit.text


def test_montgomerys_roster_says_consulting_teacher(app, montgomery):
    index = Browser(app, montgomery, montgomery.people["admin"]).get("/roster/")
    assert "<h1>Consulting Teacher roster</h1>" in index.text
    assert "Lead Teacher" not in index.text


# A principal's school links them to its cases ------------------------------------------------


@pytest.fixture
def unplaced(app, montgomery, make_user, make_case):
    """A principal with no school yet, and an open case of Jefferson Middle on a track that
    shares its record with the principal."""
    principal = make_user(montgomery.tenant, "principal", email="rivera@montgomery.org")
    teacher = make_user(montgomery.tenant, "teacher", email="lee@montgomery.org")
    case = make_case(montgomery.tenant, teacher, "underperforming", school="Jefferson Middle")
    return principal, case


def _principal_sees(app, d, principal: User, case_id: int) -> bool:
    api = Api(app, d, principal)
    listed = [c["id"] for c in api.get("/cases").json["items"]]
    shown = api.get(f"/cases/{case_id}").status_code
    assert (case_id in listed) == (shown == 200)
    return shown == 200


def _school_events(app, d, user_id: int) -> list[AuditEvent]:
    with app.app_context(), tenant_scope(d.tenant.id):
        return list(
            db.session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "user.school_set", AuditEvent.object_id == str(user_id)
                )
            ).scalars()
        )


def test_a_school_set_on_the_person_page_links_the_principal_to_its_cases(
    app, montgomery, unplaced
):
    principal, case = unplaced
    assert not _principal_sees(app, montgomery, principal, case.id)
    admin = Browser(app, montgomery, montgomery.people["admin"])
    page = f"/admin/users/{principal.id}"
    response = admin.post(page, page, {"roles": ["principal"], "school": " Jefferson Middle "})
    assert response.status_code == 302, response.text

    assert "Jefferson Middle" in admin.get(page).text
    assert _principal_sees(app, montgomery, principal, case.id)
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        assert db.session.get(Case, case.id).principal_id == principal.id
        assert db.session.get(User, principal.id).school == "Jefferson Middle"
    (event,) = _school_events(app, montgomery, principal.id)
    assert event.after == {"school": "Jefferson Middle", "cases_linked": [case.id]}


def test_a_new_principal_added_with_a_school_is_linked_to_its_cases(
    app, montgomery, make_user, make_case
):
    teacher = make_user(montgomery.tenant, "teacher", email="lee@montgomery.org")
    case = make_case(montgomery.tenant, teacher, "underperforming", school="Lincoln Elementary")
    admin = Browser(app, montgomery, montgomery.people["admin"])
    response = admin.post(
        "/admin/users/new",
        "/admin/users/new",
        {
            "name": "Pat Rivera",
            "email": "rivera@montgomery.org",
            "roles": ["principal"],
            "school": "Lincoln Elementary",
            "password": "a long enough passphrase 42",
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        added = db.session.execute(
            select(User).where(User.email == "rivera@montgomery.org")
        ).scalar_one()
        assert added.school == "Lincoln Elementary"
        assert db.session.get(Case, case.id).principal_id == added.id


def test_a_teacher_of_the_school_made_its_principal_is_linked_to_its_cases(
    app, montgomery, unplaced
):
    principal, case = unplaced
    admin = Browser(app, montgomery, montgomery.people["admin"])
    page = f"/admin/users/{principal.id}"
    response = admin.post(page, page, {"roles": ["teacher"], "school": "Jefferson Middle"})
    assert response.status_code == 302, response.text
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        assert db.session.get(Case, case.id).principal_id is None  # not a principal yet
    response = admin.post(page, page, {"roles": ["principal"], "school": "Jefferson Middle"})
    assert response.status_code == 302, response.text
    assert _principal_sees(app, montgomery, principal, case.id)


def test_a_principal_who_moves_school_leaves_its_cases_to_the_principal_who_stays(
    app, montgomery, unplaced, make_user
):
    principal, case = unplaced
    admin = Browser(app, montgomery, montgomery.people["admin"])
    page = f"/admin/users/{principal.id}"
    admin.post(page, page, {"roles": ["principal"], "school": "Jefferson Middle"})
    colleague = make_user(montgomery.tenant, "principal", email="okafor@montgomery.org")
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        db.session.get(User, colleague.id).school = "Jefferson Middle"
        db.session.commit()
    assert _principal_sees(app, montgomery, principal, case.id)

    response = admin.post(page, page, {"roles": ["principal"], "school": "Lincoln Elementary"})
    assert response.status_code == 302, response.text
    assert not _principal_sees(app, montgomery, principal, case.id)
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        assert db.session.get(Case, case.id).principal_id == colleague.id
    event = _school_events(app, montgomery, principal.id)[-1]
    assert event.after == {
        "school": "Lincoln Elementary",
        "cases_linked": [],
        "cases_unlinked": [case.id],
    }

    # The one who stays moves too: the case is left with no principal rather than the wrong one.
    api_page = f"/admin/users/{colleague.id}"
    admin.post(api_page, api_page, {"roles": ["principal"], "school": "Rockville High"})
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        assert db.session.get(Case, case.id).principal_id is None


def test_a_school_longer_than_the_column_is_refused_beside_the_field(app, montgomery, unplaced):
    principal, case = unplaced
    admin = Browser(app, montgomery, montgomery.people["admin"])
    page = f"/admin/users/{principal.id}"
    response = admin.post(page, page, {"roles": ["principal"], "school": "J" * 201})
    assert response.status_code == 422
    assert "is 201 characters long; at most 200 fit" in errors_beside(response.text, "school")
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        assert db.session.get(User, principal.id).school is None
        assert db.session.get(Case, case.id).principal_id is None
    assert _school_events(app, montgomery, principal.id) == []


def _cli(app, *args, input=None):
    with app.app_context():
        return CliRunner().invoke(app.cli, list(args), input=input)


def test_a_school_set_by_the_command_line_links_the_principal_to_its_cases(
    app, montgomery, unplaced
):
    principal, case = unplaced
    result = _cli(
        app,
        "users",
        "set-school",
        "--tenant",
        "montgomery",
        "--email",
        "Rivera@Montgomery.org",
        "Jefferson Middle",
    )
    assert result.exit_code == 0, result.output
    assert "works at Jefferson Middle" in result.output
    assert _principal_sees(app, montgomery, principal, case.id)
    (event,) = _school_events(app, montgomery, principal.id)
    assert event.actor_type == "system"


def test_the_command_line_refuses_a_school_too_long_and_changes_nothing(app, montgomery, unplaced):
    principal, case = unplaced
    result = _cli(
        app, "users", "set-school", "--tenant", "montgomery", "--email", principal.email, "J" * 201
    )
    assert result.exit_code == 1
    assert "school: is 201 characters long; at most 200 fit" in result.output
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        assert db.session.get(User, principal.id).school is None
        assert db.session.get(Case, case.id).principal_id is None
        count = select(func.count()).select_from(Case).where(Case.principal_id == principal.id)
        assert db.session.execute(count).scalar() == 0


def test_the_command_line_creates_a_principal_with_a_school(app, montgomery, unplaced):
    _, case = unplaced
    result = _cli(
        app,
        "users",
        "create",
        "--tenant",
        "montgomery",
        "--email",
        "okafor@montgomery.org",
        "--name",
        "Ada Okafor",
        "--role",
        "principal",
        "--school",
        "Jefferson Middle",
        input="a long enough passphrase 42\na long enough passphrase 42\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        added = db.session.execute(
            select(User).where(User.email == "okafor@montgomery.org")
        ).scalar_one()
        assert (added.school, db.session.get(Case, case.id).principal_id) == (
            "Jefferson Middle",
            added.id,
        )


def test_the_home_page_and_the_report_use_the_programs_title_for_the_ct(app, district, make_user):
    """Rochester calls its consulting teachers Lead Teachers; the coordinator's home and the
    annual report say so too."""
    d = district("rochester", "rochester")
    coordinator = Browser(app, d, d.people["coordinator"])
    assert "Lead Teacher roster" in coordinator.get("/").text
    report = coordinator.get("/reports/annual").text
    assert "By track and lead teacher" in report or "lead teachers" in report


def test_the_case_page_names_the_ct_as_the_program_does(app, district, make_user, make_case):
    d = district("rochester", "rochester")
    teacher = make_user(d.tenant, "teacher", email="t@rochester.org")
    case = make_case(d.tenant, teacher, "intervention")
    page = Browser(app, d, d.people["coordinator"]).get(f"/cases/{case.id}").text
    assert "<dt>Lead Teacher</dt>" in page
    assert "<dt>Consulting teacher</dt>" not in page
