"""The operators' console: sign-in and the list of districts."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import logout_user

from app.blueprints.forms import LoginForm, safe_next
from app.blueprints.loading import paginate
from app.security.identity import PlatformPrincipal, begin_session
from app.services import billing, users

bp = Blueprint("ops", __name__, url_prefix="/ops")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate_platform(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("E-mail or password is not correct.")
        else:
            begin_session(PlatformPrincipal(user))
            home = url_for("ops.home" if user.role == "operator" else "network.home")
            return redirect(safe_next(request.args.get("next"), home))
    return render_template("ops/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("ops.login"))


@bp.get("/")
def home():
    page = paginate(billing.districts())
    return render_template(
        "ops/home.html",
        page=page,
        mrr=billing.mrr_cents,
        plan_name=billing.plan_name,
        status_label=billing.status_label,
        events=billing.last_events([t.id for t in page.items]),
    )
