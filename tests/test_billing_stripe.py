"""Billing against a real Stripe-compatible server: customers, subscriptions, webhooks."""

from __future__ import annotations

import time

import requests
import stripe
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.outbox import OutboxMessage
from app.models.tenant import Tenant
from app.tenants.context import all_tenants
from tests.conftest import make_app

SECRET = "whsec_localstripe"


def _app(migrated, base):
    return make_app(
        migrated,
        STRIPE_SECRET_KEY="sk_test_parley",
        STRIPE_API_BASE=base,
        STRIPE_WEBHOOK_SECRET=SECRET,
    )


def _customers(base) -> list:
    stripe.api_key, stripe.api_base = "sk_test_parley", base
    return [
        c
        for c in stripe.Customer.list(limit=100).auto_paging_iter()
        if (c.to_dict().get("metadata") or {}).get("slug") == "boston"
    ]


def test_a_new_district_gets_exactly_one_customer_even_after_a_failed_try(
    migrated, localstripe, make_tenant
):
    down = _app(migrated, "http://127.0.0.1:1")
    from app.services.provisioning import create_tenant

    with down.app_context(), all_tenants():
        tenant = create_tenant("boston", "Boston Schools")
        uow.commit()  # the inline job fails: Stripe unreachable; the row keeps the error
        tenant_id = tenant.id
        message = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.job == "billing.create_customer")
        ).scalar_one()
        assert message.status == "pending" and message.last_error
    up = _app(migrated, localstripe)
    from app.jobs.relay import sweep

    with up.app_context():
        sweep()
        sweep()  # nothing left: no second customer
        with all_tenants():
            customer_id = db.session.get(Tenant, tenant_id).stripe_customer_id
    assert customer_id and [c.id for c in _customers(localstripe)] == [customer_id]
    with up.app_context():
        from app.services.billing import ensure_customer

        with all_tenants():
            db.session.get(Tenant, tenant_id).stripe_customer_id = None  # as if the commit
            assert ensure_customer(tenant_id) == customer_id  # after Stripe's answer was lost
            uow.commit()
    assert len(_customers(localstripe)) == 1


def test_a_subscription_made_in_stripe_activates_the_district_by_webhook(
    migrated, localstripe, live_server_for
):
    app = _app(migrated, localstripe)
    base = live_server_for(app)
    requests.post(
        f"{localstripe}/_config/webhooks/parley",
        data={"url": f"{base}/webhooks/stripe", "secret": SECRET},
        timeout=5,
    )
    from app.services import stripe_gateway
    from app.services.provisioning import create_tenant

    with app.app_context(), all_tenants():
        tenant = create_tenant("boston", "Boston Schools")
        uow.commit()
        tenant = db.session.get(Tenant, tenant.id)
        stripe.api_key, stripe.api_base = "sk_test_parley", localstripe
        stripe.Plan.create(
            id="district",
            amount=240000,
            currency="usd",
            interval="year",
            product={"name": "District"},
        )
        card = stripe.PaymentMethod.create(
            type="card",
            card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        )
        stripe.PaymentMethod.attach(card.id, customer=tenant.stripe_customer_id)
        stripe.Customer.modify(
            tenant.stripe_customer_id, invoice_settings={"default_payment_method": card.id}
        )
        stripe_gateway.subscribe(tenant.stripe_customer_id, "district", tenant)
        tenant_id = tenant.id
    # The invoice's event may arrive before the subscription's (which carries the price):
    # wait for both, not for the first that activates the district.
    expected = ("active", "district", 20000)
    deadline = time.monotonic() + 15
    recorded = None
    while time.monotonic() < deadline:
        with app.app_context(), all_tenants():
            t = db.session.get(Tenant, tenant_id)
            recorded = (t.billing_status, t.stripe_price_id, t.monthly_amount_cents)
            db.session.remove()
        if recorded == expected:
            break
        time.sleep(0.5)
    # The price and what it bills a month are read from localstripe's subscription.
    assert recorded == expected
