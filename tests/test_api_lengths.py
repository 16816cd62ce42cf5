"""A string longer than where it is kept is a 422 naming its field, and nothing is written.

The limit is the column's (``String(n)``); for text stored without one (a reason, a
comment, a note) it is the limit the page's form sets, so both doors take the same values.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core import uow
from app.extensions import db
from app.models.assignment import Assignment, AssignmentReview
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.panel import Ballot, FinalDecision, PanelMember, PanelSession
from app.models.support import Recommendation, Visit
from app.models.survey import SurveyRound
from app.services import panel
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from tests.casework import Api
from tests.panelwork import PanelSetup


@dataclass(frozen=True)
class Limit:
    """One field, sent one character too long by ``sender`` with an otherwise valid body."""

    sender: str
    path: str  # formatted with the setup's ids: case_id, assignment_id, session_id
    body: dict
    field: str
    limit: int
    written: type  # the rows the request would have added


_TEACHER = {"teacher_id": 1, "track": "intervention"}
_ENROLLMENT = {
    "name": "Ann Able",
    "email": "ann@toledo.org",
    "school": "Adams",
    "track": "intervention",
    "letter": "I would like support with classroom routines.",
}
_VISIT = {"visit_type": "observation", "visited_on": date.today().isoformat()}
_RECOMMENDATION = {"rating": "unsatisfactory", "rationale": "Eight observations show growth."}
_DECISION = {"approve": False, "note": "Weigh the new evidence."}

LIMITS = {
    "case school": Limit(
        "coordinator", "/cases", _TEACHER, "school", Case.school.type.length, Case
    ),
    "case track": Limit(
        "coordinator", "/cases", _TEACHER, "track", Case.track_key.type.length, Case
    ),
    "case latest rating": Limit(
        "coordinator", "/cases", _TEACHER, "latest_rating", Case.latest_rating.type.length, Case
    ),
    "enrollment subject": Limit(
        "coordinator", "/enrollments", _ENROLLMENT, "subject", Case.subject.type.length, Case
    ),
    "enrollment grade": Limit(
        "coordinator", "/enrollments", _ENROLLMENT, "grade", Case.grade.type.length, Case
    ),
    "enrollment language": Limit(
        "coordinator",
        "/enrollments",
        _ENROLLMENT,
        "preferred_language",
        Case.preferred_language.type.length,
        Case,
    ),
    "enrollment track": Limit(
        "coordinator", "/enrollments", _ENROLLMENT, "track", Case.track_key.type.length, Case
    ),
    "enrollment latest rating": Limit(
        "coordinator",
        "/enrollments",
        _ENROLLMENT,
        "latest_rating",
        Case.latest_rating.type.length,
        Case,
    ),
    "session location": Limit(
        "coordinator",
        "/panel-sessions",
        {"meets_on": date.today().isoformat()},
        "location",
        PanelSession.location.type.length,
        PanelSession,
    ),
    "member constituency": Limit(
        "coordinator",
        "/panel-members",
        {"user_id": 1, "constituency": "teachers"},
        "constituency",
        PanelMember.constituency.type.length,
        PanelMember,
    ),
    "proposal reason": Limit(
        "coordinator", "/cases/{case_id}/assignment", {"ct_id": 1}, "reason", 500, Assignment
    ),
    "review comment": Limit(
        "committee1",
        "/cases/{case_id}/assignment/{assignment_id}/reviews",
        {"approve": False},
        "comment",
        1000,
        AssignmentReview,
    ),
    "visit type": Limit(
        "ct", "/cases/{case_id}/visits", _VISIT, "visit_type", Visit.visit_type.type.length, Visit
    ),
    "visit notes": Limit("ct", "/cases/{case_id}/visits", _VISIT, "notes", 10000, Visit),
    "visit next steps": Limit("ct", "/cases/{case_id}/visits", _VISIT, "next_steps", 5000, Visit),
    "recommendation rationale": Limit(
        "ct", "/cases/{case_id}/recommendation", _RECOMMENDATION, "rationale", 10000, Recommendation
    ),
    "recommendation rating": Limit(
        "ct",
        "/cases/{case_id}/recommendation",
        _RECOMMENDATION,
        "rating",
        Recommendation.rating.type.length,
        Recommendation,
    ),
    "ballot option": Limit(
        "teacher1",
        "/panel-sessions/{session_id}/cases/{case_id}/ballots",
        {"option": "abstain"},
        "option",
        Ballot.option.type.length,
        Ballot,
    ),
    "final decision note": Limit(
        "authority", "/cases/{case_id}/approvals", _DECISION, "note", 2000, FinalDecision
    ),
    "final decision outcome": Limit(
        "authority",
        "/cases/{case_id}/approvals",
        _DECISION,
        "outcome",
        Case.outcome.type.length,
        FinalDecision,
    ),
}


@pytest.fixture
def setup(app, toledo_panel: PanelSetup) -> dict:
    """Toledo's panel case on the agenda of a session: the ids the paths name, and who sends."""
    d = toledo_panel.district
    with app.app_context(), tenant_scope(d.tenant.id):
        session = panel.sessions.schedule(date.today(), "Central office", Actor.system())
        panel.sessions.add_to_agenda(
            session, db.session.get(Case, toledo_panel.case_id), Actor.system()
        )
        uow.commit()
        ids = {
            "case_id": toledo_panel.case_id,
            "session_id": session.id,
            "assignment_id": db.session.execute(
                select(Assignment.id).where(Assignment.case_id == toledo_panel.case_id)
            ).scalar_one(),
        }
    senders = {
        **d.people,
        "teacher1": toledo_panel.members["teacher1"],
        "authority": toledo_panel.final_authority,
    }
    return {"district": d, "ids": ids, "senders": senders}


def _counts(app, tenant_id: int, model: type) -> tuple[int, int]:
    """The rows of ``model`` and of the audit trail: a refused request adds to neither."""
    with app.app_context(), tenant_scope(tenant_id):
        return tuple(
            db.session.execute(select(func.count()).select_from(m)).scalar()
            for m in (model, AuditEvent)
        )


def _too_long(limit: int) -> tuple[str, str]:
    """One character over ``limit``, and how the API refuses it."""
    return "x" * (limit + 1), f"is {limit + 1} characters long; at most {limit} fit"


@pytest.mark.parametrize("limit", LIMITS.values(), ids=LIMITS.keys())
def test_one_character_over_a_limit_is_a_422_naming_the_field_and_writes_nothing(app, setup, limit):
    d = setup["district"]
    sender = Api(app, d, setup["senders"][limit.sender])
    before = _counts(app, d.tenant.id, limit.written)
    value, message = _too_long(limit.limit)
    response = sender.post(
        limit.path.format(**setup["ids"]), json={**limit.body, limit.field: value}
    )
    assert response.status_code == 422
    assert response.json == {"errors": {limit.field: [message]}}
    assert _counts(app, d.tenant.id, limit.written) == before


@pytest.mark.parametrize(
    "field, limit", [("survey", SurveyRound.survey_key), ("year", SurveyRound.year)]
)
def test_an_over_long_survey_or_year_in_an_import_is_a_422_that_writes_nothing(
    app, district, field, limit
):
    pap = district("bostonpap", "boston_pap_2007")
    coordinator = Api(app, pap, pap.people["coordinator"])
    before = _counts(app, pap.tenant.id, SurveyRound)
    value, message = _too_long(limit.type.length)
    form = {"survey": "teacher_questionnaire", "year": "2008-2009", "sent": "70"}
    response = coordinator.post(
        "/imports/survey-responses",
        data={**form, field: value, "file": (io.BytesIO(b"response_id\n"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.json == {"errors": {field: [message]}}
    assert _counts(app, pap.tenant.id, SurveyRound) == before


def test_a_location_as_long_as_its_column_is_kept_whole(app, setup):
    d = setup["district"]
    location = "x" * PanelSession.location.type.length
    response = Api(app, d, d.people["coordinator"]).post(
        "/panel-sessions", json={"meets_on": date.today().isoformat(), "location": location}
    )
    assert response.status_code == 201
    assert response.json["location"] == location


def test_the_document_declares_each_limit(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    declared = {
        (name, field): spec["maxLength"]
        for name, schema in schemas.items()
        for field, spec in schema.get("properties", {}).items()
        if "maxLength" in spec
    }
    assert declared[("CaseOpen", "school")] == Case.school.type.length
    assert declared[("Enrollment", "grade")] == Case.grade.type.length
    assert declared[("PanelSessionIn", "location")] == PanelSession.location.type.length
    assert declared[("Propose", "reason")] == 500
    assert declared[("ReviewIn", "comment")] == 1000
    assert declared[("FinalDecisionIn", "note")] == 2000


def test_a_columns_length_is_read_by_its_table_and_name():
    """The schemas name the column they check by table and name; a name that is not a
    column, or a column without a length, is refused where the schema is defined."""
    from app.services import lengths

    assert lengths.of("cases.school") == Case.school.type.length
    assert lengths.of("ballots.option") == Ballot.option.type.length
    with pytest.raises(KeyError):
        lengths.of("cases.no_such_column")
    with pytest.raises(ValueError):
        lengths.of("cases.id")
