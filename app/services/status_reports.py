"""The consulting teacher's status reports to the panel, on the track's schedule."""

from __future__ import annotations

from typing import Any

from app.models.case import Case
from app.models.user import User


def for_page(case: Case, reader: User) -> Any:
    """What the case page shows ``reader`` in the status reports section;
    None while there is nothing to show."""
    return None
