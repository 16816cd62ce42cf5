"""The annual report as a page with charts; the JSON is the API's."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from app.blueprints.operation import attempt, reads_replica
from app.services import charts, labels, reports
from app.tenants.resolution import current_tenant

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant_slug>/reports")


def _year() -> str:
    return request.args.get("year") or reports.default_year()


@bp.get("/annual")
@reads_replica
def annual():
    """The report of ``?year=`` (the latest year with cases by default); a year that is not
    one (``99999``, ``2009-2011``) is said above the year picker."""
    years = reports.years_with_data()
    label = request.args.get("year") or reports.default_year(years)
    outcome = attempt(lambda: reports.annual(label))
    ok = outcome.ok
    return render_template(
        "reports/annual.html",
        report=outcome.result,
        years=years,
        year=label,
        error=None if ok else outcome.refusal.text(),
        groups=reports.group_labels(),
        distribution=reports.distribution(label) if ok else {},
        trend=reports.trend(years, {label: outcome.result}) if ok and len(years) > 1 else None,
        left_out_note=reports.left_out_note(outcome.result) if ok else None,
    ), (200 if ok else outcome.refusal.status)


@bp.get("/annual.svg")
@reads_replica
def annual_chart():
    """One chart of the report: ``?chart=`` outcomes, months, distribution, survey, or trend
    with ``&measure=`` participants or months (one measure per chart)."""
    color, label = current_tenant().primary_color, _year()
    chart = request.args.get("chart", "outcomes")
    if chart == "trend":
        measure = request.args.get("measure", "participants")
        if measure not in charts.TREND_MEASURES:
            abort(404)
        return Response(charts.trend(reports.trend(), color, measure), mimetype="image/svg+xml")
    outcome = attempt(lambda: reports.annual(label))
    if not outcome.ok:
        abort(404)
    report = outcome.result
    if chart == "outcomes":
        names = reports.group_labels() | {"active": "Active"}
        svg = charts.outcome_groups(report, names, color)
    elif chart == "months":
        svg = charts.months_by_track(report, color, labels.track_label)
    elif chart == "distribution":
        svg = charts.distribution(reports.distribution(label), color, label)
    elif chart == "survey" and report["survey"]:
        svg = charts.likert(report, color)
    else:
        abort(404)
    return Response(svg, mimetype="image/svg+xml")
