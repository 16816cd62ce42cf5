"""The annual report as a page with charts; the JSON is the API's."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from app.blueprints.operation import attempt
from app.services import charts, reports
from app.tenants.resolution import current_tenant

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant_slug>/reports")


def _year() -> str:
    return request.args.get("year") or reports.default_year()


@bp.get("/annual")
def annual():
    """The report of ``?year=`` (the latest year with cases by default); a year that is not
    one (``99999``, ``2009-2011``) is said above the year picker."""
    years = reports.years_with_data()
    label = _year()
    outcome = attempt(lambda: reports.annual(label))
    return render_template(
        "reports/annual.html",
        report=outcome.result,
        years=years,
        year=label,
        error=None if outcome.ok else outcome.refusal.text(),
        groups=reports.group_labels(),
    ), (200 if outcome.ok else outcome.refusal.status)


@bp.get("/annual.svg")
def annual_chart():
    color, label = current_tenant().primary_color, _year()
    chart = request.args.get("chart", "outcomes")
    if chart == "trend":
        return Response(charts.trend(reports.trend(), color), mimetype="image/svg+xml")
    outcome = attempt(lambda: reports.annual(label))
    if not outcome.ok:
        abort(404)
    report = outcome.result
    if chart == "outcomes":
        labels = reports.group_labels() | {"active": "Active"}
        svg = charts.outcome_groups(report, labels, color)
    elif chart == "months":
        svg = charts.months_by_track(report, color)
    elif chart == "distribution":
        svg = charts.distribution(reports.distribution(label), color)
    elif chart == "survey" and report["survey"]:
        svg = charts.likert(report, color)
    else:
        abort(404)
    return Response(svg, mimetype="image/svg+xml")
