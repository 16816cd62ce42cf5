"""Case pages: lists, one case, its actions. Changes go through the services, as in the API."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    render_template,
    request,
    stream_with_context,
)
from flask_login import current_user

from app.blueprints.cases.forms import ActionForm, CaseFilterForm, choices
from app.blueprints.cases.page import render_case, submit
from app.blueprints.loading import case_or_404, paginate
from app.security.roles import PROGRAM_STAFF
from app.services import case_lists, cases, labels, roster
from app.services import workflow_config as configs
from app.services.errors import ValidationFailed
from app.tenants.context import carry_scope

bp = Blueprint("cases", __name__, url_prefix="/t/<tenant_slug>/cases")


def _filters() -> tuple[CaseFilterForm, case_lists.CaseFilters]:
    """The list's filters as asked; a filter with an error (shown beside its field) is left
    out, so a value the database could not compare never reaches it."""
    form = CaseFilterForm(request.args)
    latest = configs.current_version()
    tracks = configs.config_of(latest).tracks if latest else {}
    form.track.choices = choices([("", "All tracks"), *((k, t.name) for k, t in tracks.items())])
    form.ct_id.choices = choices([("", "Any CT"), *roster.ct_choices()])
    form.validate()

    def value(field):
        return None if field.errors else (field.data or None)

    filters = case_lists.CaseFilters(
        track=value(form.track),
        state=value(form.state),
        ct_id=value(form.ct_id),
        school=value(form.school),
        year=value(form.year),
        under_appeal=bool(form.under_appeal.data),
    )
    return form, filters


def _errors(form: CaseFilterForm) -> dict[str, list[str]]:
    return {f.name: list(f.errors) for f in form if f.errors}


@bp.get("/")
def index():
    form, filters = _filters()
    page = paginate(case_lists.listed(current_user.user, filters))
    return render_template(
        "cases/index.html",
        page=page,
        form=form,
        can_intake=bool(current_user.roles & {"coordinator", "program_admin"}),
        can_export=bool(current_user.roles & PROGRAM_STAFF),
        visits=case_lists.visit_counts([c.id for c in page.items]),
    ), (400 if _errors(form) else 200)


@bp.get("/export.csv")
def export_csv():
    """The filtered list as CSV, streamed; a filter with an error is refused before the
    first row (a stream cannot turn into an error page halfway)."""
    form, filters = _filters()
    if errors := _errors(form):
        raise ValidationFailed(errors)
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

    def run():
        return cases.apply(case, action, current_user.user, form.payload())

    def done(applied: cases.Applied) -> str:
        return f"Done: the case is now at “{labels.state_label_of(case, applied.to_state)}”."

    return submit(case, form, "action_form", run, done)


# Each module registers its routes on ``bp`` when imported.
from app.blueprints.cases import (  # noqa: E402,F401
    appeals,
    assignment,
    deadlines,
    decision,
    signatures,
    status_reports,
    support,
)
from app.blueprints.cases import response as _response  # noqa: E402,F401
