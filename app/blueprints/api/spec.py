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
from werkzeug.routing import Rule

from app.blueprints.api.schemas.common import ErrorSchema
from app.core.limits import MAX_ID
from app.tenants.resolution import SLUG_ARG

_ERROR_STATUSES = {
    400: "Bad request",
    401: "Missing, expired or revoked token",
    402: "The district's subscription has lapsed: read-only, or closed but for billing",
    403: "Role not allowed",
    404: "Not found in this district",
    409: "Conflicts with the current state",
    422: "Invalid values",
    429: "Too many requests; try again later",
}
#: Statuses only a signed-in caller can meet: the token check, the role check, the billing gate.
_AUTH_STATUSES = {401, 402, 403}
#: A URL rule's argument: ``<name>`` or ``<converter:name>``.
_ARGUMENT = re.compile(r"<(?:([a-z]+):)?([a-z_]+)>")


def documented(
    summary: str,
    *,
    body: type | None = None,
    form: type | None = None,
    query: type | None = None,
    response: type | None = None,
    status: int = 200,
    auth: bool = True,
    refusals: dict[int, str | tuple[str, type]] | None = None,
) -> Callable:
    """Describe a view for the OpenAPI document.

    ``body`` is a JSON body, ``form`` a multipart one (files and fields), ``query`` the
    query-string arguments the view reads. Every operation declares the error statuses
    every API route can give (``auth=False`` drops the token and role ones); ``refusals``
    adds or rewords the ones particular to a route, such as the 401 of a wrong password,
    with ``(text, schema)`` where its body is not the usual ``{"errors": {...}}``, so the
    document lists every status the route really answers with, in the shape it has.
    """

    def decorate(view: Callable) -> Callable:
        view._openapi = {
            "summary": summary,
            "body": body,
            "form": form,
            "query": query,
            "response": response,
            "status": status,
            "auth": auth,
            "refusals": refusals or {},
            "description": (view.__doc__ or "").strip(),
        }
        return view

    return decorate


def _openapi_path(rule: str) -> str:
    return _ARGUMENT.sub(r"{\2}", rule)


def _path_parameters(rule: Rule) -> list[dict]:
    """The rule's arguments; ``<int:...>`` is a number no larger than an id can be."""
    converters = {name: converter for converter, name in _ARGUMENT.findall(rule.rule)}
    return [
        {
            "in": "path",
            "name": name,
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}
            if converters[name] == "int"
            else {"type": "string"},
        }
        for name in sorted(converters)
    ]


def _operation(meta: dict, rule: Rule) -> dict:
    operation: dict = {"summary": meta["summary"], "responses": {}}
    if meta["description"]:
        operation["description"] = meta["description"]
    operation["parameters"] = _path_parameters(rule)
    if meta["query"] is not None:
        operation["parameters"].append({"in": "query", "schema": meta["query"]})
    body = _request_body(meta)
    if body is not None:
        operation["requestBody"] = body
    success: dict = {"description": "Success"}
    if meta["response"] is not None:
        success["content"] = {"application/json": {"schema": meta["response"]}}
    operation["responses"][str(meta["status"])] = success
    operation["responses"].update(_refusals(meta, rule, has_body=body is not None))
    if meta["auth"]:
        operation["security"] = [{"bearer": []}]
    return operation


def _request_body(meta: dict) -> dict | None:
    if meta["body"] is not None:
        return {"required": True, "content": {"application/json": {"schema": meta["body"]}}}
    if meta["form"] is not None:
        return {"required": True, "content": {"multipart/form-data": {"schema": meta["form"]}}}
    return None


def _refusals(meta: dict, rule: Rule, *, has_body: bool) -> dict[str, dict]:
    """The error responses: the ones every route can give, then the route's own."""
    errors: dict[int, str | tuple[str, type]] = {
        code: text
        for code, text in _ERROR_STATUSES.items()
        if (meta["auth"] or code not in _AUTH_STATUSES)
        and (code != 402 or SLUG_ARG in rule.arguments)
    }
    if has_body:
        errors[413] = "The body is larger than the server accepts (MAX_CONTENT_LENGTH)"
    responses = {}
    for code, refusal in sorted({**errors, **meta["refusals"]}.items()):
        text, schema = refusal if isinstance(refusal, tuple) else (refusal, ErrorSchema)
        responses[str(code)] = {
            "description": text,
            "content": {"application/json": {"schema": schema}},
        }
    return responses


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
            operations[method.lower()] = _operation(meta, rule)
        spec.path(path=_openapi_path(rule.rule), operations=operations)
    return spec.to_dict()
