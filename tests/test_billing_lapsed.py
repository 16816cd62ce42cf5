"""A lapsed district has no dead ends: its program admin can always pay, subscribe again
and take the data; everyone else is told who can restore it; the banner and the billing
page say the same thing; people read words, never status keys."""

from __future__ import annotations

import re

import pytest

from app.core import uow
from app.extensions import db
from app.models.tenant import Tenant
from tests.casework import Browser
from tests.conftest import make_app
from tests.test_billing import PLANS, _lapse, boston_with_customer


@pytest.fixture
def billed(migrated):
    """Billing configured against an address nothing answers: the routes must reach Stripe
    (and say it did not answer), never stop at the billing gate."""
    return make_app(
        migrated, STRIPE_SECRET_KEY="sk_test_parley", STRIPE_API_BASE="http://127.0.0.1:1"
    )


@pytest.fixture
def boston(billed, district):
    return boston_with_customer(billed, district)


def _set(app, d, **values) -> None:
    with app.app_context():
        tenant = db.session.get(Tenant, d.tenant.id)
        for key, value in values.items():
            setattr(tenant, key, value)
        uow.commit()


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("status", ["past_due", "canceled"])
def test_a_lapsed_districts_program_admin_can_pay_subscribe_and_export(billed, boston, status):
    _lapse(billed, boston, status, days_ago=30)
    admin = Browser(billed, boston, boston.people["admin"])
    for path in ("/billing/portal", "/billing/checkout"):
        answer = admin.post("/billing", path, {"plan": "district"})
        assert answer.status_code == 302, f"{path} gave {answer.status_code}"
        assert "Stripe did not answer" in admin.get("/billing").text  # it went on to Stripe
    export = admin.post("/exports/", "/exports/", {"kind": "tenant_archive"})
    assert export.status_code == 302 and export.headers["Location"].endswith("/exports/")


def test_a_closed_districts_program_admin_lands_on_billing_after_sign_in(billed, boston):
    _lapse(billed, boston, "canceled")
    admin = Browser(billed, boston, boston.people["admin"])
    landing = admin.get("/")
    assert landing.status_code == 302
    assert landing.headers["Location"].endswith("/t/boston/billing")
    page = admin.get("/billing")
    assert page.status_code == 200 and "Subscribe" in page.text


def test_everyone_else_is_told_who_can_restore_a_closed_district_without_a_loop(billed, boston):
    _lapse(billed, boston, "canceled")
    coordinator = Browser(billed, boston, boston.people["coordinator"])
    page = coordinator.get("/")
    assert page.status_code == 402
    admin_name = boston.people["admin"].name
    assert f"Who can restore it: the district's program admin, {admin_name}." in _text(page.text)
    main = page.text[page.text.index('<main id="main"') :]
    assert 'href="/t/boston/"' not in main  # no link back into the refusal
    assert 'href="/t/boston/billing"' not in main  # not theirs to open


def test_a_read_only_refusal_gives_the_admin_the_billing_page(billed, boston):
    _lapse(billed, boston, "past_due", days_ago=30)
    admin = Browser(billed, boston, boston.people["admin"])
    refused = admin.post("/admin/branding", "/admin/branding", {"name": "Other"})
    assert refused.status_code == 402
    assert 'href="/t/boston/billing"' in refused.text
    assert "Read-only since" in refused.text


def test_the_banner_and_the_billing_page_agree_in_every_state(billed, boston):
    admin = Browser(billed, boston, boston.people["admin"])
    for status, days_ago, words in [
        ("past_due", 2, "Open until"),
        ("past_due", 30, "Read-only since"),
        ("canceled", 0, "Closed: the subscription has ended."),
    ]:
        _lapse(billed, boston, status, days_ago=days_ago)
        page = admin.get("/billing").text
        banner = _text(page[page.index('data-testid="billing-banner"') :].split("</div></div>")[0])
        state = _text(page[page.index('data-testid="billing-state"') :].split("</dd>")[0])
        assert words in banner and words in state, (status, days_ago)
        assert state.split(">", 1)[1].strip() in banner


def test_statuses_are_words_and_subscribe_is_offered_only_without_a_live_subscription(
    billed, boston
):
    billed.config["PLANS"] = PLANS
    admin = Browser(billed, boston, boston.people["admin"])
    trial = _text(admin.get("/billing").text)
    assert "Status Trial" in trial and "trialing" not in trial
    assert "Subscribe" in trial
    _set(billed, boston, billing_status="active", stripe_subscription_id="sub_1")
    active = admin.get("/billing").text
    assert "Status Active" in _text(active) and 'action="/t/boston/billing/checkout"' not in active
    refused = admin.post("/billing", "/billing/checkout", {"plan": "district"})
    assert refused.status_code == 302
    assert "already has a subscription" in admin.get("/billing").text
    _set(billed, boston, billing_status="past_due")
    assert "Status Past due" in _text(admin.get("/billing").text)
    _set(billed, boston, billing_status="canceled")
    closed = admin.get("/billing").text
    assert "Status Canceled" in _text(closed) and 'action="/t/boston/billing/checkout"' in closed
