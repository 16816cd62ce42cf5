"""The service worker's script, served at the district's root so that its scope is the
district's pages (``/t/<district>/``) and nothing else: each district's worker keeps its own
caches and its own queue, and never sees another district's pages.

The script lives with the other static files (``app/static/offline/worker.js``); this route
only serves it from the path that gives it that scope. It holds nothing of any person, so it
is public: the browser checks it for a newer version on its own, signed in or not.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("offline", __name__, url_prefix="/t/<tenant_slug>")

WORKER = "worker.js"


@bp.get("/offline-worker.js")
def worker():
    """Served fresh each time (``no-cache``), so a new version reaches the devices at their
    next visit rather than after a day of the old one."""
    folder = Path(current_app.static_folder or "") / "offline"
    response = send_from_directory(folder, WORKER, mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
