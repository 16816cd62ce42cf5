"""Imports and reports over the API: the same services as the command line and pages."""

from __future__ import annotations

from app.blueprints.api import bp
from app.blueprints.api.helpers import load_args, load_form
from app.blueprints.api.schemas.imports import (
    AnnualReportQuerySchema,
    AnnualReportSchema,
    CaseImportInSchema,
    DistrictNetworkQuerySchema,
    ImportResultSchema,
    NetworkQuerySchema,
    SurveyImportInSchema,
)
from app.blueprints.api.spec import documented
from app.blueprints.operation import reads_replica
from app.services import imports
from app.services.actors import current_actor


@bp.post("/t/<tenant_slug>/imports/cases")
@documented(
    "Import cases from CSV (multipart field 'file'); 422 lists every bad row and column "
    "and nothing is written",
    form=CaseImportInSchema,
    response=ImportResultSchema,
)
def import_cases():
    upload = load_form(CaseImportInSchema())["file"]
    result = imports.import_cases(imports.read_upload(upload.read()), current_actor())
    return ImportResultSchema().dump(result)


@bp.post("/t/<tenant_slug>/imports/survey-responses")
@documented(
    "Import survey answers from CSV (multipart 'file', fields 'survey', 'year', 'sent'); "
    "422 lists every bad row and column and nothing is written",
    form=SurveyImportInSchema,
    response=ImportResultSchema,
)
def import_survey_responses():
    data = load_form(SurveyImportInSchema())
    result = imports.import_survey_responses(
        data["survey"],
        data["year"],
        data["sent"],
        imports.read_upload(data["file"].read()),
        current_actor(),
    )
    return ImportResultSchema().dump(result)


@bp.get("/t/<tenant_slug>/reports/annual")
@documented(
    "The annual program report for ?year=2009-2010 (school years start on the "
    "configuration's school_year_start)",
    query=AnnualReportQuerySchema,
    response=AnnualReportSchema,
)
@reads_replica
def annual_report():
    from app.services import reports

    args = load_args(AnnualReportQuerySchema())
    return reports.annual(args["year"] or reports.default_year())


@bp.get("/network/outcomes")
@documented(
    "Network outcomes (anonymized aggregates; suppressed cells are null): ?year=, "
    "?track_kind=all|assistance|review|induction, ?size_band=; a year is listed only when "
    "at least minimum_districts districts match (too_few_districts when none is)",
    query=NetworkQuerySchema,
)
@reads_replica
def network_outcomes():
    from app.services import network

    chosen = load_args(NetworkQuerySchema())
    shown = network.comparison(**chosen)
    return {
        "items": [
            {
                "district": r.display_name,
                "size_band": r.size_band,
                "year": r.year,
                "noisy": r.noisy,
                "figures": r.figures[chosen["track_kind"]],
            }
            for r in shown.rows
        ],
        "summary": shown.summary,
        "too_few_districts": shown.too_few_districts,
        "minimum_districts": shown.minimum_districts,
    }


@bp.get("/t/<tenant_slug>/network/outcomes")
@documented(
    "Your district beside the network for ?year= (program admins): your published "
    "release, the preview of what a release would hold, and the other districts' medians "
    "(only when at least minimum_districts others published the year)",
    query=DistrictNetworkQuerySchema,
)
@reads_replica
def district_network_outcomes():
    from app.services import network

    year = load_args(DistrictNetworkQuerySchema())["year"] or network.current_year()
    return network.district_view(year)
