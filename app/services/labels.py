"""What a person reads where the record holds a key: the configuration's own words.

Templates ask here (they are template globals) instead of printing a key or prettifying it
with ``replace('_', ' ')``: "Awaiting a Consulting Teacher", never ``assignment``. A key
the configuration no longer names (a version since changed) still reads as words.
"""

from __future__ import annotations

from flask import g

from app.models.case import Case
from app.services import workflow_config as configs
from app.workflows import ProgramConfig


def _words(key: str | None) -> str:
    return (key or "").replace("_", " ").capitalize()


def _config(case: Case) -> ProgramConfig:
    return configs.config_of(case.workflow_version)


def track_name(case: Case) -> str:
    """The case's track as the program names it ("Peer Assistance and Review (PAR)")."""
    track = _config(case).tracks.get(case.track_key)
    return track.name if track else _words(case.track_key)


def state_label(case: Case) -> str:
    """The case's state as the program names it."""
    track = _config(case).tracks.get(case.track_key)
    state = track.states.get(case.state) if track else None
    return state.label if state else _words(case.state)


def state_label_of(case: Case, state: str) -> str:
    """Any state of the case's track, by its label."""
    track = _config(case).tracks.get(case.track_key)
    found = track.states.get(state) if track else None
    return found.label if found else _words(state)


def visit_type_label(key: str) -> str:
    """A kind of visit as the district's current program names it."""
    return _current("visit_types", lambda t: t.label).get(key) or _words(key)


def track_label(key: str) -> str:
    """A track key (a report's row) as the district's current program names it."""
    return _current("tracks", lambda t: t.name).get(key) or _words(key)


def _current(part: str, name) -> dict[str, str]:
    """Key -> label of one part of the district's current program, asked once a request."""
    cached = g.setdefault("current_labels", {})
    if part not in cached:
        version = configs.latest_published()
        items = getattr(configs.config_of(version), part) if version is not None else {}
        cached[part] = {key: name(item) for key, item in items.items()}
    return cached[part]


def rating_label(case: Case, key: str | None) -> str:
    """A rating or ballot option recorded on the case, as its program names it."""
    from app.services.panel.ballots import option_label

    return option_label(_config(case), key) if key else "—"
