"""Case-page routes for the appeal section: the teacher files, the configured body decides
(the final authority, a coordinator recording an arbiter's award, or the appeal panel's
members voting and a coordinator closing the vote)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.blueprints.cases.page import fresh, submit
from app.blueprints.cases.routes import bp
from app.blueprints.forms import Form
from app.blueprints.loading import case_or_404
from app.services import appeals


def _choice_field(label: str, message: str, name_help: str) -> SelectField:
    """Grant or deny, with nothing chosen at first (a consequential choice has no default)."""
    return SelectField(
        label,
        choices=[("", "Choose"), *appeals.CHOICES],
        validators=[DataRequired(message)],
        description=name_help,
    )


class AppealForm(Form):
    """The teacher's grounds for appealing the approved decision."""

    grounds = TextAreaField(
        "Why you appeal the decision",
        validators=[
            DataRequired("Say why you appeal the decision."),
            Length(
                max=appeals.MAX_LENGTH,
                message=f"Keep it to {appeals.MAX_LENGTH:,} characters.",
            ),
        ],
        description="Filing puts the decision under appeal; it stands until the appeal is decided.",
        render_kw={"rows": 6, "maxlength": appeals.MAX_LENGTH},
    )


class AppealDecisionForm(Form):
    """The final authority's decision on the appeal, or the arbiter's award as a coordinator
    records it (``arbiter_name`` is then required by the service)."""

    arbiter_name = StringField(
        "The arbiter's name",
        validators=[Optional(), Length(max=appeals.NAME_MAX)],
        description="The outside arbiter who made the award.",
    )
    appeal_decision = _choice_field(
        "Decision on the appeal",
        "Choose to grant or to deny the appeal.",
        "Granted, the case's outcome changes; denied, the decision stands.",
    )
    appeal_note = TextAreaField(
        "Reasons",
        validators=[
            DataRequired("Give the reasons, for the record and the teacher."),
            Length(max=appeals.NOTE_MAX, message=f"Keep it to {appeals.NOTE_MAX:,} characters."),
        ],
        render_kw={"rows": 4, "maxlength": appeals.NOTE_MAX},
    )


class AppealVoteForm(Form):
    """A member of the appeal panel votes; the vote may be changed until it closes."""

    appeal_vote = _choice_field(
        "Your vote",
        "Choose to grant or to deny the appeal.",
        "Members who sat on the decision do not vote on its appeal.",
    )


class AppealCloseForm(Form):
    """The coordinator closes the appeal panel's vote, saying so: closing is final."""

    close_vote = BooleanField(
        "Every member who will vote has voted: close the vote",
        validators=[DataRequired("Tick the box to close the vote; it cannot be reopened.")],
    )


def page_forms(posted: dict[str, Any]) -> dict[str, Any]:
    """The forms the appeal section draws: those posted back with errors, else fresh ones."""
    return {
        "appeal_form": posted.get("appeal_form") or fresh(AppealForm),
        "appeal_decision_form": posted.get("appeal_decision_form") or fresh(AppealDecisionForm),
        "appeal_vote_form": posted.get("appeal_vote_form") or fresh(AppealVoteForm),
        "appeal_close_form": posted.get("appeal_close_form") or fresh(AppealCloseForm),
    }


@bp.post("/<int:case_id>/appeal")
def appeal_file(case_id: int):
    """Only the case's teacher, inside the window, once; a late appeal is refused beside the
    grounds with the day the window closed."""
    case = case_or_404(case_id)
    form = AppealForm()
    return submit(
        case,
        form,
        "appeal_form",
        lambda: appeals.file(case, current_user.user, form.grounds.data),
        "Your appeal is filed; you will be told when it is decided.",
    )


@bp.post("/<int:case_id>/appeal/decision")
def appeal_decide(case_id: int):
    """The final authority's decision, or a coordinator's record of the arbiter's award,
    by the body the appeal was filed with."""
    case = case_or_404(case_id)
    form = AppealDecisionForm()

    return submit(
        case,
        form,
        "appeal_decision_form",
        lambda: appeals.record_decision(
            case,
            current_user.user,
            form.appeal_decision.data,
            form.appeal_note.data,
            form.arbiter_name.data,
        ),
        lambda appeal: f"{appeal.decision_words}. The teacher is told.",
    )


@bp.post("/<int:case_id>/appeal/vote")
def appeal_vote(case_id: int):
    """A member of the appeal panel votes; eligibility is checked as they vote."""
    case = case_or_404(case_id)
    form = AppealVoteForm()
    return submit(
        case,
        form,
        "appeal_vote_form",
        lambda: appeals.vote(case, current_user.user, form.appeal_vote.data),
        "Your vote is recorded; you may change it until the vote closes.",
    )


@bp.post("/<int:case_id>/appeal/close")
def appeal_close(case_id: int):
    """A coordinator closes the appeal panel's vote; the rule decides."""
    case = case_or_404(case_id)
    form = AppealCloseForm()
    return submit(
        case,
        form,
        "appeal_close_form",
        lambda: appeals.close_vote(case, current_user.user),
        lambda appeal: f"{appeal.decision_words}. The teacher is told.",
    )
