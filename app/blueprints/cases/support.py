"""Support on a case: visits, goals, evidence and the recommendation."""

from __future__ import annotations

from uuid import UUID, uuid4

from flask import redirect, send_file, url_for
from flask_login import current_user

from app.blueprints.cases.forms import (
    EvidenceForm,
    GoalForm,
    GoalProgressForm,
    RecommendationForm,
    VisitForm,
    choices,
)
from app.blueprints.cases.page import submit
from app.blueprints.cases.routes import bp
from app.blueprints.forms import flash_invalid, perform
from app.blueprints.loading import case_or_404, evidence_or_404, goal_or_404, visit_or_404
from app.services import support
from app.services import workflow_config as configs


def _visit_input(form: VisitForm) -> support.VisitInput:
    return support.VisitInput(
        visit_type=form.visit_type.data,
        visited_on=form.visited_on.data,
        duration_minutes=form.duration_minutes.data,
        focus_standards=tuple(form.focus_standards.data or ()),
        notes=form.notes.data or None,
        next_steps=form.next_steps.data or None,
        principal_present=form.principal_present.data,
        shared_with_teacher=form.shared_with_teacher.data,
        planned=form.planned.data,
    )


@bp.post("/<int:case_id>/visits")
def visit_new(case_id: int):
    case = case_or_404(case_id)
    form = VisitForm()
    form.fill_choices(configs.config_of(case.workflow_version))

    def act():
        key = form.idempotency_key.data
        support.log_visit(
            case, current_user.user, _visit_input(form), key=UUID(key) if key else uuid4()
        )

    return submit(case, form, "visit_form", act, "Visit saved.")


@bp.post("/<int:case_id>/visits/<int:visit_id>/log")
def visit_log(case_id: int, visit_id: int):
    case = case_or_404(case_id)
    visit = visit_or_404(case, visit_id)
    form = VisitForm()
    form.fill_choices(configs.config_of(case.workflow_version))

    def act():
        support.complete_visit(visit, case, current_user.user, _visit_input(form))

    return submit(case, form, "visit_form", act, "Meeting logged.")


@bp.post("/<int:case_id>/goals")
def goal_new(case_id: int):
    case = case_or_404(case_id)
    form = GoalForm()

    def act():
        support.add_goal(case, current_user.user, form.text.data)

    return submit(case, form, "goal_form", act, "Goal added.")


@bp.post("/<int:case_id>/goals/<int:goal_id>")
def goal_progress(case_id: int, goal_id: int):
    case = case_or_404(case_id)
    goal = goal_or_404(case, goal_id)
    form = GoalProgressForm()
    if form.validate_on_submit():
        perform(
            lambda: support.set_goal_progress(goal, case, current_user.user, form.progress.data),
            "Progress saved.",
        )
    else:
        flash_invalid(form)
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<int:case_id>/evidence")
def evidence_new(case_id: int):
    case = case_or_404(case_id)
    form = EvidenceForm()
    form.fill_choices(configs.config_of(case.workflow_version))

    def act():
        upload = form.file.data
        support.add_evidence(
            case,
            current_user.user,
            form.text.data,
            form.standards.data or [],
            (upload.stream, upload.filename) if upload and upload.filename else None,
        )

    return submit(case, form, "evidence_form", act, "Evidence added.")


@bp.get("/<int:case_id>/evidence/<int:evidence_id>/file")
def evidence_file(case_id: int, evidence_id: int):
    case = case_or_404(case_id)
    item = evidence_or_404(case, evidence_id)
    stream = support.evidence_file(case, current_user.user, item)
    response = send_file(
        stream,
        mimetype=item.file_type,
        as_attachment=True,
        download_name=item.file_name or "evidence",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<int:case_id>/recommendation")
def recommend(case_id: int):
    case = case_or_404(case_id)
    form = RecommendationForm()
    config = configs.config_of(case.workflow_version)
    options = config.recommendation_options(case.track_key)
    form.rating.choices = choices((o, o) for o in options)
    form.evidence_ids.choices = choices((e.id, str(e.id)) for e in support.evidence(case))

    def act():
        support.submit_recommendation(
            case,
            current_user.user,
            form.rating.data,
            form.rationale.data,
            form.evidence_ids.data or [],
        )

    return submit(case, form, "recommendation_form", act, "Recommendation submitted.")
