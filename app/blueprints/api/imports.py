"""Imports and reports over the API: the same services as the command line and pages."""

from __future__ import annotations

from flask import request

from app.blueprints.api import bp
from app.blueprints.api.schemas import (
    AnnualReportQuerySchema,
    AnnualReportSchema,
    ImportResultSchema,
)
from app.blueprints.api.spec import documented
from app.services import imports, uow
from app.services.actors import current_actor
from app.services.errors import ValidationFailed
from app.tenants.resolution import current_tenant


@bp.post("/t/<tenant_slug>/imports/cases")
@documented(
    "Import cases from CSV (multipart field 'file'); 422 lists every bad row and column "
    "and nothing is written",
    response=ImportResultSchema,
)
def import_cases():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": ["Attach the CSV as the multipart field 'file'."]})
    result = imports.import_cases(
        current_tenant().id, imports.read_upload(upload.read()), current_actor()
    )
    uow.commit()
    return ImportResultSchema().dump(result)


@bp.post("/t/<tenant_slug>/imports/survey-responses")
@documented(
    "Import survey answers from CSV (multipart 'file', fields 'survey', 'year', 'sent'); "
    "422 lists every bad row and column and nothing is written",
    response=ImportResultSchema,
)
def import_survey_responses():
    upload = request.files.get("file")
    errors = {}
    if upload is None or not upload.filename:
        errors["file"] = ["Attach the CSV as the multipart field 'file'."]
    for field in ("survey", "year", "sent"):
        if not request.form.get(field):
            errors[field] = ["is required"]
    if not errors and not request.form["sent"].isdigit():
        errors["sent"] = ["Give a whole number."]
    if errors:
        raise ValidationFailed(errors)
    result = imports.import_survey_responses(
        current_tenant().id,
        request.form["survey"],
        request.form["year"],
        int(request.form["sent"]),
        imports.read_upload(upload.read()),
        current_actor(),
    )
    uow.commit()
    return ImportResultSchema().dump(result)


@bp.get("/t/<tenant_slug>/reports/annual")
@documented(
    "The annual program report for ?year=2009-2010 (school years start on the "
    "configuration's school_year_start)",
    response=AnnualReportSchema,
)
def annual_report():
    from app.blueprints.api.helpers import load_args
    from app.services import reports

    args = load_args(AnnualReportQuerySchema())
    return reports.annual(
        current_tenant().id, args["year"] or reports.default_year(current_tenant().id)
    )


@bp.get("/network/outcomes")
@documented(
    "Network outcomes (anonymized aggregates; suppressed cells are null): ?year=, "
    "?track_kind=all|assistance|review|induction, ?size_band="
)
def network_outcomes():
    from app.blueprints.network.routes import filters
    from app.services import network

    chosen = filters()
    rows = network.releases(**chosen)
    return {
        "items": [
            {
                "district": r.display_name,
                "size_band": r.size_band,
                "year": r.year,
                "noisy": r.noisy,
                "figures": r.figures[chosen["track_kind"]],
            }
            for r in rows
        ],
        "summary": network.summary(rows, chosen["track_kind"]),
    }


@bp.get("/t/<tenant_slug>/network/outcomes")
@documented(
    "Your district beside the network for ?year= (program admins): your published "
    "release, the preview of what a release would hold, and the network's medians"
)
def district_network_outcomes():
    from app.services import network

    tenant_id = current_tenant().id
    year = request.args.get("year") or network.current_year(tenant_id)
    rows = network.releases(year=year)
    member = network.membership()
    mine = next((r for r in rows if member and r.member_key == member.member_key), None)
    return {
        "year": year,
        "member": member is not None and member.left_at is None,
        "mine": mine.figures if mine else None,
        "preview": network.preview(tenant_id, year),
        "network": network.summary(rows),
    }
