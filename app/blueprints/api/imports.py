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
