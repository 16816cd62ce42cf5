"""Pages outside any tenant: the front door and the health check."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from app.services import health

bp = Blueprint("public", __name__)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@bp.get("/")
def index():
    return render_template("public/index.html")


@bp.get("/find")
def find_district():
    """Go to a district's sign-in page by its short name (no list of districts is shown)."""
    slug = (request.args.get("slug") or "").strip().lower()
    if not _SLUG.match(slug):
        return render_template(
            "public/index.html", error="Enter your district's short name, e.g. boston."
        ), 400
    return redirect(url_for("auth.login", tenant_slug=slug))


@bp.get("/healthz")
def healthz():
    """Database and (when configured) Redis status, for load balancers and operators."""
    body, healthy = health.report()
    return jsonify(body), 200 if healthy else 503
