"""Billing: signed webhooks applied once and in order; what a lapsed district may do."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from datetime import timedelta

import pytest

from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.tenant import Tenant
from app.security.matrix import MATRIX, TENANT, is_write
from tests.conftest import make_app
from tests.routes import calls, object_args, sign_in, values_in

SECRET = "whsec_test_secret"
#: One plan whose Stripe price the tests name (``price_district``).
PLANS = {
    "district": {
        "name": "District",
        "amount_cents": 240000,
        "interval": "year",
        "stripe_price": "price_district",
    }
}


@pytest.fixture
def billed(migrated):
    return make_app(migrated, STRIPE_WEBHOOK_SECRET=SECRET)


def stripe_event(kind: str, obj: dict, created: int, event_id: str | None = None) -> dict:
    """An event as Stripe sends it, with the fields billing reads (and the concurrency test)."""
    return {
        "id": event_id or f"evt_{random.getrandbits(48):x}",
        "object": "event",
        "type": kind,
        "created": created,
        "api_version": "2024-06-20",
        "data": {"object": obj},
    }


def stripe_signature(payload: str, secret: str = SECRET) -> str:
    """Signed exactly as Stripe signs: t=<timestamp>,v1=HMAC-SHA256(secret, "t.payload")."""
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={signature}"


def _post(client, event: dict, secret: str = SECRET):
    payload = json.dumps(event)
    return client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_signature(payload, secret)},
    )


@pytest.fixture
def customer(billed, district):
    d = district("boston", "boston_esp")
    with billed.app_context():
        tenant = db.session.get(Tenant, d.tenant.id)
        tenant.stripe_customer_id = "cus_boston"
        uow.commit()
    return d


def _status(app, d) -> str:
    with app.app_context():
        return db.session.get(Tenant, d.tenant.id).billing_status


def test_a_bad_signature_is_refused_and_changes_nothing(billed, customer):
    event = stripe_event(
        "invoice.payment_failed", {"object": "invoice", "customer": "cus_boston"}, 100
    )
    response = _post(billed.test_client(), event, secret="whsec_wrong")
    assert response.status_code == 400
    assert _status(billed, customer) == "trialing"


def test_events_replayed_three_times_in_shuffled_order_apply_once_each(billed, customer):
    client = billed.test_client()
    events = [
        stripe_event(
            "checkout.session.completed",
            {"object": "checkout.session", "customer": "cus_boston", "subscription": "sub_1"},
            100,
            "evt_a",
        ),
        stripe_event(
            "invoice.payment_failed", {"object": "invoice", "customer": "cus_boston"}, 200, "evt_b"
        ),
        stripe_event("invoice.paid", {"object": "invoice", "customer": "cus_boston"}, 300, "evt_c"),
    ]
    deliveries = events * 3
    random.Random(4).shuffle(deliveries)
    outcomes = [_post(client, e).json["outcome"] for e in deliveries]
    assert outcomes.count("replay ignored") == 6
    assert _status(billed, customer) == "active"
    with billed.app_context():
        from sqlalchemy import func, select

        from app.models.audit import AuditEvent
        from app.tenants.context import tenant_scope

        with tenant_scope(customer.tenant.id):
            changes = db.session.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "billing.status_changed")
            ).scalar()
    assert changes <= 3


def test_an_older_subscription_update_never_rolls_a_newer_state_back(billed, customer):
    client = billed.test_client()
    newer = stripe_event(
        "customer.subscription.updated",
        {"object": "subscription", "id": "sub_1", "customer": "cus_boston", "status": "canceled"},
        500,
    )
    older = stripe_event(
        "customer.subscription.updated",
        {"object": "subscription", "id": "sub_1", "customer": "cus_boston", "status": "active"},
        400,
    )
    _post(client, newer)
    assert "older" in _post(client, older).json["outcome"]
    assert _status(billed, customer) == "canceled"


def _past_due_since(app, d):
    with app.app_context():
        return db.session.get(Tenant, d.tenant.id).past_due_since


def boston_with_customer(app, district):
    """Boston (its ESP preset) as a Stripe customer of ``app``'s billing."""
    d = district("boston", "boston_esp")
    with app.app_context():
        db.session.get(Tenant, d.tenant.id).stripe_customer_id = "cus_boston"
        uow.commit()
    return d


def _lapse(app, d, status: str, days_ago: int = 30) -> None:
    with app.app_context():
        tenant = db.session.get(Tenant, d.tenant.id)
        tenant.billing_status = status
        tenant.past_due_since = utcnow() - timedelta(days=days_ago)
        uow.commit()


def test_past_due_beyond_grace_refuses_every_write_route(billed, migrated, seed_district):
    from app.security.matrix import OPEN_WHEN_CLOSED
    from tests.factories import api_token

    seeded = seed_district("matrix", "toledo", "intervention")
    _lapse(billed, seeded, "past_due")
    open_app = make_app(migrated, WTF_CSRF_ENABLED=False)
    client = open_app.test_client()
    user = seeded.people["all"]
    headers = {"Authorization": f"Bearer {api_token(client, seeded.tenant, user)}"}
    sign_in(client, user)
    walked = 0
    for call in calls(open_app):
        rule = MATRIX[call.endpoint]
        if rule.audience != TENANT or not is_write(rule, call.method):
            continue
        if call.endpoint in OPEN_WHEN_CLOSED:
            continue  # billing and the export: checked open below
        values = values_in(open_app, seeded.tenant.id, object_args(call.rule), seeded.natural)
        url = call.url(open_app, {"tenant_slug": seeded.tenant.slug, **values})
        response = client.open(url, method=call.method, json={}, headers=headers)
        assert response.status_code == 402, f"{call.method} {url} gave {response.status_code}"
        walked += 1
    assert walked > 20
    assert client.get(f"/t/{seeded.tenant.slug}/cases/").status_code == 200  # reading works


def test_a_canceled_district_is_closed_except_billing_and_the_export(billed, customer):
    _lapse(billed, customer, "canceled")
    from tests.casework import Browser

    admin = Browser(billed, customer, customer.people["admin"])
    assert admin.get("/cases/").status_code == 402
    assert admin.get("/billing").status_code == 200
    assert admin.get("/exports/").status_code == 200


def test_a_canceled_district_refuses_every_other_route_html_and_api(
    billed, migrated, seed_district
):
    from app.security.matrix import LANDING, OPEN_WHEN_CLOSED
    from tests.factories import api_token

    seeded = seed_district("matrix", "toledo", "intervention")
    open_app = make_app(migrated, WTF_CSRF_ENABLED=False)
    client = open_app.test_client()
    user = seeded.people["all"]
    headers = {"Authorization": f"Bearer {api_token(client, seeded.tenant, user)}"}
    _lapse(billed, seeded, "canceled")
    sign_in(client, user)
    walked = 0
    for call in calls(open_app):
        rule = MATRIX[call.endpoint]
        if rule.audience != TENANT or call.endpoint in OPEN_WHEN_CLOSED:
            continue
        values = values_in(open_app, seeded.tenant.id, object_args(call.rule), seeded.natural)
        url = call.url(open_app, {"tenant_slug": seeded.tenant.slug, **values})
        response = client.open(url, method=call.method, json={}, headers=headers)
        if call.endpoint == LANDING and call.method == "GET":
            # The walk's person is a program admin: landing, they are sent to billing.
            assert response.headers["Location"].endswith(f"/t/{seeded.tenant.slug}/billing")
            continue
        assert response.status_code == 402, f"{call.method} {url} gave {response.status_code}"
        walked += 1
    assert walked > 40


def test_past_due_within_grace_shows_a_banner_and_keeps_full_use(billed, customer):
    from tests.casework import Browser

    _lapse(billed, customer, "past_due", days_ago=2)
    admin = Browser(billed, customer, customer.people["admin"])
    page = admin.get("/")
    assert page.status_code == 200 and "Open until" in page.text and "a payment failed" in page.text


def test_every_state_that_ends_past_due_clears_its_date(billed, customer):
    """Even a district already in the new state loses the date (left by an earlier race)."""
    client = billed.test_client()
    invoice = {"object": "invoice", "customer": "cus_boston"}
    _post(client, stripe_event("invoice.payment_failed", invoice, 100))
    assert _past_due_since(billed, customer) is not None
    _post(client, stripe_event("invoice.paid", invoice, 200))
    assert (_status(billed, customer), _past_due_since(billed, customer)) == ("active", None)
    _lapse(billed, customer, "canceled")  # canceled, yet still carrying a date
    subscription = {"object": "subscription", "customer": "cus_boston", "status": "canceled"}
    outcome = _post(client, stripe_event("customer.subscription.deleted", subscription, 300))
    assert outcome.json["outcome"] == "already canceled"
    assert (_status(billed, customer), _past_due_since(billed, customer)) == ("canceled", None)


def _tenant(app, d) -> Tenant:
    with app.app_context():
        tenant = db.session.get(Tenant, d.tenant.id)
        db.session.expunge(tenant)
        return tenant


def _subscription(sub_id: str, status: str) -> dict:
    return {"object": "subscription", "id": sub_id, "customer": "cus_boston", "status": status}


def test_paying_the_failed_invoice_lifts_read_only(billed, customer):
    from tests.casework import Browser

    client = billed.test_client()
    invoice = {"object": "invoice", "customer": "cus_boston", "subscription": "sub_1"}
    _post(client, stripe_event("invoice.payment_failed", invoice, 100))
    _lapse(billed, customer, "past_due", days_ago=30)  # the grace period is over
    admin = Browser(billed, customer, customer.people["admin"])
    assert admin.post("/billing", "/billing/portal", {}).status_code == 302  # open, not 402
    assert "Read-only since" in admin.get("/billing").text
    outcome = _post(client, stripe_event("invoice.paid", invoice, 200)).json["outcome"]
    assert outcome == "past_due -> active"
    tenant = _tenant(billed, customer)
    assert (tenant.billing_status, tenant.past_due_since) == ("active", None)
    assert "Read-only" not in admin.get("/billing").text


def test_subscribing_again_reopens_a_canceled_district(billed, customer):
    client = billed.test_client()
    _post(
        client, stripe_event("customer.subscription.created", _subscription("sub_1", "active"), 100)
    )
    _post(
        client,
        stripe_event("customer.subscription.deleted", _subscription("sub_1", "canceled"), 200),
    )
    assert _status(billed, customer) == "canceled"
    # The old subscription's own events never reopen it, whatever they say.
    old = {"object": "invoice", "customer": "cus_boston", "subscription": "sub_1"}
    assert "stays canceled" in _post(client, stripe_event("invoice.paid", old, 300)).json["outcome"]
    # A new subscription whose first payment is not made yet leaves it closed ...
    pending = stripe_event(
        "customer.subscription.created", _subscription("sub_2", "incomplete"), 400
    )
    assert "stays canceled" in _post(client, pending).json["outcome"]
    # ... and reopens it once paid, however Stripe says so first (here the session's event).
    session = {"object": "checkout.session", "customer": "cus_boston", "subscription": "sub_2"}
    outcome = _post(client, stripe_event("checkout.session.completed", session, 500)).json
    assert outcome["outcome"] == "canceled -> active"
    assert _tenant(billed, customer).stripe_subscription_id == "sub_2"
    # The old subscription ending again (a late copy) changes nothing now.
    late = stripe_event("customer.subscription.deleted", _subscription("sub_1", "canceled"), 600)
    assert "no longer has" in _post(client, late).json["outcome"]
    assert _status(billed, customer) == "active"


def test_every_status_change_and_recorded_plan_is_audited_once(billed, customer):
    from sqlalchemy import select

    from app.models.audit import AuditEvent
    from app.tenants.context import tenant_scope

    client = billed.test_client()
    created = stripe_event(
        "customer.subscription.created",
        {**_subscription("sub_1", "active"), "items": {"data": [_item("price_x", 5000, "month")]}},
        100,
    )
    for _ in range(3):
        _post(client, created)
    _post(client, stripe_event("customer.subscription.deleted", _subscription("sub_1", "x"), 200))
    with billed.app_context(), tenant_scope(customer.tenant.id):
        actions = db.session.execute(
            select(AuditEvent.action, AuditEvent.after)
            .where(AuditEvent.action.like("billing.%"))
            .order_by(AuditEvent.seq)
        ).all()
    assert [(a, after.get("status") or after.get("price")) for a, after in actions] == [
        ("billing.status_changed", "active"),
        ("billing.plan_recorded", "price_x"),
        ("billing.status_changed", "canceled"),
    ]


def _item(price_id: str, amount: int, interval: str, quantity: int = 1) -> dict:
    """A subscription item as Stripe's current API sends it (a price with its recurrence)."""
    return {
        "object": "subscription_item",
        "quantity": quantity,
        "price": {
            "id": price_id,
            "object": "price",
            "unit_amount": amount,
            "recurring": {"interval": interval, "interval_count": 1},
        },
    }
