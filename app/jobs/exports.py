"""Export jobs: documents built off the request path and stored per tenant."""

from __future__ import annotations

import io
from functools import partial

from flask import current_app
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.panel import PanelSession
from app.models.tenant import Tenant
from app.services import minutes_pdf, panel
from app.services.storage import storage_for


def build_minutes(payload: dict, message_id: str) -> None:
    """Render a session's minutes to PDF and record where it is (rebuilt on each request).

    The new file goes if the run rolls back; the old one goes only after the new key has
    committed, so the session never names a file that is gone."""
    session = db.session.execute(
        select(PanelSession).where(PanelSession.id == payload["session_id"])
    ).scalar_one_or_none()
    if session is None:
        return
    tenant = db.session.get(Tenant, session.tenant_id)
    pdf = minutes_pdf.render(panel.minutes.minutes(session), tenant.name)
    store = storage_for(current_app)
    stored = store.save(
        tenant.id, io.BytesIO(pdf), f"minutes-{session.meets_on}.pdf", max(len(pdf), 1)
    )
    uow.undo_on_rollback(partial(store.delete, tenant.id, stored.key))
    previous, session.minutes_key = session.minutes_key, stored.key
    db.session.flush()
    if previous:
        uow.after_commit(partial(store.delete, tenant.id, previous))


def build_export(payload: dict, message_id: str) -> None:
    """Build one requested export (see ``app.services.exports``)."""
    from app.services import exports

    exports.build(payload["export_id"])


def publish_network_release(payload: dict, message_id: str) -> None:
    """A district's yearly network release (runs under the district's tenant)."""
    from app.services import network

    network.publish(payload["year"])


def create_stripe_customer(payload: dict, message_id: str) -> None:
    """One Stripe customer per district (retried by RQ; never a second one)."""
    from app.services import billing

    billing.ensure_customer(payload["tenant_id"])
