"""The JSON API, ``/api/v1``: bearer tokens, marshmallow schemas, an OpenAPI document."""

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens, not cookies, authenticate the API: there is no ambient credential to forge.
csrf.exempt(bp)


from app.blueprints.api import (  # noqa: E402,F401 - registers routes
    cases,
    imports,
    panel,
    routes,
    support,
    workflow,
)
