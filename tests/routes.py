"""Walking the URL map: which routes exist, what their arguments name, how to call them.

Id arguments are named ``<model>_id`` after a tenant-scoped model (``case_id``
is a ``Case``); any other argument must be listed in ``NATURAL_KEYS``. So a
new route is walked without editing the tests, and an argument the walk cannot
fill fails loudly instead of being skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule

from app.extensions import db
from app.models.base import TenantScoped
from app.security.identity import TenantPrincipal
from app.tenants.context import tenant_scope
from app.tenants.resolution import SLUG_ARG

#: Arguments that are keys inside a tenant rather than row ids, and what they mean.
NATURAL_KEYS = {
    "number": "a published workflow version number",
    "a": "a published workflow version number",
    "b": "a published workflow version number",
    "track": "a track key of the program",
    "action": "a workflow action key",
    "token": "a personal survey link",
    "reset_token": "a password reset link",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def id_models() -> dict[str, type]:
    """``user_id`` -> ``User`` for every tenant-scoped model."""
    return {
        f"{_snake(mapper.class_.__name__)}_id": mapper.class_
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    }


@dataclass(frozen=True)
class Call:
    rule: Rule
    method: str

    @property
    def endpoint(self) -> str:
        return self.rule.endpoint

    @property
    def is_api(self) -> bool:
        return self.rule.rule.startswith("/api/")

    def url(self, app: Flask, values: dict) -> str:
        with app.test_request_context():
            from flask import url_for

            return url_for(self.endpoint, **values)


def calls(app: Flask) -> list[Call]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append(Call(rule, method))
    return sorted(found, key=lambda c: (c.rule.rule, c.method))


def object_args(rule: Rule) -> list[str]:
    return sorted(arg for arg in rule.arguments if arg != SLUG_ARG)


def values_in(app: Flask, tenant_id: int, args: list[str], natural: dict) -> dict:
    """Values for a route's arguments taken from ``tenant_id``'s own data.

    Id arguments get an existing row of that tenant (the walk fails when none is
    seeded); natural keys come from ``natural``, which the test fills per tenant.
    """
    models = id_models()
    values = {}
    with app.app_context(), tenant_scope(tenant_id):
        for arg in args:
            if arg in NATURAL_KEYS:
                assert arg in natural, f"the walk has no value for {arg!r} ({NATURAL_KEYS[arg]})"
                values[arg] = natural[arg]
                continue
            assert arg in models, (
                f"route argument {arg!r} names no tenant-scoped model; name ids <model>_id "
                f"or add it to NATURAL_KEYS"
            )
            model = models[arg]
            row_id = db.session.execute(select(model.id).order_by(model.id).limit(1)).scalar()
            assert row_id is not None, f"seed a {model.__name__} in tenant {tenant_id}"
            values[arg] = row_id
    return values


def sign_in(client, user) -> None:
    """Put a signed-in session in ``client`` without the password round trip."""
    with client.session_transaction() as session:
        session["_user_id"] = TenantPrincipal(user).get_id()
        session["_fresh"] = True
