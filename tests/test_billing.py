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


def _lapse(app, d, status: str, days_ago: int = 30) -> None:
    with app.app_context():
        tenant = db.session.get(Tenant, d.tenant.id)
        tenant.billing_status = status
        tenant.past_due_since = utcnow() - timedelta(days=days_ago)
        uow.commit()


def test_past_due_beyond_grace_refuses_every_write_route(billed, migrated, seed_district):
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
    assert admin.get("/").status_code == 402
    assert admin.get("/cases/").status_code == 402
    assert admin.get("/billing").status_code == 200
    assert admin.get("/exports/").status_code == 200


def test_a_canceled_district_refuses_every_other_route_html_and_api(
    billed, migrated, seed_district
):
    from app.security.matrix import OPEN_WHEN_CLOSED
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
        assert response.status_code == 402, f"{call.method} {url} gave {response.status_code}"
        walked += 1
    assert walked > 40


def test_past_due_within_grace_shows_a_banner_and_keeps_full_use(billed, customer):
    from tests.casework import Browser

    _lapse(billed, customer, "past_due", days_ago=2)
    admin = Browser(billed, customer, customer.people["admin"])
    page = admin.get("/")
    assert page.status_code == 200 and "A payment for" in page.text


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
