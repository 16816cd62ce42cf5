"""Entry point for gunicorn (``gunicorn wsgi:app``) and the Flask CLI (``flask --app wsgi``)."""

from app import create_app
from app.core.startup import freeze_startup_objects

app = create_app()
freeze_startup_objects()
