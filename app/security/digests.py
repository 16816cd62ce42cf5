"""Secrets handed to people (API tokens, reset links, survey links) and what is kept of them.

Only a SHA-256 digest is stored, so a copy of the database holds no usable link or
token; the plain value exists in the response or the e-mail that carries it.
"""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
