"""Districts seeded with one of everything the routes can name, for the route walks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.tenant import Tenant
from app.models.user import User
from app.security.roles import TENANT_ROLE_KEYS
from app.services import workflow_config as configs
from app.tenants.context import tenant_scope


@dataclass
class Seeded:
    tenant: Tenant
    people: dict[str, User]
    natural: dict = field(default_factory=dict)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _support_record(app, tenant: Tenant, case, people: dict[str, User]) -> None:
    """A CT on the case, a visit, a goal and evidence with a file: rows every route can name."""
    import io

    from app.models.case import Case, CaseDeadline
    from app.models.status_report import StatusReport
    from app.services import assignments, panel, roster, support
    from app.services.actors import Actor

    with app.app_context(), tenant_scope(tenant.id):
        row = db.session.get(Case, case.id)
        ct = db.session.get(User, people["consulting_teacher"].id)
        coordinator = db.session.get(User, people["coordinator"].id)
        limit = configs.config_of(row.workflow_version).caseload.default_limit
        roster.save_profile(
            ct, roster.ProfileInput(None, None, limit, "Elsewhere High"), Actor.system()
        )
        proposal = assignments.propose(row, ct, coordinator)
        # Where the committee must agree first, every member of it does.
        for key in ("committee_member", "all"):
            if proposal.status == "proposed":
                member = db.session.get(User, people[key].id)
                assignments.review(proposal, member, True, None)
        config = configs.config_of(row.workflow_version)
        kind = next(iter(config.visit_types))
        support.log_visit(
            row, ct, support.VisitInput(kind, date.today(), 45, notes="Bravo-only visit notes")
        )
        support.add_goal(row, ct, "Plan lessons around student work")
        support.add_evidence(row, ct, "Lesson plan", [], (io.BytesIO(PDF), "plan.pdf"))
        # A status report due on the case, whatever the preset's schedule (routes name it).
        db.session.add(
            StatusReport(
                tenant_id=tenant.id, case_id=row.id, label="Week 6 report", due_on=date.today()
            )
        )
        # A deadline on the case, whether or not the preset's steps scheduled one yet.
        if not row.deadlines:
            key = next(iter(config.deadlines), "recommendation")
            db.session.add(
                CaseDeadline(tenant_id=tenant.id, case_id=row.id, key=key, due_on=date.today())
            )
        session = panel.sessions.schedule(date.today(), "Central office", Actor.system())
        panel.minutes.request_minutes_pdf(session, Actor.system())
        uow.commit()  # without Redis the export runs inline, after the commit


SURVEY = {
    "key": "participant",
    "title": "Participant questionnaire",
    "scale": ["strongly_agree", "agree", "disagree", "strongly_disagree"],
    "statements": [{"key": "helpful", "text": "My consulting teacher helped me."}],
    "comment_question": "Comments",
}


def _add_survey(app, tenant: Tenant) -> None:
    """Version 2 of every seeded program adds a participant survey."""
    with app.app_context(), tenant_scope(tenant.id):
        document = dict(configs.latest_published().document)
        # Beside the program's own surveys, which its steps may send.
        others = [s for s in document.get("surveys", []) if s["key"] != SURVEY["key"]]
        document["surveys"] = [*others, SURVEY]
        # The replaced survey's translations name statements it no longer has.
        document["translations"] = {
            language: {**words, "surveys": {**words.get("surveys", {}), SURVEY["key"]: {}}}
            for language, words in document.get("translations", {}).items()
        }
        configs.save_draft(document)
        configs.publish(note="survey")
        uow.commit()


def _send_survey(app, tenant: Tenant) -> str:
    """Send this school year's survey; returns the first invitation's personal token."""
    from app.models.survey import SurveyInvitation
    from app.services import surveys
    from app.services.actors import Actor

    with app.app_context(), tenant_scope(tenant.id):
        config = configs.config_of(configs.latest_published())
        start, _ = config.school_year(date.today())
        surveys.send("participant", f"{start.year}-{start.year + 1}", Actor.system())
        uow.commit()
        invitation = db.session.execute(select(SurveyInvitation).limit(1)).scalar_one()
        return surveys.token_for(invitation)


def _export(app, tenant: Tenant, user: User) -> None:
    """A finished export of the case list (built inline, after the commit)."""
    from app.services import exports

    with app.app_context(), tenant_scope(tenant.id):
        exports.request(db.session.get(User, user.id), "cases_csv", {})
        uow.commit()


def _approve(app, tenant: Tenant, case, people: dict[str, User]) -> None:
    """The final authority's approval closes the case with its first outcome, so the routes
    that read a decided case (the decision letter) have one to find."""
    from app.models.base import utcnow
    from app.models.case import Case
    from app.models.panel import FinalDecision

    with app.app_context(), tenant_scope(tenant.id):
        row = db.session.get(Case, case.id)
        config = configs.config_of(row.workflow_version)
        row.state, row.outcome, row.closed_at = "closed", next(iter(config.outcomes)), utcnow()
        db.session.add(
            FinalDecision(
                tenant_id=tenant.id,
                case_id=row.id,
                authority_id=people["final_authority"].id,
                approved=True,
            )
        )
        uow.commit()


def _publish_again(app, tenant: Tenant, times: int) -> None:
    with app.app_context(), tenant_scope(tenant.id):
        for n in range(times):
            document = dict(configs.latest_published().document)
            document["program"] = {**document["program"], "name": f"Revision {n + 2}"}
            configs.save_draft(document)
            configs.publish(note=f"revision {n + 2}")
        uow.commit()


def _reset_link(app, tenant: Tenant, user: User) -> str:
    """A live password-reset token, as the mail job would make it."""
    from app.models.user import PasswordReset
    from app.services import password_resets

    with app.app_context(), tenant_scope(tenant.id):
        password_resets.request_reset(tenant.id, user.email)
        uow.commit()
        reset = db.session.execute(select(PasswordReset)).scalars().first()
        token = password_resets.issue_token(reset)
        uow.commit()
    return token


@pytest.fixture
def seed_district(app, make_tenant, make_user, make_case):
    """``seed_district(slug, preset, extra_versions)``: every role, a case, versions."""

    def _seed(slug: str, preset: str, track: str, extra_versions: int = 0) -> Seeded:
        tenant = make_tenant(slug, f"{slug.title()} Schools", preset=preset)
        people = {
            role: make_user(tenant, role, email=f"{role}@{slug}.example.org")
            for role in sorted(TENANT_ROLE_KEYS)
        }
        people["all"] = make_user(
            tenant, *sorted(TENANT_ROLE_KEYS), email=f"all@{slug}.example.org"
        )
        _add_survey(app, tenant)
        case = make_case(tenant, people["teacher"], track)
        _support_record(app, tenant, case, people)
        token = _send_survey(app, tenant)
        _export(app, tenant, people["all"])
        _approve(app, tenant, case, people)
        _publish_again(app, tenant, extra_versions)
        with app.app_context(), tenant_scope(tenant.id):
            config = configs.config_of(configs.latest_published())
            first = config.tracks[track].transitions[0].key
        last = 2 + extra_versions
        natural = {
            "token": token,
            "reset_token": _reset_link(app, tenant, people["teacher"]),
            "number": last,
            "a": max(last - 1, 1),
            "b": last,
            "track": track,
            "action": first,
        }
        return Seeded(tenant, people, natural)

    return _seed


@pytest.fixture
def two_districts(seed_district):
    """Alpha (one version, induction only) and Bravo (three versions, Toledo's tracks)."""
    alpha = seed_district("alpha", "induction_minimal", "induction")
    bravo = seed_district("bravo", "toledo", "intervention", extra_versions=2)
    # Values that exist only in Bravo, so Alpha's lookups must come back empty.
    bravo.natural.update({"track": "intervention"})
    return alpha, bravo


def reload(app, tenant: Tenant, user: User) -> User:
    with app.app_context(), tenant_scope(tenant.id):
        row = db.session.get(User, user.id)
        db.session.expunge(row)
        return row
