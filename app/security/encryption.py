"""Encrypting the few secrets Parley must keep in the database (a district's SSO client secret).

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) with a key from
``DATA_ENCRYPTION_KEY`` when set, else derived from ``SECRET_KEY`` by HKDF, so a
copy of the database without the application's settings reveals nothing usable.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class DecryptionFailed(RuntimeError):
    """The stored value was sealed with another key (the settings' keys changed)."""


def _fernet() -> Fernet:
    explicit = current_app.config.get("DATA_ENCRYPTION_KEY")
    if explicit:
        return Fernet(explicit)
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"parley data encryption"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed(
            "A stored secret cannot be read with the current DATA_ENCRYPTION_KEY/SECRET_KEY; "
            "enter it again."
        ) from exc
