"""The plan and the MRR come from the subscription itself; price ids come from settings."""

from __future__ import annotations

import pytest

from app.core import uow
from app.extensions import db
from app.models.tenant import Tenant
from config import ConfigurationError, load_settings
from tests.conftest import make_app
from tests.factories import PASSWORD, csrf_token
from tests.test_billing import PLANS, SECRET, _item, _post, boston_with_customer, stripe_event


@pytest.fixture
def billed(migrated):
    return make_app(migrated, STRIPE_WEBHOOK_SECRET=SECRET, PLANS=PLANS)


@pytest.fixture
def boston(billed, district):
    return boston_with_customer(billed, district)


def _subscribe(app, *items: dict, status: str = "active", created: int = 100) -> str:
    subscription = {
        "object": "subscription",
        "id": "sub_1",
        "customer": "cus_boston",
        "status": status,
        "items": {"object": "list", "data": list(items)},
    }
    event = stripe_event("customer.subscription.created", subscription, created)
    return _post(app.test_client(), event).json["outcome"]


def _recorded(app, d) -> tuple:
    with app.app_context():
        t = db.session.get(Tenant, d.tenant.id)
        return t.plan_key, t.stripe_price_id, t.monthly_amount_cents


def _operators_page(app) -> str:
    from app.services import users

    with app.app_context():
        users.create_platform_user("op@parley.example", "Op", "operator", PASSWORD)
        uow.commit()
    client = app.test_client()
    token = csrf_token(client.get("/ops/login").text)
    form = {"email": "op@parley.example", "password": PASSWORD, "csrf_token": token}
    assert client.post("/ops/login", data=form).status_code == 302
    return client.get("/ops/").text


def _row(page: str, name: str) -> str:
    start = page.index(f"<td>{name}</td>")
    return page[start : page.index("</tr>", start)]


def test_an_active_paying_district_shows_its_plan_and_mrr_to_operators(billed, boston):
    assert _subscribe(billed, _item("price_district", 240000, "year")) == "trialing -> active"
    assert _recorded(billed, boston) == ("district", "price_district", 20000)
    row = _row(_operators_page(billed), "Boston Schools")
    assert '<td data-testid="plan">District</td>' in row
    assert '<td data-testid="mrr">$200.00</td>' in row
    assert "<td>Active</td>" in row


def test_the_amount_stripe_bills_wins_over_the_settings_and_counts_quantity(billed, boston):
    """A price changed in Stripe, or a plan sold outside checkout, is still counted right."""
    _subscribe(billed, _item("price_custom", 9900, "month", quantity=3))
    assert _recorded(billed, boston) == (None, "price_custom", 29700)
    row = _row(_operators_page(billed), "Boston Schools")
    assert "Price price_custom" in row and "$297.00" in row


def test_a_legacy_plan_item_is_read_too(billed, boston):
    legacy = {"object": "subscription_item", "quantity": 1}
    legacy["plan"] = {"id": "price_district", "amount": 240000, "interval": "year"}
    _subscribe(billed, legacy)
    assert _recorded(billed, boston) == ("district", "price_district", 20000)


def test_a_trial_and_a_canceled_subscription_bring_no_mrr(billed, boston):
    from app.services.billing import mrr_cents

    _subscribe(billed, _item("price_district", 240000, "year"), status="trialing")
    with billed.app_context():
        assert mrr_cents(db.session.get(Tenant, boston.tenant.id)) == 0
    _subscribe(billed, _item("price_district", 240000, "year"), created=200)
    with billed.app_context():
        assert mrr_cents(db.session.get(Tenant, boston.tenant.id)) == 20000


def test_the_billing_page_names_the_plan_and_what_it_costs(billed, boston):
    from tests.casework import Browser

    _subscribe(billed, _item("price_district", 240000, "year"))
    page = Browser(billed, boston, boston.people["admin"]).get("/billing").text
    plan = page[page.index('data-testid="billing-plan"') :].split("</dd>")[0]
    assert "District ($200.00 a month)" in plan


def test_price_ids_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("STRIPE_PRICE_IDS", "district=price_live_123")
    assert load_settings("testing")["PLANS"]["district"]["stripe_price"] == "price_live_123"
    monkeypatch.delenv("STRIPE_PRICE_IDS")
    assert load_settings("testing")["PLANS"]["district"]["stripe_price"] is None  # no leak


def test_a_wrong_price_setting_names_every_mistake(monkeypatch):
    monkeypatch.setenv("STRIPE_PRICE_IDS", "distrct=price_1, district=")
    with pytest.raises(ConfigurationError) as raised:
        load_settings("testing")
    message = str(raised.value)
    assert message.startswith("STRIPE_PRICE_IDS: ")
    assert "'distrct' is not a plan (plans: district)" in message
    assert "'district' has no price id" in message
