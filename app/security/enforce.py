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
    if not rule.roles & principal.roles:
        abort(403)
    return None


def _ask_to_sign_in(audience: str):
    if request.path.startswith("/api/"):
        raise Unauthenticated()
    if audience == TENANT:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("ops.login", next=request.full_path.rstrip("?")))
