"""What the page walk visits, and what it checks on each page in Chromium.

``plan`` asks the Flask test client, as each person, for every HTML page of a seeded
district and keeps one URL per endpoint that answers 200 ``text/html``; a page whose markup
is the same as one already walked, by another person or in another district (once the CSRF
token, the reader's name and address and the district's name and slug are taken out), is
walked once, as the first person who saw it: the browser would read the same page. ``Checks``
listens to one browser page for console errors and blocked content; ``problems_on`` reads
a loaded page at the window's current width: axe-core's WCAG 2 A/AA rules, ids used twice,
and (on a phone) anything wider than the window.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe
from flask import Flask

from tests.formwalk import pages
from tests.routes import sign_in

#: The widths walked: a laptop, and a phone held upright.
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: axe-core's rules for WCAG 2.0, 2.1 and 2.2 at levels A and AA (best practices left out).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
#: axe-core as the package ships it, given to each browser context once (``Checks``).
AXE_SCRIPT = Axe().axe_script
_RUN_AXE = (
    "() => axe.run(document, "
    + json.dumps({"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    + ")"
)

#: Public pages of the site outside a district, walked by a visitor.
SITE_PAGES = ("/", "/find")

#: A form's CSRF token (new for every response), either way round its attributes come.
_CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"|(value=")[^"]*("[^>]*name="csrf_token")')


@dataclass(frozen=True)
class Visit:
    """One page one person walks."""

    who: str  # the role key, or "visitor"
    url: str


@dataclass
class Plan:
    """The pages to walk, in the order walked (person by person)."""

    visits: list[Visit] = field(default_factory=list)
    #: Pages left out because another person's copy is the same markup: (who, url, as whom).
    same_as: list[tuple[str, str, str]] = field(default_factory=list)


def _markup_key(html: str, tenant, person) -> str:
    """The page's markup without what differs only by reader and district: the CSRF token,
    the reader's name and e-mail address, the district's name and slug."""
    html = _CSRF.sub("csrf", html)
    if person is not None:
        html = html.replace(person.email, "{email}").replace(person.name, "{name}")
    html = html.replace(tenant.name, "{district}").replace(f"/t/{tenant.slug}/", "/t/{slug}/")
    return hashlib.sha256(html.encode()).hexdigest()


def plan(app: Flask, seeded, people: dict, seen: dict[str, str]) -> Plan:
    """The pages to walk: per person (``None`` for a visitor), the first URL of each
    endpoint that answers them 200 ``text/html``, less the pages already walked by someone
    (``seen``, kept across districts: markup key -> who walked it, where)."""
    tenant = seeded.tenant
    urls = pages(app, tenant.slug, tenant.id, seeded.natural)
    bind = app.url_map.bind("localhost")
    endpoint = {url: bind.match(url)[0] for url in urls}
    result = Plan()
    for who, person in people.items():
        client = app.test_client()
        if person is not None:
            sign_in(client, person)
        done: set[str] = set()
        for url in (*urls, *(SITE_PAGES if person is None else ())):
            name = endpoint.get(url, url)
            if name in done:
                continue
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            done.add(name)
            key = _markup_key(response.get_data(as_text=True), tenant, person)
            if key in seen:
                result.same_as.append((who, url, seen[key]))
                continue
            seen[key] = f"{who} in {tenant.slug}"
            result.visits.append(Visit(who, url))
    return result


def session_cookie(app: Flask, person) -> str:
    """The session cookie of ``person`` signed in, as the sign-in form would have set it
    (the live server shares the test app's secret key)."""
    client = app.test_client()
    sign_in(client, person)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, "signing in set no session cookie"
    return cookie.value


#: Records every Content Security Policy violation the page reports, before its own code.
_LISTEN_FOR_CSP = """
window.__blocked = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__blocked.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
    + (e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : ''));
});
"""

#: Ids used more than once in the page as the browser holds it (scripts ran).
_DUPLICATE_IDS = """() => {
  const counts = {};
  for (const el of document.querySelectorAll('[id]')) counts[el.id] = (counts[el.id] || 0) + 1;
  return Object.keys(counts).filter((id) => counts[id] > 1);
}"""

#: How wide the document is, and what makes it wider than the window: an element that sticks
#: out while its parent fits, or one whose own text runs out of it (a long word) while none of
#: its children do. Whatever sits in a box that scrolls or clips is left out.
_OVERFLOW = """() => {
  const limit = window.innerWidth;
  const width = document.documentElement.scrollWidth;
  if (width <= limit) return {width, limit, culprits: []};
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].map((c) => '.' + c).join('');
  const path = (el) => {
    const parts = [];
    for (let at = el; at && at !== document.body && parts.length < 4; at = at.parentElement)
      parts.unshift(name(at));
    return parts.join(' > ');
  };
  const clipped = (el) => {
    for (let at = el.parentElement; at; at = at.parentElement)
      if (getComputedStyle(at).overflowX !== 'visible') return true;
    return false;
  };
  const sticks = (el) => el.getBoundingClientRect().right > limit + 1;
  const spills = (el) => el.getBoundingClientRect().left + el.scrollWidth > limit + 1;
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    const parent = el.parentElement;
    const boxOut = sticks(el) && !(parent && sticks(parent));
    const textOut = !sticks(el) && spills(el)
      && ![...el.children].some((child) => sticks(child) || spills(child));
    if ((boxOut || textOut) && !clipped(el)) {
      const right = Math.round(el.getBoundingClientRect().left + el.scrollWidth);
      culprits.push(`${path(el)} (${boxOut ? 'reaches' : 'its text reaches'} ${right} px)`);
      if (culprits.length >= 3) break;
    }
  }
  return {width, limit, culprits};
}"""


#: The CSP violations recorded so far, and none kept (one round trip to the page).
_TAKE_BLOCKED = "() => { const b = window.__blocked || []; window.__blocked = []; return b; }"

#: axe-core's violations, the ids used twice and (on a phone) the overflow, read in one
#: round trip to the page: each is the script above, run in turn as before.
_READ = (
    "async (phone) => ({violations: (await ("
    + _RUN_AXE
    + ")()).violations, twice: ("
    + _DUPLICATE_IDS
    + ")(), overflow: phone ? ("
    + _OVERFLOW
    + ")() : null})"
)


class Checks:
    """Listens to one page for console errors, uncaught exceptions and blocked content."""

    def __init__(self, page) -> None:
        self.page = page
        self.heard: list[str] = []
        # Scripts given this way run before the page's own, outside its Content Security
        # Policy: the page is read as it is served.
        page.add_init_script(_LISTEN_FOR_CSP)
        page.add_init_script(AXE_SCRIPT)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.heard.append(f"uncaught error: {error}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.heard.append(f"console error: {message.text}")
        elif "Content Security Policy" in message.text:
            self.heard.append(f"CSP: {message.text}")

    def take(self) -> list[str]:
        """What was heard since the last call, the page's CSP violations included."""
        blocked = self.page.evaluate(_TAKE_BLOCKED)
        heard, self.heard = self.heard + [f"CSP violation: {b}" for b in blocked], []
        return heard


def problems_on(page, phone: bool) -> list[str]:
    """What is wrong with the loaded page at the window's current width."""
    found = []
    read = page.evaluate(_READ, phone)
    for violation in read["violations"]:
        targets = [" ".join(map(str, n["target"])) for n in violation["nodes"][:3]]
        more = len(violation["nodes"]) - len(targets)
        found.append(
            f"axe {violation['id']}: {violation['help']} at {', '.join(targets)}"
            + (f" (+{more} more)" if more > 0 else "")
        )
    if twice := read["twice"]:
        found.append(f"ids used twice: {', '.join(sorted(twice))}")
    if phone:
        overflow = read["overflow"]
        if overflow["width"] > overflow["limit"]:
            found.append(
                f"{overflow['width']} px wide, wider than the window: "
                + ("; ".join(overflow["culprits"]) or "no single element found")
            )
    return found
