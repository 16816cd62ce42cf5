"""Signing in and out of a district's portal (password or the district's identity
provider), choosing a new password, and the district's theme."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user

from app.blueprints.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    safe_next,
    show_errors,
)
from app.security.identity import TenantPrincipal, begin_session
from app.services import password_resets, sso, uow, users
from app.services.errors import NotFound, ServiceError
from app.tenants.resolution import current_tenant

bp = Blueprint("auth", __name__, url_prefix="/t/<tenant_slug>")


def _landing(user, wanted: str | None) -> str:
    """Where a person goes after signing in: where they were going, or the waiting page
    while they hold no role."""
    if not user.roles:
        return url_for("auth.pending")
    return safe_next(wanted, url_for("portal.home"))


def _login_page(form: LoginForm, status: int = 200, errors: list[str] | None = None):
    """The sign-in page; ``errors`` go on top (the form may be hidden: passwords off)."""
    settings = sso.active_settings(current_tenant().id)
    return render_template(
        "auth/login.html",
        form=form,
        sso=settings,
        passwords=sso.allows_passwords(settings),
        sso_errors=errors or [],
    ), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    tenant = current_tenant()
    if form.validate_on_submit():
        try:
            user = users.sign_in(tenant.id, form.email.data, form.password.data)
        except ServiceError as exc:
            uow.rollback()
            form.password.errors.append(exc.text())
            # With passwords off the form is hidden: the refusal says so at the top.
            return _login_page(form, 400, [exc.text()] if exc.status == 403 else [])
        begin_session(TenantPrincipal(user))
        uow.commit()
        return redirect(_landing(user, request.args.get("next")))
    return _login_page(form, 400 if form.errors else 200)


def _no_sso():
    flash("This district signs in with a password, not through an identity provider.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/sso/start")
def sso_start():
    """Send the browser to the district's identity provider, remembering state and nonce."""
    try:
        url, pending = sso.begin(current_tenant().id, url_for("auth.sso_callback", _external=True))
    except NotFound:
        return _no_sso()
    session["sso"] = {**pending.as_dict(), "next": request.args.get("next")}
    return redirect(url)


@bp.get("/sso/callback")
def sso_callback():
    pending = session.pop("sso", None)
    try:
        user = sso.complete(
            current_tenant().id,
            pending,
            request.args,
            url_for("auth.sso_callback", _external=True),
        )
    except NotFound:
        return _no_sso()
    except ServiceError as exc:
        uow.rollback()
        return _login_page(LoginForm(formdata=None), exc.status, exc.errors.get("sso", []))
    begin_session(TenantPrincipal(user))
    uow.commit()
    return redirect(_landing(user, (pending or {}).get("next")))


@bp.get("/pending")
def pending():
    """The page of someone signed in through the identity provider who holds no role yet."""
    if current_user.roles:
        return redirect(url_for("portal.home"))
    return render_template("auth/pending.html")


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot():
    form = ForgotPasswordForm()
    tenant = current_tenant()
    if form.validate_on_submit():
        try:
            password_resets.request_reset(tenant.id, form.email.data)
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            form.email.errors.append(exc.text())
        else:
            # The same answer whether or not the address has an account here.
            return render_template("auth/password_sent.html", email=form.email.data)
    return render_template("auth/password_forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<reset_token>", methods=["GET", "POST"])
def password_reset(reset_token: str):
    tenant = current_tenant()
    try:
        password_resets.find(tenant.id, reset_token)
    except ServiceError as exc:
        return render_template("auth/password_expired.html", message=exc.text()), exc.status
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            password_resets.complete(tenant.id, reset_token, form.password.data)
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            form.password.errors.append(exc.text())
        else:
            logout_user()
            session.clear()
            flash("Your password is changed and every other session has ended. Sign in.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/password_reset.html", form=form), 400 if form.errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
def password_change():
    """Change my own password: my other sessions and API tokens end, this one goes on."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = users.change_password(
                current_user.user, form.current_password.data, form.password.data
            )
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
        else:
            begin_session(TenantPrincipal(user))
            flash("Password changed. Your other sessions and API tokens have ended.", "success")
            return redirect(url_for("portal.home"))
    return render_template("auth/password_change.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/logout/everywhere")
def logout_everywhere():
    """End this and every other session of mine, and my API tokens (a lost laptop)."""
    users.end_sessions(current_user.user)
    uow.commit()
    logout_user()
    session.clear()
    flash("You are signed out everywhere; your API tokens no longer work.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/theme.css")
def theme_css():
    """The tenant's colours as CSS variables: theming without inline styles."""
    tenant = current_tenant()
    css = f":root {{ --brand: {tenant.primary_color}; --accent: {tenant.accent_color}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
