"""A district with a full panel and a case waiting for it, built through the services."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import assignments, cases, panel, support
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from tests.casework import Api, District


@dataclass
class PanelSetup:
    district: District
    case_id: int
    members: dict[str, User]  # "teacher1".."teacher5", "admin1".."admin4"
    member_ids: dict[str, int]
    teacher: User
    final_authority: User


def _to_panel_review(app, d: District, teacher: User) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        ct = db.session.get(User, d.people["ct"].id)
        coordinator = db.session.get(User, d.people["coordinator"].id)
        case = cases.open_case(
            teacher=db.session.get(User, teacher.id),
            track_key="intervention",
            school="Lincoln Elementary",
            latest_rating="unsatisfactory",
        )
        case.permanent_status = True
        for action in ("begin_intake", "accept"):
            cases.apply(case, action, coordinator)
        assignments.propose(case, ct, coordinator)
        cases.apply(case, "assign_ct", coordinator)
        cases.apply(case, "hold_introduction", ct)
        for _ in range(8):  # dated inside the support, which began today
            support.log_visit(
                case,
                ct,
                support.VisitInput(
                    "observation",
                    date.today(),
                    45,
                    notes="Private CT notes for the record",
                ),
            )
        support.add_evidence(
            case,
            ct,
            "Observation summaries",
            [],
            (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "summaries.pdf"),
        )
        support.add_goal(case, ct, "Plan with student work")
        cases.apply(case, "end_support", ct)
        support.submit_recommendation(
            case, ct, "unsatisfactory", "Eight observations show little change in practice.", []
        )
        uow.commit()
        assert db.session.get(Case, case.id).state == "panel_review"
        return case.id


@pytest.fixture
def toledo_panel(app, district, make_user):
    """Toledo: 5 teachers + 4 administrators (6 of 9 decides); admin4 works at the case's
    school and is recused by rule; teacher1 chairs."""
    d = district("toledo", "toledo")
    teacher = make_user(d.tenant, "teacher", email="lee@toledo.org")
    authority = make_user(d.tenant, "final_authority", email="supt@toledo.org")
    members: dict[str, User] = {}
    for n in range(1, 6):
        members[f"teacher{n}"] = make_user(d.tenant, "panel_member", email=f"pt{n}@toledo.org")
    for n in range(1, 5):
        members[f"admin{n}"] = make_user(d.tenant, "panel_member", email=f"pa{n}@toledo.org")
    ids = seat_members(app, d, members)
    case_id = _to_panel_review(app, d, teacher)
    with app.app_context(), tenant_scope(d.tenant.id):
        from app.services import exports

        exports.request(db.session.get(User, d.people["coordinator"].id), "cases_csv", {})
        uow.commit()  # built inline: every route that names an export has one to name
    return PanelSetup(d, case_id, members, ids, teacher, authority)


@dataclass
class AwaitingApproval:
    district: District
    authority: User
    case_id: int


@pytest.fixture
def awaiting_approval(app, district, make_user):
    """``awaiting_approval(slug, preset, track, latest_rating, document=None)``: a district
    whose panel decided one case, now at the final authority's desk (taken there by the
    demo's steps); ``document``, when given, is published first and the case starts under it."""
    from app.services import demo_panel
    from app.workflows import load_preset, validate

    def _make(
        slug: str, preset: str, track_key: str, latest_rating: str, document: dict | None = None
    ) -> AwaitingApproval:
        d = district(slug, preset)
        teacher = make_user(d.tenant, "teacher", email=f"teacher@{slug}.org")
        authority = make_user(d.tenant, "final_authority", email=f"supt@{slug}.org")
        first = make_user(d.tenant, "panel_member", email=f"chair@{slug}.org")
        config = validate(document or load_preset(preset)).config
        with app.app_context(), tenant_scope(d.tenant.id):
            if document is not None:
                from app.services import workflow_config

                workflow_config.save_draft(document)
                workflow_config.publish(note="the test's own program")
            person = {
                "coordinator": db.session.get(User, d.people["coordinator"].id),
                "final_authority": db.session.get(User, authority.id),
                "consulting_teacher": db.session.get(User, d.people["ct"].id),
            }
            case = cases.open_case(
                teacher=db.session.get(User, teacher.id),
                track_key=track_key,
                school="Adams",
                latest_rating=latest_rating,
            )
            case.permanent_status = True
            seated = demo_panel.seat_panel(
                config,
                db.session.get(User, first.id),
                f"{slug}.org",
                "long enough password",
            )
            # Up to the superintendent's desk, but not through it.
            demo_panel.decide_a_case(case, config, person, seated, approve=False)
            uow.commit()
            assert case.state == "final_approval"
            return AwaitingApproval(d, authority, case.id)

    return _make


def seat_members(app, d: District, members: dict[str, User]) -> dict[str, int]:
    """Seat ``teacherN`` on the teachers' side and ``adminN`` on the administrators';
    teacher1 chairs and admin4 works at the case's school (recused by rule)."""
    ids = {}
    with app.app_context(), tenant_scope(d.tenant.id):
        for key, user in members.items():
            row = db.session.get(User, user.id)
            if key == "admin4":
                row.school = "Lincoln Elementary"
            side = "teachers" if key.startswith("teacher") else "administrators"
            ids[key] = panel.seats.save_member(
                row, side, key == "teacher1", None, None, Actor.system()
            ).id
        uow.commit()
    return ids


def session_with_case(app, setup: PanelSetup) -> tuple[Api, int]:
    """A session scheduled today with the setup's case on its agenda and every member present."""
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    session = coordinator.post("/panel-sessions", json={"meets_on": date.today().isoformat()})
    assert session.status_code == 201, session.json
    sid = session.json["id"]
    added = coordinator.post(f"/panel-sessions/{sid}/agenda", json={"case_id": setup.case_id})
    assert added.status_code == 201, added.json
    for member_id in setup.member_ids.values():
        coordinator.post(
            f"/panel-sessions/{sid}/attendance", json={"member_id": member_id, "present": True}
        )
    return coordinator, sid
