"""SQL statements per request, for each page at 10 and at 500 rows: equal means no N+1.

Two districts of the "rows" shape differ only in size: every case on one CT, and one
teacher's case carrying as many visits, pieces of evidence and goals as the district has
cases. Each page is requested once to warm the per-process caches, then counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from bench.generate import PASSWORD
from bench.targets import Measure, at_most

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
#: Statements the tenant layer sends per transaction, not per row (as tests/factories.py).
NOT_COUNTED = ("SELECT SET_CONFIG", "SAVEPOINT")


def pages(slug: str, case_id: int) -> list[tuple[str, str, str]]:
    domain = f"{slug}.example.org"
    return [
        ("coordinator case list", f"coordinator@{domain}", "/cases/"),
        ("coordinator case list, filtered", f"coordinator@{domain}", "/cases/?state=support"),
        ("CT caseload (CT home)", f"ct1@{domain}", "/"),
        ("CT case list", f"ct1@{domain}", "/cases/"),
        ("case page (its CT)", f"ct1@{domain}", f"/cases/{case_id}"),
        ("case page (coordinator)", f"coordinator@{domain}", f"/cases/{case_id}"),
        ("teacher home", f"teacher1@{domain}", "/"),
        ("case page (its teacher)", f"teacher1@{domain}", f"/cases/{case_id}"),
    ]


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """The statements sent meanwhile, on every engine of the app (a bind is another role)."""
    from app.extensions import db

    counted: list[str] = []
    with app.app_context():
        engines = set(db.engines.values())

    def _on_execute(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(NOT_COUNTED):
            counted.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", _on_execute)
    try:
        yield counted
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", _on_execute)


@cache
def signed_in_client(app: Flask, slug: str, email: str) -> FlaskClient:
    """A signed-in client, one per person (sign-ins are rate-limited, as they should be).

    It follows the sign-in's redirect, as a browser does: the page it lands on gives the
    session its CSRF token, and the cookie the client holds after it is the one a browser
    sends from then on. (The sign-in's own cookie has no token yet: a request sent with it
    makes a token and a new cookie every time, which a browser's requests never do.)
    """
    client = app.test_client()
    form = client.get(f"/t/{slug}/login")
    token = _CSRF.search(form.text).group(1)
    answer = client.post(
        f"/t/{slug}/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{email} could not sign in ({answer.status_code})")
    landed = client.get(answer.location)
    if landed.status_code != 200:
        raise RuntimeError(f"{email} signed in but {answer.location} answered {landed.status_code}")
    return client


def count_page(app: Flask, slug: str, email: str, path: str) -> int:
    client = signed_in_client(app, slug, email)
    url = f"/t/{slug}{path}"
    if client.get(url).status_code != 200:
        raise RuntimeError(f"{url} did not answer 200 for {email}")
    with counting(app) as counted:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code} for {email}")
    return len(counted)


def first_case(app: Flask, slug: str) -> int:
    """teacher1's case: the one that carries the rows."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.case import Case
    from app.models.tenant import Tenant
    from app.models.user import User
    from app.tenants.context import all_tenants, tenant_scope

    with app.app_context():
        with all_tenants():
            tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar()
        with tenant_scope(tenant_id):
            return db.session.execute(
                select(Case.id)
                .join(User, User.id == Case.teacher_id)
                .where(User.email == f"teacher1@{slug}.example.org")
            ).scalar_one()


def run(app: Flask, small: str, large: str, sizes: tuple[int, int]) -> tuple[list[Measure], dict]:
    """Count each page in both districts; the target is no more statements at the larger size."""
    measures, raw = [], {}
    small_case, large_case = first_case(app, small), first_case(app, large)
    for (name, email, path), (_, large_email, large_path) in zip(
        pages(small, small_case), pages(large, large_case), strict=True
    ):
        few = count_page(app, small, email, path)
        many = count_page(app, large, large_email, large_path)
        raw[name] = {str(sizes[0]): few, str(sizes[1]): many}
        measures.append(
            at_most(
                "queries",
                f"{name}: extra statements at {sizes[1]} rows",
                many - few,
                0,
                "",
                f"{few} statements at {sizes[0]} rows, {many} at {sizes[1]}",
            )
        )
    return measures, raw
