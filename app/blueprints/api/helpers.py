"""Request helpers shared by every API module."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, ValidationError

from app.services.errors import ValidationFailed


def load(schema: Schema) -> dict:
    """The request's JSON body validated by ``schema``, or a 422 naming each field."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed(
            {"_schema": ["Send a JSON object (Content-Type: application/json)."]}
        )
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ValidationFailed(_flatten(exc.messages)) from exc


def load_args(schema: Schema) -> dict:
    """The query string validated by ``schema`` (unknown arguments such as ``page`` pass)."""
    try:
        return schema.load(request.args, unknown="exclude")
    except ValidationError as exc:
        raise ValidationFailed(_flatten(exc.messages)) from exc


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        flat.update(_flatten(value, path))
    return flat


def page_body(page) -> dict:
    """A Flask-SQLAlchemy page as the API's list envelope (dumped by a ``*PageSchema``)."""
    return {"items": page.items, "page": page.page, "pages": page.pages, "total": page.total}
