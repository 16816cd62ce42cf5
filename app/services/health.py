"""What the health check asks: can the database and the queue's Redis answer."""

from __future__ import annotations

from sqlalchemy import text

from app.core.redis import redis_connection
from app.extensions import db


def database() -> str:
    """``ok``, or the kind of error the database gave."""
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def redis() -> str:
    """``ok``, or the kind of error Redis gave."""
    try:
        redis_connection().ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
