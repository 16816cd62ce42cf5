"""The demo's panel: seats filled per the district's rules, and one review-track case taken
all the way through recommendation, a session, the vote and final approval.

Everything goes through the same services people use; the steps are read from the
configuration (guards satisfied by what they ask for), so no district is special.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import assignments, cases, panel, support, users
from app.services.actors import Actor
from app.services.people import holders
from app.tenants.context import require_tenant_id
from app.workflows import ProgramConfig

_SYSTEM = Actor.system("demo")


def seat_panel(config: ProgramConfig, first: User, domain: str, password: str) -> list[User]:
    """Fill every configured seat: the demo panel member, then generated colleagues."""
    tenant_id = require_tenant_id()
    if config.panel is None or panel.seats.members():
        return []
    seated, number = [], 1
    for key, constituency in config.panel.constituencies.items():
        for seat in range(constituency.seats):
            person = (
                first
                if not seated
                else users.create_user(
                    tenant_id,
                    email=f"panel{number}@{domain}",
                    name=f"Panel member {number}",
                    roles=["panel_member"],
                    password=password,
                    send_welcome=False,
                )
            )
            number += 1
            # Co-chairs: the first seat of each side; otherwise the very first seat.
            chair = seat == 0 if config.panel.chair == "co_chairs" else not seated
            panel.seats.save_member(person, key, chair, None, None, _SYSTEM)
            seated.append(person)
    return seated


#: How long ago a demo case that goes to the panel enrolled.
DEMO_HISTORY = timedelta(days=250)


def decide_a_case(
    case: Case,
    config: ProgramConfig,
    person: dict[str, User],
    seated: list[User],
    *,
    approve: bool = True,
) -> None:
    """Support, recommendation, a session, unanimous ballots, the chair's close, approval."""
    track = config.tracks[case.track_key]
    ct, coordinator = person["consulting_teacher"], person["coordinator"]
    # A demo history: enrolled last school year, supported from two weeks later, so its
    # visits fall inside the support and the months-of-support guards read true months.
    case.enrolled_on = date.today() - DEMO_HISTORY
    case.started_on = case.enrolled_on + timedelta(days=14)
    for action in ("begin_intake", "accept"):
        _take(case, action, coordinator)
    proposal = assignments.propose(case, ct, coordinator)
    committee = db.session.execute(holders("committee_member")).scalars().all()
    for member in committee:
        if proposal.status == "proposed":
            assignments.review(proposal, member, True, None)
    _take_first(case, coordinator)
    _take_first(case, ct)
    _satisfy_guards(case, config, track, ct)
    _take_first(case, ct)
    options = config.recommendation_options(case.track_key)
    rating = next((o for o in reversed(options) if config.meets_standard(o)), options[0])
    support.submit_recommendation(
        case,
        ct,
        rating,
        "The record of visits and evidence shows steady growth: the teacher meets the standard.",
        [],
    )
    if case.state != "panel_review" and not case.panel_review_open:
        return
    session = panel.sessions.schedule(date.today(), "Central office", _SYSTEM)
    item = panel.sessions.add_to_agenda(session, case, _SYSTEM)
    for member in panel.seats.members():
        panel.sessions.set_attendance(session, member, True, _SYSTEM)
    option = rating if rating in track.ballot_options else track.ballot_options[0]
    for person_seated in seated:
        facts = panel.eligibility.facts_for(item)
        if panel.eligibility.standing(facts, person_seated).may_vote:
            panel.ballots.cast(item, person_seated, option)
    panel.ballots.close(item, coordinator)
    if not approve:
        return
    outcomes = panel.approval.approval_outcomes(case)
    panel.approval.final_decision(
        case,
        person["final_authority"],
        True,
        "Approved as recommended.",
        outcomes[0][0] if outcomes else None,
    )


def _take(case: Case, action: str, actor: User) -> None:
    if any(o.key == action and o.enabled for o in cases.options(case, actor)):
        cases.apply(case, action, actor)


def _take_first(case: Case, actor: User) -> None:
    forward = [
        o
        for o in cases.options(case, actor)
        if o.enabled and not o.choices and o.key not in ("decline", "withdraw", "leave")
    ]
    if forward:
        cases.apply(case, forward[0].key, actor)


def _satisfy_guards(case: Case, config: ProgramConfig, track, ct: User) -> None:
    """Log what the next step's guards ask for: visits, tagged evidence, the principal."""
    for transition in track.transitions_from(case.state):
        for guard in transition.guards:
            if guard.name == "min_visits":
                kind = (guard.params.get("types") or list(config.visit_types))[0]
                for n in range(guard.params["count"]):
                    support.log_visit(
                        case,
                        ct,
                        support.VisitInput(
                            kind,
                            date.today() - timedelta(days=60 - 5 * n),
                            45,
                            notes="Observed the lesson; noted two things to work on.",
                            principal_present=n == 0,
                        ),
                    )
            if guard.name == "evidence_tagged_to_all_standards":
                support.add_evidence(
                    case,
                    ct,
                    "Lesson plans and student work reviewed together.",
                    [s.key for s in config.standards],
                )


def person(domain: str, role: str) -> User:
    email = f"{role.replace('_', '.')}@{domain}"
    return db.session.execute(select(User).where(User.email == email)).scalar_one()
