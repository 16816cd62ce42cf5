"""The program configuration over the API: draft, validate, publish, versions, diff.

Each route loads, calls the service and answers; the request's unit of work commits."""

from __future__ import annotations

from app.blueprints.api import bp
from app.blueprints.api.helpers import load
from app.blueprints.api.schemas.cases import CaseListSchema
from app.blueprints.api.schemas.workflow import (
    CaseMigrationSchema,
    DiffSchema,
    PublishSchema,
    ValidationReportSchema,
    WorkflowDocumentSchema,
    WorkflowVersionListSchema,
    WorkflowVersionSchema,
)
from app.blueprints.api.spec import documented
from app.services import workflow_config as configs
from app.services.actors import current_actor
from app.services.errors import NotFound, ValidationFailed
from app.workflows import describe_change, validate


def _document() -> dict:
    data = load(WorkflowDocumentSchema())
    if (data["document"] is None) == (data["text"] is None):
        raise ValidationFailed({"_schema": ["Send either 'document' (an object) or 'text'."]})
    return configs.parse(data["text"] if data["text"] is not None else data["document"])


@bp.get("/t/<tenant_slug>/workflow/draft")
@documented(
    "The draft configuration (the latest version when there is no draft)",
    response=WorkflowVersionSchema,
)
def workflow_draft_get():
    row = configs.draft() or configs.latest_published()
    if row is None:
        raise NotFound({"draft": ["This district has no configuration yet."]})
    return WorkflowVersionSchema().dump(row)


@bp.put("/t/<tenant_slug>/workflow/draft")
@documented(
    "Replace the draft; 422 lists every error by path and nothing is saved",
    body=WorkflowDocumentSchema,
    response=WorkflowVersionSchema,
)
def workflow_draft_put():
    row = configs.save_draft(_document(), current_actor())
    return WorkflowVersionSchema().dump(row)


@bp.post("/t/<tenant_slug>/workflow/draft/validate")
@documented(
    "Check a document without saving it",
    body=WorkflowDocumentSchema,
    response=ValidationReportSchema,
    refusals={422: ("The document is not valid: every error by path", ValidationReportSchema)},
)
def workflow_draft_validate():
    result = validate(_document())
    return ValidationReportSchema().dump({"ok": result.ok, "errors": result.errors}), (
        200 if result.ok else 422
    )


@bp.post("/t/<tenant_slug>/workflow/publish")
@documented(
    "Publish the draft as the next version",
    body=PublishSchema,
    response=WorkflowVersionSchema,
    status=201,
)
def workflow_publish():
    data = load(PublishSchema())
    row = configs.publish(current_actor(), data["note"])
    return WorkflowVersionSchema().dump(row), 201


@bp.get("/t/<tenant_slug>/workflow/versions")
@documented("Published versions, newest first", response=WorkflowVersionListSchema)
def workflow_versions():
    return WorkflowVersionListSchema().dump({"items": configs.published_versions()})


@bp.get("/t/<tenant_slug>/workflow/versions/<int:number>")
@documented("One published version", response=WorkflowVersionSchema)
def workflow_version(number: int):
    return WorkflowVersionSchema().dump(configs.version(number))


@bp.get("/t/<tenant_slug>/workflow/versions/<int:a>/diff/<int:b>")
@documented("What changed from version a to version b, in words", response=DiffSchema)
def workflow_diff(a: int, b: int):
    changes = configs.compare(a, b)
    return DiffSchema().dump(
        {"changes": [{"path": c.path, "kind": c.kind, "text": describe_change(c)} for c in changes]}
    )


@bp.post("/t/<tenant_slug>/workflow/migrations")
@documented(
    "Move chosen open cases to a published version, mapping states (all or nothing)",
    body=CaseMigrationSchema,
    response=CaseListSchema,
)
def workflow_migrate_cases():
    data = load(CaseMigrationSchema())
    rows = configs.migrate_cases(
        data["case_ids"],
        data["to_version"],
        data["state_map"],
        current_actor(),
    )
    return CaseListSchema().dump({"items": rows})
