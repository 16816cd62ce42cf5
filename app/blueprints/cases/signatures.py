"""Case-page routes for the acknowledgment section of the decision: the typed-name
acknowledgment that the decision was received (which is not agreement)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from app.blueprints.cases.page import fresh, submit
from app.blueprints.cases.routes import bp
from app.blueprints.forms import Form
from app.blueprints.loading import case_or_404
from app.services import signatures


class AcknowledgmentForm(Form):
    """Typed name and an explicit tick: nothing is acknowledged by default."""

    typed_name = StringField(
        "Type your full name",
        validators=[DataRequired("Type your name."), Length(max=200)],
        description="Your typed name is your signature. Case and spaces do not matter.",
    )
    understood = BooleanField(
        "I understand that acknowledging receipt does not mean I agree",
        validators=[DataRequired("Tick the box to say you understand what you sign.")],
    )


def page_forms(posted: dict[str, Any]) -> dict[str, Any]:
    """The forms the acknowledgment section of the decision draws:
    those posted back with errors, else fresh ones."""
    return {"acknowledgment_form": posted.get("acknowledgment_form") or fresh(AcknowledgmentForm)}


@bp.post("/<int:case_id>/acknowledgments")
def acknowledge(case_id: int):
    """Only those the track asks (the teacher always), once the decision is approved, once;
    a refusal is shown beside the field in the decision's section of the case page."""
    case = case_or_404(case_id)
    form = AcknowledgmentForm()
    return submit(
        case,
        form,
        "acknowledgment_form",
        lambda: signatures.acknowledge(case, current_user.user, "decision", form.typed_name.data),
        "Your acknowledgment of receipt is recorded; the letter now carries it.",
    )
