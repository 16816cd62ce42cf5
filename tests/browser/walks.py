"""A case walked through a program's own pages in a real browser, one person at a time.

Every button, picker and option is found by the words the district's configuration gives
it (a step's ``label``, an outcome's label, a visit type's label), never by a preset's
text written here: the same walk then runs for every program, and a page that shows a
key where the configuration has a label is found by the walk itself.

``provision`` sets up the district and its people through the services (that part is not
what the walk checks); ``Walker`` is each person signed in (the first through the real login
page), doing their part of the case on the pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.tenant import Tenant
from app.models.user import User
from app.services import panel
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from app.workflows import ProgramConfig, Track, load_preset, validate
from app.workflows.model import Transition
from tests.browser.pagewalk import session_cookie
from tests.factories import PASSWORD

#: The school every walked case and its principal belong to (links the principal).
SCHOOL = "Lincoln Elementary"
#: A page is read once its document is parsed: what the walk reads is in it, and its
#: stylesheet and chart images are not waited for.
LOADED = "domcontentloaded"
#: What the CT writes of each visit.
VISIT_NOTES = "Observed a lesson; planned the next one."
VISIT_NEXT_STEPS = "Try exit tickets."
#: How long a step may take before the walk reports it stuck (a page, not a timing test).
STEP_TIMEOUT_MS = 15_000


# The district ------------------------------------------------------------------------------


@dataclass
class Cast:
    """A district made from one preset, with a person for every role its tracks name."""

    tenant: Tenant
    config: ProgramConfig
    coordinator: User
    ct: User
    principal: User
    final_authority: User
    committee: list[User]
    #: Seated and present for every session: enough for quorum, co-chairs first.
    panel: list[User]
    chair: User | None
    #: One teacher per track, by track key.
    teachers: dict[str, User]

    @property
    def slug(self) -> str:
        return self.tenant.slug


def provision(app, make_tenant, make_user, preset: str) -> Cast:
    """The district as its program office would set it up: created from ``preset`` by the
    provisioning service, staff with their roles, a committee where an assignment waits for
    its consensus, and a panel seated to quorum (the chairs as the configuration wants)."""
    slug = preset.replace("_", "-")
    tenant = make_tenant(slug, f"{slug.title()} Schools", preset=preset)
    config = validate(load_preset(preset)).config
    people = {
        role: make_user(tenant, role, email=f"{role}@{slug}.org")
        for role in ("coordinator", "consulting_teacher", "principal", "final_authority")
    }
    needs_committee = any(t.needs_committee_consensus for t in config.tracks.values())
    committee = (
        [make_user(tenant, "committee_member", email=f"committee{n}@{slug}.org") for n in (1, 2)]
        if needs_committee
        else []
    )
    teachers = {
        key: make_user(tenant, "teacher", email=f"teacher-{key}@{slug}.org".replace("_", "-"))
        for key in config.tracks
    }
    seats = _quorum_seats(config)
    members = [
        make_user(tenant, "panel_member", email=f"panel{n}@{slug}.org") for n in range(len(seats))
    ]
    with app.app_context(), tenant_scope(tenant.id):
        db.session.get(User, people["principal"].id).school = SCHOOL
        for user, (constituency, chair) in zip(members, seats, strict=True):
            panel.seats.save_member(
                db.session.get(User, user.id), constituency, chair, None, None, Actor.system()
            )
        uow.commit()
    chair = next((u for u, (_, c) in zip(members, seats, strict=True) if c), None)
    return Cast(
        tenant=tenant,
        config=config,
        coordinator=people["coordinator"],
        ct=people["consulting_teacher"],
        principal=people["principal"],
        final_authority=people["final_authority"],
        committee=committee,
        panel=members,
        chair=chair,
        teachers=teachers,
    )


def _quorum_seats(config: ProgramConfig) -> list[tuple[str, bool]]:
    """(constituency, chairs) for as many members as the quorum asks, the constituencies
    filled in turn within their seats; co-chairs are the first of each constituency,
    otherwise the first member alone chairs."""
    if config.panel is None:
        return []
    open_seats = {key: c.seats for key, c in config.panel.constituencies.items()}
    seats: list[tuple[str, bool]] = []
    while len(seats) < config.panel.quorum and any(open_seats.values()):
        for key in open_seats:
            if open_seats[key] and len(seats) < config.panel.quorum:
                first_of_side = all(k != key for k, _ in seats)
                chairs = first_of_side if config.panel.chair == "co_chairs" else not seats
                seats.append((key, chairs))
                open_seats[key] -= 1
    return seats


def backdate_support(app, cast: Cast, case_id: int, months: float) -> None:
    """Move the case's enrollment and start of support back by ``months`` (and a week).

    A guard such as ``min_months_of_support`` waits for time that a test cannot let pass;
    the case is given the history it would have after those months, as a case import of an
    older case carries its dates. Its visits, logged today, stay inside the support period.
    """
    start = date.today() - timedelta(days=round(months * 30.44) + 7)
    with app.app_context(), tenant_scope(cast.tenant.id):
        case = db.session.get(Case, case_id)
        case.enrolled_on, case.started_on = start, start
        uow.commit()


def more_visits(app, cast: Cast, case_id: int, count: int, visit_type: str) -> None:
    """``count`` more visits of the type labelled ``visit_type``, held today, logged by the
    case's CT through the service the visit form calls."""
    from app.services import support

    with app.app_context(), tenant_scope(cast.tenant.id):
        case = db.session.get(Case, case_id)
        kind = next(k for k, v in cast.config.visit_types.items() if v.label == visit_type)
        ct = db.session.get(User, cast.ct.id)
        for _ in range(count):
            visit = support.VisitInput(
                kind, date.today(), 45, notes=VISIT_NOTES, next_steps=VISIT_NEXT_STEPS
            )
            support.log_visit(case, ct, visit)
        uow.commit()


# Reading the configuration ------------------------------------------------------------------


def main_path(track: Track) -> list[Transition]:
    """The steps of a case's ordinary life on ``track``: the shortest path, each state once,
    from the initial state to a closing state (one that requires an outcome) that takes
    every step the track names a meaning for (its ``steps``: intake, the end of support,
    the recommendation, the panel's decision, the approval; not the return to the panel).
    A detour the configuration allows (a move to intervention) or a shortcut (a resignation
    that closes the case early) is not the ordinary life. Among equally short paths, the
    document's order of steps decides."""
    closing = {k for k, s in track.states.items() if s.terminal and s.outcome_required}
    named = set(track.steps.values()) - {track.steps.get("final_return")}
    best: list[Transition] | None = None

    def extend(state: str, seen: set[str], path: list[Transition]) -> None:
        nonlocal best
        if best is not None and len(path) >= len(best):
            return
        if state in closing and named <= {step.key for step in path}:
            best = list(path)
            return
        for step in track.transitions_from(state):
            if step.to not in seen:
                extend(step.to, seen | {step.to}, [*path, step])

    extend(track.initial_state, {track.initial_state}, [])
    assert best, f"{track.name}: no path from {track.initial_state} through {named} to a close"
    return best


def meaning_of(track: Track, step: Transition) -> str | None:
    """What the product does with ``step`` (``app.workflows.meanings``), if anything."""
    return next((m for m, key in track.steps.items() if key == step.key), None)


def outcome_choices(step: Transition) -> tuple[str, ...]:
    """The outcomes a closing step offers (or the one it fixes), in the document's order."""
    for effect in step.effects:
        if effect.name == "close_with_outcome":
            if "choices" in effect.params:
                return tuple(effect.params["choices"])
            return (effect.params["outcome"],)
    return ()


def guard(step: Transition, name: str) -> dict[str, Any] | None:
    """The parameters of the guard ``name`` on ``step``; None when the step has no such guard."""
    found = next((g for g in step.guards if g.name == name), None)
    return None if found is None else dict(found.params)


# The people on the pages --------------------------------------------------------------------


def submit(button) -> None:
    """Press a form's button and wait for the page the server answers with (a click alone
    returns before it, and the next look would read the page the form was on)."""
    with button.page.expect_navigation(wait_until=LOADED):
        button.click()


@dataclass
class Walker:
    """Each person of a ``Cast`` in their own browser context, signed in once (the first
    through the district's login page) and kept signed in for the rest of the walk."""

    browser: Any
    base: str
    cast: Cast
    #: The app the live server serves (for the session cookies of ``login``).
    app: Any
    #: What the walk found wrong on the pages without being stopped by it (a key shown
    #: where the configuration has a label, a label that names no field); the test fails
    #: on them once the walk is done, so one run lists them all.
    defects: list[str] = field(default_factory=list)
    #: Cases whose CT has written a status report.
    reported: set[int] = field(default_factory=set)
    _pages: dict[int, Any] = field(default_factory=dict)
    _session_url: str | None = None
    #: How many times a case may have changed: each form sent, and each change the test
    #: makes through the services (``changed``).
    _changes: int = 0
    #: What each page holds as the server last sent it: (its URL, ``_changes`` then).
    _fresh: dict[Any, tuple[str, int]] = field(default_factory=dict)

    def expect_words(self, text: str, words: str, where: str) -> None:
        """Record a defect unless ``text`` (what a page shows) says ``words`` (a label)."""
        if words not in text:
            shown = " ".join(text.split())[:160]
            self.defects.append(f"{self.cast.slug}, {where}: expected '{words}', shows '{shown}'")

    # Signing in and finding one's way

    def login(self, user: User):
        """``user``'s page, signed in the first time: the walk's first person through the
        login form, the others with the session cookie that form would have set (signing
        in is not what the walk checks, and each form sign-in cost a second)."""
        if user.id not in self._pages:
            context = self.browser.new_context()
            context.set_default_timeout(STEP_TIMEOUT_MS)
            if self._pages:
                name = self.app.config["SESSION_COOKIE_NAME"]
                cookie = session_cookie(self.app, user)
                context.add_cookies([{"name": name, "value": cookie, "url": self.base}])
                page = context.new_page()
            else:
                page = context.new_page()
                page.goto(self.url("/login"), wait_until=LOADED)
                page.get_by_label("E-mail").fill(user.email)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(self.url("/"))
            self._pages[user.id] = page
        return self._pages[user.id]

    def url(self, path: str) -> str:
        return f"{self.base}/t/{self.cast.slug}{path}"

    def changed(self) -> None:
        """A case changed outside the pages (through a service): every page is stale."""
        self._changes += 1

    def submit(self, button) -> None:
        """``submit``, and the page the server answers with is the latest of its URL."""
        submit(button)
        self._changes += 1
        self._fresh[button.page] = (button.page.url, self._changes)

    def goto(self, page, url: str) -> None:
        """Open ``url`` on ``page``, unless the page holds it as the server sent it since the
        last change (the answer to the person's own form): loading it again reads the same."""
        if self._fresh.get(page) == (url, self._changes) and page.url == url:
            return
        page.goto(url, wait_until=LOADED)
        self._fresh[page] = (url, self._changes)

    def open_case(self, user: User, case_id: int):
        page = self.login(user)
        self.goto(page, self.url(f"/cases/{case_id}"))
        return page

    def close(self) -> None:
        for page in self._pages.values():
            page.context.close()
        self._pages.clear()

    @staticmethod
    def flashed(page) -> str:
        """What the page said about the last thing done (empty when it said nothing)."""
        flashes = page.locator(".flashes")
        return flashes.inner_text() if flashes.count() else ""

    @staticmethod
    def refused(page) -> str:
        """Every error the page shows, on top of a form or beside a field."""
        return " | ".join(page.locator(".form-errors, ul.errors").all_inner_texts())

    def expect_done(self, page, what: str) -> str:
        said = self.flashed(page)
        if "flash-success" not in (page.locator(".flashes").inner_html() if said else ""):
            shown = said or self.refused(page) or page.locator("main").inner_text()
            raise AssertionError(f"{what}: no success message; the page says: {shown[:400]}")
        return said

    # Enrollment

    def enroll(self, track: Track, teacher: User, *, referred_by: User | None = None) -> int:
        """The teacher's own request on the public form, or a referral by ``referred_by``;
        the answers make the teacher eligible for the track. Returns the case's number,
        as the coordinator finds it in the intake queue."""
        if referred_by is None:
            page = self.browser.new_page()  # a stranger's browser: nobody is signed in
            page.set_default_timeout(STEP_TIMEOUT_MS)
            page.goto(self.url("/enroll"), wait_until=LOADED)
        else:
            page = self.login(referred_by)
            page.goto(self.url("/refer"), wait_until=LOADED)
        # The public form speaks to the teacher; the referral form speaks of them.
        own = referred_by is None
        words = {
            "name": "Your name" if own else "Teacher's name",
            "email": "Your school e-mail" if own else "Teacher's e-mail",
            "school": "School" if own else "The teacher's school",
            "track": "What you are asking for" if own else "What the teacher is referred for",
            "rating": (
                "Your latest evaluation rating" if own else "The teacher's latest evaluation rating"
            ),
            "years": "Years of service" if own else "The teacher's years of service",
            "permanent": (
                "I have permanent (professional) status"
                if own
                else "The teacher has permanent (professional) status"
            ),
        }
        page.get_by_label(words["name"], exact=True).fill(teacher.name)
        page.get_by_label(words["email"], exact=True).fill(teacher.email)
        page.get_by_label(words["school"], exact=True).fill(SCHOOL)
        page.get_by_label(words["track"]).select_option(label=track.name)
        rules = track.eligibility
        if rules.latest_ratings:
            rating = next(r for r in self.cast.config.rating_scale if r.key in rules.latest_ratings)
            page.get_by_label(words["rating"]).select_option(label=rating.label)
        page.get_by_label(words["years"]).fill(str(rules.min_years_of_service or 6))
        if rules.requires_permanent_status:
            page.get_by_label(words["permanent"]).check()
        if referred_by is not None:
            page.get_by_label("Referred by").select_option(label="The principal")
            page.get_by_label("Why you refer this teacher").fill(
                "Two formal observations this year found the lessons hard to follow."
            )
            self.submit(page.get_by_role("button", name="Send the referral"))
            self.expect_done(page, "the referral")
        else:
            page.get_by_label("In your own words").fill(
                "I want help planning lessons that reach every student."
            )
            self.submit(page.get_by_role("button", name="Send my request"))
            thanks = page.locator("main").inner_text()
            assert "Thank you" in thanks, f"the enrollment form answered: {thanks}"
            page.close()
        return self.find_request(teacher, track)

    def find_request(self, teacher: User, track: Track) -> int:
        """The coordinator finds the teacher's request in the intake queue."""
        page = self.login(self.cast.coordinator)
        page.goto(self.url("/"), wait_until=LOADED)
        page.get_by_role("link", name="Intake queue").click()
        row = page.locator("tr").filter(has_text=teacher.name)
        self.expect_words(row.inner_text(), track.name, "intake queue, the request's track")
        href = row.get_by_role("link").first.get_attribute("href")
        return int(re.search(r"/cases/(\d+)", href).group(1))

    # Steps of a case

    def take_step(self, user: User, case_id: int, label: str, *, outcome: str | None = None) -> str:
        """``user`` takes the step the configuration calls ``label`` on the case page
        (choosing ``outcome``, an outcome's label, where the step closes the case); returns
        what the page said."""
        page = self.open_case(user, case_id)
        action = page.locator("li.action").filter(
            has=page.get_by_role("button", name=label, exact=True)
        )
        assert action.count() == 1, (
            f"{user.email} sees no step '{label}' on case {case_id}; the steps shown: "
            f"{page.locator('li.action').all_inner_texts()}"
        )
        if outcome is not None:
            action.get_by_label("Outcome").select_option(label=outcome)
        self.submit(action.get_by_role("button", name=label, exact=True))
        return self.expect_done(page, f"'{label}' on case {case_id}")

    def state_shown(self, user: User) -> str:
        """The state on the case page ``user`` is on now (where their last step left them)."""
        return self._pages[user.id].get_by_test_id("case-state").inner_text()

    def state_of(self, user: User, case_id: int) -> str:
        return self.open_case(user, case_id).get_by_test_id("case-state").inner_text()

    def propose_ct(self, case_id: int) -> None:
        """The coordinator proposes the consulting teacher the page suggests."""
        page = self.open_case(self.cast.coordinator, case_id)
        section = page.locator("section").filter(has=page.locator("#assign-heading"))
        section.get_by_label(re.compile("consulting teacher", re.I)).select_option(
            label=self.cast.ct.name
        )
        self.submit(section.get_by_role("button", name="Propose"))
        self.expect_done(page, "proposing the CT")

    def answer_proposal(self, member: User, case_id: int) -> None:
        """A committee member approves the proposed consulting teacher."""
        page = self.login(member)
        page.goto(self.url("/"), wait_until=LOADED)
        page.get_by_role("link", name=f"Case {case_id}").click()
        page.get_by_label("Your answer").select_option(label="Approve")
        self.submit(page.get_by_role("button", name="Send my answer"))
        self.expect_done(page, "the committee's answer")

    def log_visits(
        self, case_id: int, count: int, visit_type: str, *, principal_at_first: bool = False
    ) -> None:
        """The CT logs ``count`` visits held today (``visit_type`` is its label), one after
        the other from the case page each save returns to; the principal took part in the
        first where ``principal_at_first``."""
        page = self.open_case(self.cast.ct, case_id)
        for n in range(count):
            self.log_visit(
                page, case_id, visit_type, principal_present=principal_at_first and n == 0
            )

    def log_visit(
        self, page, case_id: int, visit_type: str, *, principal_present: bool = False
    ) -> None:
        """The CT logs one visit on the case ``page`` they are on."""
        page.get_by_text("Log a visit").click()
        form = page.get_by_test_id("visit-form")
        form.get_by_label("Type").select_option(label=visit_type)
        form.get_by_label("Minutes").fill("45")
        form.get_by_label("Notes", exact=True).fill(VISIT_NOTES)
        form.get_by_label("Next steps").fill(VISIT_NEXT_STEPS)
        if principal_present:
            form.get_by_label("The principal took part").check()
        self.submit(form.get_by_role("button", name="Save the visit"))
        self.expect_done(page, f"a visit on case {case_id}")

    def add_evidence(self, user: User, case_id: int, text: str, standards) -> None:
        """``user`` (the CT, or the principal as secondary evaluator) adds written evidence
        tagged to ``standards`` (their labels)."""
        page = self.open_case(user, case_id)
        page.get_by_text("Add evidence").click()
        form = page.locator("form[action$='/evidence']")
        labelled = form.get_by_label("Evidence", exact=True)
        if labelled.count() != 1:
            self.defects.append(
                f"{self.cast.slug}, case {case_id}, Add evidence: the label 'Evidence' names no "
                "field of its form (another field of the page has its id); typed by name"
            )
            labelled = form.locator("textarea[name=text]")
        labelled.fill(text)
        if standards:
            form.get_by_label("Standards").select_option(label=list(standards))
        self.submit(form.get_by_role("button", name="Add"))
        self.expect_done(page, f"evidence on case {case_id}")

    def recommend(self, case_id: int, step_label: str, rating: str) -> None:
        """The CT writes the recommendation (``rating`` is its label), reads what the panel
        will read, and confirms it: that takes the step ``step_label``."""
        page = self.open_case(self.cast.ct, case_id)
        waiting = page.locator("li.action").filter(has_text=step_label)
        assert waiting.count() == 1, f"the CT's page does not name the step '{step_label}'"
        section = page.locator("section").filter(has=page.locator("#rec-heading"))
        section.get_by_label("Recommended rating").select_option(label=rating)
        section.get_by_label("Rationale").fill(
            "Six months of visits and evidence show steady, real growth in practice."
        )
        self.submit(section.get_by_role("button", name="Submit the recommendation"))
        self.submit(page.get_by_role("button", name="Confirm and send to the panel"))
        self.expect_done(page, f"the recommendation on case {case_id}")

    # The panel

    def panel_session(self) -> str:
        """The coordinator schedules today's session once and records every seated member
        present; later cases join the same session."""
        if self._session_url is None:
            page = self.login(self.cast.coordinator)
            page.goto(self.url("/"), wait_until=LOADED)
            page.get_by_role("link", name="Panel sessions").click()
            self.submit(page.get_by_role("button", name="Schedule a session"))
            page.wait_for_url(re.compile(r"/panel/sessions/\d+$"))
            for member in self.cast.panel:
                page.get_by_label("Member", exact=True).select_option(label=member.name)
                page.get_by_label("Present?").select_option(label="Present")
                self.submit(page.get_by_role("button", name="Record"))
                self.expect_done(page, f"{member.name}'s attendance")
            self._session_url = page.url
        return self._session_url

    def put_on_agenda(self, case_id: int) -> None:
        page = self.login(self.cast.coordinator)
        self.goto(page, self.panel_session())
        picker = page.get_by_label("Case ready for the panel")
        ready = picker.locator("option").all_inner_texts()
        picker.select_option(label=next(o for o in ready if o.startswith(f"#{case_id} ")))
        self.submit(page.get_by_role("button", name="Add to the agenda"))
        self.expect_done(page, f"case {case_id} on the agenda")

    def vote(self, member: User, case_id: int, option: str) -> None:
        """A seated member casts a sealed ballot (``option`` is its label)."""
        page = self.login(member)
        self.goto(page, self.panel_session())
        item = page.get_by_test_id(f"agenda-item-{case_id}")
        item.get_by_label("Your vote").select_option(label=option)
        self.submit(item.get_by_role("button", name="Cast my ballot"))
        said = self.expect_done(page, f"{member.name}'s ballot")
        assert f"Your ballot is in: {option}" in said, said

    def close_vote(self, case_id: int) -> str:
        """The chair closes the vote; returns the decision as the agenda states it."""
        page = self.login(self.cast.chair)
        self.goto(page, self.panel_session())
        item = page.get_by_test_id(f"agenda-item-{case_id}")
        self.submit(item.get_by_role("button", name="Close the vote"))
        self.expect_done(page, f"closing the vote on case {case_id}")
        return page.get_by_test_id(f"agenda-item-{case_id}").inner_text()

    def approve(self, case_id: int, outcome: str | None, recommendation: str) -> None:
        """The final authority approves the panel's decision from their desk, choosing the
        outcome (its label) where the approving step offers a choice; the desk shows the
        CT's ``recommendation`` (its label)."""
        page = self.login(self.cast.final_authority)
        page.goto(self.url("/"), wait_until=LOADED)
        page.get_by_role("link", name="Panel decisions waiting for you").click()
        card = page.get_by_test_id(f"approval-{case_id}")
        self.expect_words(card.inner_text(), recommendation, "approvals, the CT's recommendation")
        card.get_by_label("Decision").select_option(label="Approve")
        if outcome is not None:
            card.get_by_label("Outcome that closes the case").select_option(label=outcome)
        card.get_by_label("Note").fill("Approved as the panel decided.")
        self.submit(card.get_by_role("button", name="Record the decision"))
        self.expect_done(page, f"the approval of case {case_id}")

    # Due process: status reports, the acknowledgment of the decision, the appeal

    def write_status_report(self, case_id: int, ratings: dict[str, str]) -> bool:
        """The CT writes the status report the case page asks for next, rating each
        standard (label -> rating label), and signs it; False when none is asked for yet."""
        page = self.open_case(self.cast.ct, case_id)
        opener = page.locator("summary").filter(has_text=re.compile(r"^Write the "))
        if opener.count() == 0:
            return False
        opener.click()
        form = page.get_by_test_id("status-report-form")
        for standard, rating in ratings.items():
            form.get_by_label(standard, exact=True).select_option(label=rating)
        form.get_by_label("Your current view").fill("Lessons are better planned each week.")
        form.get_by_label("Sign with your name").fill(self.cast.ct.name)
        self.submit(form.get_by_role("button", name="Sign and send the report"))
        self.expect_done(page, f"the status report on case {case_id}")
        return True

    def acknowledge_report(self, teacher: User, case_id: int) -> None:
        """The teacher acknowledges the written status report with their typed name."""
        page = self.open_case(teacher, case_id)
        form = page.locator("form[data-testid^='report-ack-form-']").first
        form.get_by_label("Type your name to acknowledge").fill(teacher.name)
        self.submit(form.get_by_role("button", name="Acknowledge receipt"))
        self.expect_done(page, f"the teacher's acknowledgment of a report on case {case_id}")

    def acknowledge_decision(self, teacher: User, case_id: int) -> str:
        """The teacher signs for the decision with their typed name; returns what the
        acknowledgments list then says."""
        page = self.open_case(teacher, case_id)
        form = page.get_by_test_id("acknowledgment-form")
        form.get_by_label("Type your full name").fill(teacher.name)
        form.get_by_label("I understand that acknowledging receipt does not mean I agree").check()
        self.submit(form.get_by_role("button", name="Acknowledge receipt"))
        self.expect_done(page, f"the teacher's acknowledgment of the decision on case {case_id}")
        return page.get_by_test_id("acknowledgments").inner_text()

    def file_appeal(self, teacher: User, case_id: int) -> None:
        """The teacher appeals the approved decision, inside the window the page shows."""
        page = self.open_case(teacher, case_id)
        form = page.get_by_test_id("appeal-form")
        form.get_by_label("Why you appeal the decision").fill(
            "The observations were all in one class period; I ask for a review."
        )
        self.submit(form.get_by_role("button", name="File the appeal"))
        self.expect_done(page, f"the appeal on case {case_id}")

    def decide_appeal(self, user: User, case_id: int, decision: str) -> str:
        """``user`` (the appeal's body) decides it (``decision`` is the choice's label);
        returns the result the case page then shows."""
        page = self.open_case(user, case_id)
        form = page.get_by_test_id("appeal-decision-form")
        form.get_by_label("Decision on the appeal").select_option(label=decision)
        form.get_by_label("Reasons").fill("The record shows enough observations across classes.")
        self.submit(form.get_by_role("button", name="Decide the appeal"))
        self.expect_done(page, f"the decision on the appeal of case {case_id}")
        return page.get_by_test_id("appeal-result").inner_text()

    # What people read afterwards

    def teachers_case(self, teacher: User):
        """The teacher signs in and opens their case from their home page."""
        page = self.login(teacher)
        if page.url != self.url("/"):  # not there already (it was just read): no reload
            page.goto(self.url("/"), wait_until=LOADED)
        page.get_by_test_id("my-case").get_by_role("link").first.click()
        return page

    def report_figures(self, year: str | None = None) -> tuple[dict[str, str], str]:
        """The annual report's figures, as the coordinator reads them (label -> figure),
        and its table by track, as text: the year it opens on, or ``year``'s."""
        page = self.login(self.cast.coordinator)
        if year is None:
            page.goto(self.url("/"), wait_until=LOADED)
            page.get_by_role("link", name="Annual report").click()
            page.wait_for_url(re.compile(r"/reports/annual"), wait_until=LOADED)
        else:
            page.goto(self.url(f"/reports/annual?year={year}"), wait_until=LOADED)
        figures = page.get_by_test_id("report-figures")
        # ``all_inner_texts`` does not wait: read only once the report is on the page.
        figures.wait_for()
        terms = figures.locator("dt").all_inner_texts()
        values = figures.locator("dd").all_inner_texts()
        by_track = page.locator("section").filter(has=page.locator("#tracks-heading"))
        return dict(zip(terms, values, strict=True)), by_track.inner_text()
