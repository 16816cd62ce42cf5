"""A district with people for every step of a case, and helpers to drive it by HTML or API."""

from __future__ import annotations

from dataclasses import dataclass
from html import unescape

import pytest

from app.core import uow
from app.extensions import db
from app.models.tenant import Tenant
from app.models.user import User
from app.tenants.context import tenant_scope
from tests.factories import api_token, csrf_token, login


@dataclass
class District:
    tenant: Tenant
    people: dict[str, User]

    @property
    def slug(self) -> str:
        return self.tenant.slug


@pytest.fixture
def district(app, make_tenant, make_user):
    """``district(slug, preset)``: coordinator, CT, principal, two committee members, admin."""

    def _make(slug: str, preset: str) -> District:
        tenant = make_tenant(slug, f"{slug.title()} Schools", preset=preset)
        people = {
            "coordinator": make_user(tenant, "coordinator", email=f"coord@{slug}.org"),
            "ct": make_user(tenant, "consulting_teacher", email=f"ct@{slug}.org"),
            "principal": make_user(tenant, "principal", email=f"principal@{slug}.org"),
            "committee1": make_user(tenant, "committee_member", email=f"c1@{slug}.org"),
            "committee2": make_user(tenant, "committee_member", email=f"c2@{slug}.org"),
            "admin": make_user(tenant, "program_admin", email=f"admin@{slug}.org"),
        }
        with app.app_context(), tenant_scope(tenant.id):
            principal = db.session.get(User, people["principal"].id)
            principal.school = "Lincoln Elementary"
            uow.commit()
        return District(tenant, people)

    return _make


class Browser:
    """A signed-in person using the HTML pages, CSRF tokens and all."""

    def __init__(self, app, district: District, user: User):
        self.client = app.test_client()
        self.slug = district.slug
        login(self.client, district.tenant, user)

    def get(self, path: str):
        return self.client.get(f"/t/{self.slug}{path}")

    def post(self, page: str, path: str, data: dict, **kwargs):
        token = csrf_token(self.get(page).text)
        return self.client.post(
            f"/t/{self.slug}{path}", data={**data, "csrf_token": token}, **kwargs
        )


class Api:
    """A person using the JSON API with a bearer token."""

    def __init__(self, app, district: District, user: User):
        self.client = app.test_client()
        self.slug = district.slug
        self.headers = {"Authorization": f"Bearer {api_token(self.client, district.tenant, user)}"}

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/v1/t/{self.slug}{path}", headers=self.headers, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(
            f"/api/v1/t/{self.slug}{path}", json=json, headers=self.headers, **kwargs
        )


def errors_beside(page: str, field: str) -> str:
    """The error list the form macro puts under ``field``, as text (empty when there is none)."""
    marker = f'<ul class="errors" id="{field}-errors">'
    start = page.find(marker)
    return "" if start < 0 else unescape(page[start : page.index("</ul>", start)])


@pytest.fixture
def toledo(district, make_user):
    """Toledo's program, with a teacher to refer (a module may define its own ``toledo``)."""
    d = district("toledo", "toledo")
    d.people["teacher"] = make_user(d.tenant, "teacher", email="lee@toledo.org")
    return d


def to_support(
    app, d: District, track: str, latest_rating: str, *, with_principal: bool = True
) -> int:
    """A referred case brought to support through the services, as the coordinator and CT
    would: intake, acceptance, a CT's assignment, the introduction meeting."""
    from app.services import assignments, cases

    with app.app_context(), tenant_scope(d.tenant.id):
        coordinator = db.session.get(User, d.people["coordinator"].id)
        ct = db.session.get(User, d.people["ct"].id)
        principal = db.session.get(User, d.people["principal"].id) if with_principal else None
        case = cases.open_case(
            teacher=db.session.get(User, d.people["teacher"].id),
            track_key=track,
            school="Lincoln Elementary",
            latest_rating=latest_rating,
            principal=principal,
        )
        case.permanent_status = True
        for action in ("begin_intake", "accept"):
            cases.apply(case, action, coordinator)
        assignments.propose(case, ct, coordinator)
        cases.apply(case, "assign_ct", coordinator)
        cases.apply(case, "hold_introduction", ct)
        uow.commit()
        assert case.state == "support"
        return case.id
