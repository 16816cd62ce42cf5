"""The signed-in home of every tenant role: what this person can do next."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app.security.roles import TENANT_ROLES
from app.services import portal

bp = Blueprint("portal", __name__, url_prefix="/t/<tenant_slug>")


@bp.get("/")
def home():
    held = [role for role in TENANT_ROLES if role.key in current_user.roles]
    return render_template(
        "portal/home.html",
        roles=held,
        home=portal.home_for(current_user.user),
    )


from app.blueprints.portal import network  # noqa: E402,F401 - registers the network pages
