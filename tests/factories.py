"""Factories that read like the product: a district, a person with roles, a signed-in client."""

from __future__ import annotations

import re
from itertools import count

import pytest

from app.core import uow
from app.extensions import db
from app.models.tenant import Tenant
from app.models.user import User
from app.services import users
from app.services.provisioning import Branding, create_tenant
from app.tenants.context import all_tenants, tenant_scope

PASSWORD = "correct horse battery"
_serial = count(1)

_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def snapshot(row, tenant_id: int):
    """Load ``row`` under its tenant and detach it, so a test can read it anywhere."""
    with tenant_scope(tenant_id):
        db.session.refresh(row)
        for relation in ("role_grants",):
            if hasattr(row, relation):
                getattr(row, relation)
        db.session.expunge(row)
    return row


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


@pytest.fixture
def make_tenant(app):
    def _make(
        slug: str | None = None, name: str | None = None, preset: str | None = None, **branding
    ) -> Tenant:
        slug = slug or f"district-{next(_serial)}"
        with app.app_context(), all_tenants():
            tenant = create_tenant(
                slug,
                name or f"{slug.title()} Public Schools",
                branding=Branding(**branding),
                preset=preset,
            )
            uow.commit()
            db.session.refresh(tenant)
            db.session.expunge(tenant)
        return tenant

    return _make


@pytest.fixture
def make_user(app):
    def _make(
        tenant: Tenant, *roles: str, email: str | None = None, password: str = PASSWORD
    ) -> User:
        email = email or f"person{next(_serial)}@{tenant.slug}.example.org"
        with app.app_context():
            user = users.create_user(
                tenant.id,
                email=email,
                name=f"Person {email.split('@')[0]}",
                roles=list(roles or ("teacher",)),
                password=password,
                send_welcome=False,
            )
            uow.commit()
            return snapshot(user, tenant.id)

    return _make


def login(client, tenant: Tenant, user: User, password: str = PASSWORD):
    page = client.get(f"/t/{tenant.slug}/login")
    response = client.post(
        f"/t/{tenant.slug}/login",
        data={"email": user.email, "password": password, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302, response.text
    return response


def api_token(client, tenant: Tenant, user: User, password: str = PASSWORD) -> str:
    response = client.post(
        f"/api/v1/t/{tenant.slug}/auth/token", json={"email": user.email, "password": password}
    )
    assert response.status_code == 201, response.text
    return response.json["token"]


@pytest.fixture
def make_case(app):
    """A case for ``teacher`` in ``track`` under the district's latest published version."""

    def _make(tenant: Tenant, teacher: User, track: str, **fields):
        from app.models.case import Case
        from app.services import cases

        with app.app_context(), tenant_scope(tenant.id):
            case = cases.open_case(
                teacher=db.session.get(User, teacher.id),
                track_key=track,
                school=fields.pop("school", "Lincoln Elementary"),
                latest_rating=fields.pop("latest_rating", None),
            )
            for key, value in fields.items():
                setattr(case, key, value)
            uow.commit()
            case = db.session.get(Case, case.id)
            return snapshot(case, tenant.id)

    return _make


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counted:`` counts the SQL statements a block sends (to
    the suite's app, or to ``of``, an app of the test's own)."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def _count(of=None):
        counted = []
        with (of or app).app_context():
            engine = db.engine

        def _on_execute(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SELECT SET_CONFIG", "SAVEPOINT")):
                counted.append(statement)

        event.listen(engine, "before_cursor_execute", _on_execute)
        try:
            yield counted
        finally:
            event.remove(engine, "before_cursor_execute", _on_execute)

    return _count


@pytest.fixture
def live_server_for():
    """``live_server_for(app)`` serves ``app`` on loopback (for servers that call us back)."""
    import socket
    import threading

    from werkzeug.serving import make_server

    servers = []

    def _serve(app) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield _serve
    for server in servers:
        server.shutdown()


@pytest.fixture
def built_per_request():
    """Where each statement that reached the scoping event without the scope came from
    (its last three functions of the app's own): a statement built per request or job."""
    import traceback

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app.tenants import scoping
    from app.tenants.context import current_scope

    found: list[str] = []

    def note(state) -> None:
        if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
            return
        # Across districts the event adds nothing, so nothing is built anew there.
        if not current_scope().all_tenants and not scoping._carries_scope(state.statement):
            ours = [f for f in traceback.extract_stack() if "/app/" in f.filename]
            found.append(" < ".join(f"{f.name}" for f in ours[-3:][::-1]))

    event.listen(Session, "do_orm_execute", note, insert=True)
    try:
        yield found
    finally:
        event.remove(Session, "do_orm_execute", note)
