"""In a real browser: a network analyst compares a named district with the network."""

from __future__ import annotations

import pytest

from app.core import uow
from app.services import network, users
from app.services.actors import Actor
from app.tenants.context import all_tenants, tenant_scope
from tests.factories import PASSWORD
from tests.network.generated import YEAR, Stint, add_stints

pytestmark = pytest.mark.browser


def test_an_analyst_compares_a_district_with_the_network(app, live_server, browser, district):
    boston = district("boston", "boston_pap_2007")
    history = [("met_standards", 8.0)] * 15 + [("retired", 8.0)] * 3 + [(None, None)] * 12
    add_stints(app, boston, YEAR, [Stint("peer_assistance", m, o) for o, m in history])
    with app.app_context():
        with tenant_scope(boston.tenant.id):
            network.join(named=True, noisy=False, epsilon=1.0, actor=Actor.system())
            network.publish(YEAR)
        uow.commit()  # the district's unit of work; the platform's is its own
        with all_tenants():
            network.seed_synthetic(30, years_back=2)
        users.create_platform_user("analyst@parley.org", "Analyst", "network_analyst", PASSWORD)
        uow.commit()
    page = browser.new_context().new_page()
    page.goto(f"{live_server}/ops/login")
    page.get_by_label("E-mail").fill("analyst@parley.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/network/")
    page.get_by_label("School year").select_option(YEAR)
    page.get_by_role("button", name="Show").click()
    table = page.get_by_test_id("network-table")
    row = table.locator("tr", has_text="Boston Schools")
    assert "30" in row.inner_text()
    assert "—" in row.inner_text()  # the three retirements, and their complement, hidden
    assert "Network median" in table.inner_text()
    for cell in table.locator("tbody td").all_inner_texts():
        assert not (cell.isdigit() and 0 < int(cell) < 10), cell
