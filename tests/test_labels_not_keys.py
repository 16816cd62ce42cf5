"""People read the configuration's words, never its keys: every HTML page of a district of
each preset, as each role sees it, is searched for a key of the configuration written with
an underscore (``needs_improvement``, ``met_standards``) or a state key in quotes, and for
an ``id`` used twice (a label or an error tied to it would reach the wrong field).

Keys without an underscore read as words ("support", "closed") and are left alone; a key
inside an attribute, a URL or a form value is not read by anyone and is not searched. The
program configuration's own workspace (the document, its diff, its dry run) is where a
program admin reads and edits the keys themselves, beside their labels: it is not searched.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.security.roles import TENANT_ROLE_KEYS
from app.services import workflow_config as configs
from app.tenants.context import tenant_scope
from app.workflows import ProgramConfig
from app.workflows.presets import load_preset, preset_keys
from app.workflows.vocabulary import BALLOT_WORDS
from tests.formwalk import pages
from tests.routes import sign_in


class _Visible(HTMLParser):
    """The text a person reads: element text, outside scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style", "textarea"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "textarea") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(parser.parts)


def _keys(config: ProgramConfig) -> set[str]:
    """Every key of the configuration a page could print instead of its label."""
    found = set(config.outcomes) | set(config.report_groups) | set(config.visit_types)
    found |= {r.key for r in config.rating_scale} | {s.key for s in config.standards}
    found |= set(config.deadlines) | set(BALLOT_WORDS)
    for key, track in config.tracks.items():
        found |= {key, *track.states, *(t.key for t in track.transitions)}
    return found


def _states(config: ProgramConfig) -> set[str]:
    return {state for track in config.tracks.values() for state in track.states}


#: A key between straight or curly quotes.
_QUOTED = "['\u2018\u201c\"]([a-z][a-z0-9_]*)['\u2019\u201d\"]"


def keys_shown(text: str, config: ProgramConfig) -> set[str]:
    """The configuration keys ``text`` shows: those with an underscore, anywhere; a state
    key in quotes ('intake', “intake”)."""
    keys = _keys(config)
    shown = {word for word in re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text)} & keys
    quoted = set(re.findall(_QUOTED, text)) & _states(config)
    return shown | quoted


def test_the_search_finds_a_key_and_leaves_words_alone():
    config = configs.check(load_preset("boston_esp"))
    html = (
        "<p>Rated <b>needs_improvement</b>; the case is now \u2018intake\u2019.</p>"
        "<p>Needs improvement, in support.</p>"
        '<input value="not_met_standards"><script>var x = "met_standards";</script>'
    )
    assert keys_shown(visible_text(html), config) == {"needs_improvement", "intake"}


@pytest.mark.parametrize("preset", preset_keys())
def test_no_page_shows_a_configuration_key(preset, app, seed_district):
    with app.app_context():
        first_track = next(iter(configs.check(load_preset(preset)).tracks))
    seeded = seed_district(preset.replace("_", "-"), preset, first_track)
    tenant_id = seeded.tenant.id
    with app.app_context(), tenant_scope(tenant_id):
        config = configs.config_of(configs.latest_published())
    workspace = f"/t/{seeded.tenant.slug}/admin/workflow"
    urls = [u for u in pages(app, seeded.tenant.slug, tenant_id, seeded.natural)]
    urls = [u for u in urls if not u.startswith(workspace)]
    found: dict[str, set[str]] = {}
    repeated: dict[str, set[str]] = {}
    for role in sorted(TENANT_ROLE_KEYS):
        client = app.test_client()
        sign_in(client, seeded.people[role])
        for url in urls:
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            shown = keys_shown(visible_text(html), config)
            if shown:
                found.setdefault(f"{role} {url}", set()).update(shown)
            # An id names one element: a label or an error tied to a repeated one is lost.
            ids = re.findall(r'\sid="([^"]+)"', html)
            if twice := {i for i in ids if ids.count(i) > 1}:
                repeated[f"{role} {url}"] = twice
    assert not found, "keys where the configuration has a label:\n" + "\n".join(
        f"  {where}: {', '.join(sorted(keys))}" for where, keys in sorted(found.items())
    )
    assert not repeated, "ids used twice on a page:\n" + "\n".join(
        f"  {where}: {', '.join(sorted(ids))}" for where, ids in sorted(repeated.items())
    )
