"""Enrollment, roster, assignment and support records over the API (the services of the pages)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from app.blueprints.api import bp
from app.blueprints.api.cases import _detail
from app.blueprints.api.helpers import load, load_form
from app.blueprints.api.schemas.cases import CaseDetailSchema
from app.blueprints.api.schemas.support import (
    AssignmentOverviewSchema,
    AssignmentSchema,
    ConsultingTeacherListSchema,
    EnrollmentSchema,
    EvidenceInSchema,
    EvidenceListSchema,
    EvidenceSchema,
    GoalInSchema,
    GoalSchema,
    ProposeSchema,
    RecommendationInSchema,
    RecommendationSchema,
    ReviewInSchema,
    VisitInSchema,
    VisitListSchema,
    VisitSchema,
)
from app.blueprints.api.spec import documented
from app.blueprints.loading import assignment_or_404, case_or_404, user_or_404
from app.services import assignments, enrollment, roster, support
from app.services import workflow_config as configs
from app.services.case_permissions import sections


def _sections(case):
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    return sections(case, current_user.user, track.shared_with_principal)


@bp.post("/t/<tenant_slug>/enrollments")
@documented(
    "Enrol a teacher (a referral when a principal or union representative sends it)",
    body=EnrollmentSchema,
    response=CaseDetailSchema,
    status=201,
)
def enrollment_create():
    data = load(EnrollmentSchema())
    case = enrollment.enroll(enrollment.EnrollmentRequest(**data), referred_by=current_user.user)
    return _detail(case), 201


@bp.get("/t/<tenant_slug>/consulting-teachers")
@documented("The CT roster with current loads and training", response=ConsultingTeacherListSchema)
def consulting_teachers():
    loads = roster.loads()
    items = []
    for row in roster.profiles():
        body = ConsultingTeacherListSchema().dump({"items": [row]})["items"][0]
        body["load"] = loads.get(row.user_id, 0)
        items.append(body)
    return {"items": items}


@bp.get("/t/<tenant_slug>/cases/<int:case_id>/visits")
@documented("The case's visits as the caller may see them", response=VisitListSchema)
def visits_list(case_id: int):
    case = case_or_404(case_id)
    seen = _sections(case)
    if not seen.visit_summary:
        abort(404)
    rows = support.visits(case, for_teacher=not seen.evidence)
    body = VisitListSchema().dump({"items": rows})
    if not seen.visit_notes:
        for item in body["items"]:
            item["notes"] = item["next_steps"] = None
    return body


@bp.post("/t/<tenant_slug>/cases/<int:case_id>/visits")
@documented(
    "Log a visit (or plan a meeting); the assigned CT only",
    body=VisitInSchema,
    response=VisitSchema,
    status=201,
)
def visit_create(case_id: int):
    case = case_or_404(case_id)
    data = load(VisitInSchema())
    data["focus_standards"] = tuple(data["focus_standards"])
    key = data.pop("idempotency_key")
    visit = support.log_visit(case, current_user.user, support.VisitInput(**data), key=key)
    return VisitSchema().dump(visit), 201


@bp.get("/t/<tenant_slug>/cases/<int:case_id>/evidence")
@documented("The case's evidence (never shown to the teacher)", response=EvidenceListSchema)
def evidence_list(case_id: int):
    case = case_or_404(case_id)
    if not _sections(case).evidence:
        abort(404)
    return EvidenceListSchema().dump({"items": support.evidence(case)})


@bp.post("/t/<tenant_slug>/cases/<int:case_id>/evidence")
@documented(
    "Add evidence: multipart fields text, standards (repeated) and an optional file",
    form=EvidenceInSchema,
    response=EvidenceSchema,
    status=201,
    refusals={507: "The evidence store is full or read-only; nothing was saved"},
)
def evidence_create(case_id: int):
    case = case_or_404(case_id)
    data = load_form(EvidenceInSchema())
    upload = data.get("file")
    item = support.add_evidence(
        case,
        current_user.user,
        data["text"],
        data["standards"],
        (upload.stream, upload.filename) if upload else None,
    )
    return EvidenceSchema().dump(item), 201


@bp.post("/t/<tenant_slug>/cases/<int:case_id>/goals")
@documented("Add a goal", body=GoalInSchema, response=GoalSchema, status=201)
def goal_create(case_id: int):
    case = case_or_404(case_id)
    data = load(GoalInSchema())
    goal = support.add_goal(case, current_user.user, data["text"])
    return GoalSchema().dump(goal), 201


@bp.post("/t/<tenant_slug>/cases/<int:case_id>/recommendation")
@documented(
    "Submit the CT's recommendation; the case moves on to panel review",
    body=RecommendationInSchema,
    response=RecommendationSchema,
    status=201,
)
def recommendation_create(case_id: int):
    case = case_or_404(case_id)
    data = load(RecommendationInSchema())
    row = support.submit_recommendation(
        case, current_user.user, data["rating"], data["rationale"], data["evidence_ids"]
    )
    return RecommendationSchema().dump(row), 201


@bp.get("/t/<tenant_slug>/cases/<int:case_id>/assignment")
@documented("Assignment history and ranked CT suggestions", response=AssignmentOverviewSchema)
def assignment_get(case_id: int):
    case = case_or_404(case_id)
    if not _sections(case).assignment:
        abort(404)
    suggestions = roster.suggestions(case) if "coordinator" in current_user.roles else []
    return AssignmentOverviewSchema().dump(
        {"history": assignments.history(case), "suggestions": suggestions}
    )


@bp.post("/t/<tenant_slug>/cases/<int:case_id>/assignment")
@documented(
    "Propose (or reassign) a CT; waits for the committee where the track says so",
    body=ProposeSchema,
    response=AssignmentSchema,
    status=201,
)
def assignment_propose(case_id: int):
    case = case_or_404(case_id)
    data = load(ProposeSchema())
    made = assignments.propose(case, user_or_404(data["ct_id"]), current_user.user, data["reason"])
    return AssignmentSchema().dump(made), 201


@bp.post("/t/<tenant_slug>/cases/<int:case_id>/assignment/<int:assignment_id>/reviews")
@documented(
    "A committee member approves or objects to a proposed assignment",
    body=ReviewInSchema,
    response=AssignmentSchema,
)
def assignment_review(case_id: int, assignment_id: int):
    case = case_or_404(case_id)
    proposal = assignment_or_404(case, assignment_id)
    data = load(ReviewInSchema())
    assignments.review(proposal, current_user.user, data["approve"], data["comment"])
    return AssignmentSchema().dump(proposal)
