"""Loading the objects a URL names: scoped to the tenant, 404 when absent.

A row of another tenant is filtered out by the tenant layer, so it is simply
not found: a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from flask import abort, current_app, request
from sqlalchemy import Select

from app.core.limits import MAX_ID

if TYPE_CHECKING:
    from app.models.assignment import Assignment
    from app.models.case import Case
    from app.models.panel import AgendaItem, PanelMember, PanelSession
    from app.models.roster import ConsultingTeacher
    from app.models.support import Evidence, Goal, Visit
    from app.models.user import User

T = TypeVar("T")


def found(row: T | None) -> T:
    """The row a service's lookup (``users.by_id``, ...) gave, or a 404 when it gave none."""
    if row is None:
        abort(404)
    return row


# Typed loaders: route modules name what they load, and import no models. ---------------


def case_or_404(case_id: int) -> Case:
    """A case the signed-in person may see (``case_access.visible_case``), or a 404."""
    from flask_login import current_user

    from app.services import case_access
    from app.services.errors import NotFound

    try:
        return case_access.visible_case(case_id, current_user.user)
    except NotFound:
        abort(404)


def visit_or_404(case: Case, visit_id: int) -> Visit:
    from app.services import support

    return found(support.visit_of(case, visit_id))


def goal_or_404(case: Case, goal_id: int) -> Goal:
    from app.services import support

    return found(support.goal_of(case, goal_id))


def evidence_or_404(case: Case, evidence_id: int) -> Evidence:
    from app.services import support

    return found(support.evidence_of(case, evidence_id))


def assignment_or_404(case: Case, assignment_id: int) -> Assignment:
    from app.services import assignments

    return found(assignments.of_case(case, assignment_id))


def user_or_404(user_id: int) -> User:
    from app.services import users

    return found(users.by_id(user_id))


def consulting_teacher_or_404(consulting_teacher_id: int) -> ConsultingTeacher:
    from app.services import roster

    return found(roster.profile_by_id(consulting_teacher_id))


def panel_session_or_404(panel_session_id: int) -> PanelSession:
    from app.services import panel

    return found(panel.sessions.by_id(panel_session_id))


def panel_member_or_404(member_id: int) -> PanelMember:
    from app.services import panel

    return found(panel.seats.member_by_id(member_id))


def agenda_item_or_404(panel_session_id: int, case_id: int) -> tuple[PanelSession, AgendaItem]:
    """A panel session and its agenda item for the case, both of this district, or a 404."""
    from app.services import panel
    from app.services.errors import ServiceError

    row = panel_session_or_404(panel_session_id)
    try:
        return row, panel.sessions.get_item(row, case_id)
    except ServiceError:
        abort(404)


def paginate(query: Select, per_page: int | None = None):
    """One page of ``query`` (``?page=``), with the counts the pager macro shows."""
    # Pages past the last are empty; one beyond any OFFSET PostgreSQL takes is one of them.
    from app.services.paging import page_of

    page = min(request.args.get("page", 1, type=int), MAX_ID)
    return page_of(query, page, per_page or current_app.config["PAGE_SIZE"])
