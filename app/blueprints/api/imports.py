"""Imports over the API: the same all-or-nothing service as the command line."""

from __future__ import annotations

from flask import request

from app.blueprints.api import bp
from app.blueprints.api.schemas import ImportResultSchema
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
