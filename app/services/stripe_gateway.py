"""The one place that talks to Stripe (or a Stripe-compatible server in tests).

Kept small on purpose: customers, subscriptions, Checkout, the customer portal and
invoices, on Stripe's current API, each in one function a test server can answer.
"""

from __future__ import annotations

import stripe
from flask import current_app

from app.models.tenant import Tenant


def _configure() -> None:
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        raise RuntimeError("STRIPE_SECRET_KEY is not set: billing is not configured")
    stripe.api_key = config["STRIPE_SECRET_KEY"]
    stripe.api_base = config.get("STRIPE_API_BASE") or "https://api.stripe.com"


def configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def find_customer(tenant: Tenant) -> str | None:
    """The customer already made for this district, if a crashed run made one."""
    _configure()
    for customer in stripe.Customer.list(limit=100).auto_paging_iter():
        if (customer.to_dict().get("metadata") or {}).get("parley_tenant") == str(tenant.id):
            return customer.id
    return None


def create_customer(tenant: Tenant) -> str:
    _configure()
    customer = stripe.Customer.create(
        name=tenant.name,
        metadata={"parley_tenant": str(tenant.id), "slug": tenant.slug},
        idempotency_key=f"parley-customer-{tenant.id}",
    )
    return customer.id


def subscribe(customer_id: str, price_or_plan: str, tenant: Tenant) -> dict:
    """A subscription on one price (``price_...``) or, on older accounts, one plan."""
    _configure()
    item = (
        {"price": price_or_plan} if price_or_plan.startswith("price_") else {"plan": price_or_plan}
    )
    return stripe.Subscription.create(
        customer=customer_id, items=[item], metadata={"parley_tenant": str(tenant.id)}
    )


def checkout_url(tenant: Tenant, price: str, success_url: str, cancel_url: str) -> str:
    """Stripe Checkout for one price. The subscription it makes carries the district's id
    too, so its own events find the district even before the session's event arrives."""
    _configure()
    session = stripe.checkout.Session.create(
        mode="subscription",
        customer=tenant.stripe_customer_id,
        client_reference_id=str(tenant.id),
        line_items=[{"price": price, "quantity": 1}],
        success_url=success_url,
        cancel_url=cancel_url,
        metadata={"parley_tenant": str(tenant.id)},
        subscription_data={"metadata": {"parley_tenant": str(tenant.id)}},
    )
    return session.url


def portal_url(tenant: Tenant, return_url: str) -> str:
    _configure()
    return stripe.billing_portal.Session.create(
        customer=tenant.stripe_customer_id, return_url=return_url
    )["url"]


def invoices(tenant: Tenant) -> list[dict]:
    _configure()
    found = stripe.Invoice.list(customer=tenant.stripe_customer_id, limit=24)
    return [invoice.to_dict() for invoice in found]
