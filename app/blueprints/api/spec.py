"""The OpenAPI 3 document, generated from the routes' schemas with apispec.

Each API view declares its schemas with ``@documented``; ``build_spec`` walks
the URL map, so a new route appears in the document without a second list.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from app.blueprints.api.schemas import ErrorSchema

_ERROR_STATUSES = {
    400: "Bad request",
    401: "Missing, expired or revoked token",
    403: "Role not allowed",
    404: "Not found in this district",
    409: "Conflicts with the current state",
    422: "Invalid values",
}


def documented(
    summary: str,
    *,
    body: type | None = None,
    response: type | None = None,
    status: int = 200,
    auth: bool = True,
) -> Callable:
    def decorate(view: Callable) -> Callable:
        view._openapi = {
            "summary": summary,
            "body": body,
            "response": response,
            "status": status,
            "auth": auth,
            "description": (view.__doc__ or "").strip(),
        }
        return view

    return decorate


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _operation(meta: dict, rule_args: list[str]) -> dict:
    operation: dict = {"summary": meta["summary"], "responses": {}}
    if meta["description"]:
        operation["description"] = meta["description"]
    operation["parameters"] = [
        {
            "in": "path",
            "name": arg,
            "required": True,
            "schema": {"type": "integer" if arg.endswith("_id") else "string"},
        }
        for arg in rule_args
    ]
    if meta["body"] is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": meta["body"]}},
        }
    success: dict = {"description": "Success"}
    if meta["response"] is not None:
        success["content"] = {"application/json": {"schema": meta["response"]}}
    operation["responses"][str(meta["status"])] = success
    for code, text in _ERROR_STATUSES.items():
        if code in (401, 403) and not meta["auth"]:
            continue
        operation["responses"][str(code)] = {
            "description": text,
            "content": {"application/json": {"schema": ErrorSchema}},
        }
    if meta["auth"]:
        operation["security"] = [{"bearer": []}]
    return operation


def build_spec(app: Flask) -> dict:
    spec = APISpec(
        title="Parley API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Peer Assistance and Review programs, one district per tenant."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        meta = getattr(view, "_openapi", None)
        if meta is None:
            continue
        operations = {}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operations[method.lower()] = _operation(meta, sorted(rule.arguments))
        spec.path(path=_openapi_path(rule.rule), operations=operations)
    return spec.to_dict()
