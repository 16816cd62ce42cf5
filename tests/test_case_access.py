"""Each role sees exactly what the design allows, and closed cases stay closed."""

from __future__ import annotations

import contextlib
import io

import pytest

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import cases, support, users
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def boston(app, district, make_user, make_case):
    """Two teachers at Lincoln: one on PAR (review) with the CT, one on PA (assistance)."""
    d = district("boston", "boston_esp")
    p = d.people
    p["teacher"] = make_user(d.tenant, "teacher", email="t1@boston.org")
    p["colleague"] = make_user(d.tenant, "teacher", email="t2@boston.org")
    p["other_ct"] = make_user(d.tenant, "consulting_teacher", email="ct2@boston.org")
    par = make_case(d.tenant, p["teacher"], "par", latest_rating="needs_improvement")
    pa = make_case(d.tenant, p["colleague"], "pa", latest_rating="needs_improvement")
    with app.app_context(), tenant_scope(d.tenant.id):
        principal = db.session.get(User, p["principal"].id)
        ct = db.session.get(User, p["ct"].id)
        for case_id in (par.id, pa.id):
            case = db.session.get(Case, case_id)
            case.principal_id = principal.id
            case.ct_id = ct.id
        par_case = db.session.get(Case, par.id)
        par_case.principal_can_see = True
        support.log_visit(
            par_case,
            ct,
            support.VisitInput(
                "observation",
                par_case.enrolled_on,
                40,
                notes="Private coaching note",
                shared_with_teacher=False,
            ),
        )
        support.log_visit(
            par_case,
            ct,
            support.VisitInput(
                "coaching", par_case.enrolled_on, 30, notes="Shared next step: exit tickets"
            ),
        )
        support.add_evidence(
            par_case,
            ct,
            "Unit plan review",
            ["teaching_all_students"],
            (io.BytesIO(PDF), "unit.pdf"),
        )
        uow.commit()
        users.set_password(db.session.get(User, p["teacher"].id), "correct horse battery")
        uow.commit()
    return d, par.id, pa.id


def test_a_teacher_sees_their_case_and_shared_notes_but_no_evidence(app, boston):
    d, par_id, pa_id = boston
    teacher = Browser(app, d, d.people["teacher"])
    page = teacher.get(f"/cases/{par_id}").text
    assert "Shared next step: exit tickets" in page
    assert "Private coaching note" not in page
    assert "Unit plan review" not in page and "unit.pdf" not in page
    assert teacher.get(f"/cases/{pa_id}").status_code == 404
    api = Api(app, d, d.people["teacher"])
    assert api.get(f"/cases/{par_id}/evidence").status_code == 404
    visits = api.get(f"/cases/{par_id}/visits").json["items"]
    assert {v["notes"] for v in visits} == {"Shared next step: exit tickets", None}
    assert api.get("/cases").json["total"] == 1


def test_a_ct_sees_only_their_caseload(app, boston):
    d, par_id, _ = boston
    other = Api(app, d, d.people["other_ct"])
    assert other.get("/cases").json["total"] == 0
    assert other.get(f"/cases/{par_id}").status_code == 404
    own = Api(app, d, d.people["ct"])
    assert own.get("/cases").json["total"] == 2
    assert "Private coaching note" in str(own.get(f"/cases/{par_id}/visits").json)


def test_a_principal_sees_their_schools_cases_as_the_track_shares(app, boston):
    d, par_id, pa_id = boston
    principal = Api(app, d, d.people["principal"])
    listed = principal.get("/cases").json
    assert sorted(c["id"] for c in listed["items"]) == sorted([par_id, pa_id])
    assert principal.get(f"/cases/{pa_id}").status_code == 200  # PA shares participation only
    assert principal.get(f"/cases/{pa_id}/visits").status_code == 404
    visits = principal.get(f"/cases/{par_id}/visits").json["items"]
    assert visits and all(v["notes"] is None for v in visits)  # a summary, never notes
    assert principal.get(f"/cases/{par_id}/evidence").status_code == 200


def test_evidence_files_download_only_for_those_who_see_evidence(app, boston):
    d, par_id, _ = boston
    with app.app_context(), tenant_scope(d.tenant.id):
        evidence_id = support.evidence(db.session.get(Case, par_id))[0].id
    url = f"/cases/{par_id}/evidence/{evidence_id}/file"
    ct = Browser(app, d, d.people["ct"]).get(url)
    assert ct.status_code == 200 and ct.data == PDF
    assert ct.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in ct.headers["Content-Disposition"]
    assert Browser(app, d, d.people["teacher"]).get(url).status_code == 404


def test_only_the_assigned_ct_logs_visits_even_among_those_who_see_the_case(app, boston, make_user):
    d, par_id, _ = boston
    both = make_user(d.tenant, "coordinator", "consulting_teacher", email="both@boston.org")
    coordinator = Api(app, d, both)
    response = coordinator.post(
        f"/cases/{par_id}/visits", json={"visit_type": "observation", "visited_on": "2026-01-05"}
    )
    assert response.status_code == 403
    assert "consulting teacher" in response.json["errors"]["_schema"][0]


def test_a_visit_of_an_unknown_type_or_in_the_future_is_refused(app, boston):
    d, par_id, _ = boston
    ct = Api(app, d, d.people["ct"])
    bad = ct.post(
        f"/cases/{par_id}/visits",
        json={"visit_type": "picnic", "visited_on": "2999-01-01", "focus_standards": ["nope"]},
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"visit_type", "visited_on", "focus_standards"}


def test_closed_cases_are_read_only_until_an_admin_reopens_them(app, boston):
    d, par_id, _ = boston
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, par_id)
        case.state, case.closed_at, case.outcome = "closed", case.created_at, "met_standards"
        uow.commit()
    ct = Api(app, d, d.people["ct"])
    refused = ct.post(f"/cases/{par_id}/goals", json={"text": "More"})
    assert refused.status_code == 409
    assert refused.json["errors"]["case"] == ["This case is closed and read-only."]
    admin = Browser(app, d, d.people["admin"])
    reopened = admin.post(
        f"/cases/{par_id}",
        f"/cases/{par_id}/reopen",
        {"to_state": "support", "reason": "Closed by mistake"},
    )
    assert reopened.status_code == 302
    assert ct.post(f"/cases/{par_id}/goals", json={"text": "More"}).status_code == 201
    with app.app_context(), tenant_scope(d.tenant.id):
        from sqlalchemy import select

        from app.models.audit import AuditEvent

        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.reopened")
        ).scalar_one()
    assert event.after == {"state": "support", "reason": "Closed by mistake"}


def test_intake_shows_the_tracks_eligibility_reason(app, district, make_user, make_case):
    d = district("boston", "boston_esp")
    teacher = make_user(d.tenant, "teacher", email="t@boston.org")
    make_case(d.tenant, teacher, "par", latest_rating="proficient")
    page = Browser(app, d, d.people["coordinator"]).get("/cases/intake").text
    assert "Peer Assistance and Review (PAR): latest rating must be one of" in page


def test_the_case_list_exports_as_csv_for_program_staff(app, boston):
    d, par_id, _pa_id = boston
    coordinator = Browser(app, d, d.people["coordinator"])
    response = coordinator.get("/cases/export.csv?track=par")
    assert response.mimetype == "text/csv"
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("id,teacher,track,state")
    assert [line.split(",")[0] for line in lines[1:]] == [str(par_id)]
    assert Browser(app, d, d.people["teacher"]).get("/cases/export.csv").status_code == 403


def test_decline_with_a_reason_shows_the_reason_to_the_teacher(app, boston):
    d, _, pa_id = boston
    coordinator = Api(app, d, d.people["coordinator"])
    ok = coordinator.post(
        f"/cases/{pa_id}/transitions",
        json={"action": "decline", "payload": {"note": "Not this year."}},
    )
    assert ok.status_code == 200
    with app.app_context(), tenant_scope(d.tenant.id):
        assert db.session.get(Case, pa_id).status_note == "Not this year."
        assert cases.ensure_open(db.session.get(Case, pa_id)) is None


def test_a_stored_upload_is_removed_when_its_work_rolls_back(app, boston):
    import os

    from app.core import uow
    from app.services.storage import storage_for

    d, par_id, _ = boston
    root = storage_for(app).root

    def count() -> int:
        return sum(len(files) for _, _, files in os.walk(root))

    before = count()
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, par_id)
        ct = db.session.get(User, d.people["ct"].id)
        support.add_evidence(case, ct, "x", [], (io.BytesIO(PDF), "x.pdf"))
        assert count() == before + 1
        uow.rollback()  # e.g. a later step of the same request failed
    assert count() == before


@pytest.mark.parametrize("state", ["request", "intake"])
def test_an_induction_request_stays_in_the_intake_queue_until_it_is_accepted(
    app, district, make_user, make_case, state
):
    """An induction track names ``accept`` as its intake step, so a request begun
    (``intake``) is still the coordinator's to accept, not lost between the queues."""
    d = district("newton", "induction_minimal")
    teacher = make_user(d.tenant, "teacher", email="new@newton.org")
    case = make_case(d.tenant, teacher, "induction", state=state)
    page = Browser(app, d, d.people["coordinator"]).get("/cases/intake").text
    assert f"/cases/{case.id}" in page


def test_the_case_page_finds_exactly_the_cases_the_lists_show_each_person(app, boston, make_user):
    """A case page's own statement (built once for staff and for a case's own people, per
    request for a panel member) admits each person to exactly the cases ``visible_cases``
    lists for them: the two rules cannot drift apart."""
    from sqlalchemy import select

    from app.services import case_access
    from app.services.errors import NotFound

    d, _par, _pa = boston
    people = {**d.people, "panelist": make_user(d.tenant, "panel_member", email="pm@boston.org")}
    roles_seen = set()
    with app.app_context(), tenant_scope(d.tenant.id):
        every = db.session.execute(select(Case.id)).scalars().all()
        assert len(every) >= 2
        for key, person in people.items():
            user = db.session.get(User, person.id)
            roles_seen |= user.roles
            listed = set(
                db.session.execute(
                    case_access.visible_cases(user).with_only_columns(Case.id)
                ).scalars()
            )
            found = set()
            for case_id in every:
                with contextlib.suppress(NotFound):
                    found.add(case_access.visible_case(case_id, user).id)
            assert found == listed, key
        db.session.rollback()
    assert {"coordinator", "teacher", "consulting_teacher", "principal", "panel_member"} <= (
        roles_seen
    )
