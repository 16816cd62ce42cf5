"""Request helpers shared by every API module."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from app.services.errors import ValidationFailed


def load(schema: Schema) -> dict:
    """The request's JSON body validated by ``schema``, or a 422 naming each field."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed(
            {"_schema": ["Send a JSON object (Content-Type: application/json)."]}
        )
    refuse_unstorable_text(body)
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ValidationFailed(_flatten(exc.messages)) from exc


def load_args(schema: Schema) -> dict:
    """The query string validated by ``schema`` (unknown arguments such as ``page`` pass)."""
    refuse_unstorable_text(request.args)
    try:
        return schema.load(request.args, unknown="exclude")
    except ValidationError as exc:
        raise ValidationFailed(_flatten(exc.messages)) from exc


def load_form(schema: Schema) -> dict:
    """The multipart body validated by ``schema``, like ``load`` for JSON: a 422 naming each
    field, unknown fields included. A ``List`` field takes every value of a repeated key."""
    refuse_unstorable_text(request.form)
    refuse_unstorable_text({key: upload.filename for key, upload in request.files.items()})
    data: dict = {}
    for key, values in request.form.lists():
        data[key] = values if isinstance(schema.fields.get(key), fields.List) else values[0]
    data.update(request.files.items())
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(_flatten(exc.messages)) from exc


def refuse_unstorable_text(values) -> None:
    """A 422 naming every text PostgreSQL could not store: with NUL, or not valid Unicode.

    Such a value (``"\\u0000"``, or a lone surrogate such as ``"\\udc00"`` in a JSON
    string) would fail at the database, after the handler had started its work; refusing
    it here keeps bad input a 4xx that changes nothing. A query string or form (a
    ``MultiDict``) is named by its keys.
    """
    if isinstance(values, MultiDict):
        values = {k: v[0] if len(v) == 1 else v for k, v in values.lists()}
    errors = {path: [problem] for path, problem in _unstorable(values, "")}
    if errors:
        raise ValidationFailed(errors)


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _unstorable(value, path: str):
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem:
            yield path or "_schema", problem
    elif isinstance(value, dict):
        for key, item in value.items():
            key = str(key)
            label = f"{path}.{key}" if path else key
            problem = _text_problem(key)
            if problem:
                yield (
                    label.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\0"),
                    problem,
                )
            else:
                yield from _unstorable(item, label)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable(item, f"{path}.{index}" if path else str(index))


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
