"""The teacher's written response to the approved decision, posted from the case page."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.blueprints.cases.page import render_case
from app.blueprints.cases.routes import bp
from app.blueprints.forms import Form, flash_errors, flash_invalid
from app.blueprints.loading import case_or_404
from app.blueprints.operation import attempt
from app.services import responses
from app.services.case_access import visible_case


class ResponseForm(Form):
    text = TextAreaField(
        "Your response",
        validators=[
            DataRequired("Write your response."),
            Length(max=responses.MAX_LENGTH, message="Keep the response to 10,000 characters."),
        ],
        description="Your response is kept with the decision; it does not change it.",
    )


@bp.post("/<int:case_id>/response")
def respond(case_id: int):
    """Only the case's teacher, inside the track's window, once; a refusal is shown on the
    case page they posted from, with its status (a second response is a 409)."""
    case = case_or_404(case_id)
    form = ResponseForm()
    if not form.validate_on_submit():
        flash_invalid(form)
        return render_case(case, 400)
    outcome = attempt(lambda: responses.respond(case, current_user.user, form.text.data))
    if not outcome.ok:
        flash_errors(outcome.refusal)
        return render_case(visible_case(case.id, current_user.user), outcome.refusal.status)
    flash("Your response is kept with the decision.", "success")
    return redirect(url_for("cases.show", case_id=case.id))
