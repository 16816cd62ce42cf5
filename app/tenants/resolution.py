"""From the URL to the tenant: ``/t/<slug>/...`` and ``/api/v1/t/<slug>/...``.

The slug is taken out of the view arguments before any view runs, so views
never see it and never look a tenant up themselves. ``url_for`` puts it back
for the current tenant, so templates don't pass it either.
"""

from __future__ import annotations

import re
from functools import cache

from flask import Flask, abort, g
from sqlalchemy import Select, bindparam, select

from app.core.limits import MAX_ID
from app.core.uow import reads_only
from app.extensions import db
from app.models.tenant import OPEN, Tenant
from app.tenants.context import enter_request_scope, leave_request_scope
from app.tenants.rls import DISTRICT_PENDING, scope_columns
from app.tenants.scoping import scoped

SLUG_ARG = "tenant_slug"

#: A district's short name in its URLs (``/t/<slug>/``).
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def current_tenant() -> Tenant | None:
    """The tenant of this request, or None on platform and public pages."""
    return g.get("tenant")


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_resolve)
    app.url_defaults(_add_slug)
    app.teardown_request(_leave)


def _resolve(endpoint: str | None, values: dict | None) -> None:
    """The URL's district, and ids no row can have turned away as not found.

    The URL's integer converter takes any size of number, and a slug any characters;
    PostgreSQL refuses an id beyond ``integer`` or a NUL in text, which would end the
    request in a 500 instead of the 404 it deserves (pages and API alike).
    """
    if not values:
        return
    if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in values.values()):
        abort(404)
    if SLUG_ARG not in values:
        return
    slug = values.pop(SLUG_ARG)
    known = isinstance(slug, str) and SLUG_PATTERN.match(slug)
    g.setdefault(DISTRICT_PENDING, True)  # the scope is sent once, with the district
    tenant, sent = _lookup(slug) if known else (None, False)
    g.pop(DISTRICT_PENDING, None)
    if tenant is None or not tenant.is_open:
        g.unknown_tenant_slug = slug
        abort(404, description="tenant")
    g.tenant = tenant
    g.tenant_scope_token = enter_request_scope(tenant.id, sent=sent)


def _lookup(slug: str) -> tuple[Tenant | None, bool]:
    """The district of ``slug``, and whether its lookup also set the request's scope (on
    PostgreSQL the one statement does both: ``rls.scope_columns``)."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    statement = _lookup_statement(postgres, postgres and reads_only())
    row = db.session.execute(statement, {"slug": slug}).first()
    return (row[0], postgres) if row is not None else (None, False)


@cache
def _lookup_statement(with_scope: bool, read_only: bool) -> Select:
    """The district's lookup, built once per kind: every request of a district sends it.
    With the scope's criteria on it (``scoped``) though districts are not a district's data:
    the scoping event would otherwise add them to a new copy on every request, whose cache
    key SQLAlchemy computed again (a sixth of the lookup's time)."""
    statement = select(Tenant).where(Tenant.slug == bindparam("slug"))
    if with_scope:
        statement = statement.add_columns(
            *scope_columns(Tenant.id, Tenant.status == OPEN, read_only)
        )
    return scoped(statement)


def _add_slug(endpoint: str, values: dict) -> None:
    tenant = g.get("tenant")
    if tenant is None or SLUG_ARG in values:
        return
    from flask import current_app

    if current_app.url_map.is_endpoint_expecting(endpoint, SLUG_ARG):
        values[SLUG_ARG] = tenant.slug


def _leave(exc: BaseException | None) -> None:
    # g can outlive a request (an app context pushed around several): forget the tenant.
    g.pop("tenant", None)
    token = g.pop("tenant_scope_token", None)
    if token is not None:
        leave_request_scope(token)
