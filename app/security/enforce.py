"""The one access check every request passes before its view runs."""

from __future__ import annotations

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from app.security.matrix import PLATFORM, PUBLIC, TENANT, TENANT_PUBLIC, rule_for
from app.tenants.resolution import current_tenant


class Unauthenticated(Exception):
    """Raised for a request that needs a signed-in user and has none."""


def init_app(app: Flask) -> None:
    app.before_request(_check_access)


def _check_access():
    endpoint = request.endpoint
    if endpoint is None:
        return None
    rule = rule_for(endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s is missing from the authorization matrix", endpoint)
        abort(403)
    g.access_rule = rule
    if rule.audience in (PUBLIC, TENANT_PUBLIC):
        return None
    principal = current_user
    if not principal.is_authenticated:
        return _ask_to_sign_in(rule.audience)
    if rule.audience == TENANT and (principal.is_platform or current_tenant() is None):
        return _ask_to_sign_in(rule.audience)
    if rule.audience == PLATFORM and not principal.is_platform:
        return _ask_to_sign_in(rule.audience)
    if not rule.roles & principal.roles and not (rule.roleless and not principal.roles):
        abort(403)
    return _billing_gate(endpoint, rule)


def _billing_gate(endpoint: str, rule):
    """A lapsed district: read-only past the grace period, closed once canceled."""
    from app.security.matrix import OPEN_WHEN_CLOSED, is_write
    from app.services.billing import state

    tenant = current_tenant()
    if tenant is None:
        return None
    now = state(tenant)
    closed = now == "closed" and endpoint not in OPEN_WHEN_CLOSED
    read_only = now == "read_only" and is_write(rule, request.method)
    if not (closed or read_only):
        return None
    message = (
        "This district's subscription has ended: only billing and the data export are open."
        if closed
        else "This district is read-only until its payment "
        "goes through; a program admin can settle it on the billing page."
    )
    if request.path.startswith("/api/"):
        from flask import jsonify

        return jsonify({"errors": {"billing": [message]}}), 402
    from flask import render_template

    return render_template("errors/error.html", status=402, message=message), 402


def _ask_to_sign_in(audience: str):
    if request.path.startswith("/api/"):
        raise Unauthenticated()
    if audience == TENANT:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("ops.login", next=request.full_path.rstrip("?")))
