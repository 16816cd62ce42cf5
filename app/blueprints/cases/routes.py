"""Case pages: lists, one case, its actions. Changes go through the services, as in the API."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from app.blueprints.cases.forms import ActionForm, CaseFilterForm, choices
from app.blueprints.cases.page import render_case
from app.blueprints.loading import paginate
from app.models.case import Case
from app.services import case_access, case_lists, cases, roster, uow
from app.services import workflow_config as configs
from app.services.case_access import PROGRAM_WIDE
from app.services.errors import NotFound, ServiceError
from app.tenants.context import carry_scope
from app.tenants.resolution import current_tenant

bp = Blueprint("cases", __name__, url_prefix="/t/<tenant_slug>/cases")


def case_or_404(case_id: int) -> Case:
    try:
        return case_access.visible_case(case_id, current_user.user)
    except NotFound:
        abort(404)


def _filters() -> tuple[CaseFilterForm, case_lists.CaseFilters]:
    form = CaseFilterForm(request.args)
    latest = configs.latest_published(current_tenant().id)
    tracks = configs.config_of(latest).tracks if latest else {}
    form.track.choices = choices([("", "All tracks"), *((k, t.name) for k, t in tracks.items())])
    form.ct_id.choices = choices(
        [("", "Any CT"), *((p.user_id, p.user.name) for p in roster.profiles())]
    )
    form.validate()
    filters = case_lists.CaseFilters(
        track=form.track.data or None,
        state=form.state.data or None,
        ct_id=form.ct_id.data or None,
        school=form.school.data or None,
        year=form.year.data or None,
    )
    return form, filters


@bp.get("/")
def index():
    form, filters = _filters()
    page = paginate(case_lists.filtered(current_user.user, filters))
    return render_template(
        "cases/index.html",
        page=page,
        form=form,
        can_intake=bool(current_user.roles & {"coordinator", "program_admin"}),
        can_export=bool(current_user.roles & PROGRAM_WIDE),
        next_deadline=case_lists.next_deadline,
        visits=case_lists.visit_counts([c.id for c in page.items]),
    )


@bp.get("/export.csv")
def export_csv():
    """The filtered list as CSV, streamed."""
    _, filters = _filters()
    query = case_lists.filtered(current_user.user, filters)
    rows = stream_with_context(carry_scope(case_lists.csv_rows(case_lists.in_batches(query))))
    response = Response(rows, mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=cases.csv"
    return response


@bp.get("/intake")
def intake():
    """Requests waiting for the coordinator, with each track's eligibility reason shown."""
    page = paginate(case_lists.intake_queue())
    return render_template(
        "cases/intake.html", page=page, eligibility=case_lists.eligibility_reasons(page.items)
    )


@bp.get("/<int:case_id>")
def show(case_id: int):
    return render_case(case_or_404(case_id))


@bp.post("/<int:case_id>/actions/<action>")
def act(case_id: int, action: str):
    case = case_or_404(case_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return render_case(case, status=400, action_form=form)
    try:
        applied = cases.apply(case, action, current_user.user, form.payload())
        uow.commit()
    except ServiceError as exc:
        uow.rollback()
        form.form_errors.extend(m for messages in exc.errors.values() for m in messages)
        return render_case(case_or_404(case_id), status=exc.status, action_form=form)
    flash(f"Done: the case is now '{applied.to_state}'.", "success")
    return redirect(url_for("cases.show", case_id=case_id))


from app.blueprints.cases import assignment, support  # noqa: E402,F401 - registers routes
