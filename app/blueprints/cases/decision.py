"""The decision letter of a case, rendered when asked for (it is one small page)."""

from __future__ import annotations

from flask import Response
from flask_login import current_user

from app.blueprints.cases.routes import bp
from app.blueprints.loading import case_or_404
from app.blueprints.operation import writes_on_get
from app.services import decision_letter


@bp.get("/<int:case_id>/decision.pdf")
@writes_on_get  # the district's signing key is made the first time a letter is signed
def decision_pdf(case_id: int):
    """Only the teacher, their CT and the program staff get it, once the decision is
    approved; anyone else, and a case of another district, is told it is not found."""
    case = case_or_404(case_id)
    pdf = decision_letter.letter_for(case, current_user.user)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=decision-letter-{case.id}.pdf"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
