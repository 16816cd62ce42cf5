"""Every page of a district of each preset, as each role sees it (and as a visitor), read in
Chromium at 1280 px and at 390 px: axe-core finds no WCAG 2 A/AA violation, no id is used
twice, nothing is wider than a phone's window, nothing is written to the console as an
error and the Content Security Policy blocks nothing.

One URL per page (endpoint) per person is walked, and a page whose markup is the same as one
already walked (by another person, or in another preset's district in this process) is
walked once (``pagewalk.plan``); each page is loaded once and read at both widths. Every
problem is listed, one line per page, person, width and problem.
"""

from __future__ import annotations

import time

import pytest

from app.security.headers import CONTENT_SECURITY_POLICY
from app.security.roles import TENANT_ROLE_KEYS
from app.services import workflow_config as configs
from app.workflows.presets import load_preset, preset_keys
from tests.browser.pagewalk import DESKTOP, PHONE, Checks, plan, problems_on, session_cookie

pytestmark = pytest.mark.browser

#: The markup of every page walked in this process, so a page that reads the same in
#: another district (the sign-in page, a user's account) is walked once.
_WALKED: dict[str, str] = {}

#: How long one page may take to load before the walk calls it broken.
LOAD_TIMEOUT_MS = 15_000


@pytest.mark.parametrize("preset", preset_keys())
def test_every_page_reads_well_at_both_widths(
    preset, app, seed_district, live_server, shared_browser
):
    started = time.monotonic()
    with app.app_context():
        first_track = next(iter(configs.check(load_preset(preset)).tracks))
    slug = preset.replace("_", "-")
    seeded = seed_district(slug, preset, first_track)
    people = {"visitor": None} | {role: seeded.people[role] for role in sorted(TENANT_ROLE_KEYS)}
    walk = plan(app, seeded, people, _WALKED)
    answered = len(walk.visits) + len(walk.same_as)
    assert answered >= len(people), f"{preset}: only {answered} pages answered anyone"
    planned = time.monotonic()

    problems: list[str] = []
    for who, person in people.items():
        visits = [v for v in walk.visits if v.who == who]
        if not visits:
            continue
        context = shared_browser.new_context(viewport=DESKTOP)
        context.set_default_timeout(LOAD_TIMEOUT_MS)
        if person is not None:
            context.add_cookies(
                [
                    {
                        "name": app.config["SESSION_COOKIE_NAME"],
                        "value": session_cookie(app, person),
                        "url": live_server,
                    }
                ]
            )
        page = context.new_page()
        checks = Checks(page)
        try:
            for visit in visits:
                page.set_viewport_size(DESKTOP)
                response = page.goto(live_server + visit.url, wait_until="load")
                where = f"{visit.url} as {who}"
                if response is None or response.status != 200:
                    status = response.status if response else "nothing"
                    problems.append(f"{where}: answered {status} in the browser")
                    continue
                problems += [f"{where} at 1280 px: {p}" for p in problems_on(page, phone=False)]
                page.set_viewport_size(PHONE)
                problems += [f"{where} at 390 px: {p}" for p in problems_on(page, phone=True)]
                problems += [f"{where}: {p}" for p in checks.take()]
        finally:
            context.close()
    walked = time.monotonic()
    print(
        f"\n{preset}: {len(walk.visits)} pages walked ({len(walk.same_as)} the same as one "
        f"walked), planned in {planned - started:.1f} s, walked in {walked - planned:.1f} s"
    )
    assert not problems, f"{preset}: {len(problems)} problems:\n" + "\n".join(
        f"  {p}" for p in problems
    )


#: A page with one of everything the walk looks for.
_FLAWED = """<!doctype html><html lang="en"><head><title>Flawed</title>
<script src="/flawed.js"></script></head><body><main>
<h1>Flawed</h1><img src="/dot.gif" id="twice"><p id="twice">Twice</p>
<pre>{line}</pre><script>document.title = "inline";</script>
</main></body></html>"""


def test_the_checks_find_what_they_look_for(shared_browser):
    """A picture with no text, an id used twice, a line wider than a phone, a script that
    writes an error and an inline script the policy blocks: each is reported."""
    files = {
        "/": ("text/html", _FLAWED.format(line="x" * 200)),
        "/flawed.js": ("text/javascript", "console.error('the script broke');"),
        "/dot.gif": ("image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
    }

    def serve(route) -> None:
        kind, body = files[route.request.url.removeprefix("http://flawed.test")]
        headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}
        route.fulfill(status=200, content_type=kind, body=body, headers=headers)

    context = shared_browser.new_context(viewport=DESKTOP)
    try:
        context.route("http://flawed.test/**", serve)
        page = context.new_page()
        checks = Checks(page)
        page.goto("http://flawed.test/", wait_until="load")
        wide = problems_on(page, phone=False)
        page.set_viewport_size(PHONE)
        narrow = problems_on(page, phone=True)
        heard = checks.take()
    finally:
        context.close()
    assert any(p.startswith("axe image-alt") for p in wide), wide
    assert "ids used twice: twice" in wide
    assert not any("wider than the window" in p for p in wide), wide
    assert any("wider than the window: main > pre" in p for p in narrow), narrow
    assert "console error: the script broke" in heard, heard
    assert any(h.startswith("CSP violation: script-src") for h in heard), heard
