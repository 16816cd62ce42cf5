"""The teacher's written response to the approved decision, posted from the case page."""

from __future__ import annotations

from flask_login import current_user

from app.blueprints.cases.forms import ResponseForm
from app.blueprints.cases.page import submit
from app.blueprints.cases.routes import bp
from app.blueprints.loading import case_or_404
from app.services import responses


@bp.post("/<int:case_id>/response")
def respond(case_id: int):
    """Only the case's teacher, inside the track's window, once; a refusal is shown in the
    decision's section of the case page they posted from (a second response is a 409)."""
    case = case_or_404(case_id)
    form = ResponseForm()
    return submit(
        case,
        form,
        "response_form",
        lambda: responses.respond(case, current_user.user, form.text.data),
        "Your response is kept with the decision.",
    )
