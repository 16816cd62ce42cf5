"""Case and panel routes in the one operation shape: bad input is a form error or a clear
4xx (never a 500), concurrent ballots all count, and a refused upload leaves no file."""

from __future__ import annotations

import io
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.panel import Ballot
from app.models.support import Evidence
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser, errors_beside


@pytest.fixture
def toledo(district):
    return district("toledo", "toledo")


# The case list's filters -----------------------------------------------------------------


@pytest.mark.parametrize(
    "query, field",
    [
        ("ct_id=99999999999", "ct_id"),
        ("year=99999", "year"),
        ("year=1", "year"),
        ("school=" + "S" * 201, "school"),
    ],
)
def test_a_bad_case_list_filter_is_shown_beside_its_field(app, toledo, query, field):
    page = Browser(app, toledo, toledo.people["coordinator"]).get(f"/cases/?{query}")
    assert page.status_code == 400, page.text[:500]
    assert errors_beside(page.text, field), page.text


def test_a_nul_in_a_case_list_filter_is_a_clear_4xx(app, toledo):
    page = Browser(app, toledo, toledo.people["coordinator"]).get("/cases/?school=a%00b")
    assert page.status_code == 422
    assert "must not contain NUL characters" in page.text


@pytest.mark.parametrize(
    "query", ["ct_id=99999999999", "year=99999", "school=a%00b", "school=" + "S" * 201]
)
def test_the_case_export_refuses_a_bad_filter_before_it_streams(app, toledo, make_case, query):
    make_case(toledo.tenant, toledo.people["ct"], "intervention")
    browser = Browser(app, toledo, toledo.people["coordinator"])
    response = browser.get(f"/cases/export.csv?{query}")
    try:
        assert 400 <= response.status_code < 500, response.status_code
        assert response.mimetype != "text/csv"
    finally:
        response.close()  # a stream left open would hold its transaction


def test_the_case_export_still_streams_a_good_filter(app, toledo, make_case):
    make_case(toledo.tenant, toledo.people["ct"], "intervention", school="Adams")
    browser = Browser(app, toledo, toledo.people["coordinator"])
    response = browser.get("/cases/export.csv?school=Adams&year=" + str(date.today().year))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.text.count("\n") == 2  # the header and the one case


# Sealed ballots, all at once ---------------------------------------------------------------


def test_eight_first_ballots_at_once_all_count(app, toledo_panel):
    setup = toledo_panel
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    sid = coordinator.post("/panel-sessions", json={"meets_on": date.today().isoformat()}).json[
        "id"
    ]
    added = coordinator.post(f"/panel-sessions/{sid}/agenda", json={"case_id": setup.case_id})
    assert added.status_code == 201, added.json
    for member_id in setup.member_ids.values():
        marked = coordinator.post(
            f"/panel-sessions/{sid}/attendance", json={"member_id": member_id, "present": True}
        )
        assert marked.status_code == 200, marked.json
    voters = [Api(app, setup.district, u) for k, u in setup.members.items() if k != "admin4"]
    assert len(voters) == 8
    start = threading.Barrier(len(voters))
    answers: dict[int, tuple[int, object]] = {}

    def vote(index: int, api: Api) -> None:
        start.wait()
        response = api.post(
            f"/panel-sessions/{sid}/cases/{setup.case_id}/ballots", json={"option": "affirm"}
        )
        answers[index] = (response.status_code, response.get_json(silent=True))

    threads = [threading.Thread(target=vote, args=(i, api)) for i, api in enumerate(voters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(status for status, _ in answers.values()) == [204] * 8, answers
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        assert db.session.execute(select(func.count(Ballot.id))).scalar() == 8


# A refused upload leaves nothing behind ----------------------------------------------------


def _stored_files(app) -> set[Path]:
    root = Path(app.config["UPLOAD_ROOT"])
    return {p for p in root.rglob("*") if p.is_file()}


def _ct_case(app, toledo, make_user, make_case):
    from app.core import uow
    from app.models.case import Case

    teacher = make_user(toledo.tenant, "teacher")
    case = make_case(toledo.tenant, teacher, "intervention")
    with app.app_context(), tenant_scope(toledo.tenant.id):
        row = db.session.get(Case, case.id)
        row.ct_id, row.state = toledo.people["ct"].id, "support"
        uow.commit()
    return case.id


def _evidence_count(app, toledo) -> int:
    with app.app_context(), tenant_scope(toledo.tenant.id):
        return db.session.execute(select(func.count(Evidence.id))).scalar()


def test_evidence_with_nul_text_over_the_api_leaves_no_file(app, toledo, make_user, make_case):
    case_id = _ct_case(app, toledo, make_user, make_case)
    before = _stored_files(app)
    response = Api(app, toledo, toledo.people["ct"]).post(
        f"/cases/{case_id}/evidence",
        data={"text": "Lesson\x00 plan", "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.json
    assert _stored_files(app) == before
    assert _evidence_count(app, toledo) == 0


def test_evidence_refused_after_its_file_was_stored_leaves_no_file(
    app, toledo, make_user, make_case, monkeypatch
):
    """A refusal that comes after the file is on disk (here: from the audit) takes it away."""
    from app.services import audit
    from app.services.errors import ValidationFailed

    case_id = _ct_case(app, toledo, make_user, make_case)
    api = Api(app, toledo, toledo.people["ct"])
    before = _stored_files(app)

    def refuse(*args, **kwargs):
        raise ValidationFailed({"text": ["Refused after the file was stored."]})

    monkeypatch.setattr(audit, "record", refuse)
    response = api.post(
        f"/cases/{case_id}/evidence",
        data={"text": "Lesson plan", "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.json
    assert _stored_files(app) == before
    assert _evidence_count(app, toledo) == 0


# Values longer than their column -----------------------------------------------------------


def test_a_201_character_location_is_named_when_scheduling_a_session(app, toledo):
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    response = coordinator.post(
        "/panel/",
        "/panel/sessions",
        {"meets_on": date.today().isoformat(), "location": "L" * 201},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Give the session's date." not in response.text
    assert "200 characters" in response.text
    assert "/panel/sessions/" not in response.request.path


def test_a_201_character_school_filter_is_named_beside_the_field(app, toledo):
    page = Browser(app, toledo, toledo.people["coordinator"]).get("/cases/?school=" + "S" * 201)
    assert page.status_code == 400
    assert "200 characters" in errors_beside(page.text, "school")


def test_a_file_posted_where_the_text_goes_is_a_form_error(app, toledo, make_user, make_case):
    """A text field sees only text: a file sent under its name leaves it empty, the form
    says so beside the field, and nothing is stored (it was a 500 before)."""
    case_id = _ct_case(app, toledo, make_user, make_case)
    before = _stored_files(app)
    response = Browser(app, toledo, toledo.people["ct"]).post(
        f"/cases/{case_id}",
        f"/cases/{case_id}/evidence",
        {"text": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "plan.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code in (200, 422), response.status_code
    assert errors_beside(response.text, "evidence_text"), response.text[:2000]
    assert _stored_files(app) == before
    assert _evidence_count(app, toledo) == 0


def test_the_ct_picker_starts_empty_and_no_pick_is_a_form_error(app, toledo, make_user, make_case):
    """Assigning a CT is the coordinator's choice: the picker offers the suggestions, none
    chosen, and a proposal with no pick is refused beside the field and proposes nobody."""
    from app.models.assignment import Assignment

    teacher = make_user(toledo.tenant, "teacher", email="pick@toledo.org")
    case = make_case(toledo.tenant, teacher, "intervention", state="assignment")
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    page = coordinator.get(f"/cases/{case.id}")
    assert '<option selected value="">Choose a consulting teacher</option>' in page.text
    response = coordinator.post(f"/cases/{case.id}", f"/cases/{case.id}/assignment", {"ct_id": ""})
    assert response.status_code == 400
    assert "Choose a consulting teacher." in errors_beside(response.text, "ct_id")
    with app.app_context(), tenant_scope(toledo.tenant.id):
        assert db.session.execute(select(func.count(Assignment.id))).scalar_one() == 0


def test_the_ct_updates_a_goals_progress_from_the_case_page(app, toledo, make_user, make_case):
    from app.models.support import Goal

    case_id = _ct_case(app, toledo, make_user, make_case)
    ct = Browser(app, toledo, toledo.people["ct"])
    added = ct.post(f"/cases/{case_id}", f"/cases/{case_id}/goals", {"text": "Plan with data"})
    assert added.status_code == 302, added.text
    with app.app_context(), tenant_scope(toledo.tenant.id):
        goal_id = db.session.execute(select(Goal.id)).scalar_one()
    page = ct.get(f"/cases/{case_id}").text
    assert f'data-testid="goal-progress-{goal_id}"' in page
    assert f'<label for="progress-{goal_id}">' in page
    saved = ct.post(f"/cases/{case_id}", f"/cases/{case_id}/goals/{goal_id}", {"progress": "60"})
    assert saved.status_code == 302
    with app.app_context(), tenant_scope(toledo.tenant.id):
        assert db.session.get(Goal, goal_id).progress == 60
    refused = ct.post(
        f"/cases/{case_id}",
        f"/cases/{case_id}/goals/{goal_id}",
        {"progress": "160"},
        follow_redirects=True,
    )
    assert "Number must be between 0 and 100" in refused.text
    with app.app_context(), tenant_scope(toledo.tenant.id):
        assert db.session.get(Goal, goal_id).progress == 60
