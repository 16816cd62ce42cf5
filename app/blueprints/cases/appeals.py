"""Case-page routes for appeal section."""

from __future__ import annotations

from typing import Any


def page_forms(posted: dict[str, Any]) -> dict[str, Any]:
    """The forms the appeal section draws:
    those posted back with errors, else fresh ones."""
    return {}
