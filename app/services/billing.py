"""Billing: Stripe's webhooks drive each district's state, applied once and in order.

``active``/``trialing``: full use. ``past_due``: a banner, then read-only after the
grace period. ``canceled``: the portal is closed except billing and the data
export; nothing is deleted.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.billing import StripeEvent
from app.models.tenant import Tenant
from app.services import audit
from app.services.actors import Actor
from app.tenants.context import all_tenants

_SUBSCRIPTION_STATUS = {
    "trialing": "trialing",
    "active": "active",
    "past_due": "past_due",
    "unpaid": "past_due",
    "incomplete": "past_due",
    "canceled": "canceled",
    "incomplete_expired": "canceled",
}


def state(tenant: Tenant) -> str:
    """ "open", "read_only" or "closed": what the district may do now."""
    if tenant.billing_status == "canceled":
        return "closed"
    if tenant.billing_status == "past_due" and tenant.past_due_since is not None:
        grace = timedelta(days=current_app.config["BILLING_GRACE_DAYS"])
        if utcnow() - tenant.past_due_since > grace:
            return "read_only"
    return "open"


def _locked_tenant_for(obj: dict) -> Tenant | None:
    """The district the object belongs to, its row locked until the commit.

    Deliveries for one district queue on this lock, so each reads the state the previous
    one committed (``billing_changed_at`` included) instead of a copy read beside it. It is
    the first lock the delivery takes and the only row lock it asks for, so two deliveries
    never hold locks the other wants: no deadlock. ``NO KEY UPDATE`` (what an UPDATE of
    the row takes anyway) still lets other requests insert rows that refer to the district.
    """
    customer = obj.get("customer") if obj.get("object") != "customer" else obj.get("id")
    metadata = obj.get("metadata") or {}
    query = select(Tenant).with_for_update(key_share=True)
    if metadata.get("parley_tenant"):
        query = query.where(Tenant.id == int(metadata["parley_tenant"]))
    elif customer:
        query = query.where(Tenant.stripe_customer_id == customer)
    else:
        return None
    # A copy already in the session would hide what the previous delivery committed.
    query = query.execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


def _claim(event: dict, tenant: Tenant | None) -> bool:
    """Store the event id; False when it is already stored (a replay).

    ``ON CONFLICT DO NOTHING`` makes a delivery racing another of the same event wait for
    it and then find the id taken, instead of failing on the unique key.
    """
    claimed = db.session.execute(
        insert(StripeEvent)
        .values(
            id=event["id"],
            type=event["type"],
            created=event["created"],
            district_id=tenant.id if tenant else None,
            outcome="",
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[StripeEvent.id])
        .returning(StripeEvent.id)
    ).first()
    return claimed is not None


def apply_event(event: dict) -> str:
    """Apply a verified Stripe event once and in order, however many deliveries of it (and
    of other events) arrive at the same time; returns what happened, for the record."""
    with all_tenants():
        obj = event["data"]["object"]
        tenant = _locked_tenant_for(obj)
        if not _claim(event, tenant):
            return "replay ignored"
        outcome = "no district" if tenant is None else _apply(tenant, event, obj)
        db.session.execute(
            update(StripeEvent).where(StripeEvent.id == event["id"]).values(outcome=outcome)
        )
        db.session.flush()
    return outcome


def _apply(tenant: Tenant, event: dict, obj: dict) -> str:
    kind = event["type"]
    if event["created"] < tenant.billing_changed_at:
        # Stripe does not deliver in order: a late event must not roll the state (or the
        # subscription it names) back to what it was then.
        return f"{kind} older than the current state: not applied"
    if kind == "checkout.session.completed":
        tenant.stripe_subscription_id = obj.get("subscription") or tenant.stripe_subscription_id
        tenant.stripe_customer_id = obj.get("customer") or tenant.stripe_customer_id
        tenant.plan_key = (obj.get("metadata") or {}).get("plan") or tenant.plan_key
        return _set_status(tenant, "active", event)
    if kind in ("customer.subscription.created", "customer.subscription.updated"):
        tenant.stripe_subscription_id = obj.get("id") or tenant.stripe_subscription_id
        return _set_status(tenant, _SUBSCRIPTION_STATUS.get(obj.get("status"), "past_due"), event)
    if kind == "customer.subscription.deleted":
        return _set_status(tenant, "canceled", event)
    if kind == "invoice.paid":
        return _set_status(tenant, "active", event)
    if kind == "invoice.payment_failed":
        return _set_status(tenant, "past_due", event)
    return f"{kind}: nothing to do"


def _set_status(tenant: Tenant, status: str, event: dict) -> str:
    """Move to ``status``, the district's row locked and the event no older than its state.

    Stripe's ``created`` has one-second steps, so a cancellation and the failed payment
    that caused it can share a second: canceled therefore stays canceled until a new
    subscription, whichever of the two is applied first.
    """
    if (
        tenant.billing_status == "canceled"
        and status != "canceled"
        and (event["type"] != "customer.subscription.created")
    ):
        return "canceled stays canceled until a new subscription"
    before = tenant.billing_status
    tenant.billing_changed_at = event["created"]
    # Only past_due keeps a date; every state that ends it clears it, "already" ones too.
    tenant.past_due_since = (tenant.past_due_since or utcnow()) if status == "past_due" else None
    if status == before:
        return f"already {status}"
    tenant.billing_status = status
    audit.record(
        tenant.id,
        "billing.status_changed",
        "tenant",
        tenant.id,
        before={"status": before},
        after={"status": status, "event": event["id"]},
        actor=Actor.system("stripe"),
    )
    outbox.add(
        "mail.billing_notice",
        {"tenant_id": tenant.id, "status": status},
        tenant_id=tenant.id,
        queue="mail",
    )
    return f"{before} -> {status}"


def ensure_customer(tenant_id: int) -> str:
    """The job: one Stripe customer per district, even when a run is retried after a crash
    between Stripe's answer and our commit (the district's id is on the customer)."""
    from app.services import stripe_gateway

    with all_tenants():
        tenant = db.session.get(Tenant, tenant_id)
        if tenant.stripe_customer_id:
            return tenant.stripe_customer_id
        customer = stripe_gateway.find_customer(tenant) or stripe_gateway.create_customer(tenant)
        tenant.stripe_customer_id = customer
        db.session.flush()
        return customer


def request_customer(tenant: Tenant) -> None:
    """Ask for the district's Stripe customer (after the commit that created it)."""
    from app.services import stripe_gateway

    if stripe_gateway.configured():
        outbox.add("billing.create_customer", {"tenant_id": tenant.id}, tenant_id=tenant.id)


def districts() -> Select:
    """Every district by name, for a page of the operators' list (``loading.paginate``)."""
    return select(Tenant).order_by(Tenant.name, Tenant.id)


def mrr_cents(tenant: Tenant) -> int:
    """Monthly recurring revenue from the district's plan, when paying."""
    plan = current_app.config["PLANS"].get(tenant.plan_key or "")
    if plan is None or tenant.billing_status not in ("active", "past_due"):
        return 0
    return plan["amount_cents"] // (12 if plan["interval"] == "year" else 1)


def last_events(tenant_ids: list[int]) -> dict[int, StripeEvent]:
    """Each district's latest Stripe event, for the operators' page (one query)."""
    from sqlalchemy import func

    if not tenant_ids:
        return {}
    newest = (
        select(StripeEvent.district_id, func.max(StripeEvent.received_at).label("at"))
        .where(StripeEvent.district_id.in_(tenant_ids))
        .group_by(StripeEvent.district_id)
        .subquery()
    )
    rows = db.session.execute(
        select(StripeEvent).join(
            newest,
            (newest.c.district_id == StripeEvent.district_id)
            & (newest.c.at == StripeEvent.received_at),
        )
    ).scalars()
    return {row.district_id: row for row in rows}
