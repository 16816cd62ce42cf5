"""Administration, accounts, reports, exports, surveys and the roster in the one operation
shape: a refusal is shown where the person acted (a form with the error beside its field, or
a clear page), two requests racing for one key give one success and one 409, and bad input
is a 4xx or a form error that writes nothing, never a 500."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.export import ExportJob
from app.models.roster import ConsultingTeacher, TrainingRecord
from app.models.user import User
from app.services import users
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser, errors_beside
from tests.factories import PASSWORD, csrf_token


@pytest.fixture
def toledo(district):
    return district("toledo", "toledo")


def _count(app, tenant_id: int, model, *where) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def _at_once(monkeypatch, *requests: Callable):
    """Run ``requests`` in threads that all pass the service's duplicate check before any
    of them inserts (each waits for the others inside ``users._insert``)."""
    barrier = threading.Barrier(len(requests), timeout=20)
    insert = users._insert

    def _insert_together(*args, **kwargs):
        barrier.wait()
        return insert(*args, **kwargs)

    monkeypatch.setattr(users, "_insert", _insert_together)
    answers: list = [None] * len(requests)

    def _run(index: int) -> None:
        answers[index] = requests[index]()

    threads = [threading.Thread(target=_run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


# Two people adding one address at once ----------------------------------------------------


def test_two_api_creations_of_one_address_at_once_give_one_201_and_one_409(
    app, toledo, monkeypatch
):
    first, second = (Api(app, toledo, toledo.people["admin"]) for _ in range(2))
    body = {"email": "twin@toledo.org", "name": "Twin", "roles": ["teacher"]}
    answers = _at_once(
        monkeypatch,
        lambda: first.post("/users", json=body),
        lambda: second.post("/users", json=body),
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json["errors"]["_schema"]
    assert _count(app, toledo.tenant.id, User, User.email == "twin@toledo.org") == 1


def test_two_new_user_forms_for_one_address_at_once_keep_the_loser_on_the_form(
    app, toledo, monkeypatch
):
    """The one who lost the race sees the form again, with what they typed and why."""
    browsers = [Browser(app, toledo, toledo.people["admin"]) for _ in range(2)]
    tokens = [csrf_token(b.get("/admin/users/new").text) for b in browsers]
    form = {"name": "Twin", "email": "twin@toledo.org", "roles": "teacher"}

    def _post(browser: Browser, token: str):
        return lambda: browser.client.post(
            "/t/toledo/admin/users/new", data={**form, "csrf_token": token}
        )

    answers = _at_once(monkeypatch, *(_post(b, t) for b, t in zip(browsers, tokens, strict=True)))
    assert sorted(a.status_code for a in answers) == [302, 409]
    refused = next(a for a in answers if a.status_code == 409)
    assert 'class="form-errors"' in refused.text
    assert "someone may have saved it a moment ago" in refused.text
    assert 'value="twin@toledo.org"' in refused.text  # the form, as they filled it in
    assert _count(app, toledo.tenant.id, User, User.email == "twin@toledo.org") == 1


def test_a_nul_in_the_new_user_form_is_a_4xx_that_writes_nothing(app, toledo):
    admin = Browser(app, toledo, toledo.people["admin"])
    response = admin.post(
        "/admin/users/new",
        "/admin/users/new",
        {"name": "Nul\x00l", "email": "nul@toledo.org", "roles": "teacher"},
    )
    assert 400 <= response.status_code < 500
    assert "must not contain NUL characters" in response.text
    assert _count(app, toledo.tenant.id, User, User.email == "nul@toledo.org") == 0


def test_a_refused_role_change_shows_the_form_with_the_reason(app, toledo):
    admin = Browser(app, toledo, toledo.people["admin"])
    person_id = toledo.people["principal"].id
    page = f"/admin/users/{person_id}"
    response = admin.post(page, page, {})  # no role at all
    assert response.status_code == 422
    assert "Choose at least one role." in errors_beside(response.text, "roles")
    with app.app_context(), tenant_scope(toledo.tenant.id):
        assert db.session.get(User, person_id).roles == {"principal"}


# Lists and their arguments ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_a_page_number_beyond_any_list_is_an_empty_page(app, toledo, path):
    page = Browser(app, toledo, toledo.people["admin"]).get(f"{path}?page=99999999999999999999")
    assert page.status_code == 200


def test_a_page_number_beyond_the_districts_is_an_empty_page_for_operators(app):
    from app.core import uow
    from app.services import users as user_service

    with app.app_context():
        user_service.create_platform_user("op@parley.example", "Op", "operator", PASSWORD)
        uow.commit()
    client = app.test_client()
    token = csrf_token(client.get("/ops/login").text)
    signed_in = client.post(
        "/ops/login", data={"email": "op@parley.example", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    assert client.get("/ops/?page=99999999999999999999").status_code == 200


@pytest.mark.parametrize(
    "query", ["a=99999999999", "a=1&b=99999999999", "b=abc", "b=%C2%B2", "a=-1", "b=7"]
)
def test_a_diff_of_versions_no_row_can_have_is_a_404(app, toledo, query):
    page = Browser(app, toledo, toledo.people["admin"]).get(f"/admin/workflow/diff?{query}")
    assert page.status_code == 404


def test_the_diff_of_two_versions_still_reads(app, toledo):
    page = Browser(app, toledo, toledo.people["admin"]).get("/admin/workflow/diff?b=1")
    assert page.status_code == 200
    assert "Changes from nothing to version 1" in page.text


@pytest.mark.parametrize("months", ["sNaN", "NaN", "Infinity"])
def test_months_that_are_not_a_number_are_shown_beside_the_dry_run_field(app, toledo, months):
    page = Browser(app, toledo, toledo.people["admin"]).get(
        f"/admin/workflow/dry-run?track=intervention&actions=begin_intake&months={months}"
    )
    assert page.status_code == 400
    assert errors_beside(page.text, "months")
    assert 'class="steps"' not in page.text


def test_a_readable_dry_run_still_walks(app, toledo):
    page = Browser(app, toledo, toledo.people["admin"]).get(
        "/admin/workflow/dry-run?track=intervention&actions=begin_intake&months=2.5"
    )
    assert page.status_code == 200
    assert 'class="steps"' in page.text


def test_a_publish_note_too_long_for_its_field_says_so_and_publishes_nothing(app, toledo):
    from app.models.workflow import WorkflowVersion

    admin = Browser(app, toledo, toledo.people["admin"])
    before = _count(app, toledo.tenant.id, WorkflowVersion)
    response = admin.post(
        "/admin/workflow", "/admin/workflow/publish", {"note": "n" * 501}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "500 characters" in response.text
    assert _count(app, toledo.tenant.id, WorkflowVersion) == before


# Reports and exports ----------------------------------------------------------------------


@pytest.mark.parametrize("year", ["99999", "2009-2011", "0"])
def test_a_year_that_is_not_one_is_said_on_the_report_page(app, toledo, year):
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    page = coordinator.get(f"/reports/annual?year={year}")
    assert page.status_code == 422
    assert 'class="form-errors"' in page.text and "school year" in page.text
    assert coordinator.get(f"/reports/annual.svg?year={year}").status_code == 404


def test_an_export_year_like_99999_is_a_form_error(app, toledo):
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    page = coordinator.post("/exports/", "/exports/", {"kind": "annual_pdf", "year": "99999"})
    assert page.status_code == 400
    assert "Use a label like 2009-2010." in errors_beside(page.text, "year")
    assert _count(app, toledo.tenant.id, ExportJob) == 0


def test_an_export_year_that_is_no_school_year_is_refused_before_a_job_is_queued(app, toledo):
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    page = coordinator.post("/exports/", "/exports/", {"kind": "annual_pdf", "year": "2009-2011"})
    assert page.status_code == 422
    assert "consecutive years" in errors_beside(page.text, "year")
    assert _count(app, toledo.tenant.id, ExportJob) == 0


def test_a_download_that_is_not_there_says_so(app, toledo):
    page = Browser(app, toledo, toledo.people["coordinator"]).get("/exports/12345/download")
    assert page.status_code == 404
    assert "This export is not available (not ready, or expired)." in page.text


# Surveys ----------------------------------------------------------------------------------


def test_an_unknown_survey_link_is_a_page_that_says_so(app, toledo):
    page = app.test_client().get("/t/toledo/survey/not-a-token")
    assert page.status_code == 404
    assert "This survey link no longer opens the questionnaire" in page.text
    assert "This link is not valid" in page.text


# The roster -------------------------------------------------------------------------------


def _ct_profile_id(app, toledo) -> int:
    with app.app_context(), tenant_scope(toledo.tenant.id):
        return db.session.execute(
            select(ConsultingTeacher.id).where(ConsultingTeacher.user_id == toledo.people["ct"].id)
        ).scalar_one()


@pytest.mark.parametrize("hours", ["sNaN", "NaN", "Infinity", "-0"])
def test_training_hours_that_are_not_a_number_write_nothing(app, toledo, hours):
    ct_id = _ct_profile_id(app, toledo)
    admin = Browser(app, toledo, toledo.people["admin"])
    response = admin.post(
        f"/roster/{ct_id}",
        f"/roster/{ct_id}/training",
        {"workshop": "Coaching", "attended_on": "2024-10-01", "hours": hours},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Give the workshop, its date and the hours." in response.text
    assert _count(app, toledo.tenant.id, TrainingRecord) == 0


def test_a_refused_profile_shows_the_reason_beside_its_field(app, toledo):
    ct_id = _ct_profile_id(app, toledo)
    admin = Browser(app, toledo, toledo.people["admin"])
    response = admin.post(
        f"/roster/{ct_id}",
        f"/roster/{ct_id}",
        {"caseload_limit": "10", "term_start": "2025-09-01", "term_end": "2024-09-01"},
    )
    assert response.status_code == 422
    assert "cannot end before it starts" in errors_beside(response.text, "term_end")


# Accounts ---------------------------------------------------------------------------------


def test_a_wrong_current_password_is_a_422_beside_its_field(app, toledo):
    teacher = Browser(app, toledo, toledo.people["principal"])
    response = teacher.post(
        "/account/password",
        "/account/password",
        {
            "current_password": "not my password",
            "password": "violet kestrel harbor lamp",
            "confirm": "violet kestrel harbor lamp",
        },
    )
    assert response.status_code == 422
    assert "This is not your current password." in errors_beside(response.text, "current_password")


# A form defined in app/blueprints/forms.py -----------------------------------------------


def test_a_supermajority_fraction_that_is_not_a_number_is_a_form_error(app, toledo):
    admin = Browser(app, toledo, toledo.people["admin"])
    response = admin.post(
        "/admin/workflow/edit",
        "/admin/workflow/edit",
        {
            "program_name": "Toledo PAR",
            "decision_kind": "supermajority",
            "fraction": "sNaN",
            "fraction_of": "seats",
            "tie_rule": "defer",
        },
    )
    assert response.status_code == 400
