"""The imports page: a history or survey-answers CSV, or a OneRoster bundle of the district's
schools and staff, previewed, then imported as previewed.

The checking, keeping and writing are ``app.services.import_uploads`` (which runs the same
``app.services.imports`` plans as the API and the command line, and ``oneroster`` for a
bundle); these routes only draw the form, the preview, the table of a refused file's
errors, and the form that maps OneRoster roles to Parley roles (posted to the same page).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from app.blueprints.admin.forms import ApplyImportForm, ImportForm, RoleMappingForm
from app.blueprints.admin.routes import bp
from app.blueprints.forms import show_errors
from app.blueprints.operation import attempt
from app.services import (
    import_uploads,
    imports,
    oneroster_bundle,
    oneroster_roles,
    storage,
    survey_imports,
)
from app.services.actors import current_actor
from app.services.errors import ServiceError


@bp.route("/imports", methods=["GET", "POST"], endpoint="imports")
def imports_page():
    """GET: the form and what each file holds; POST: check a file and show its preview, or
    save the OneRoster role mapping."""
    program = imports.current_program()
    if request.method == "POST" and "mapping_form" in request.form:
        return _save_mapping(program)
    form = _import_form(program)
    if not form.validate_on_submit():
        return _page(form, program, status=400 if form.errors else 200)
    outcome = attempt(
        lambda: import_uploads.preview_files(
            form.kind.data, form.uploads(), form.target(), current_actor()
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


def _save_mapping(program):
    """Save which Parley role each OneRoster role grants (audited), back on the page."""
    mapping_form = RoleMappingForm()
    if not mapping_form.validate_on_submit():
        return _page(_import_form(program), program, mapping_form=mapping_form, status=400)
    outcome = attempt(lambda: oneroster_roles.save_mapping(mapping_form.mapping(), current_actor()))
    if not outcome.ok:
        show_errors(mapping_form, outcome.refusal.errors)
        return _page(
            _import_form(program), program, mapping_form=mapping_form, status=outcome.refusal.status
        )
    flash("The OneRoster role mapping is saved: the next bundle is imported with it.", "success")
    return redirect(url_for("admin.imports", _anchor="mapping-heading"))


def _import_form(program) -> ImportForm:
    form = ImportForm()
    form.survey.choices = [SelectChoice(s.key, s.title) for s in program.surveys] if program else []
    return form


def _refused(form: ImportForm, program, refusal: ServiceError):
    """A refused file: its line and column errors in the table, the rest beside the fields
    they concern (the file, the survey's year...) or on top of the form."""
    bundle_cells, errors = oneroster_bundle.split_errors(refusal.errors)
    cells, rest = imports.error_table(errors)
    show_errors(form, {("file" if k == "upload" else k): v for k, v in rest.items()})
    return _page(form, program, cells=cells, bundle_cells=bundle_cells, status=refusal.status)


def _written(applied: import_uploads.Applied) -> str:
    result = applied.result
    if applied.kind == import_uploads.CASES:
        people = f", and added {result.new_people} people" if result.new_people else ""
        return f"Imported {result.created} new and {result.updated} updated cases{people}."
    if applied.kind == import_uploads.ONEROSTER:
        disabled = f", disabled {result.disabled}" if result.disabled else ""
        return (
            f"Imported the roster: {result.created} new and {result.updated} updated people"
            f"{disabled}, {result.roles_granted} roles granted."
        )
    return f"Imported {result.created} new and {result.updated} updated survey answers."


def _page(
    form,
    program,
    *,
    kept=None,
    apply_form=None,
    cells=None,
    bundle_cells=None,
    mapping_form=None,
    status: int = 200,
):
    if mapping_form is None:
        mapping_form = RoleMappingForm(formdata=None, data=oneroster_roles.mapping())
    return render_template(
        "admin/imports.html",
        form=form,
        program=program,
        kept=kept,
        apply_form=apply_form,
        cells=cells,
        bundle_cells=bundle_cells,
        mapping_form=mapping_form,
        role_labels=oneroster_roles.SOURCE_LABELS,
        bundle_columns=oneroster_bundle.COLUMNS,
        case_columns=imports.CASE_COLUMNS,
        survey_columns=survey_imports.survey_columns,
        max_mb=f"{storage.max_upload_bytes(current_app) / 2**20:.1f}".removesuffix(".0"),
    ), status
