"""Who may do what on one case they can see: by relation to it, or by program role.

Seeing a case is decided by ``case_access`` (404 otherwise); acting on it is
decided here, and refusing a visible case's action is a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.case import Case
from app.models.user import User
from app.security.roles import PROGRAM_STAFF
from app.services import case_access, cases
from app.services import workflow_config as configs
from app.services.errors import ServiceError
from app.workflows import Track


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
    if set(relations) & _acting(case, user) or set(roles) & user.roles:
        return
    raise NotAllowed({"_schema": [f"Only {_who(relations, roles)} may {what} on this case."]})


def _acting(case: Case, user: User) -> frozenset[str]:
    """How ``user`` stands to ``case`` when acting on it: the case's principal acts (adds
    evidence) only where the track makes them a secondary evaluator; what a track shares
    with the principal is for reading."""
    found = cases.relations(case, user)
    if "case_principal" in found:
        track = configs.config_of(case.workflow_version).tracks[case.track_key]
        if not principal_evaluates(track):
            return found - {"case_principal"}
    return found


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


def principal_sees(track: Track) -> bool:
    """Whether the principal of a case's school sees a case on ``track`` at all.

    The configuration decides: a track that shares anything with the principal shows the
    case to them (and ``sections`` only what it shares); one that shares nothing keeps it
    from them. The track's kind and whether the principal is a secondary evaluator do not
    enter into it. Stored on the case when it opens (``Case.principal_can_see``), so lists
    filter on it in SQL and the case keeps the answer of the version it started under.
    """
    return bool(track.shared_with_principal)


def principal_evaluates(track: Track) -> bool:
    """Whether the principal of a case on ``track`` acts on it as its secondary evaluator
    (adds evidence), beyond seeing what the track shares."""
    return track.principal_secondary_evaluator and principal_sees(track)


def sections(
    case: Case,
    user: User,
    shared_with_principal: frozenset[str],
    relations: frozenset[str] | None = None,
) -> Sections:
    """The teacher never sees evaluation material or deliberation; the principal sees what the
    track shares with the principal; the CT and program staff see the whole record.

    ``relations`` is ``cases.relations(case, user)`` when the caller has it already."""
    relations = relations if relations is not None else cases.relations(case, user)
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
