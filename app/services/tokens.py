"""API bearer tokens: issued for a password, stored hashed, revocable, expiring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.user import ApiToken, User
from app.security.digests import digest, new_secret
from app.services import audit
from app.services.actors import Actor
from app.services.users import sign_in


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def issue(tenant_id: int, email: str, password: str) -> IssuedToken:
    """Exchange a password for a token; the plain token is shown once and never stored."""
    user = sign_in(tenant_id, email, password, channel="api")
    token = new_secret()
    ttl = timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"])
    row = ApiToken(
        tenant_id=tenant_id,
        user_id=user.id,
        token_hash=digest(token),
        expires_at=utcnow() + ttl,
        session_version=user.session_version,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        tenant_id,
        "api_token.issued",
        "api_token",
        row.id,
        after={"user_id": user.id, "expires_at": row.expires_at.isoformat()},
        actor=Actor.of(user),
    )
    return IssuedToken(token, row.expires_at)


def user_for_token(token: str) -> User | None:
    """The token's user, if the token is known in this tenant, live and not revoked."""
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == digest(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = row.user
    if not user.active or user.session_version != row.session_version:
        return None
    return user


def revoke(token: str, actor: Actor) -> None:
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == digest(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    audit.record(row.tenant_id, "api_token.revoked", "api_token", row.id, actor=actor)
