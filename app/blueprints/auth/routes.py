"""Signing in and out of a district's portal, and the district's theme."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from app.blueprints.forms import LoginForm, safe_next
from app.security.identity import TenantPrincipal
from app.services import audit, uow, users
from app.services.actors import Actor
from app.tenants.resolution import current_tenant

bp = Blueprint("auth", __name__, url_prefix="/t/<tenant_slug>")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    tenant = current_tenant()
    if form.validate_on_submit():
        user = users.authenticate(tenant.id, form.email.data, form.password.data)
        if user is None:
            audit.record(
                tenant.id,
                "auth.login_failed",
                "user",
                after={"email": users.normalise_email(form.email.data)},
                actor=Actor.system("login form"),
            )
            uow.commit()
            form.password.errors.append("E-mail or password is not correct.")
        else:
            session.clear()  # a new session at sign-in: no fixation
            login_user(TenantPrincipal(user))
            audit.record(
                tenant.id, "auth.login", "user", user.id, actor=Actor("user", user.id, user.email)
            )
            uow.commit()
            return redirect(safe_next(request.args.get("next"), url_for("portal.home")))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/theme.css")
def theme_css():
    """The tenant's colours as CSS variables: theming without inline styles."""
    tenant = current_tenant()
    css = f":root {{ --brand: {tenant.primary_color}; --accent: {tenant.accent_color}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
