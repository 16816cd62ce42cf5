"""What every template can use: the tenant, its wording, the signed-in person."""

from __future__ import annotations

from flask import Flask

from app.security.roles import role_info
from app.tenants.resolution import current_tenant


def register_template_context(app: Flask) -> None:
    @app.context_processor
    def _inject() -> dict:
        return {"tenant": current_tenant(), "role_info": role_info}
