"""What every template can use: the tenant, its wording, the signed-in person."""

from __future__ import annotations

from flask import Flask

from app.security.roles import role_info
from app.tenants.resolution import current_tenant


def register_template_context(app: Flask) -> None:
    @app.context_processor
    def _inject() -> dict:
        return {"tenant": current_tenant(), "role_info": role_info}

    @app.template_filter("reject_page")
    def _reject_page(args: dict) -> dict:
        """Query arguments to carry through the pager, without the page itself."""
        return {k: v for k, v in args.items() if k != "page"}
