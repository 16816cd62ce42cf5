"""The API under attack: schemathesis against every operation of ``/api/v1/openapi.json``.

Each operation is its own test, so every one starts from a freshly seeded district (the
fixtures truncate the tables after each test) and xdist spreads them over the workers.
The caller is a program admin who also holds every other tenant role (several operations
belong to the CT, the coordinator, a panel member or the final authority), so no operation
stops at the role check; path and query parameters and fields of the body are swapped for
real ids and keys of the district most of the time, so the fuzzer gets past the 404s and
422s into the handlers. The network API, for platform accounts, is called as an analyst.

Every response must be a non-5xx, with a documented status code and content type, and
match the documented schema; input the document calls invalid must be refused with a 4xx.
``PARLEY_FUZZ_EXAMPLES`` sets the examples per operation (``make fuzz`` runs 1,000); the
default is a quick profile for CI.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import date

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import negated_parameters
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app import create_app
from app.core import uow
from app.extensions import db
from app.models.assignment import Assignment
from app.models.case import Case
from app.models.panel import PanelMember, PanelSession
from app.models.support import Evidence
from app.models.user import User
from app.security import limits
from app.security.identity import PlatformPrincipal
from app.security.roles import TENANT_ROLE_KEYS
from app.services import assignments, cases, network, panel, tokens, users
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD, api_token
from tests.fuzzing import EXPLORE

#: Examples per operation: a quick profile by default, ``make fuzz`` asks for 1,000.
EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "20"))

PATH, QUERY, BODY = ParameterLocation.PATH, ParameterLocation.QUERY, ParameterLocation.BODY

#: The document is read from an app that needs no database: it is built from the URL map alone.
#: The bearer token is the caller's own (sent with every request), never a generated one.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app("testing", {"RATELIMIT_ENABLED": False}),
    config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}}),
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

#: How often a generated value is swapped for a real one.
_REAL_SHARE = 0.8


@dataclass
class World:
    """The seeded district as the fuzzer sees it: the caller and real values by name."""

    slug: str
    tenant_id: int
    caller_id: int
    email: str
    token: str
    values: dict[str, list] = field(default_factory=dict)
    analyst_cookies: dict[str, str] = field(default_factory=dict)


def _seed_caller(app, toledo_panel, make_user) -> tuple[int, dict[str, list]]:
    """A caller with every role: the assigned CT of a case of their own, seated on the panel,
    present at a session whose agenda holds the case waiting for the panel."""
    d = toledo_panel.district
    caller = make_user(d.tenant, *sorted(TENANT_ROLE_KEYS), email="fuzz@toledo.org")
    with app.app_context(), tenant_scope(d.tenant.id):
        me = db.session.get(User, caller.id)
        coordinator = db.session.get(User, d.people["coordinator"].id)
        own = cases.open_case(
            teacher=db.session.get(User, toledo_panel.teacher.id),
            track_key="intervention",
            school="Lincoln Elementary",
            latest_rating="unsatisfactory",
        )
        own.permanent_status = True
        for action in ("begin_intake", "accept"):
            cases.apply(own, action, coordinator)
        assignments.propose(own, me, coordinator)
        seat = panel.seats.save_member(me, "teachers", False, None, None, Actor.system())
        session = panel.sessions.schedule(date.today(), "Central office", Actor.system())
        panel.sessions.add_to_agenda(
            session, db.session.get(Case, toledo_panel.case_id), Actor.system()
        )
        for member_id in [*toledo_panel.member_ids.values(), seat.id]:
            panel.sessions.set_attendance(
                session, db.session.get(PanelMember, member_id), True, Actor.system()
            )
        uow.commit()
        config = configs.config_of(configs.latest_published())
        track = config.tracks["intervention"]
        values = _values(config, track)
        values["document"] = [dict(configs.latest_published().document)]
    return caller.id, values


def _values(config, track) -> dict[str, list]:
    """Real values by the name a parameter or body field has in the document."""

    def ids(model) -> list[int]:
        return list(db.session.execute(select(model.id).order_by(model.id)).scalars())

    return {
        "user_id": ids(User),
        "case_id": ids(Case),
        "assignment_id": ids(Assignment),
        "panel_session_id": ids(PanelSession),
        "member_id": ids(PanelMember),
        "evidence_id": ids(Evidence),
        "number": [1],
        "track": list(config.tracks),
        "action": [t.key for t in track.transitions],
        "visit_type": list(config.visit_types),
        "constituency": ["teachers", "administrators"],
        "rating": [level.key for level in config.rating_scale],
        "outcome": list(config.outcomes),
        "state": list(track.states),
        "option": list(track.ballot_options),
        "school": ["Lincoln Elementary"],
        "year": [date.today().year, _school_year(config)],
        "track_kind": ["all", "assistance", "review", "induction"],
        "size_band": ["under 25", "25-99", "100-249", "250+"],
        "file": [_history(config).encode()],
        "text": ["Observed a lesson on fractions; students worked in pairs."],
    }


def _history(config) -> str:
    """A case history the import accepts: one closed case and one still open."""
    track, outcome = "intervention", next(iter(config.outcomes))
    year = date.today().year - 2
    return (
        "external_id,teacher_name,teacher_email,school,track,consulting_teacher_email,"
        "requested_on,started_on,ended_on,outcome\n"
        f"H-1,Ann Able,ann@toledo.org,Adams,{track},ct@toledo.org,"
        f"{year}-08-20,{year}-09-10,{year + 1}-05-30,{outcome}\n"
        f"H-2,Ben Bell,ben@toledo.org,Blake,{track},,{year}-08-21,{year}-09-15,,\n"
    )


def _school_year(config) -> str:
    start, _ = config.school_year(date.today())
    return f"{start.year}-{start.year + 1}"


def _analyst_cookies(app) -> dict[str, str]:
    """A network analyst's session cookie: the network API reads the platform session."""
    with app.app_context():
        analyst = users.create_platform_user(
            "analyst@parley.example.org", "Analyst", "network_analyst", PASSWORD
        )
        network.seed_synthetic(12, years_back=2)
        uow.commit()
        principal_id = PlatformPrincipal(analyst).get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = principal_id
        session["_fresh"] = True
    name = app.config["SESSION_COOKIE_NAME"]
    return {name: client.get_cookie(name).value}


@pytest.fixture
def world(app, client, toledo_panel, make_user) -> World:
    """Toledo's panel setup, the caller's own case and seat, network releases, credentials."""
    caller_id, values = _seed_caller(app, toledo_panel, make_user)
    tenant = toledo_panel.district.tenant
    with app.app_context(), tenant_scope(tenant.id):
        caller = db.session.get(User, caller_id)
        db.session.expunge(caller)
    token = api_token(client, tenant, caller)
    world = World(tenant.slug, tenant.id, caller_id, caller.email, token, values)
    world.analyst_cookies = _analyst_cookies(app)
    return world


_ALIASES = {
    "teacher_id": "user_id",
    "principal_id": "user_id",
    "ct_id": "user_id",
    "a": "number",
    "b": "number",
    "to_version": "number",
}


def _real(rng: random.Random, world: World, name: str, generated, *, in_path: bool = False):
    """``generated``, or most of the time a real value of the district for ``name``.

    The value keeps the generated one's type (a ``year`` is a number here and a label
    there), except in a path, where a number may come as text.
    """
    pool = world.values.get(_ALIASES.get(name, name), [])
    if in_path and isinstance(generated, str):
        pool = [str(v) for v in pool]
    pool = [v for v in pool if type(v) is type(generated)]
    if not pool or rng.random() >= _REAL_SHARE:
        return generated
    return rng.choice(pool)


def _aim(case, world: World) -> None:
    """Point the case at the seeded district: its slug, its ids, its keys.

    The choices are drawn from a generator seeded by the case itself, so a failing case
    replays (and shrinks) to the same request. What a negative case made invalid on purpose
    stays as it is, so the check that invalid input is refused still sees invalid input.
    """
    rng = random.Random(repr((case.path_parameters, case.query, case.body)))
    negated = set(negated_parameters(case._meta))
    body_negated = case._meta is not None and case._meta.is_negative_at(BODY)
    for name, value in list((case.query or {}).items()):
        if (name, QUERY) not in negated:
            case.query[name] = _real(rng, world, name, value)
    for name, value in list((case.path_parameters or {}).items()):
        if (name, PATH) in negated:
            continue
        if name == "tenant_slug":
            keep = rng.random() < 1 - _REAL_SHARE
            case.path_parameters[name] = value if keep else world.slug
        else:
            case.path_parameters[name] = _real(rng, world, name, value, in_path=True)
    if isinstance(case.body, dict) and not body_negated:
        for name, value in list(case.body.items()):
            if name in ("case_ids", "evidence_ids") and isinstance(value, list):
                case.body[name] = [_real(rng, world, name[:-1], v) for v in value]
            else:
                case.body[name] = _real(rng, world, name, value)
    if case.operation.method.upper() == "PUT" and str(case.path_parameters.get("user_id")) == str(
        world.caller_id
    ):
        # Taking the caller's own roles away would end the run, not find a bug.
        case.path_parameters["user_id"] = world.values["user_id"][0]


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
    derandomize=not EXPLORE,
)
def test_api_operation(case, world: World, app) -> None:
    """No 5xx; every status, content type and body as the document declares; bad input refused."""
    _aim(case, world)
    with app.app_context():
        # The fuzzer sends far more requests than a person would: the abuse limits (tested
        # on their own) would answer most of them with a 429 and hide the handlers.
        limits.reset()
    if "{tenant_slug}" not in case.path:
        # The network API is for platform accounts, signed in to the operators' pages.
        case.call_and_validate(app=app, cookies=world.analyst_cookies, checks=CHECKS)
        return
    token = world.token
    if case.operation.method.upper() == "DELETE" and case.path.endswith("/auth/token"):
        token = _fresh_token(app, world)  # the operation revokes the token it carries
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def _fresh_token(app, world: World) -> str:
    with app.app_context(), tenant_scope(world.tenant_id):
        issued = tokens.issue(world.tenant_id, world.email, PASSWORD)
        uow.commit()
    return issued.token
