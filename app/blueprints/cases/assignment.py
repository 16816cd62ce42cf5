"""The coordinator's and committee's work on a case: CT assignment, questions, reopening."""

from __future__ import annotations

from flask_login import current_user

from app.blueprints.cases.forms import (
    InformationRequestForm,
    ProposeForm,
    ReopenForm,
    ReviewForm,
    choices,
)
from app.blueprints.cases.page import submit
from app.blueprints.cases.routes import bp
from app.blueprints.loading import assignment_or_404, case_or_404, user_or_404
from app.services import assignments, cases, enrollment, roster
from app.services import workflow_config as configs


@bp.post("/<int:case_id>/assignment")
def propose(case_id: int):
    case = case_or_404(case_id)
    form = ProposeForm()
    form.ct_id.choices = choices(
        ((s.ct_id, s.name) for s in roster.suggestions(case) if s.eligible), empty="Choose"
    )

    def act():
        assignments.propose(
            case, user_or_404(form.ct_id.data), current_user.user, form.reason.data or None
        )

    return submit(
        case,
        form,
        "propose_form",
        act,
        "Proposed. Where the committee must agree, it has been asked.",
    )


@bp.post("/<int:case_id>/assignment/<int:assignment_id>/review")
def review(case_id: int, assignment_id: int):
    case = case_or_404(case_id)
    proposal = assignment_or_404(case, assignment_id)
    form = ReviewForm()

    def act():
        assignments.review(
            proposal, current_user.user, form.decision.data == "approve", form.comment.data or None
        )

    return submit(case, form, "review_form", act, "Your answer is recorded.")


@bp.post("/<int:case_id>/information-request")
def ask(case_id: int):
    case = case_or_404(case_id)
    form = InformationRequestForm()

    def act():
        enrollment.request_information(case, current_user.user, form.question.data)

    return submit(case, form, "info_form", act, "The teacher has been asked.")


@bp.post("/<int:case_id>/reopen")
def reopen(case_id: int):
    case = case_or_404(case_id)
    form = ReopenForm()
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    form.to_state.choices = choices((k, s.label) for k, s in track.states.items() if not s.terminal)

    def act():
        cases.reopen(case, current_user.user, form.to_state.data, form.reason.data)

    return submit(case, form, "reopen_form", act, "The case is open again.")
