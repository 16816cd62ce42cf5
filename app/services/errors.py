"""Typed errors that routes turn into form messages or JSON ``{"errors": {...}}``."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused operation. ``errors`` maps a field (or ``_schema``) to messages."""

    status = 400

    def __init__(self, errors: dict[str, list[str]] | str, status: int | None = None) -> None:
        if isinstance(errors, str):
            errors = {"_schema": [errors]}
        self.errors = errors
        if status is not None:
            self.status = status
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))

    def text(self) -> str:
        """Every message in one line, for a flash or a page that has no field to put them by."""
        return " ".join(m for messages in self.errors.values() for m in messages)


class ValidationFailed(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class StorageUnavailable(ServiceError):
    """The file store cannot take a write (full, over quota, read-only, not permitted).

    507 Insufficient Storage says the request was fine and the server could not keep it,
    so a person (or a program) knows to try again later rather than change the input.
    """

    status = 507


class DatabaseUnavailable(ServiceError):
    """The database could not be reached or did not answer within its timeout.

    503 with nothing changed: the request was fine, so the person is told to try again
    rather than left at a bare 500 (or a page that never comes).
    """

    status = 503
