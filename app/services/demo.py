"""The demo districts ``make run`` starts with: a user for every role in each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.case import Case
from app.models.tenant import Tenant
from app.models.user import User
from app.security.roles import TENANT_ROLES
from app.services import assignments, cases, demo_panel, support, users, workflow_config
from app.services.errors import Conflict
from app.services.provisioning import Branding, create_tenant
from app.tenants.context import tenant_scope

DEMO_PASSWORD = "parley-demo-password"


@dataclass(frozen=True)
class DemoDistrict:
    slug: str
    name: str
    preset: str
    branding: Branding
    domain: str


DEMO_DISTRICTS: tuple[DemoDistrict, ...] = (
    DemoDistrict(
        "boston",
        "Boston Public Schools: Educator Supports Program",
        "boston_esp",
        Branding(
            "#00447c",
            "#fdb913",
            welcome_text="Coaching and evaluation that feels fair, transparent and humane.",
        ),
        "boston.example.org",
    ),
    DemoDistrict(
        "toledo",
        "Toledo Public Schools: Peer Assistance and Review",
        "toledo",
        Branding("#5b2c6f", "#e67e22", welcome_text="Peer review since 1981."),
        "toledo.example.org",
    ),
    DemoDistrict(
        "rochester",
        "Rochester City School District: Career in Teaching",
        "rochester",
        Branding("#0b6e4f", "#f2c14e", welcome_text="Intern and intervention support."),
        "rochester.example.org",
    ),
)


@dataclass(frozen=True)
class DemoLogin:
    tenant_slug: str
    role: str
    email: str


def seed_demo() -> list[DemoLogin]:
    """Create the demo districts and users; safe to run twice (existing ones are kept)."""
    logins: list[DemoLogin] = []
    for district in DEMO_DISTRICTS:
        tenant = db.session.execute(
            select(Tenant).where(Tenant.slug == district.slug)
        ).scalar_one_or_none()
        if tenant is None:
            tenant = create_tenant(
                district.slug, district.name, branding=district.branding, preset=district.preset
            )
        for role in TENANT_ROLES:
            email = f"{role.key.replace('_', '.')}@{district.domain}"
            logins.append(DemoLogin(district.slug, role.key, email))
            try:
                users.create_user(
                    tenant.id,
                    email=email,
                    name=f"Demo {role.label}",
                    roles=[role.key],
                    password=DEMO_PASSWORD,
                    send_welcome=False,
                )
            except Conflict:
                continue
        with tenant_scope(tenant.id):
            _seed_cases(tenant, district)
            # The rest of the panel, seated so that a session can reach its quorum.
            colleagues = db.session.execute(
                select(User.email)
                .where(User.email.like(f"panel%@{district.domain}"))
                .order_by(User.id)
            ).scalars()
            logins += [DemoLogin(district.slug, "panel_member", email) for email in colleagues]
    return logins


def _person(domain: str, role: str) -> User:
    email = f"{role.replace('_', '.')}@{domain}"
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _seed_cases(tenant: Tenant, district: DemoDistrict) -> None:
    """One case per track for the demo teacher; the first taken as far as support, with a
    CT assigned the way the track asks (committee consensus where it must), and visits."""
    if db.session.execute(select(Case.id).limit(1)).first():
        return
    config = workflow_config.current()
    below = next((r.key for r in config.rating_scale if not r.meets_standard), None)
    person = {
        role: _person(district.domain, role)
        for role in (
            "teacher",
            "coordinator",
            "consulting_teacher",
            "principal",
            "committee_member",
            "panel_member",
            "final_authority",
        )
    }
    seated = demo_panel.seat_panel(config, person["panel_member"], district.domain, DEMO_PASSWORD)
    person["principal"].school = person["teacher"].school = "Demonstration Elementary"
    for index, track_key in enumerate(config.tracks):
        case = cases.open_case(
            teacher=person["teacher"],
            track_key=track_key,
            school="Demonstration Elementary",
            latest_rating=below,
            principal=person["principal"],
        )
        case.permanent_status, case.subject = True, "English Language Arts"
        case.request_letter = "I would like a second set of eyes and help with planning."
        if index == 0:
            _bring_to_support(case, config, person)
        elif config.tracks[track_key].kind == "review" and seated:
            demo_panel.decide_a_case(case, config, person, seated)


def _bring_to_support(case: Case, config, person: dict[str, User]) -> None:
    _advance(case, person["coordinator"], steps=2)
    proposal = assignments.propose(case, person["consulting_teacher"], person["coordinator"])
    if proposal.status == "proposed":
        assignments.review(proposal, person["committee_member"], True, None)
    _advance(case, person["coordinator"], steps=1)
    _advance(case, person["consulting_teacher"], steps=1)
    # The story began three weeks ago: a visit dated before support began would be refused.
    case.enrolled_on = case.started_on = date.today() - timedelta(days=21)
    kind = next(iter(config.visit_types))
    for days in (14, 7):
        support.log_visit(
            case,
            person["consulting_teacher"],
            support.VisitInput(
                kind,
                date.today() - timedelta(days=days),
                45,
                notes="Observed the first lesson block; agreed on one change to try.",
                next_steps="Try exit tickets for a week.",
            ),
        )
    support.add_goal(case, person["consulting_teacher"], "Use student work to plan each week")


def _advance(case: Case, actor: User, steps: int) -> None:
    for _ in range(steps):
        enabled = [o for o in cases.options(case, actor) if o.enabled and not o.choices]
        forward = [o for o in enabled if o.key not in ("decline", "withdraw", "leave")]
        if not forward:
            return
        cases.apply(case, forward[0].key, actor)


def join_network() -> None:
    """The demo districts join the network (Boston named, the others anonymous) and publish
    this school year's release, so the analyst's page has real members beside samples."""
    from app.core import uow
    from app.services import network

    for district in DEMO_DISTRICTS:
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == district.slug)).scalar_one()
        with tenant_scope(tenant.id):
            if network.membership() is None:
                network.join(named=district.slug == "boston", noisy=False, epsilon=1.0, actor=None)
            network.publish(network.current_year())
    uow.commit()
