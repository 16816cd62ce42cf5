"""The annual report as a page with charts; the JSON is the API's."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from app.services import charts, reports
from app.services import workflow_config as configs
from app.services.errors import ServiceError
from app.tenants.resolution import current_tenant

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant_slug>/reports")


def _year() -> str:
    return request.args.get("year") or reports.default_year(current_tenant().id)


@bp.get("/annual")
def annual():
    tenant_id = current_tenant().id
    years = reports.years_with_data(tenant_id)
    label, report, error = _year(), None, None
    if label:
        try:
            report = reports.annual(tenant_id, label)
        except ServiceError as exc:
            error = exc.text()
    config = configs.config_of(configs.latest_published(tenant_id))
    return render_template(
        "reports/annual.html",
        report=report,
        years=years,
        year=label,
        error=error,
        groups={k: g.label for k, g in config.report_groups.items()},
    ), (422 if error else 200)


@bp.get("/annual.svg")
def annual_chart():
    tenant_id = current_tenant().id
    color, label = current_tenant().primary_color, _year()
    chart = request.args.get("chart", "outcomes")
    if chart == "trend":
        return Response(charts.trend(reports.trend(tenant_id), color), mimetype="image/svg+xml")
    try:
        report = reports.annual(tenant_id, label)
    except ServiceError:
        abort(404)
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
