"""Billing: Stripe's webhooks drive each district's state, applied once and in order.

``active``/``trialing``: full use. ``past_due``: a banner, then read-only after the
grace period. ``canceled``: the portal is closed except billing and the data
export; nothing is deleted. Paying the open invoice, or subscribing again, restores
full use. The plan and the monthly amount are read from the subscription itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.billing import StripeEvent
from app.models.tenant import Tenant
from app.models.user import User
from app.services import audit, people
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

#: What people read for each billing status (never the key).
STATUS_LABELS = {
    "trialing": "Trial",
    "active": "Active",
    "past_due": "Past due",
    "canceled": "Canceled",
}

#: What people read for a Stripe invoice's status.
INVOICE_LABELS = {
    "draft": "Draft",
    "open": "Due",
    "paid": "Paid",
    "void": "Void",
    "uncollectible": "Uncollectible",
}

#: Statuses a new subscription must reach before it reopens a canceled district: an
#: incomplete one (its first payment not made) leaves it closed.
_RESTORING = frozenset({"active", "trialing"})

#: Billing periods in a year, to bring any price to a monthly amount.
_PERIODS_A_YEAR = {"day": 365, "week": 52, "month": 12, "year": 1}


@dataclass(frozen=True)
class Standing:
    """What a district's billing means right now, for the gate, the banner and the page.

    One value computed in one place, so the banner and the billing page cannot disagree.
    """

    status: str
    label: str
    #: "open", "read_only" or "closed".
    state: str
    #: When a past-due district becomes (or became) read-only.
    grace_ends: datetime | None


def state(tenant: Tenant) -> str:
    """ "open", "read_only" or "closed": what the district may do now."""
    return standing(tenant).state


def standing(tenant: Tenant) -> Standing:
    """The district's billing status, its label, what it may do and until when."""
    grace_ends = None
    now = "open"
    if tenant.billing_status == "canceled":
        now = "closed"
    elif tenant.billing_status == "past_due" and tenant.past_due_since is not None:
        grace_ends = tenant.past_due_since + timedelta(
            days=current_app.config["BILLING_GRACE_DAYS"]
        )
        if utcnow() > grace_ends:
            now = "read_only"
    return Standing(tenant.billing_status, status_label(tenant.billing_status), now, grace_ends)


def status_label(status: str) -> str:
    """The word people read for a billing status."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def can_subscribe(tenant: Tenant) -> bool:
    """Only a district without a live subscription may start one (no second subscription
    billed beside the first: a past-due one is settled in the customer portal)."""
    return not tenant.stripe_subscription_id or tenant.billing_status == "canceled"


def who_can_settle() -> list[str]:
    """The names of the current district's program admins, for a page that tells everyone
    else who can restore a lapsed district."""
    query = people.holders("program_admin").order_by(User.name).limit(6)
    return [user.name for user in db.session.execute(query).scalars()]


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
    subscription = _subscription_named(obj)
    if kind == "checkout.session.completed":
        tenant.stripe_customer_id = obj.get("customer") or tenant.stripe_customer_id
        return _set_status(tenant, "active", event, subscription)
    if kind in ("customer.subscription.created", "customer.subscription.updated"):
        status = _SUBSCRIPTION_STATUS.get(obj.get("status"), "past_due")
        outcome = _set_status(tenant, status, event, subscription)
        if subscription and subscription == tenant.stripe_subscription_id:
            _record_price(tenant, obj, event)
        return outcome
    if kind == "customer.subscription.deleted":
        if subscription and tenant.stripe_subscription_id not in (None, subscription):
            # An old subscription ending after the district took a new one changes nothing.
            return f"{kind} of a subscription the district no longer has: nothing to do"
        return _set_status(tenant, "canceled", event, subscription)
    # Stripe sends both for a paid invoice (localstripe only the second).
    if kind in ("invoice.paid", "invoice.payment_succeeded"):
        return _set_status(tenant, "active", event, subscription)
    if kind == "invoice.payment_failed":
        return _set_status(tenant, "past_due", event, subscription)
    return f"{kind}: nothing to do"


def _subscription_named(obj: dict) -> str | None:
    """The subscription an event's object is, or belongs to (an invoice names it at the top
    on older API versions, under ``parent`` on newer ones)."""
    if obj.get("object") == "subscription":
        return obj.get("id")
    named = obj.get("subscription")
    if named is None:
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        named = details.get("subscription")
    if isinstance(named, dict):  # expanded
        named = named.get("id")
    return named or None


def _set_status(tenant: Tenant, status: str, event: dict, subscription: str | None) -> str:
    """Move to ``status``, the district's row locked and the event no older than its state.

    Stripe's ``created`` has one-second steps, so a cancellation and the failed payment
    that caused it can share a second: canceled therefore stays canceled until an event of
    a new subscription (another id than the canceled one) says it is paid or in its trial,
    whichever of them is applied first.
    """
    new_subscription = bool(subscription) and subscription != tenant.stripe_subscription_id
    if (
        tenant.billing_status == "canceled"
        and status != "canceled"
        and not (new_subscription and status in _RESTORING)
    ):
        return "canceled stays canceled until a new subscription is paid"
    if subscription:
        tenant.stripe_subscription_id = subscription
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
        after={"status": status, "event": event["id"], "subscription": subscription},
        actor=Actor.system("stripe"),
    )
    outbox.add(
        "mail.billing_notice",
        {"tenant_id": tenant.id, "status": status},
        tenant_id=tenant.id,
        queue="mail",
    )
    return f"{before} -> {status}"


def _record_price(tenant: Tenant, subscription: dict, event: dict) -> None:
    """Record the plan and the monthly amount the subscription bills, from its items.

    Stripe's subscription is the truth about what a district pays: its price names the
    plan (through the price ids of the settings) and its amount gives the MRR, so a price
    changed in Stripe, or a plan bought outside our checkout, is still counted right.
    """
    items = (subscription.get("items") or {}).get("data") or []
    priced = [_priced(item) for item in items]
    priced = [p for p in priced if p is not None]
    if not priced:
        return
    price_id = priced[0][0]
    monthly = sum(cents for _, cents in priced)
    plan_key = next(
        (
            key
            for key, p in current_app.config["PLANS"].items()
            if p.get("stripe_price") == price_id
        ),
        None,
    )
    before = {
        "plan": tenant.plan_key,
        "price": tenant.stripe_price_id,
        "monthly_cents": tenant.monthly_amount_cents,
    }
    after = {"plan": plan_key, "price": price_id, "monthly_cents": monthly}
    if before == after:
        return
    tenant.plan_key, tenant.stripe_price_id, tenant.monthly_amount_cents = (
        plan_key,
        price_id,
        monthly,
    )
    audit.record(
        tenant.id,
        "billing.plan_recorded",
        "tenant",
        tenant.id,
        before=before,
        after={**after, "event": event["id"]},
        actor=Actor.system("stripe"),
    )


def _priced(item: dict) -> tuple[str, int] | None:
    """A subscription item's price id and what it bills a month, in cents.

    Reads the ``price`` (current API) or the legacy ``plan`` an item carries.
    """
    price = item.get("price") or item.get("plan")
    if not isinstance(price, dict) or not price.get("id"):
        return None
    amount = price.get("unit_amount", price.get("amount")) or 0
    recurring = price.get("recurring") or price
    per_year = _PERIODS_A_YEAR.get(recurring.get("interval") or "", 0)
    count = recurring.get("interval_count") or 1
    quantity = item.get("quantity") or 1
    return price["id"], round(amount * quantity * per_year / count / 12)


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
    """Monthly recurring revenue: what the subscription bills a month, while it is paid
    for (a trial and a canceled subscription bring in nothing)."""
    if tenant.billing_status not in ("active", "past_due"):
        return 0
    return tenant.monthly_amount_cents or 0


def plan_name(tenant: Tenant) -> str | None:
    """The plan's name as people read it; a price not in the settings is named by Stripe's
    id, so an operator can still find it; None before any subscription."""
    plan = current_app.config["PLANS"].get(tenant.plan_key or "")
    if plan is not None:
        return plan["name"]
    return f"Price {tenant.stripe_price_id}" if tenant.stripe_price_id else None


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
