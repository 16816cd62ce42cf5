"""The Parley application factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from config import load_settings


def create_app(env_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build an app for ``env_name`` (default ``PARLEY_ENV``) with optional setting overrides."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_settings(env_name, overrides))
    _ensure_sqlite_folder(app)
    logging.basicConfig(level=logging.INFO)

    from app import models  # noqa: F401 - register every table with the metadata
    from app.extensions import csrf, db, migrate

    db.init_app(app)
    from app import i18n

    i18n.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    csrf.init_app(app)

    # Importing registers the session and pool events once per process.
    from app.core import cursor, pooled  # noqa: F401
    from app.tenants import resolution, rls, scoping  # noqa: F401

    resolution.init_app(app)
    from app.security import enforce, identity

    identity.init_app(app)
    enforce.init_app(app)

    from app.core import uow
    from app.jobs.relay import relay

    uow.init_app(app, relay)

    from app.blueprints import register_blueprints
    from app.blueprints.errors import register_error_handlers

    register_blueprints(app)
    register_error_handlers(app)
    from app.blueprints import operation

    operation.init_app(app)

    from app.security import headers, limits

    limits.init_app(app)
    headers.init_app(app)

    from app.cli import register_commands

    register_commands(app)

    from app.blueprints.context import register_template_context

    register_template_context(app)
    return app


def _ensure_sqlite_folder(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite://":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
