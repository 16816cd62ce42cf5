"""``make run``'s embedded default works: SQLite, inline jobs, the demo districts, and the
pages and exports a person tries first. The rest of the suite runs on PostgreSQL, so this is
where a statement only PostgreSQL understands would be caught before a newcomer meets it."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models.case import Case
from app.models.export import EXPORT_KINDS, ExportJob
from app.models.panel import PanelSession
from app.models.tenant import Tenant
from app.models.user import User
from app.services import demo
from app.tenants.context import tenant_scope
from tests.factories import csrf_token

ADMIN = "program.admin@boston.example.org"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Flask:
    """The app as ``make run`` builds it: a SQLite file, migrated, the demo seeded."""
    folder = tmp_path_factory.mktemp("embedded")
    app = create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'parley.sqlite3'}",
            "REDIS_URL": None,
            "MAIL_OUTBOX_DIR": str(folder / "mail"),
            "UPLOAD_ROOT": str(folder / "uploads"),
            "RATELIMIT_ENABLED": False,
        },
    )
    for command in (["db", "upgrade"], ["seed-demo"], ["network", "seed", "--districts", "20"]):
        with app.app_context():  # each command in its own, as each ``flask`` run is
            result = CliRunner().invoke(app.cli, command)
        assert result.exit_code == 0, f"{command}: {result.output}\n{result.exception!r}"
    return app


def _signed_in(app: Flask, slug: str, email: str):
    client = app.test_client()
    page = client.get(f"/t/{slug}/login")
    answer = client.post(
        f"/t/{slug}/login",
        data={"email": email, "password": demo.DEMO_PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert answer.status_code == 302, answer.text
    return client


def _first(app: Flask, slug: str, model, *where):
    with app.app_context():
        tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(tenant_id):
            return db.session.execute(select(model.id).where(*where).limit(1)).scalar_one()


def test_the_demo_pages_open_on_sqlite(embedded):
    coordinator = _signed_in(embedded, "boston", "coordinator@boston.example.org")
    case_id = _first(embedded, "boston", Case)
    session_id = _first(embedded, "boston", PanelSession)
    for path in (
        "/t/boston/",
        "/t/boston/cases/",
        f"/t/boston/cases/{case_id}",
        f"/t/boston/panel/sessions/{session_id}",
        "/t/boston/reports/annual",
        "/t/boston/reports/annual.svg?chart=trend&measure=participants",
    ):
        response = coordinator.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"


def test_the_demo_exports_build_on_sqlite(embedded):
    admin = _signed_in(embedded, "boston", ADMIN)
    year = admin.get("/t/boston/reports/annual").text
    label = re.search(r'<option value="(\d{4}-\d{4})" selected', year)[1]
    for kind in EXPORT_KINDS:
        page = admin.get("/t/boston/exports/")
        data = {"kind": kind, "year": label, "csrf_token": csrf_token(page.text)}
        answer = admin.post("/t/boston/exports/", data=data)
        assert answer.status_code == 302, f"{kind}: {answer.text}"
    with embedded.app_context():
        tenant_id = db.session.execute(
            select(Tenant.id).where(Tenant.slug == "boston")
        ).scalar_one()
        with tenant_scope(tenant_id):
            admin_id = db.session.execute(select(User.id).where(User.email == ADMIN)).scalar_one()
            jobs = db.session.execute(
                select(ExportJob.kind, ExportJob.status, ExportJob.error).where(
                    ExportJob.requested_by_id == admin_id
                )
            ).all()
    assert {kind for kind, _, _ in jobs} == set(EXPORT_KINDS)
    assert all(status == "ready" for _, status, _ in jobs), jobs
