"""The imports page: a history or survey-answers CSV, previewed, then imported as previewed.

The checking, keeping and writing are ``app.services.import_uploads`` (which runs the same
``app.services.imports`` plans as the API and the command line); these routes only draw
the form, the preview, and the table of a refused file's errors.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from wtforms.fields.choices import SelectChoice

from app.blueprints.admin.forms import ApplyImportForm, ImportForm
from app.blueprints.admin.routes import bp
from app.blueprints.forms import show_errors
from app.blueprints.operation import attempt
from app.services import import_uploads, imports, storage, survey_imports
from app.services.actors import current_actor
from app.services.errors import ServiceError


@bp.route("/imports", methods=["GET", "POST"], endpoint="imports")
def imports_page():
    """GET: the form and what each file holds; POST: check a file and show its preview."""
    program = imports.current_program()
    form = _import_form(program)
    if not form.validate_on_submit():
        return _page(form, program, status=400 if form.errors else 200)
    upload = form.file.data
    outcome = attempt(
        lambda: import_uploads.preview(
            form.kind.data,
            upload.stream,
            upload.filename or "import.csv",
            form.target(),
            current_actor(),
        )
    )
    if not outcome.ok:
        return _refused(form, program, outcome.refusal)
    apply_form = ApplyImportForm()
    apply_form.upload.data = outcome.result.token
    return _page(form, program, kept=outcome.result, apply_form=apply_form)


@bp.post("/imports/apply")
def imports_apply():
    """Import the previewed file, all or nothing, and say what was written."""
    program = imports.current_program()
    apply_form = ApplyImportForm()
    if not apply_form.validate_on_submit():
        form = _import_form(program)
        form.form_errors.extend(m for ms in apply_form.errors.values() for m in ms)
        return _page(form, program, status=400)
    outcome = attempt(lambda: import_uploads.apply(apply_form.upload.data, current_actor()))
    if not outcome.ok:
        return _refused(_import_form(program), program, outcome.refusal)
    flash(_written(outcome.result), "success")
    return redirect(url_for("admin.imports"))


def _import_form(program) -> ImportForm:
    form = ImportForm()
    form.survey.choices = [SelectChoice(s.key, s.title) for s in program.surveys] if program else []
    return form


def _refused(form: ImportForm, program, refusal: ServiceError):
    """A refused file: its line and column errors in the table, the rest beside the fields
    they concern (the file, the survey's year...) or on top of the form."""
    cells, rest = imports.error_table(refusal.errors)
    show_errors(form, {("file" if k == "upload" else k): v for k, v in rest.items()})
    return _page(form, program, cells=cells, status=refusal.status)


def _written(applied: import_uploads.Applied) -> str:
    result = applied.result
    if applied.kind == import_uploads.CASES:
        people = f", and added {result.new_people} people" if result.new_people else ""
        return f"Imported {result.created} new and {result.updated} updated cases{people}."
    return f"Imported {result.created} new and {result.updated} updated survey answers."


def _page(form, program, *, kept=None, apply_form=None, cells=None, status: int = 200):
    return render_template(
        "admin/imports.html",
        form=form,
        program=program,
        kept=kept,
        apply_form=apply_form,
        cells=cells,
        case_columns=imports.CASE_COLUMNS,
        survey_columns=survey_imports.survey_columns,
        max_mb=f"{storage.max_upload_bytes(current_app) / 2**20:.1f}".removesuffix(".0"),
    ), status
