"""Webhooks delivered in parallel, as Stripe does: the district ends where the events say.

Stripe retries and delivers at least once, from several senders at a time, in no
particular order. The same signed events, each three times, shuffled and posted from
eight threads to a served app on real PostgreSQL connections, must end in the state
of the newest event every time, with every replay acknowledged (never a 5xx).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from app.core import uow
from app.extensions import db
from app.models.billing import StripeEvent
from app.models.tenant import Tenant
from app.tenants.context import all_tenants
from tests.conftest import make_app
from tests.test_billing import SECRET, stripe_event, stripe_signature

TRIALS = 16
THREADS = 8
COPIES = 3


def _lifecycle(trial: int) -> list[dict]:
    """A subscription's life in eleven events, each newer than the one before it: paid,
    a failed payment, paid again, two failures, then canceled."""
    customer = {"customer": "cus_parallel"}
    invoice = {"object": "invoice", **customer}

    def subscription(status: str) -> dict:
        return {"object": "subscription", "id": "sub_parallel", "status": status, **customer}

    steps = [
        (
            "checkout.session.completed",
            {"object": "checkout.session", "subscription": "sub_parallel", **customer},
        ),
        ("customer.subscription.created", subscription("active")),
        ("invoice.paid", invoice),
        ("invoice.payment_failed", invoice),
        ("customer.subscription.updated", subscription("past_due")),
        ("invoice.paid", invoice),
        ("customer.subscription.updated", subscription("active")),
        ("invoice.payment_failed", invoice),
        ("customer.subscription.updated", subscription("past_due")),
        ("invoice.payment_failed", invoice),
        ("customer.subscription.deleted", subscription("canceled")),
    ]
    start = 1_700_000_000 + trial * 1000
    return [
        stripe_event(kind, obj, start + 10 * n, f"evt_t{trial}_{n}")
        for n, (kind, obj) in enumerate(steps)
    ]


def _deliver(base: str, event: dict) -> tuple[int, str]:
    payload = json.dumps(event)
    response = requests.post(
        f"{base}/webhooks/stripe",
        data=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": stripe_signature(payload),
        },
        timeout=30,
    )
    outcome = response.json().get("outcome", "") if response.ok else response.text[:200]
    return response.status_code, outcome


@pytest.fixture
def served(migrated, live_server_for):
    app = make_app(migrated, STRIPE_WEBHOOK_SECRET=SECRET)
    return app, live_server_for(app)


def _start_over(app, tenant_id: int) -> None:
    """Each trial starts from a district in its trial, as if newly made."""
    with app.app_context(), all_tenants():
        tenant = db.session.get(Tenant, tenant_id)
        tenant.billing_status = "trialing"
        tenant.billing_changed_at = 0
        tenant.past_due_since = None
        tenant.stripe_customer_id = "cus_parallel"
        uow.commit()


def _end_state(app, tenant_id: int, trial: int) -> tuple[str, object, int]:
    with app.app_context(), all_tenants():
        tenant = db.session.get(Tenant, tenant_id)
        stored = db.session.execute(
            select(func.count())
            .select_from(StripeEvent)
            .where(StripeEvent.id.like(f"evt_t{trial}\\_%"))
        ).scalar()
        return tenant.billing_status, tenant.past_due_since, stored


def test_parallel_shuffled_replays_always_end_canceled_with_no_server_error(served, make_tenant):
    app, base = served
    tenant_id = make_tenant("parallel").id
    rng = random.Random(13)
    wrong, failures = [], []
    with ThreadPoolExecutor(THREADS) as pool:
        for trial in range(TRIALS):
            _start_over(app, tenant_id)
            events = _lifecycle(trial)
            deliveries = events * COPIES
            rng.shuffle(deliveries)
            answers = list(pool.map(lambda event: _deliver(base, event), deliveries))
            failures += [answer for answer in answers if answer[0] != 200]
            replays = sum(outcome == "replay ignored" for _, outcome in answers)
            status, past_due_since, stored = _end_state(app, tenant_id, trial)
            if (status, past_due_since, stored, replays) != (
                "canceled",
                None,
                len(events),
                len(events) * (COPIES - 1),
            ):
                wrong.append((trial, status, past_due_since, stored, replays))
    summary = {
        "trials ended wrong": wrong,
        "answers other than 200": Counter(status for status, _ in failures),
    }
    assert summary == {"trials ended wrong": [], "answers other than 200": Counter()}
