"""Mail jobs. Each records what it sent under its outbox id, so a retry never re-sends."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from app.extensions import db
from app.models.outbox import SentMail
from app.models.tenant import Tenant
from app.models.user import User
from app.services import mailer


def _already_sent(message_id: str) -> bool:
    return db.session.get(SentMail, message_id) is not None


def send_welcome(payload: dict, message_id: str) -> None:
    """Welcome a new user to their district's portal, with the sign-in address."""
    if _already_sent(message_id):
        return
    user = db.session.execute(
        select(User).where(User.id == payload["user_id"])
    ).scalar_one_or_none()
    if user is None:
        return
    tenant = db.session.get(Tenant, user.tenant_id)
    subject = f"Welcome to {tenant.name} on Parley"
    body = render_template("mail/welcome.txt", user=user, tenant=tenant)
    mailer.send(mailer.build_message(user.email, subject, body))
    db.session.add(
        SentMail(outbox_id=message_id, tenant_id=tenant.id, recipient=user.email, subject=subject)
    )
    db.session.flush()
