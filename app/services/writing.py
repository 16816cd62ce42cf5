"""What a person writes into a record (a response, the grounds of an appeal, a label): one
check, so every such field refuses the same things in the same words.

Text is kept as written, trimmed; it must not be empty or longer than its column allows,
and it may hold no control characters but line breaks and tabs (which a one-line field
refuses too): a hidden character must not change what a later reader of the record sees.
"""

from __future__ import annotations

import unicodedata

from app.services.errors import ValidationFailed

#: Line breaks and tabs are the only control characters written text keeps.
KEPT_CONTROLS = frozenset("\n\r\t")


def written(
    value: str | None,
    field: str,
    *,
    limit: int,
    empty: str,
    noun: str = "text",
    one_line: bool = False,
) -> str:
    """``value`` trimmed, or a ``ValidationFailed`` on ``field`` saying what is wrong."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed({field: [empty]})
    if len(text) > limit:
        raise ValidationFailed({field: [f"Keep the {noun} to {limit:,} characters."]})
    kept = frozenset() if one_line else KEPT_CONTROLS
    if any(unicodedata.category(c) == "Cc" and c not in kept for c in text):
        raise ValidationFailed({field: [f"The {noun} may not contain control characters."]})
    return text
