"""The network: opt-in, releases of aggregates only, suppression, the budget, and pages
that never read a district's tables."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import TenantScoped
from app.models.network import NetworkRelease
from app.services import network, uow, users
from app.services.actors import Actor
from app.tenants.context import all_tenants, tenant_scope
from tests.factories import PASSWORD
from tests.test_imports import HEADER, _post

YEAR = "2009-2010"


def _history(met: int, retired: int, open_: int) -> str:
    lines, n = [], 0
    for outcome, count in (("met_standards", met), ("retired", retired), ("", open_)):
        for _ in range(count):
            n += 1
            ended = "2010-06-01" if outcome else ""
            lines.append(
                f"N-{n},T{n},t{n}@bps.org,Adams,peer_assistance,,2009-08-01,"
                f"2009-09-15,{ended},{outcome}"
            )
    return HEADER + "\n".join(lines) + "\n"


@pytest.fixture
def member(app, district):
    d = district("bostonpap", "boston_pap_2007")
    assert _post(app, d, _history(met=15, retired=3, open_=12)).status_code == 200
    with app.app_context(), tenant_scope(d.tenant.id):
        network.join(d.tenant.id, named=True, noisy=False, epsilon=1.0, actor=Actor.system())
        uow.commit()
    return d


def _publish(app, d, **kwargs):
    with app.app_context(), tenant_scope(d.tenant.id):
        network.publish(d.tenant.id, YEAR, **kwargs)
        uow.commit()


def _release(app):
    with app.app_context(), all_tenants():
        return db.session.execute(select(NetworkRelease)).scalars().all()


def test_three_retirements_are_suppressed_and_cannot_be_recovered(app, member):
    _publish(app, member)
    [release] = _release(app)
    row = release.figures["all"]
    assert row["participants"] == 30
    assert row["outcomes"]["resigned_or_retired"] is None
    published = sum(v for v in row["outcomes"].values() if v is not None)
    hidden = [k for k, v in row["outcomes"].items() if v is None]
    assert len(hidden) >= 2 and row["participants"] - published != 3
    assert release.display_name == "Bostonpap Schools"


def test_an_anonymous_member_is_shown_by_its_label(app, member):
    with app.app_context(), tenant_scope(member.tenant.id):
        network.join(member.tenant.id, named=False, noisy=False, epsilon=1.0, actor=Actor.system())
        uow.commit()
    _publish(app, member)
    [release] = _release(app)
    assert release.display_name.startswith("District ")


def test_a_noisy_release_past_the_budget_is_refused_and_recorded(app, member):
    from app.network.privacy import NoisyCounter

    with app.app_context(), tenant_scope(member.tenant.id):
        network.join(member.tenant.id, named=True, noisy=True, epsilon=0.5, actor=Actor.system())
        uow.commit()
    seeded = NoisyCounter(epsilon_per_count=0.1, noise=lambda count: count + 1)
    _publish(app, member, counter=seeded)  # 5 counts per row, 2 rows: 1.0 > 0.5
    assert _release(app) == []
    with app.app_context(), tenant_scope(member.tenant.id):
        refused = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "network.release_refused")
        ).scalar_one()
    assert "epsilon" in refused.after["reason"]


def test_network_pages_read_only_network_tables(app, member, count_queries):
    _publish(app, member)
    with app.app_context():
        users.create_platform_user("an@parley.org", "Analyst", "network_analyst", PASSWORD)
        uow.commit()
        tenant_tables = {
            m.class_.__tablename__
            for m in db.Model.registry.mappers
            if issubclass(m.class_, TenantScoped)
        } | {"tenants"}
    from tests.factories import csrf_token

    client = app.test_client()
    page = client.get("/ops/login")
    client.post(
        "/ops/login",
        data={"email": "an@parley.org", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    with count_queries() as statements:
        for path in (
            "/network/",
            f"/network/?year={YEAR}&track_kind=assistance",
            "/network/comparison.csv",
            f"/api/v1/network/outcomes?year={YEAR}",
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "Bostonpap Schools" in response.text
    touched = {
        t for s in statements for t in re.findall(r"\bFROM (\w+)|\bJOIN (\w+)", s) for t in t if t
    }
    assert touched and not touched & tenant_tables, touched & tenant_tables


def test_a_district_user_cannot_use_the_network_pages(app, member):
    from tests.casework import Browser

    coordinator = Browser(app, member, member.people["coordinator"])
    assert coordinator.client.get("/network/").status_code == 302
    assert coordinator.get("/network").status_code == 403  # program admins only
    admin = Browser(app, member, member.people["admin"])
    page = admin.get("/network")
    assert page.status_code == 200 and "What the network would see" in page.text


def test_the_admin_publishes_through_the_release_job(app, member):
    from tests.casework import Browser

    admin = Browser(app, member, member.people["admin"])
    response = admin.post(f"/network?year={YEAR}", "/network/releases", {"year": YEAR})
    assert response.status_code == 302
    [release] = _release(app)
    assert release.year == YEAR and release.figures["all"]["participants"] == 30
    page = admin.get(f"/network?year={YEAR}").text
    assert "Yours: 30 participants" in page


def test_a_program_admin_sees_the_district_beside_the_network_in_the_api(app, member):
    from tests.casework import Api

    _publish(app, member)
    body = Api(app, member, member.people["admin"]).get(f"/network/outcomes?year={YEAR}").json
    assert body["member"] is True
    assert body["mine"]["all"]["participants"] == 30
    assert body["network"]["districts"] == 1
    # Rates rest on at least 10 decisions or answers; this district has none: not published.
    assert body["mine"]["all"]["panel_agreement"] is None
    assert body["mine"]["all"]["survey_agreement"] == {}
