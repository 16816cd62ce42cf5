"""What gunicorn serves in the page benchmark: Parley, and beside it a bare Flask app.

The bare app answers ``/bare/`` with a few bytes and no database, session or template: the
ceiling of Flask under the same gunicorn, workers and machine, which the pages' throughput
is compared with. It is mounted beside Parley rather than inside it, because Parley refuses
every endpoint its authorization matrix does not list, and the ceiling should not pay for
that check either.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from app import create_app
from app.core.startup import freeze_startup_objects

bare = Flask("bare")


@bare.get("/")
def hello() -> str:
    return "ok"


parley = create_app()
app = DispatcherMiddleware(parley, {"/bare": bare})
freeze_startup_objects()  # as ``wsgi.py`` does
