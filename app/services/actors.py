"""Who is acting, in the words the audit trail records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import has_request_context
from flask_login import current_user

if TYPE_CHECKING:
    from app.models.user import User


@dataclass(frozen=True)
class Actor:
    kind: str  # "user", "platform" or "system"
    id: int | None
    label: str

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls("system", None, label)

    @classmethod
    def of(cls, user: User) -> Actor:
        """A district's person acting in their own name (the audit trail keeps the address)."""
        return cls("user", user.id, user.email)


def current_actor() -> Actor:
    """The signed-in user of this request, or the system (CLI, jobs)."""
    if has_request_context() and current_user.is_authenticated:
        user = current_user.user
        kind = "platform" if current_user.is_platform else "user"
        return Actor(kind, user.id, user.email)
    return Actor.system()
