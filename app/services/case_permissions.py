"""Who may do what on one case they can see: by relation to it, or by program role.

Seeing a case is decided by ``case_access`` (404 otherwise); acting on it is
decided here, and refusing a visible case's action is a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.case import Case
from app.models.user import User
from app.services import case_access, cases
from app.services.errors import ServiceError


class NotAllowed(ServiceError):
    status = 403


def require(
    case: Case,
    user: User,
    *,
    relations: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
    what: str = "do this",
) -> None:
    if set(relations) & cases.relations(case, user) or set(roles) & user.roles:
        return
    raise NotAllowed({"_schema": [f"Only {_who(relations, roles)} may {what} on this case."]})


def _who(relations: tuple[str, ...], roles: tuple[str, ...]) -> str:
    from app.workflows.vocabulary import RELATIONS, ROLES

    words = [RELATIONS[r] for r in relations] + [ROLES[r] for r in roles]
    return " or ".join(words) or "nobody"


@dataclass(frozen=True)
class Sections:
    """What of a case this reader sees, beyond its state."""

    request: bool
    visit_notes: bool
    visit_summary: bool
    goals: bool
    evidence: bool
    recommendation: bool
    assignment: bool


PROGRAM_STAFF = frozenset({"program_admin", "coordinator", "committee_member", "final_authority"})


def sections(case: Case, user: User, shared_with_principal: frozenset[str]) -> Sections:
    """The teacher never sees evaluation material or deliberation; the principal sees what the
    track shares with the secondary evaluator; the CT and program staff see the whole record."""
    relations = cases.relations(case, user)
    if "assigned_ct" in relations or user.roles & PROGRAM_STAFF:
        return Sections(True, True, True, True, True, True, True)
    if case.teacher_id != user.id and (
        "seated_panelist" in relations or case_access.has_packet(case, user)
    ):
        # The case packet: recommendation, evidence, the visit summary; never the notes.
        return Sections(False, False, True, False, True, True, False)
    if "case_principal" in relations and case.principal_can_see:
        shared = shared_with_principal
        return Sections(
            False,
            False,
            "visits_summary" in shared,
            "goals" in shared,
            "evidence" in shared,
            "recommendation" in shared,
            False,
        )
    # The teacher: their own request, shared visit notes, goals.
    return Sections(True, True, True, True, False, False, False)
