"""The joint panel, one module per part of its work.

``seats`` who sits for which constituency; ``sessions`` scheduling, the agenda,
attendance and declared conflicts; ``eligibility`` who may vote on and see each item,
worked out from live facts at the moment of acting; ``ballots`` casting and closing a
vote; ``minutes`` the record of a session; ``session_page`` what the session page shows
one reader; ``approval`` the final authority's step.
"""

from app.services.panel import (
    approval,
    ballots,
    eligibility,
    minutes,
    seats,
    session_page,
    sessions,
)

__all__ = ["approval", "ballots", "eligibility", "minutes", "seats", "session_page", "sessions"]
