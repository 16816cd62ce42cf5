"""In a real browser, against localstripe: a district subscribes through Checkout, a
renewal fails, the district goes past due and then read-only, its program admin settles it
in the customer portal, cancels, finds billing after signing in again, and subscribes anew.

Every state change arrives as localstripe's own signed webhook; the test never sets the
billing status itself (it only moves the grace period's start back, as time would).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
import stripe

from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.tenant import Tenant
from app.services import billing
from app.tenants.context import all_tenants
from tests.conftest import make_app
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SECRET = "whsec_localstripe"
GOOD_CARD = "4242424242424242"
#: A card whose payments need the holder's authentication (3-D Secure).
AUTHENTICATED_CARD = "4000002500003155"


@pytest.fixture
def stripe_app(migrated, localstripe, live_server_for, monkeypatch):
    """The app on loopback, its Stripe a localstripe that sends it webhooks, its price ids
    from the environment (as a deployment sets them)."""
    monkeypatch.setenv("STRIPE_PRICE_IDS", "district=price_district")
    app = make_app(
        migrated,
        STRIPE_SECRET_KEY="sk_test_parley",
        STRIPE_API_BASE=localstripe,
        STRIPE_WEBHOOK_SECRET=SECRET,
    )
    base = live_server_for(app)
    hook = {"url": f"{base}/webhooks/stripe", "secret": SECRET}
    requests.post(f"{localstripe}/_config/webhooks/parley", data=hook, timeout=5)
    stripe.api_key, stripe.api_base = "sk_test_parley", localstripe
    stripe.Plan.create(
        id="price_district",
        amount=240000,
        currency="usd",
        interval="year",
        product={"name": "District"},
    )
    return app, base


def _tenant(app, tenant_id: int) -> Tenant:
    with app.app_context(), all_tenants():
        tenant = db.session.get(Tenant, tenant_id)
        db.session.expunge(tenant)
        return tenant


def _billing_status_becomes(page, label: str) -> None:
    """Webhooks arrive a moment after Stripe acts: reload until the page says ``label``."""
    deadline = time.monotonic() + 20
    while True:
        shown = page.get_by_test_id("billing-status").inner_text()
        if shown == label or time.monotonic() > deadline:
            break
        time.sleep(0.5)
        page.reload()
    assert shown == label


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/t/boston/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _subscribe(page, base: str) -> None:
    """Checkout, as a program admin does it: the plan, Stripe's page, a card, back."""
    page.get_by_label("Plan").select_option("district")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/_config/hosted/checkout/*")
    page.get_by_label("Card number").fill(GOOD_CARD)
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(f"{base}/t/boston/billing?from=checkout")
    _billing_status_becomes(page, "Active")


def _open_portal(page) -> None:
    page.get_by_role("button", name="Manage cards and cancellation").click()
    page.wait_for_url("**/_config/hosted/portal/*")


def _renewal_fails(customer: str) -> None:
    """The next year's invoice, on a card whose holder never completes authentication:
    localstripe marks the payment failed and sends invoice.payment_failed (it has no test
    clocks to bring the renewal date itself)."""
    card = stripe.PaymentMethod.create(
        type="card",
        card={"number": AUTHENTICATED_CARD, "exp_month": 12, "exp_year": 2040, "cvc": "123"},
    )
    stripe.PaymentMethod.attach(card.id, customer=customer)
    stripe.Customer.modify(customer, invoice_settings={"default_payment_method": card.id})
    subscription = stripe.Subscription.list(customer=customer).data[0]
    invoice = stripe.Invoice.pay(
        stripe.Invoice.create(customer=customer, subscription=subscription.id).id
    )
    intent = stripe.PaymentIntent.retrieve(invoice.payment_intent)
    refused = requests.post(
        f"{stripe.api_base}/v1/payment_intents/{intent.id}/_authenticate",
        data={"client_secret": intent.client_secret, "success": "false", "key": "pk_test"},
        timeout=5,
    )
    assert refused.ok


def test_checkout_failed_payment_settling_cancellation_and_a_new_subscription(
    stripe_app, browser, district
):
    app, base = stripe_app
    boston = district("boston", "boston_esp")
    with app.app_context():
        customer = billing.ensure_customer(boston.tenant.id)
        uow.commit()
    # The pages let forms leave only for Stripe's hosts: here, the configured STRIPE_API_BASE
    # (localstripe's loopback address) in the content policy's form-action.
    admin = browser.new_context().new_page()
    _sign_in(admin, base, boston.people["admin"].email)
    admin.wait_for_url(f"{base}/t/boston/")
    admin.goto(f"{base}/t/boston/billing")
    assert admin.get_by_test_id("billing-status").inner_text() == "Trial"

    # Checkout: the plan and its amount are read from the subscription Stripe made.
    _subscribe(admin, base)
    assert admin.get_by_role("button", name="Subscribe").count() == 0
    assert admin.get_by_test_id("billing-plan").inner_text() == "District ($200.00 a month)"
    tenant = _tenant(app, boston.tenant.id)
    assert (tenant.plan_key, tenant.monthly_amount_cents) == ("district", 20000)

    # A failed payment: past due, full use during the grace period, read-only after it.
    _renewal_fails(customer)
    _billing_status_becomes(admin, "Past due")
    assert admin.get_by_test_id("billing-state").inner_text().startswith("Open until")
    assert "Open until" in admin.get_by_test_id("billing-banner").inner_text()
    with app.app_context(), all_tenants():
        db.session.get(Tenant, boston.tenant.id).past_due_since = utcnow() - timedelta(days=30)
        uow.commit()
    admin.reload()
    assert admin.get_by_test_id("billing-state").inner_text().startswith("Read-only since")
    assert "Read-only since" in admin.get_by_test_id("billing-banner").inner_text()

    # Settling it in the portal (a write, open while read-only) restores full use.
    _open_portal(admin)
    admin.get_by_label("Card number").fill(GOOD_CARD)
    admin.get_by_role("button", name="Update card and pay").click()
    admin.get_by_text("Card updated").wait_for()
    admin.get_by_role("link", name="Return to the site").click()
    _billing_status_becomes(admin, "Active")
    assert admin.get_by_test_id("billing-banner").count() == 0
    assert _tenant(app, boston.tenant.id).past_due_since is None

    # A cancellation closes the district; its program admin lands on billing after signing in.
    _open_portal(admin)
    admin.get_by_role("button", name="Cancel subscription").click()
    admin.get_by_text("Subscription canceled").wait_for()
    admin.get_by_role("link", name="Return to the site").click()
    _billing_status_becomes(admin, "Canceled")
    admin.get_by_role("button", name="Sign out", exact=True).click()
    _sign_in(admin, base, boston.people["admin"].email)
    admin.wait_for_url(f"{base}/t/boston/billing")
    assert admin.get_by_role("link", name="Export all the district's data").count() == 1

    # Anyone else is told who can restore it, with no link back into the refusal.
    coordinator = browser.new_context().new_page()
    _sign_in(coordinator, base, boston.people["coordinator"].email)
    coordinator.wait_for_url(f"{base}/t/boston/")
    refusal = coordinator.get_by_role("alert").inner_text()
    assert f"Who can restore it: the district's program admin, {boston.people['admin'].name}." in (
        refusal
    )
    assert coordinator.get_by_role("alert").get_by_role("link").count() == 0

    # A new subscription reopens the district for everyone.
    _subscribe(admin, base)
    coordinator.reload()
    assert coordinator.get_by_role("alert").count() == 0
    assert coordinator.get_by_test_id("billing-banner").count() == 0
    tenant = _tenant(app, boston.tenant.id)
    assert tenant.billing_status == "active" and billing.mrr_cents(tenant) == 20000
