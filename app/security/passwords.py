"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_STRONG = PasswordHasher()
#: Tests only (``PASSWORD_HASHER = "fast"``): same algorithm, minimal cost.
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_DUMMY_HASHES = {id(h): h.hash("no such account") for h in (_STRONG, _FAST)}


def _hasher() -> PasswordHasher:
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("PASSWORD_HASHER") == "fast":
        return _FAST
    return _STRONG


MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches the stored hash."""
    hasher = _hasher()
    # A missing account still costs one verification, so timing does not reveal it.
    try:
        return hasher.verify(stored_hash or _DUMMY_HASHES[id(hasher)], password) and (
            stored_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False
