"""Error paths in one format: dots for mapping keys, ``[i]`` for list indices.

Marshmallow nests errors by field (``{"tracks": {"par": {"value": {...}}}}``
for dict fields, integer keys for lists); an administrator needs one line per
problem that names where it is, so every error goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import Schema, fields

Errors = dict[str, list[str]]

# Marshmallow's wording, in the lower-case, no-full-stop style of our own messages.
_PLAIN = {
    "Missing data for required field.": "is required",
    "Unknown field.": "unknown key",
    "Field may not be null.": "must have a value",
    "Not a valid string.": "must be text",
    "Not a valid integer.": "must be a whole number",
    "Not a valid number.": "must be a number",
    "Not a valid boolean.": "must be true or false",
    "Not a valid list.": "must be a list",
    "Not a valid mapping type.": "must be a mapping",
    "Invalid input type.": "must be a mapping",
}


def join(path: str, key: str | int) -> str:
    """Extend ``path`` by a mapping key or a list index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def check_month_day(value: Any, errors: Errors, path: str) -> None:
    """Report an MM-DD that names no real day; its shape is the schema's to check."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != "-":
        return
    month, day = value[:2], value[3:]
    if not (month.isdigit() and day.isdigit()):
        return
    try:
        date(2000, int(month), int(day))  # a leap year, so 02-29 counts as real
    except ValueError:
        add(errors, path, f"'{value}' is not a real date")


def add(errors: Errors, path: str, message: str) -> None:
    """Record one message at ``path``, keeping messages in the order found."""
    bucket = errors.setdefault(path or "(document)", [])
    if message not in bucket:
        bucket.append(message)


def plain(message: str) -> str:
    """Restate a marshmallow message as a short lower-case phrase."""
    if message in _PLAIN:
        return _PLAIN[message]
    text = message.rstrip(".")
    return text[:1].lower() + text[1:]


def flatten(messages: Any, schema: Schema, path: str = "") -> Errors:
    """Turn marshmallow's nested error messages into ``{path: [messages]}``."""
    errors: Errors = {}
    _walk_schema(messages, schema, path, errors)
    return errors


def _walk_schema(messages: Any, schema: Schema, path: str, errors: Errors) -> None:
    if not isinstance(messages, Mapping):
        _leaf(messages, path, errors)
        return
    for name, inner in messages.items():
        if name == "_schema":
            _leaf(inner, path, errors)
            continue
        field = _by_data_key(schema).get(name)
        sub = join(path, name)
        if field is None:
            _leaf(inner, sub, errors)
        else:
            _walk_field(inner, field, sub, errors)


def _by_data_key(schema: Schema) -> dict[str, fields.Field]:
    return {(field.data_key or name): field for name, field in schema.fields.items()}


def _walk_field(messages: Any, field: fields.Field, path: str, errors: Errors) -> None:
    if not isinstance(messages, Mapping):
        _leaf(messages, path, errors)
    elif isinstance(field, fields.Nested):
        _walk_schema(messages, field.schema, path, errors)
    elif isinstance(field, fields.List):
        for index, inner in messages.items():
            _walk_field(inner, field.inner, join(path, index), errors)
    elif isinstance(field, fields.Dict):
        for key, inner in messages.items():
            sub = join(path, key)
            if isinstance(inner, Mapping):
                _leaf(inner.get("key", []), sub, errors, prefix="key: ")
                if "value" in inner and field.value_field is not None:
                    _walk_field(inner["value"], field.value_field, sub, errors)
            else:
                _leaf(inner, sub, errors)
    else:
        for key, inner in messages.items():
            _leaf(inner, join(path, key), errors)


def _leaf(messages: Any, path: str, errors: Errors, prefix: str = "") -> None:
    if isinstance(messages, str):
        add(errors, path, prefix + plain(messages))
    elif isinstance(messages, Mapping):
        for key, inner in messages.items():
            _leaf(inner, join(path, key), errors, prefix)
    else:
        for message in messages:
            _leaf(message, path, errors, prefix)
