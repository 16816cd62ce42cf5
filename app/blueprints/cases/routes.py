"""Case pages. Every change goes through ``cases.apply``, exactly as the API does."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.forms import ActionForm
from app.blueprints.loading import paginate
from app.models.case import Case
from app.services import case_access, cases, uow
from app.services import workflow_config as configs
from app.services.errors import NotFound, ServiceError

bp = Blueprint("cases", __name__, url_prefix="/t/<tenant_slug>/cases")


def _case_or_404(case_id: int) -> Case:
    try:
        return case_access.visible_case(case_id, current_user.user)
    except NotFound:
        abort(404)


@bp.get("/")
def index():
    page = paginate(case_access.visible_cases(current_user.user).order_by(Case.id.desc()))
    return render_template("cases/index.html", page=page)


@bp.get("/<int:case_id>")
def show(case_id: int):
    case = _case_or_404(case_id)
    return _render(case, ActionForm())


def _render(case: Case, form: ActionForm, failed: str | None = None, status: int = 200):
    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    return render_template(
        "cases/show.html",
        case=case,
        track=track,
        config=config,
        actions=cases.options(case, current_user.user),
        deadlines=cases.deadlines(case),
        form=form,
        failed=failed,
    ), status


@bp.post("/<int:case_id>/actions/<action>")
def act(case_id: int, action: str):
    case = _case_or_404(case_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _render(case, form, action, 400)
    try:
        applied = cases.apply(case, action, current_user.user, form.payload())
        uow.commit()
    except ServiceError as exc:
        uow.rollback()
        case = _case_or_404(case_id)
        form.form_errors.extend(m for messages in exc.errors.values() for m in messages)
        return _render(case, form, action, exc.status)
    flash(f"Done: the case is now '{applied.to_state}'.", "success")
    return redirect(url_for("cases.show", case_id=case_id))
