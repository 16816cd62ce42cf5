"""Program administration: the district's people and its audit trail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select

from app.blueprints.forms import RolesForm, UserForm, show_errors
from app.blueprints.loading import get_or_404, paginate
from app.models.audit import AuditEvent
from app.models.user import User
from app.services import uow, users
from app.services.errors import ServiceError
from app.tenants.resolution import current_tenant

bp = Blueprint("admin", __name__, url_prefix="/t/<tenant_slug>/admin")


@bp.get("/users")
def users_index():
    page = paginate(select(User).order_by(User.name))
    return render_template("admin/users.html", page=page)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(
                current_tenant().id,
                email=form.email.data,
                name=form.name.data,
                roles=form.roles.data,
                password=form.password.data or None,
            )
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
        else:
            flash(f"{user.name} was added and will receive a welcome e-mail.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_new.html", form=form), 400 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int):
    user = get_or_404(User, user_id)
    form = RolesForm(data={"roles": sorted(user.roles)})
    if form.validate_on_submit():
        try:
            users.set_roles(user, form.roles.data)
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
        else:
            flash("Roles saved.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_detail.html", user=user, form=form), (
        400 if form.errors else 200
    )


@bp.get("/audit")
def audit():
    page = paginate(select(AuditEvent).order_by(AuditEvent.seq.desc()))
    return render_template("admin/audit.html", page=page)


from app.blueprints.admin import workflow  # noqa: E402,F401 - registers the workspace routes
