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
