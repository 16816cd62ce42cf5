"""Case-page routes for acknowledgment section of the decision."""

from __future__ import annotations

from typing import Any


def page_forms(posted: dict[str, Any]) -> dict[str, Any]:
    """The forms the acknowledgment section of the decision draws:
    those posted back with errors, else fresh ones."""
    return {}
