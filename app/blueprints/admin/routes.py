"""Program administration: the district's people and its audit trail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.blueprints.admin.forms import PersonForm
from app.blueprints.forms import SsoSettingsForm, UserForm, perform, show_errors
from app.blueprints.loading import paginate, user_or_404
from app.blueprints.operation import attempt
from app.services import audit as audit_trail
from app.services import saml_sso, sso, users
from app.tenants.resolution import current_tenant

bp = Blueprint("admin", __name__, url_prefix="/t/<tenant_slug>/admin")


@bp.get("/users")
def users_index():
    return render_template("admin/users.html", page=paginate(users.listing()))


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    if not form.validate_on_submit():
        return render_template("admin/user_new.html", form=form), 400 if form.errors else 200
    outcome = attempt(
        lambda: users.create_user(
            current_tenant().id,
            email=form.email.data,
            name=form.name.data,
            roles=form.roles.data,
            password=form.password.data or None,
            school=form.school.data,
        )
    )
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return render_template("admin/user_new.html", form=form), outcome.refusal.status
    user = outcome.result
    flash(f"{user.name} was added and will receive a welcome e-mail.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


def _user_page(user, form, status: int = 200):
    return render_template(
        "admin/user_detail.html", user=user, form=form, locked=users.is_locked(user)
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int):
    user = user_or_404(user_id)
    form = PersonForm(data={"roles": sorted(user.roles), "school": user.school})
    if not form.validate_on_submit():
        return _user_page(user, form, 400 if form.errors else 200)
    outcome = attempt(
        lambda: users.set_school(users.set_roles(user, form.roles.data), form.school.data)
    )
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _user_page(user, form, outcome.refusal.status)
    flash("Roles and school saved.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/status")
def user_status(user_id: int):
    """Disable (ending every session and token at once) or re-enable a person."""
    user = user_or_404(user_id)
    active = request.form.get("active") == "1"
    perform(
        lambda: users.set_active(user, active),
        f"{user.name} can sign in again."
        if active
        else f"{user.name} is disabled and signed out everywhere.",
    )
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/sessions/end")
def user_sessions_end(user_id: int):
    user = user_or_404(user_id)
    perform(lambda: users.end_sessions(user), f"{user.name} is signed out everywhere.")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/unlock")
def user_unlock(user_id: int):
    user = user_or_404(user_id)
    perform(lambda: users.unlock(user), f"{user.name} can sign in again.")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.route("/sso", methods=["GET", "POST"])
def sso_settings():
    """The district's identity provider: OpenID Connect (issuer, client) or SAML 2.0 (the
    provider's metadata), its domains, and whether passwords stay. This form is OpenID
    Connect's; the page shows SAML's beside it (``admin.saml_settings``)."""
    tenant = current_tenant()
    current = sso.settings_for(tenant.id)
    oidc = current if current is not None and current.protocol == "oidc" else None
    form = SsoSettingsForm(obj=oidc)
    if request.method == "GET" and oidc is not None:
        form.allowed_domains.data = " ".join(oidc.allowed_domains or [])
    if oidc is None and request.method == "GET":
        form.passwords_allowed.data = True
    if not form.validate_on_submit():
        return saml.sso_page(form, saml.settings_form(current), 400 if form.errors else 200)
    outcome = attempt(lambda: saml_sso.save_oidc_settings(form.data))
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return saml.sso_page(form, saml.settings_form(current), outcome.refusal.status)
    flash("Single sign-on settings saved.", "success")
    return redirect(url_for("admin.sso_settings"))


@bp.get("/audit")
def audit():
    return render_template("admin/audit.html", page=paginate(audit_trail.events()))


# Each module registers its routes on ``bp`` when imported.
from app.blueprints.admin import (  # noqa: E402,F401
    branding,
    calendar,
    imports,
    saml,
    signing,
    workflow,
)
