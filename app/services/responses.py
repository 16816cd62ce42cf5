"""The teacher's written response to the approved decision on their case.

Where the track gives a window (``response_window_days``), the case's teacher may attach
one written response once the final authority has approved the decision, until the
window's last day (calendar days from the approval's date). It is kept with the decision
and does not change it: the case page and the letter show it (``decision_letter``), and
the district's archive carries its row like every tenant table.
"""

from __future__ import annotations

from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.response import CaseResponse
from app.models.user import User
from app.services import audit, decision_letter
from app.services.actors import Actor
from app.services.case_permissions import require
from app.services.errors import Conflict
from app.services.writing import written

#: The longest response kept, in characters.
MAX_LENGTH = 10_000


def respond(case: Case, user: User, text: str | None) -> CaseResponse:
    """Attach the teacher's response to the approved decision on ``case``."""
    require(case, user, relations=("case_teacher",), what="respond to the decision")
    decision = decision_letter.decision_for(case, user)
    if decision is None:
        raise Conflict({"_schema": ["There is no approved decision to respond to yet."]})
    if decision.respond_by is None:
        raise Conflict({"_schema": ["This program does not take a response to the decision."]})
    if decision.response is not None:
        raise Conflict({"_schema": ["You have already responded to this decision."]})
    if utcnow().date() > decision.respond_by:
        closed = decision.respond_by.isoformat()
        raise Conflict({"_schema": [f"The window to respond closed on {closed}."]})
    body = written(text, "text", limit=MAX_LENGTH, empty="Write your response.", noun="response")
    response = CaseResponse(tenant_id=case.tenant_id, case_id=case.id, author_id=user.id, text=body)
    db.session.add(response)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "case.response_added",
        "case",
        case.id,
        after={"response_id": response.id, "characters": len(body)},
        actor=Actor.of(user),
    )
    return response
