"""Loading the objects a URL names: scoped to the tenant, 404 when absent.

A row of another tenant is filtered out by the tenant layer, so it is simply
not found: a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from typing import TypeVar

from flask import abort, current_app, request
from sqlalchemy import Select, select

from app.extensions import db

T = TypeVar("T")


def get_or_404(model: type[T], object_id: int) -> T:
    row = db.session.execute(select(model).where(model.id == object_id)).scalar_one_or_none()
    if row is None:
        abort(404)
    return row


def agenda_item_or_404(panel_session_id: int, case_id: int):
    """A panel session and its agenda item for the case, both of this district, or a 404."""
    from app.models.case import Case
    from app.models.panel import PanelSession
    from app.services import panel
    from app.services.errors import ServiceError

    row = get_or_404(PanelSession, panel_session_id)
    get_or_404(Case, case_id)
    try:
        return row, panel.get_item(row, case_id)
    except ServiceError:
        abort(404)


def paginate(query: Select, per_page: int | None = None):
    """One page of ``query`` (``?page=``), with the counts the pager macro shows."""
    return db.paginate(
        query,
        page=request.args.get("page", 1, type=int),
        per_page=per_page or current_app.config["PAGE_SIZE"],
        max_per_page=200,
        error_out=False,
    )
