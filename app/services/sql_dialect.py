"""Which SQL the session's database speaks.

The report, the survey counts and the network release read their figures with statements
only PostgreSQL understands (``jsonb``, ``LATERAL``, ``aggregate_order_by``): they are what
keeps a large district's report to a few statements. ``make run`` starts Parley on an
embedded SQLite file so a newcomer needs no server, and there each of those services takes
a slower, portable path that gives the same figures (the tests compare both on
PostgreSQL). This is the one place that decides which path runs.
"""

from __future__ import annotations

from app.extensions import db


def on_postgresql() -> bool:
    """Whether the session is bound to PostgreSQL; False selects the portable statements
    kept for the embedded SQLite of ``make run``."""
    return db.session.get_bind().dialect.name == "postgresql"
