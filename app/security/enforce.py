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
    """A lapsed district: read-only past the grace period, closed once canceled.

    Billing and the data export (``OPEN_WHEN_CLOSED``) stay open in every state, writes
    included, so a program admin can always pay, subscribe again or take the data. The
    standing is kept on ``g`` for the banner, so it says what this gate decided.
    """
    from app.security.matrix import LANDING, OPEN_WHEN_CLOSED, is_write
    from app.services.billing import standing

    tenant = current_tenant()
    if tenant is None:
        return None
    g.billing_standing = now = standing(tenant)
    if endpoint in OPEN_WHEN_CLOSED:
        return None
    closed = now.state == "closed"
    if not (closed or (now.state == "read_only" and is_write(rule, request.method))):
        return None
    settles = "program_admin" in current_user.roles
    if closed and settles and endpoint == LANDING and request.method == "GET":
        # Signed in to a closed district: its program admin lands where it can be restored.
        return redirect(url_for("billing.page"))
    return _lapsed_refusal(closed, settles)


def _lapsed_refusal(closed: bool, settles: bool):
    """402, saying who can restore the district: the billing page for its program admin,
    the program admins' names for everyone else (never a link back into a refusal)."""
    message = (
        "This district's subscription has ended: only billing and the data export are "
        "open. Its data is kept; a new subscription restores full use."
        if closed
        else "This district is read-only until its payment goes through; reading still "
        "works, and paying restores full use."
    )
    if request.path.startswith("/api/"):
        from flask import jsonify

        who = (
            f" Settle it on the billing page: {url_for('billing.page')}"
            if settles
            else " A program admin can settle it on the billing page."
        )
        return jsonify({"errors": {"billing": [message + who]}}), 402
    from flask import render_template

    from app.services.billing import who_can_settle

    lapsed = {
        "closed": closed,
        "settle_url": url_for("billing.page") if settles else None,
        "admins": [] if settles else who_can_settle(),
    }
    return render_template("errors/error.html", status=402, message=message, lapsed=lapsed), 402


def _ask_to_sign_in(audience: str):
    if request.path.startswith("/api/"):
        raise Unauthenticated()
    if audience == TENANT:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("ops.login", next=request.full_path.rstrip("?")))
