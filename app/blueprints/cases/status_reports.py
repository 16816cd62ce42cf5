"""Case-page routes for status reports section."""

from __future__ import annotations

from typing import Any


def page_forms(posted: dict[str, Any]) -> dict[str, Any]:
    """The forms the status reports section draws:
    those posted back with errors, else fresh ones."""
    return {}
