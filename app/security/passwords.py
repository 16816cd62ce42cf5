"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

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
#: zxcvbn's score (0-4) a new password must reach: 3 resists offline guessing of a slow hash.
MIN_PASSWORD_SCORE = 3
#: Words about the product and the program that make a password easy to guess.
CONTEXT_WORDS = ("parley", "peer", "assistance", "review", "par", "consulting", "teacher")


def password_problems(password: str, context: Iterable[str] = ()) -> list[str]:
    """Why a new password would be easy to guess, in words; empty when it is fine.

    No composition rules (any characters, any case): only length, and zxcvbn's
    estimate, which knows the common and breached-password lists and is told the
    person's own words (name, e-mail, district) and the product's.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    words = [w for w in (*CONTEXT_WORDS, *context) if w]
    result = zxcvbn(password[:72], user_inputs=words)  # zxcvbn reads at most 72 characters
    if result["score"] >= MIN_PASSWORD_SCORE:
        return []
    feedback = result["feedback"]
    hints = [feedback.get("warning") or "This password is easy to guess."]
    hints += feedback.get("suggestions") or ["A few unrelated words make a strong password."]
    return [h for h in hints if h]


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
