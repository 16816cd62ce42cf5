"""The network analysts' home: anonymized, cross-district aggregates only."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("network", __name__, url_prefix="/network")


@bp.get("/")
def home():
    return render_template("network/home.html")
