"""Acknowledgments and signed documents: who acknowledged which document
of a case, and the district's PAdES signature on its PDF.
"""

from __future__ import annotations

from typing import Any

from app.models.case import Case
from app.models.user import User


def for_page(case: Case, reader: User) -> Any:
    """What the case page shows ``reader`` in the acknowledgment section of the decision;
    None while there is nothing to show."""
    return None
