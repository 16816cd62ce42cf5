"""One package per part of the product (cases, panel, reports, the API...); each holds routes,
forms and templates only, never domain logic: every view runs in the one operation shape
(``operation.py``) and calls services."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.blueprints.admin.routes import bp as admin
    from app.blueprints.api import bp as api
    from app.blueprints.auth.routes import bp as auth
    from app.blueprints.billing.routes import bp as billing
    from app.blueprints.cases.routes import bp as cases
    from app.blueprints.enroll.routes import bp as enroll
    from app.blueprints.exports.routes import bp as exports
    from app.blueprints.feeds.routes import bp as feeds
    from app.blueprints.languages.routes import bp as languages
    from app.blueprints.network.routes import bp as network
    from app.blueprints.offline.routes import bp as offline
    from app.blueprints.ops.routes import bp as ops
    from app.blueprints.panel.routes import bp as panel
    from app.blueprints.portal.routes import bp as portal
    from app.blueprints.public.routes import bp as public
    from app.blueprints.reports.routes import bp as reports
    from app.blueprints.roster.routes import bp as roster
    from app.blueprints.surveys.routes import bp as surveys
    from app.blueprints.verify.routes import bp as verify

    for blueprint in (
        public,
        auth,
        portal,
        admin,
        cases,
        offline,
        enroll,
        verify,
        roster,
        panel,
        reports,
        surveys,
        exports,
        feeds,
        languages,
        billing,
        ops,
        network,
        api,
    ):
        app.register_blueprint(blueprint)
