"""Choosing a new password through a single-use link that expires.

Asking never says whether an account exists (the same answer either way). The
link's token is made by the job that mails it and only its SHA-256 is kept, so
neither the outbox nor the table holds a usable link. Using it sets the
password, which ends every session and token the person had, and lifts a lockout.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.user import PasswordReset, User
from app.security.digests import digest, new_secret
from app.services import audit, sso, users
from app.services.actors import Actor
from app.services.errors import ServiceError
from app.tenants.context import tenant_scope

EXPIRED = "This link has expired, was already used, or is not one of ours. Ask for a new one."


def request_reset(tenant_id: int, email: str) -> None:
    """Queue a reset link for this address if it belongs to an active account here."""
    address = users.normalise_email(email)
    with tenant_scope(tenant_id):
        if not sso.passwords_allowed(tenant_id):
            raise ServiceError(
                {"email": ["This district signs in through its identity provider."]}, 403
            )
        user = db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()
        audit.record(
            tenant_id,
            "auth.password_reset_requested",
            "user",
            user.id if user else None,
            after={"email": address, "known": user is not None and user.active},
            actor=Actor.system("password reset form"),
        )
        if user is None or not user.active:
            return
        minutes = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
        reset = PasswordReset(
            tenant_id=tenant_id, user_id=user.id, expires_at=utcnow() + timedelta(minutes=minutes)
        )
        db.session.add(reset)
        db.session.flush()
        outbox.add("mail.password_reset", {"reset_id": reset.id}, tenant_id=tenant_id, queue="mail")


def invite(user: User, actor: Actor | None = None) -> PasswordReset | None:
    """A teacher enrolled through the public form (or a referral) has an account with no
    password; once the program accepts them, they get a single-use link to choose one
    (good for ``INVITATION_TTL_DAYS``). Nothing is sent to someone who already has a
    password or has signed in, nor where the district signs in through its identity
    provider (they sign in there)."""
    if user.password_hash or user.last_login_at is not None or not user.active:
        return None
    if not sso.passwords_allowed(user.tenant_id):
        outbox.add("mail.welcome", {"user_id": user.id}, tenant_id=user.tenant_id, queue="mail")
        return None
    days = current_app.config["INVITATION_TTL_DAYS"]
    reset = PasswordReset(
        tenant_id=user.tenant_id, user_id=user.id, expires_at=utcnow() + timedelta(days=days)
    )
    db.session.add(reset)
    db.session.flush()
    audit.record(
        user.tenant_id,
        "auth.invitation_sent",
        "user",
        user.id,
        after={"expires_at": reset.expires_at.isoformat()},
        actor=actor,
    )
    outbox.add(
        "mail.password_reset",
        {"reset_id": reset.id, "invitation": True},
        tenant_id=user.tenant_id,
        queue="mail",
    )
    return reset


def issue_token(reset: PasswordReset) -> str:
    """A fresh token for this reset (the mail job calls it); any earlier one stops working."""
    token = new_secret()
    reset.token_hash = digest(token)
    db.session.flush()
    return token


def live(tenant_id: int, token: str) -> PasswordReset | None:
    """The reset this token opens, or None when it is spent, expired, or not one of ours."""
    with tenant_scope(tenant_id):
        reset = db.session.execute(
            select(PasswordReset).where(PasswordReset.token_hash == digest(token))
        ).scalar_one_or_none()
        if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
            return None
        return reset if reset.user.active else None


def find(tenant_id: int, token: str) -> PasswordReset:
    """The live reset this token opens, or an error that says the link is spent."""
    reset = live(tenant_id, token)
    if reset is None:
        raise ServiceError({"token": [EXPIRED]}, status=404)
    return reset


def complete(tenant_id: int, token: str, password: str) -> User:
    """Spend the link: set the password (ending other sessions), unlock, and audit."""
    reset = find(tenant_id, token)
    with tenant_scope(tenant_id):
        # Spend it in one statement, so two submissions of the same link cannot both win.
        spent = db.session.execute(
            update(PasswordReset)
            .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
            .values(used_at=utcnow())
        ).rowcount
        if spent != 1:
            raise ServiceError({"token": [EXPIRED]}, status=404)
        user = reset.user
        actor = Actor.of(user)
        users.set_password(user, password, actor=actor)
        users.unlock(user, actor=actor)
        # Every other link the person asked for dies with this one.
        db.session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
            .values(used_at=utcnow())
        )
        return user
