"""The annual report as a page with charts; the JSON is the API's."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from app.blueprints.operation import attempt
from app.services import charts, reports
from app.services import workflow_config as configs
from app.tenants.resolution import current_tenant

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant_slug>/reports")


def _year() -> str:
    return request.args.get("year") or reports.default_year(current_tenant().id)


@bp.get("/annual")
def annual():
    """The report of ``?year=`` (the latest year with cases by default); a year that is not
    one (``99999``, ``2009-2011``) is said above the year picker."""
    tenant_id = current_tenant().id
    years = reports.years_with_data(tenant_id)
    label = _year()
    outcome = attempt(lambda: reports.annual(tenant_id, label))
    config = configs.config_of(configs.latest_published(tenant_id))
    return render_template(
        "reports/annual.html",
        report=outcome.result,
        years=years,
        year=label,
        error=None if outcome.ok else outcome.refusal.text(),
        groups={k: g.label for k, g in config.report_groups.items()},
    ), (200 if outcome.ok else outcome.refusal.status)


@bp.get("/annual.svg")
def annual_chart():
    tenant_id = current_tenant().id
    color, label = current_tenant().primary_color, _year()
    chart = request.args.get("chart", "outcomes")
    if chart == "trend":
        return Response(charts.trend(reports.trend(tenant_id), color), mimetype="image/svg+xml")
    outcome = attempt(lambda: reports.annual(tenant_id, label))
    if not outcome.ok:
        abort(404)
    report = outcome.result
    config = configs.config_of(configs.latest_published(tenant_id))
    if chart == "outcomes":
        labels = {k: g.label for k, g in config.report_groups.items()} | {"active": "Active"}
        svg = charts.outcome_groups(report, labels, color)
    elif chart == "months":
        svg = charts.months_by_track(report, color)
    elif chart == "distribution":
        svg = charts.distribution(reports.distribution(tenant_id, label), color)
    elif chart == "survey" and report["survey"]:
        svg = charts.likert(report, color)
    else:
        abort(404)
    return Response(svg, mimetype="image/svg+xml")
