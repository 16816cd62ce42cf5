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
        urls = [v.url for v in walk.visits if v.who == who]
        cookie = None if person is None else session_cookie(app, person)
        problems += read_pages(shared_browser, live_server, app, cookie, urls, who)
    walked = time.monotonic()
    print(
        f"\n{preset}: {len(walk.visits)} pages walked ({len(walk.same_as)} the same as one "
        f"walked), planned in {planned - started:.1f} s, walked in {walked - planned:.1f} s"
    )
    assert not problems, f"{preset}: {len(problems)} problems:\n" + "\n".join(
        f"  {p}" for p in problems
    )


def read_pages(browser, base: str, app, cookie: str | None, urls: list[str], who: str):
    """Load each of ``urls`` once as one person (their session ``cookie``, or none for a
    visitor) and read it at both widths; every problem found, one line each."""
    if not urls:
        return []
    problems: list[str] = []
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(LOAD_TIMEOUT_MS)
    if cookie is not None:
        name = app.config["SESSION_COOKIE_NAME"]
        context.add_cookies([{"name": name, "value": cookie, "url": base}])
    page = context.new_page()
    checks = Checks(page)
    try:
        for url in urls:
            page.set_viewport_size(DESKTOP)
            response = page.goto(base + url, wait_until="load")
            where = f"{url} as {who}"
            expected = EXPECTED_STATUS.get(url, 200)
            if response is None or response.status != expected:
                status = response.status if response else "nothing"
                problems.append(f"{where}: answered {status} in the browser")
                continue
            problems += [f"{where} at 1280 px: {p}" for p in problems_on(page, phone=False)]
            page.set_viewport_size(PHONE)
            problems += [f"{where} at 390 px: {p}" for p in problems_on(page, phone=True)]
            heard = checks.take()
            if expected != 200:
                # Chromium reports the refusal's own status once; anything more is a problem.
                said = (
                    "console error: Failed to load resource: "
                    f"the server responded with a status of {expected} "
                )
                first = next((h for h in heard if h.startswith(said)), None)
                heard = [h for h in heard if h is not first]
            problems += [f"{where}: {p}" for p in heard]
    finally:
        context.close()
    return problems


#: Refusal pages the platform walk reads, by the status they answer.
EXPECTED_STATUS: dict[str, int] = {}


def _platform_cookie(app, email: str, role: str) -> str:
    """The session cookie of a platform person signed in through the operators' form."""
    from tests.network.generated import platform_client

    cookie = platform_client(app, email, role).get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, f"{email} could not sign in"
    return cookie.value


def test_the_operators_pages_and_the_refusals_read_well(
    app, seed_district, live_server, shared_browser
):
    """The pages outside a district's portal: the operators' sign-in and home, the network
    as its analyst reads it (with figures), and the pages that refuse: a page that is not
    there, a district that is not there, a role that may not, and a district closed by its
    cancelled subscription, as its coordinator (who is told who can restore it) and as its
    program admin (who lands on billing)."""
    from app.core import uow
    from app.extensions import db
    from app.models.tenant import Tenant
    from tests.network.generated import seed_others

    seeded = seed_district("closed-district", "boston_esp", "pa")
    seed_others(app, count=8, years_back=3)
    slug = seeded.tenant.slug
    problems = read_pages(shared_browser, live_server, app, None, ["/ops/login"], "visitor")
    operator = _platform_cookie(app, "operator@parley.org", "operator")
    problems += read_pages(shared_browser, live_server, app, operator, ["/ops/"], "operator")
    analyst = _platform_cookie(app, "analyst@parley.org", "network_analyst")
    problems += read_pages(shared_browser, live_server, app, analyst, ["/network/"], "analyst")
    EXPECTED_STATUS.update(
        {f"/t/{slug}/no-such-page": 404, "/t/no-such-district/": 404, f"/t/{slug}/admin/users": 403}
    )
    teacher = session_cookie(app, seeded.people["teacher"])
    refused = [f"/t/{slug}/no-such-page", "/t/no-such-district/", f"/t/{slug}/admin/users"]
    problems += read_pages(shared_browser, live_server, app, teacher, refused, "teacher")
    with app.app_context():
        db.session.get(Tenant, seeded.tenant.id).billing_status = "canceled"
        uow.commit()
    EXPECTED_STATUS[f"/t/{slug}/cases/"] = 402
    coordinator = session_cookie(app, seeded.people["coordinator"])
    problems += read_pages(
        shared_browser, live_server, app, coordinator, [f"/t/{slug}/cases/"], "coordinator"
    )
    admin = session_cookie(app, seeded.people["program_admin"])
    problems += read_pages(
        shared_browser, live_server, app, admin, [f"/t/{slug}/billing"], "program admin"
    )
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems)


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
