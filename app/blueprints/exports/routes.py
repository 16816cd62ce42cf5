"""Export pages: ask for a document, watch it being built, download it before it expires."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import Optional, Regexp

from app.blueprints.cases.forms import choices
from app.blueprints.forms import Form, show_errors
from app.blueprints.operation import attempt
from app.services import exports

bp = Blueprint("exports", __name__, url_prefix="/t/<tenant_slug>/exports")


class ExportForm(Form):
    kind = SelectField("What", choices=choices(exports.kinds()))
    year = StringField(
        "School year (for the annual report)",
        validators=[Optional(), Regexp(r"^\d{4}-\d{4}$", message="Use a label like 2009-2010.")],
    )


@bp.route("/", methods=["GET", "POST"])
def index():
    form = ExportForm()
    if not form.validate_on_submit():
        return _index_page(form, 400 if form.errors else 200)
    params = {"year": form.year.data} if form.year.data else {}
    outcome = attempt(lambda: exports.request(current_user.user, form.kind.data, params))
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _index_page(form, outcome.refusal.status)
    flash("Your export is being prepared; this page shows its progress.", "success")
    return redirect(url_for("exports.index"))


def _index_page(form, status: int):
    return render_template(
        "exports/index.html", form=form, rows=exports.mine(current_user.user), label=exports.label
    ), status


@bp.get("/<int:export_job_id>/download")
def download(export_job_id: int):
    """The requester's finished file; one not ready, expired or not theirs is a 404 page
    that says so."""
    from app.services.storage import storage_for

    row = exports.downloadable(export_job_id, current_user.user)
    stream = storage_for(current_app).open(row.tenant_id, row.file_key)
    response = send_file(
        stream, mimetype=row.content_type, as_attachment=True, download_name=row.filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response
