"""What every template can use: the tenant, its wording, the signed-in person."""

from __future__ import annotations

from flask import Flask

from app.security.roles import role_info
from app.tenants.replica import lag_note as replica_lag_note
from app.tenants.resolution import current_tenant


def _ct_title() -> str:
    """What the district's program calls a consulting teacher, asked only by the pages
    that name the role."""
    from app.services import roster

    return roster.ct_title() if current_tenant() is not None else "Consulting teacher"


def register_template_context(app: Flask) -> None:
    @app.context_processor
    def _inject() -> dict:
        from app.services import labels

        return {
            "tenant": current_tenant(),
            "role_info": role_info,
            "ct_title": _ct_title,
            "track_name": labels.track_name,
            "state_label": labels.state_label,
            "visit_type_label": labels.visit_type_label,
            "track_label": labels.track_label,
            "rating_label_of": labels.rating_label,
            "replica_lag_note": replica_lag_note,
        }

    @app.template_filter("reject_page")
    def _reject_page(args: dict) -> dict:
        """Query arguments to carry through the pager, without the page itself."""
        return {k: v for k, v in args.items() if k != "page"}
