"""What a person reads where the record holds a key: the configuration's own words.

Templates ask here (they are template globals) instead of printing a key or prettifying it
with ``replace('_', ' ')``: "Awaiting a Consulting Teacher", never ``assignment``. A key
the configuration no longer names (a version since changed) still reads as words.

A teacher reading in Spanish or Haitian Creole sees the document's own translations (its
``translations`` key, e.g. ``translations.es.tracks.pa.name``) where it has them, and the
English label where it does not.
"""

from __future__ import annotations

from flask import g
from flask_babel import get_locale, gettext
from sqlalchemy import Row

from app.models.case import Case
from app.services import workflow_config as configs
from app.workflows import ProgramConfig


def _language() -> str:
    return str(get_locale() or "en")


def _translated(version, path: tuple[str, ...], english: str) -> str:
    """The document's translation at ``translations.<locale>.<path>``, else ``english``."""
    language = _language()
    if language == "en" or version is None:
        return english
    node = ((version.document or {}).get("translations") or {}).get(language)
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, str) and node.strip() else english


def translated(path: tuple[str, ...], english: str) -> str:
    """A label of the district's current program in the reader's language."""
    if _language() == "en":
        return english
    return _translated(configs.current_version(), path, english)


def track_words(key: str, part: str, english: str) -> str:
    """A track's ``name`` or ``description`` in the reader's language."""
    return translated(("tracks", key, part), english)


def program_wording(config: ProgramConfig, key: str, english: str) -> str:
    """A sentence of the program's wording (``program.wording.<key>``) in the reader's
    language; ``english`` when the program has none of its own."""
    own = config.program.wording.get(key)
    if own is None:
        return english
    return translated(("program", "wording", key), own)


def survey_words(survey, *path: str, english: str) -> str:
    """A survey's title, comment question or statement (``statements.<key>``) translated."""
    return translated(("surveys", survey.survey_key, *path), english)


def ct_title_words() -> str:
    """What the program calls a consulting teacher, in the reader's language."""
    from app.services import roster

    english = roster.ct_title()
    if _language() == "en":
        return english
    return translated(("program", "wording", "ct_title"), gettext(english))


def scale_label(option: str) -> str:
    """An answer of a survey's scale ("strongly_agree") as words in the reader's language."""
    return gettext(_words(option))


def _words(key: str | None) -> str:
    return (key or "").replace("_", " ").capitalize()


def _version(case: Case | Row):
    """The version a case follows; ``case`` a case, or a list's row with its
    ``workflow_version_id``. Most cases are on the district's newest version, which the page
    reads anyway (its wording): read first, it is the case's version with no statement of
    its own."""
    configs.current_version()
    return configs.version_of(case)


def _config(case: Case | Row) -> ProgramConfig:
    return configs.config_of(_version(case))


def track_name(case: Case | Row) -> str:
    """The case's track as the program names it ("Peer Assistance and Review (PAR)")."""
    version = _version(case)
    track = configs.config_of(version).tracks.get(case.track_key)
    english = track.name if track else _words(case.track_key)
    return _translated(version, ("tracks", case.track_key, "name"), english)


def state_label(case: Case | Row) -> str:
    """The case's state as the program names it."""
    return state_label_of(case, case.state)


def state_label_of(case: Case | Row, state: str) -> str:
    """Any state of the case's track, by its label."""
    version = _version(case)
    track = configs.config_of(version).tracks.get(case.track_key)
    found = track.states.get(state) if track else None
    english = found.label if found else _words(state)
    return _translated(version, ("tracks", case.track_key, "states", state), english)


def outcome_label(case: Case) -> str:
    """The outcome the case closed with, as its program names it."""
    version = _version(case)
    found = configs.config_of(version).outcomes.get(case.outcome)
    english = found.label if found else _words(case.outcome)
    return _translated(version, ("outcomes", case.outcome), english)


def visit_type_label(key: str) -> str:
    """A kind of visit as the district's current program names it."""
    english = _current("visit_types", lambda t: t.label).get(key) or _words(key)
    return translated(("visit_types", key), english)


def track_label(key: str) -> str:
    """A track key (a report's row) as the district's current program names it."""
    return _current("tracks", lambda t: t.name).get(key) or _words(key)


def _current(part: str, name) -> dict[str, str]:
    """Key -> label of one part of the district's current program, asked once a request
    and district."""
    from app.tenants.context import require_tenant_id

    cached = g.setdefault("current_labels", {}).setdefault(require_tenant_id(), {})
    if part not in cached:
        version = configs.current_version()
        items = getattr(configs.config_of(version), part) if version is not None else {}
        cached[part] = {key: name(item) for key, item in items.items()}
    return cached[part]


def rating_label(case: Case, key: str | None) -> str:
    """A rating or ballot option recorded on the case, as its program names it."""
    from app.services.panel.ballots import option_label

    return option_label(_config(case), key) if key else "—"
