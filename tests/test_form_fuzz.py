"""Every HTML form under attack: hypothesis posts hostile values to each one, beside
schemathesis on the API (``test_api_fuzz``).

The forms are not listed here: for each endpoint a district's form may post to (every POST
rule under ``/t/<tenant_slug>/`` in the URL map), the test walks the district's pages as
one person after another (a visitor for the public forms, then a caller who holds every
role, then people who see more of a case or a session by their relation to it) and fuzzes
the forms it finds, so a new form is covered the day it is added. A POST route no page
offers a form for is fuzzed with the fields of the ``FlaskForm`` its handler builds, and
named in a warning (a form gone missing, or a route nobody can use).

Each example is a real browser's submission with a valid CSRF token, then some fields
swapped for hostile values: NUL, invalid UTF-8 (a lone surrogate, as a browser would never
send but a script can), 100,000 characters, huge and negative numbers, impossible dates,
values of the wrong type (a file where text goes), missing, repeated and unknown fields.
Every response must be a non-5xx; when the post was refused (a 4xx, or the page that
answers shows an error) every row of every table and every file under the upload folder
must be exactly as before; and no post may leave a file on disk that no row names.

The district (a case at every step a form belongs to) is seeded once per process and put
back from a copy before each test. ``PARLEY_FORM_FUZZ_EXAMPLES`` sets the examples per
endpoint: a quick profile by default, ``make fuzz`` asks for more.
"""

from __future__ import annotations

import copy
import io
import os
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import hypothesis
import pytest
import stripe
from hypothesis import strategies as st
from sqlalchemy import select

from app import create_app
from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.panel import PanelMember
from app.models.status_report import StatusReport
from app.models.survey import SurveyInvitation
from app.models.user import PasswordReset, User
from app.security import limits
from app.security.matrix import MATRIX, TENANT_PUBLIC
from app.security.roles import TENANT_ROLE_KEYS
from app.services import (
    assignments,
    billing,
    cases,
    demo_panel,
    network,
    panel,
    password_resets,
    status_reports,
    support,
)
from app.services import surveys as survey_service
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.tenants.context import all_tenants, tenant_scope
from tests.conftest import make_app
from tests.factories import PASSWORD, csrf_token
from tests.formwalk import (
    Form,
    FormWalk,
    Template,
    encode,
    endpoint_of,
    form_endpoints,
    stray_files,
    trace,
)
from tests.fuzzing import EXPLORE
from tests.seeded import PDF, SURVEY

#: Examples per endpoint: a quick profile for CI; ``make fuzz`` sets a long run.
EXAMPLES = int(os.environ.get("PARLEY_FORM_FUZZ_EXAMPLES", "5"))

#: Read from an app that needs no database, so xdist can spread the endpoints.
ENDPOINTS = form_endpoints(create_app("testing", {"RATELIMIT_ENABLED": False}))


# The district: a case at every step a form belongs to.


@dataclass
class World:
    walk: FormWalk
    caller: User
    upload_root: Path


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _forward(case, actor: User, steps: int = 1) -> None:
    for _ in range(steps):
        enabled = [o for o in cases.options(case, actor) if o.enabled and not o.choices]
        forward = [o for o in enabled if o.key not in ("decline", "withdraw", "leave")]
        if forward:
            cases.apply(case, forward[0].key, actor)


@dataclass
class _Cast:
    """Who moves a case along: the coordinator, the CT, the committee."""

    coordinator: User
    ct: User
    committee: list[User]

    def assign(self, case) -> None:
        _forward(case, self.coordinator, 2)
        proposal = assignments.propose(case, self.ct, self.coordinator)
        for member in self.committee:
            if proposal.status == "proposed":
                assignments.review(proposal, member, True, None)

    def support(self, case) -> None:
        self.assign(case)
        _forward(case, self.coordinator)
        _forward(case, self.ct)

    def recommendation(self, case) -> None:
        self.support(case)
        for _ in range(8):
            visit = support.VisitInput("observation", date.today(), 45, notes="Observed.")
            support.log_visit(case, self.ct, visit)
        support.add_evidence(case, self.ct, "Summaries", [], (io.BytesIO(PDF), "sum.pdf"))
        _forward(case, self.ct)

    def panel_review(self, case) -> None:
        self.recommendation(case)
        rationale = "Eight observations show little change in practice over the support."
        support.submit_recommendation(case, self.ct, "unsatisfactory", rationale, [])


def _program(tenant_id: int) -> None:
    """Version 2: a participant survey, and committee consensus before a CT starts (so
    proposals wait for the committee's review); a draft beside it, waiting to be published."""
    document = copy.deepcopy(dict(configs.latest_published().document))
    document["surveys"] = [SURVEY]
    # Status reports every six weeks, and an appeal of the decision: their forms are fuzzed too.
    document["tracks"]["intervention"]["status_reports"] = {"every_weeks": 6}
    document["tracks"]["intervention"]["appeal"] = {
        "window_working_days": 10,
        "body": "final_authority",
        "granted_outcome": "returned_to_good_standing",
    }
    for transition in document["tracks"]["intervention"]["transitions"]:
        if transition["key"] == "assign_ct":
            transition["guards"] = [*transition.get("guards", []), "committee_consensus"]
    configs.save_draft(document)
    configs.publish(note="survey and consensus")
    configs.save_draft({**document, "program": {**document["program"], "name": "N"}})


def _seed(app, toledo_panel, make_user) -> tuple[User, dict]:
    """Toledo's panel with its case on an open agenda, plus a case at each other step a
    form belongs to (the caller is the CT of those in support), a closed one, a survey
    sent, a locked account, a network membership and a password reset link."""
    d = toledo_panel.district
    tenant_id = d.tenant.id
    caller = make_user(d.tenant, *sorted(TENANT_ROLE_KEYS), email="fuzz@toledo.org")
    teachers = [make_user(d.tenant, "teacher", email=f"t{n}@toledo.org") for n in range(7)]
    with app.app_context(), tenant_scope(tenant_id):
        _program(tenant_id)
        config = configs.config_of(configs.latest_published())
        me, coordinator = _user(caller.id), _user(d.people["coordinator"].id)
        committee = [_user(d.people["committee1"].id), _user(d.people["committee2"].id)]
        mine = _Cast(coordinator, me, committee)
        theirs = _Cast(coordinator, _user(d.people["ct"].id), committee)
        opened = []
        for teacher in teachers:
            case = cases.open_case(
                teacher=_user(teacher.id),
                track_key="intervention",
                school="Lincoln Elementary",
                latest_rating="unsatisfactory",
            )
            case.permanent_status = True
            opened.append(case)
        _request, proposed, in_support, recommending, ready, decided, closed = opened
        _forward(proposed, coordinator, 2)
        assignments.propose(proposed, theirs.ct, coordinator)
        mine.support(in_support)
        support.log_visit(in_support, me, support.VisitInput("observation", date.today(), 45))
        support.log_visit(in_support, me, support.VisitInput("observation", date.today()))
        support.add_goal(in_support, me, "Plan lessons around student work")
        # Two reports fall due; the first is written, so both the write and the
        # acknowledgment forms are on the page.
        due = (
            db.session.execute(
                select(StatusReport)
                .where(StatusReport.case_id == in_support.id)
                .order_by(StatusReport.due_on)
            )
            .scalars()
            .all()
        )
        ratings = {s.key: config.rating_scale[0].key for s in config.standards}
        status_reports.write(
            in_support,
            me,
            due[0].id,
            status_reports.ReportInput(
                ratings=ratings, current_view="Steady progress.", signed_name=me.name
            ),
        )
        mine.recommendation(recommending)
        theirs.panel_review(ready)
        seat = panel.seats.save_member(me, "teachers", False, None, None, Actor.system())
        seated = [_user(m.user_id) for m in panel.seats.members()]
        people = {"consulting_teacher": theirs.ct, "coordinator": coordinator}
        people["final_authority"] = _user(toledo_panel.final_authority.id)
        demo_panel.decide_a_case(decided, config, people, seated, approve=False)
        demo_panel.decide_a_case(closed, config, people, seated, approve=True)
        session = panel.sessions.schedule(date.today(), "Central office", Actor.system())
        panel.sessions.add_to_agenda(
            session, db.session.get(Case, toledo_panel.case_id), Actor.system()
        )
        for member_id in [*toledo_panel.member_ids.values(), seat.id]:
            member = db.session.get(PanelMember, member_id)
            panel.sessions.set_attendance(session, member, True, Actor.system())
        start, _ = config.school_year(date.today())
        year = f"{start.year}-{start.year + 1}"
        survey_service.send("participant", year, Actor.system())
        network.join(named=False, noisy=False, epsilon=1.0, actor=None)
        _user(d.people["principal"].id).locked_until = utcnow() + timedelta(hours=1)
        password_resets.request_reset(tenant_id, teachers[0].email)
        uow.commit()  # the reset mail runs inline, after the commit, and issues its own link
        invitation = db.session.execute(select(SurveyInvitation).limit(1)).scalar_one()
        reset = db.session.execute(select(PasswordReset)).scalars().first()
        number = configs.latest_published().number
        natural = {
            "token": survey_service.token_for(invitation),
            "reset_token": password_resets.issue_token(reset),
            "number": number,
            "a": 1,
            "b": number,
            "track": "intervention",
            "action": "begin_intake",
        }
        uow.commit()
    return caller, natural


@pytest.fixture
def endpoint() -> str:
    """The endpoint under attack: the fuzz test's parameter overrides it; any other test
    walks the app as it is (no Stripe)."""
    return ""


@pytest.fixture
def fuzz_app(endpoint, app, migrated, request):
    """The app, with Stripe (a loopback localstripe) for the billing forms: without it the
    billing page offers no form."""
    if not endpoint.startswith("billing."):
        return app
    base = request.getfixturevalue("localstripe")
    stripe.api_key, stripe.api_base = "sk_test_parley", base
    stripe.Plan.create(
        id="district", amount=240000, currency="usd", interval="year", product={"name": "D"}
    )
    plans = {"district": {**app.config["PLANS"]["district"], "stripe_price": "district"}}
    return make_app(migrated, STRIPE_SECRET_KEY="sk_test_parley", STRIPE_API_BASE=base, PLANS=plans)


@dataclass
class _Seeded:
    """What the tests need to know of the seeded district, kept with its template."""

    slug: str
    tenant_id: int
    caller: User
    people: list[User]
    natural: dict
    seeded_at: float
    #: The forms each person saw on each page of this database (``FormWalk.seen``).
    forms_seen: dict = field(default_factory=dict)


#: This process's seeded district: seeded by the first test, put back for the others.
_SEEDED: list[_Seeded] = []
#: A template older than this is seeded again (a reset link and a lockout last an hour).
_TEMPLATE_LIFE = 30 * 60


def _seeded(app, owner_engine, request) -> _Seeded:
    if _SEEDED and time.monotonic() - _SEEDED[0].seeded_at < _TEMPLATE_LIFE:
        with owner_engine.begin() as conn:
            Template.put_back(conn)
        return _SEEDED[0]
    toledo_panel = request.getfixturevalue("toledo_panel")
    caller, natural = _seed(app, toledo_panel, request.getfixturevalue("make_user"))
    d = toledo_panel.district
    # One person per way of seeing a page: roles, and relations to a case or a seat.
    people = [
        caller,
        *(d.people[key] for key in ("coordinator", "ct", "principal", "committee1", "admin")),
        toledo_panel.final_authority,
        toledo_panel.teacher,
        toledo_panel.members["teacher1"],
    ]
    with owner_engine.begin() as conn:
        Template.take(conn)
    _SEEDED[:] = [_Seeded(d.slug, d.tenant.id, caller, people, natural, time.monotonic())]
    return _SEEDED[0]


@pytest.fixture
def world(fuzz_app, owner_engine, request) -> World:
    app = fuzz_app
    seeded = _seeded(app, owner_engine, request)
    if app.config.get("STRIPE_SECRET_KEY"):
        with app.app_context(), all_tenants():
            billing.ensure_customer(seeded.tenant_id)
            uow.commit()
    walk = FormWalk(
        app, seeded.slug, seeded.tenant_id, seeded.natural, seeded.people, seeded.forms_seen
    )
    return World(walk, seeded.caller, Path(app.config["UPLOAD_ROOT"]))


# Hostile values, as the bytes that go on the wire.

_HUGE = 100_000
_NUMBERS = b"-1 0 -0 99999999999999999999999999999999 -9223372036854775809 2147483648 1e309 -1e309"
_ODD_NUMBERS = b"NaN inf 1.5 0x10 1_000"
_DATES = b"99999-01-01 0000-00-00 0001-01-01 9999-12-31 2024-02-30 -0001-01-01 2024-13-01"
_SHAPES = b"[] {} null true 1970-01-01T00:00:00"
_MARKUP = [b"<script>alert(1)</script>", b"' OR 1=1 --", b"%s%n%x", b"{{7*7}}"]
_CONTROL = [b"a\x00b", b"\x00", b"", b" ", b"\t\r\n", b"x\r\nSet-Cookie: a=b"]
#: Lone surrogates and other bytes that are not UTF-8: a browser never sends them, a script can.
_NOT_UTF8 = ["\ud800".encode("utf-8", "surrogatepass"), b"x\xed\xb2\x80y", b"\xff\xfe", b"\xc0\xaf"]
#: An Arabic-Indic three and fullwidth digits (``int()`` reads both), bidi and zero-width
#: marks, astral characters.
_UNICODE = [s.encode() for s in ("\u0663", "\uff11\uff12", "\u202e\ufeff\u200b", "\U0001d54f" * 3)]
HOSTILE: list[bytes] = [
    *_CONTROL,
    *_NOT_UTF8,
    b"x" * _HUGE,
    "\u00e9".encode() * _HUGE,
    *_NUMBERS.split(),
    *_ODD_NUMBERS.split(),
    b" 7 ",
    *_UNICODE,
    *_DATES.split(),
    *_SHAPES.split(),
    *_MARKUP,
    b"../../../etc/passwd",
]

_CONTENTS = [
    PDF,
    b"",
    b"MZ\x90\x00",
    b"<html><script></script>",
    b"PK\x03\x04junk",
    b"\xff\xd8\xff",
]
_FILENAMES = [
    *b"plan.pdf a\x00b.pdf ../../etc/passwd plan.pdf.exe CON".split(),
    b"",
    b"x" * 5000 + b".pdf",
    "\u00e9\U0001d54f.pdf".encode(),
    "\ud800.pdf".encode("utf-8", "surrogatepass"),
]

_hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40).map(str.encode),
    st.integers(0xD800, 0xDFFF).map(lambda c: chr(c).encode("utf-8", "surrogatepass")),
    st.integers().map(lambda n: str(n).encode()),
    st.floats().map(lambda x: repr(x).encode()),
    st.binary(max_size=24),
)


def _oversized() -> bytes:
    return PDF + b"0" * (10 * 1024 * 1024)


_file = st.tuples(
    st.sampled_from(_FILENAMES),
    st.sampled_from([b"application/pdf", b"text/html", b"application/octet-stream", b""]),
    st.one_of(
        st.sampled_from(_CONTENTS),
        st.binary(max_size=64),
        st.just(b"").map(lambda _: _oversized()),
    ),
)


def _plausible(form: Form, name: str) -> st.SearchStrategy[bytes]:
    """Values a person might type, so the fuzzer gets past the forms' own checks."""
    controls = form.controls(name)
    kind = controls[0].kind
    options = [o for c in controls for o in c.options] or [c.value for c in controls]
    by_kind = {
        "date": [date.today().isoformat(), "2020-09-01"],
        "number": ["1", "0", "45"],
        "email": ["fuzz@toledo.org", "new.person@toledo.org", "coord@toledo.org"],
        "password": [PASSWORD, "another long enough password"],
        "checkbox": [c.value for c in controls],
        "radio": [c.value for c in controls],
        "select": options,
    }
    values = by_kind.get(kind) or ["Fuzz text", *options]
    return st.sampled_from([v.encode() for v in values if v is not None])


def _values(form: Form, name: str) -> st.SearchStrategy[list]:
    """What is sent under ``name``: as the browser would, a plausible or hostile value,
    nothing, several values, or a file part where the form has none."""
    browser = [value.encode() for n, value in form.untouched() if n == name]
    if any(c.kind == "file" for c in form.controls(name)):
        browser = [(b"", b"application/octet-stream", b"")]
    one = st.one_of(_plausible(form, name), _hostile)
    choices = [
        st.just(browser),
        st.just(browser),
        one.map(lambda v: [v]),
        _hostile.map(lambda v: [v]),
        st.just([]),
        st.lists(one, min_size=2, max_size=3),
    ]
    if form.multipart:
        choices.append(_file.map(lambda f: [f]))
    return st.one_of(choices)


def _submission(form: Form) -> st.SearchStrategy[tuple[Form, list]]:
    names = [n for n in form.names if n != "csrf_token"]
    fields = st.fixed_dictionaries({n: _values(form, n) for n in names})
    extra = st.lists(st.tuples(st.sampled_from([b"id", b"tenant_id", b"role"]), _hostile))

    def flatten(drawn) -> tuple[Form, list]:
        chosen, unknown = drawn
        pairs = [(n.encode(), v) for n in names for v in chosen[n]]
        return form, pairs + unknown

    return st.tuples(fields, extra).map(flatten)


# The test.

#: What a page says when it refused what was posted: an error flash, or errors beside the
#: fields or on top of the form (``role="alert"``; a warning the page always shows is a
#: ``role="status"``), unless the post also says it was done.
_REFUSED, _ERRORS, _DONE = b"flash-error", (b"has-error", b'role="alert"'), b"flash-success"


def _refused(client, response) -> bool:
    """Refused: a 4xx, or an error on the page that answers (or the one it redirects to)."""
    if 400 <= response.status_code < 500:
        return True
    body = response.get_data()
    if response.status_code in (301, 302, 303) and response.location.startswith("/"):
        body = client.get(response.location).get_data()
    return _REFUSED in body or (any(m in body for m in _ERRORS) and _DONE not in body)


def _shown(pairs: list) -> str:
    """The posted fields, with long and file values cut short, for a failure message."""

    def short(value) -> str:
        if isinstance(value, tuple):
            return f"<file {short(value[0])} {value[1]!r} {len(value[2])} bytes>"
        return repr(value[:60]) + (f"... ({len(value)} bytes)" if len(value) > 60 else "")

    return ", ".join(f"{name.decode(errors='replace')}={short(v)}" for name, v in pairs)


def _token(walk: FormWalk, client, form: Form) -> str:
    page = client.get(form.page)
    if b"csrf_token" not in page.get_data():
        page = client.get(f"/t/{walk.slug}/login")
    return csrf_token(page.get_data(as_text=True))


#: Refusals that write on purpose: a failed sign-in counts towards the lockout and is audited.
_REFUSALS_THAT_WRITE = {"auth.login": {"users", "audit_events"}}


def _post(world: World, owner_engine, person, form: Form, pairs: list) -> None:
    """One post of ``pairs``; no 5xx, no trace of a refused post, no stray file."""
    walk, app = world.walk, world.walk.app
    with app.app_context():
        limits.reset()  # the fuzzer posts faster than any person; the limits are tested apart
    client = walk.client_for(person)
    body, content_type = encode(
        [(b"csrf_token", _token(walk, client, form).encode()), *pairs], form.multipart
    )
    request = f"POST {form.action} (form on {form.page}) with {_shown(pairs)}"
    with owner_engine.connect() as conn:
        before = trace(conn, world.upload_root)
    try:
        response = client.post(form.action, data=body, content_type=content_type)
    except Exception as exc:  # the app's own exception, propagated by the test client
        with owner_engine.connect() as conn:
            left = before.changes(trace(conn, world.upload_root), conn)
        exc.add_note(f"5xx: {request}\nleft behind: {left or 'nothing'}")
        raise
    assert response.status_code < 500, f"{response.status_code}: {request}"
    refused = _refused(client, response)
    with owner_engine.connect() as conn:
        after = trace(conn, world.upload_root)
        stray = stray_files(conn, before, after)
        assert not stray, f"files no row names after {request}: {stray}"
        if refused:
            endpoint = endpoint_of(app, form.action)[0]
            allowed = _REFUSALS_THAT_WRITE.get(endpoint, set())
            left = [c for c in before.changes(after, conn) if c.split(":")[0] not in allowed]
            assert not left, f"refused ({response.status_code}) but changed {left}: {request}"


def _rule(app, endpoint: str) -> str:
    return next(r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def _keep(walk: FormWalk):
    """Forms that would end the walk itself are left out: the caller's own account page
    (deactivating oneself ends the run, not a bug)."""

    def keep(person, form: Form) -> bool:
        _, args = endpoint_of(walk.app, form.action)
        return person is None or args.get("user_id") != person.id

    return keep


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_posts_to_every_form_leave_no_trace(endpoint, world, owner_engine):
    walk = world.walk
    public = MATRIX[endpoint].audience == TENANT_PUBLIC
    people = [None, *walk.people] if public else walk.people
    person, forms = walk.find(endpoint, _rule(walk.app, endpoint), people, _keep(walk))
    if not forms:
        warnings.warn(
            f"no page shows anyone a form for {endpoint}; fuzzing its handler's form",
            stacklevel=1,
        )
        person, forms = world.caller, walk.handler_forms(endpoint)
    assert forms, f"no page shows anyone a form for {endpoint}, and its handler builds none"

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not EXPLORE,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(st.sampled_from(forms).flatmap(_submission))
    def post(submission) -> None:
        form, pairs = submission
        _post(world, owner_engine, person, form, pairs)

    post()


def test_every_form_on_every_page_is_fuzzed(world):
    """The walk above starts from the URL map; this one from the pages: every form anyone
    sees posts to an endpoint the fuzzer covers."""
    walk, app = world.walk, world.walk.app
    seen = set()
    for _person, form in walk.every_form([None, *walk.people[:2]]):
        match = endpoint_of(app, form.action)
        assert match, f"a form on {form.page} posts to {form.action}, which no rule answers"
        seen.add(match[0])
    assert seen <= set(ENDPOINTS), f"forms post to endpoints not fuzzed: {seen - set(ENDPOINTS)}"
