"""What every feature's schemas share: ids, pages, the error body, people, files, lengths."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from app.core.limits import MAX_ID
from app.services import lengths


def row_id(**kwargs) -> fields.Integer:
    """An id (or version number) sent by the caller: a number a row can have.

    A larger number would be refused by PostgreSQL when compared with an id column, ending
    the request in a 500; the range makes it a 422 that names the field.
    """
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class MaxLength(validate.Length):
    """At most ``limit`` characters, refused in the words the CSV import uses.

    A ``Length`` to apispec, so the document declares ``maxLength``.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(max=limit)

    def __call__(self, value: str) -> str:
        if len(value) > self.max:
            raise ValidationError(f"is {len(value)} characters long; at most {self.max} fit")
        return value


def fits(column: str) -> MaxLength:
    """The length check for a string stored in ``column``, ``"table.column"``
    (``String(200)``: 200; ``lengths.of``).

    A longer value would make the database refuse the whole request without naming the
    field; this refuses it as a 422 that does.
    """
    return MaxLength(lengths.of(column))


class ErrorSchema(Schema):
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PageSchema(Schema):
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class PageQuerySchema(Schema):
    """``?page=``: which page of a list (pages past the last are empty)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_ID))


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class FileField(fields.Field):
    """A file part of a multipart body: documented as binary, loaded as the upload itself.

    A part without a file name arrives as plain text, which no handler can read as a file.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(metadata={"type": "string", "format": "binary"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> FileStorage:
        if not isinstance(value, FileStorage) or not value.filename:
            raise ValidationError("Attach a file (a multipart part with a file name).")
        return value
