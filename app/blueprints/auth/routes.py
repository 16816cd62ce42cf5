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
    send_file,
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
from app.blueprints.operation import attempt, writes_on_get
from app.security.identity import TenantPrincipal, begin_session
from app.services import branding, password_resets, sso, users
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
    if not form.validate_on_submit():
        return _login_page(form, 400 if form.errors else 200)
    # A refused attempt is counted and committed by the service before it refuses.
    outcome = attempt(
        lambda: users.sign_in(current_tenant().id, form.email.data, form.password.data)
    )
    if not outcome.ok:
        refusal = outcome.refusal
        form.password.errors.append(refusal.text())
        # With passwords off the form is hidden: the refusal says so at the top. The page
        # answers 400 whatever the reason, so it never tells which accounts exist.
        return _login_page(form, 400, [refusal.text()] if refusal.status == 403 else [])
    begin_session(TenantPrincipal(outcome.result))
    return redirect(_landing(outcome.result, request.args.get("next")))


def _no_sso():
    flash("This district signs in with a password, not through an identity provider.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/sso/start")
def sso_start():
    """Send the browser to the district's identity provider, remembering state and nonce."""
    tenant_id = current_tenant().id
    settings = sso.active_settings(tenant_id)
    if settings is None:
        return _no_sso()
    if settings.protocol == "saml":
        return redirect(url_for("auth.saml_login", next=request.args.get("next")))
    url, pending = sso.begin(tenant_id, url_for("auth.sso_callback", _external=True))
    session["sso"] = {**pending.as_dict(), "next": request.args.get("next")}
    return redirect(url)


@bp.get("/sso/callback")
@writes_on_get  # the provider sends the person back here: signing in records the sign-in
def sso_callback():
    tenant_id = current_tenant().id
    pending = session.pop("sso", None)
    settings = sso.active_settings(tenant_id)
    if settings is None or settings.protocol != "oidc":
        return _no_sso()
    # A refused sign-in is audited and committed by the service before it refuses.
    outcome = attempt(
        lambda: sso.complete(
            tenant_id, pending, request.args, url_for("auth.sso_callback", _external=True)
        )
    )
    if not outcome.ok:
        refusal = outcome.refusal
        return _login_page(LoginForm(formdata=None), refusal.status, [refusal.text()])
    begin_session(TenantPrincipal(outcome.result))
    return redirect(_landing(outcome.result, (pending or {}).get("next")))


@bp.get("/pending")
def pending():
    """The page of someone signed in through the identity provider who holds no role yet."""
    if current_user.roles:
        return redirect(url_for("portal.home"))
    return render_template("auth/pending.html")


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return _forgot_page(form, 400 if form.errors else 200)
    outcome = attempt(lambda: password_resets.request_reset(current_tenant().id, form.email.data))
    if not outcome.ok:
        form.email.errors.append(outcome.refusal.text())
        return _forgot_page(form, outcome.refusal.status)
    # The same answer whether or not the address has an account here.
    return render_template("auth/password_sent.html", email=form.email.data)


def _forgot_page(form, status: int):
    return render_template("auth/password_forgot.html", form=form), status


@bp.route("/password/reset/<reset_token>", methods=["GET", "POST"])
def password_reset(reset_token: str):
    tenant_id = current_tenant().id
    if password_resets.live(tenant_id, reset_token) is None:
        return _link_expired()
    form = NewPasswordForm()
    if not form.validate_on_submit():
        return _reset_page(form, 400 if form.errors else 200)
    outcome = attempt(lambda: password_resets.complete(tenant_id, reset_token, form.password.data))
    if not outcome.ok:
        if password_resets.live(tenant_id, reset_token) is None:
            return _link_expired()  # spent by another submission meanwhile
        show_errors(form, outcome.refusal.errors)
        return _reset_page(form, outcome.refusal.status)
    logout_user()
    session.clear()
    flash("Your password is changed and every other session has ended. Sign in.", "success")
    return redirect(url_for("auth.login"))


def _link_expired():
    return render_template("auth/password_expired.html", message=password_resets.EXPIRED), 404


def _reset_page(form, status: int):
    return render_template("auth/password_reset.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
def password_change():
    """Change my own password: my other sessions and API tokens end, this one goes on."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _change_page(form, 400 if form.errors else 200)
    outcome = attempt(
        lambda: users.change_password(
            current_user.user, form.current_password.data, form.password.data
        )
    )
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _change_page(form, outcome.refusal.status)
    begin_session(TenantPrincipal(outcome.result))
    flash("Password changed. Your other sessions and API tokens have ended.", "success")
    return redirect(url_for("portal.home"))


def _change_page(form, status: int):
    return render_template("auth/password_change.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return _device_cleared(redirect(url_for("auth.login")))


@bp.post("/logout/everywhere")
def logout_everywhere():
    """End this and every other session of mine, and my API tokens (a lost laptop)."""
    users.end_sessions(current_user.user)
    logout_user()
    session.clear()
    flash("You are signed out everywhere; your API tokens no longer work.", "info")
    return _device_cleared(redirect(url_for("auth.login")))


def _device_cleared(response):
    """Signing out empties what this browser kept for offline use (the caseload's pages, the
    visits waiting to be sent, the service worker itself): personnel data stays on a device
    only while its owner is signed in."""
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.get("/logo")
def logo():
    """The logo the program admin uploaded, for the header of every page of the district
    (public: the sign-in page shows it too); a transparent pixel while there is none."""
    stream, content_type = branding.logo()
    response = send_file(stream, mimetype=content_type, max_age=300)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/theme.css")
def theme_css():
    """The tenant's colours as CSS variables: theming without inline styles."""
    tenant = current_tenant()
    css = f":root {{ --brand: {tenant.primary_color}; --accent: {tenant.accent_color}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# The SAML 2.0 doors register their routes on ``bp`` when imported.
from app.blueprints.auth import saml  # noqa: E402,F401
