"""Export pages: ask for a document, watch it being built, download it before it expires."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Optional, Regexp

from app.blueprints.cases.forms import choices
from app.models.export import EXPORT_KINDS
from app.services import exports, uow
from app.services.errors import NotFound, ServiceError

bp = Blueprint("exports", __name__, url_prefix="/t/<tenant_slug>/exports")


class ExportForm(FlaskForm):
    kind = SelectField("What", choices=choices((k, exports.label(k)) for k in EXPORT_KINDS))
    year = StringField(
        "School year (for the annual report)",
        validators=[Optional(), Regexp(r"^\d{4}-\d{4}$", message="Use a label like 2009-2010.")],
    )


@bp.route("/", methods=["GET", "POST"])
def index():
    form = ExportForm()
    if form.validate_on_submit():
        try:
            params = {"year": form.year.data} if form.year.data else {}
            exports.request(current_user.user, form.kind.data, params)
            uow.commit()
            flash("Your export is being prepared; this page shows its progress.", "success")
            return redirect(url_for("exports.index"))
        except ServiceError as exc:
            uow.rollback()
            for field, messages in exc.errors.items():
                getattr(form, field, form.kind).errors = list(messages)
    return render_template(
        "exports/index.html", form=form, rows=exports.mine(current_user.user), label=exports.label
    ), 400 if form.errors else 200


@bp.get("/<int:export_job_id>/download")
def download(export_job_id: int):
    from app.services.storage import storage_for

    try:
        row = exports.downloadable(export_job_id, current_user.user)
    except NotFound:
        abort(404)
    stream = storage_for(current_app).open(row.tenant_id, row.file_key)
    response = send_file(
        stream, mimetype=row.content_type, as_attachment=True, download_name=row.filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response
