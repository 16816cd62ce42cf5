"""The coordinator's and committee's work on a case: CT assignment, questions, reopening."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from app.blueprints.cases.forms import (
    InformationRequestForm,
    ProposeForm,
    ReopenForm,
    ReviewForm,
    choices,
)
from app.blueprints.cases.page import render_case
from app.blueprints.cases.routes import bp, case_or_404
from app.blueprints.forms import show_errors
from app.blueprints.loading import get_or_404
from app.models.assignment import Assignment
from app.models.user import User
from app.services import assignments, cases, enrollment, roster, uow
from app.services.case_permissions import require
from app.services.errors import NotFound, ServiceError


def _back(case_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<int:case_id>/assignment")
def propose(case_id: int):
    case = case_or_404(case_id)
    form = ProposeForm()
    form.ct_id.choices = choices((s.ct_id, s.name) for s in roster.suggestions(case) if s.eligible)
    if form.validate_on_submit():
        try:
            require(case, current_user.user, roles=("coordinator",), what="assign a CT")
            ct = get_or_404(User, form.ct_id.data)
            made = assignments.propose(case, ct, current_user.user, form.reason.data or None)
            uow.commit()
            waiting = made.status == "proposed"
            return _back(
                case_id,
                "Proposed; waiting for the committee."
                if waiting
                else f"{ct.name} is now the consulting teacher.",
            )
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
            return render_case(case_or_404(case_id), exc.status, propose_form=form)
    return render_case(case, 400, propose_form=form)


@bp.post("/<int:case_id>/assignment/<int:assignment_id>/review")
def review(case_id: int, assignment_id: int):
    case = case_or_404(case_id)
    proposal = get_or_404(Assignment, assignment_id)
    if proposal.case_id != case.id:
        raise NotFound({"_schema": ["Not found."]})
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            require(
                case, current_user.user, roles=("committee_member",), what="review an assignment"
            )
            assignments.review(
                proposal,
                current_user.user,
                form.decision.data == "approve",
                form.comment.data or None,
            )
            uow.commit()
            return _back(case_id, "Your answer is recorded.")
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
            return render_case(case_or_404(case_id), exc.status, review_form=form)
    return render_case(case, 400, review_form=form)


@bp.post("/<int:case_id>/information-request")
def ask(case_id: int):
    case = case_or_404(case_id)
    form = InformationRequestForm()
    if form.validate_on_submit():
        try:
            require(case, current_user.user, roles=("coordinator",), what="ask for information")
            enrollment.request_information(case, current_user.user, form.question.data)
            uow.commit()
            return _back(case_id, "The teacher has been asked.")
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
            return render_case(case_or_404(case_id), exc.status, info_form=form)
    return render_case(case, 400, info_form=form)


@bp.post("/<int:case_id>/reopen")
def reopen(case_id: int):
    case = case_or_404(case_id)
    form = ReopenForm()
    from app.services import workflow_config as configs

    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    form.to_state.choices = choices((k, s.label) for k, s in track.states.items() if not s.terminal)
    if form.validate_on_submit():
        try:
            require(case, current_user.user, roles=("program_admin",), what="reopen")
            cases.reopen(case, current_user.user, form.to_state.data, form.reason.data)
            uow.commit()
            return _back(case_id, "The case is open again.")
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
            return render_case(case_or_404(case_id), exc.status, reopen_form=form)
    return render_case(case, 400, reopen_form=form)
