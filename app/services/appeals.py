"""The teacher's appeal of an approved decision, inside the track's window of working days."""

from __future__ import annotations

from typing import Any

from app.models.case import Case
from app.models.user import User


def for_page(case: Case, reader: User) -> Any:
    """What the case page shows ``reader`` in the appeal section;
    None while there is nothing to show."""
    return None
