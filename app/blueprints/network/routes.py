"""The network analysts' pages: anonymized, cross-district aggregates only.

Everything here reads the network's own table; a test runs these routes with SQL
capture and fails if any statement touches a district's tables.
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, render_template, request

from app.blueprints.operation import reads_replica
from app.exports.cells import csv_writer
from app.services import network
from app.workflows.vocabulary import NETWORK_GROUPS, TRACK_KINDS

bp = Blueprint("network", __name__, url_prefix="/network")


def filters() -> dict:
    """The comparison filters from the query string (the pages and the API read the same)."""
    return {
        "year": request.args.get("year") or None,
        "track_kind": request.args.get("track_kind") or "all",
        "size_band": request.args.get("size_band") or None,
    }


@bp.get("/")
@reads_replica
def home():
    chosen = filters()
    shown = network.comparison(**chosen)
    return render_template(
        "network/home.html",
        rows=shown.rows,
        summary=shown.summary,
        too_few=shown.too_few_districts,
        minimum_districts=shown.minimum_districts,
        chosen=chosen,
        years=network.years(),
        kinds=("all", *TRACK_KINDS),
        groups=NETWORK_GROUPS,
    )


@bp.get("/trend.svg")
@reads_replica
def trend_chart():
    """The network's medians by school year, one measure per chart (``?measure=``
    participants or months)."""
    from app.services import charts

    measure = request.args.get("measure", "participants")
    if measure not in charts.TREND_MEASURES:
        abort(404)
    chosen = filters()
    rows = network.comparison(track_kind=chosen["track_kind"], size_band=chosen["size_band"]).rows
    chart = charts.trend(network.trend(rows, chosen["track_kind"]), "#1f4e79", measure)
    return Response(chart, mimetype="image/svg+xml")


@bp.get("/comparison.csv")
@reads_replica
def comparison_csv():
    chosen = filters()
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(
        ["district", "size_band", "year", "participants", *NETWORK_GROUPS, "months_mean"]
    )
    for row in network.comparison(**chosen).rows:
        figures = row.figures[chosen["track_kind"]]
        writer.writerow(
            [
                row.display_name,
                row.size_band,
                row.year,
                figures["participants"],
                *(figures["outcomes"].get(g) for g in NETWORK_GROUPS),
                figures["months_mean"],
            ]
        )
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=network.csv"},
    )
