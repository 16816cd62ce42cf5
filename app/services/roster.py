"""The CT roster: profiles, training, caseloads, and ranked suggestions for a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from app.extensions import db
from app.models.case import Case
from app.models.roster import ConsultingTeacher, TrainingRecord
from app.models.user import RoleGrant, User
from app.services import audit
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.assignment_ranking import CaseProfile, CtProfile, Suggestion, rank
from app.services.errors import ValidationFailed
from app.tenants import reads
from app.tenants.scoping import scoped


@dataclass(frozen=True)
class ProfileInput:
    term_start: date | None
    term_end: date | None
    caseload_limit: int
    home_school: str | None
    schools: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


def profiles() -> list[ConsultingTeacher]:
    """The roster by name, each profile with its person and trainings."""
    return list(db.session.execute(_PROFILES).scalars())


# Built once (``scoped``): the coordinator's case page ranks the roster on every read.
_PROFILES = scoped(select(ConsultingTeacher).join(ConsultingTeacher.user).order_by(User.name))
#: The profiles a case may be offered to (an active person who holds the role), each with
#: its person's name: who may be ranked is asked of the database, so neither the people nor
#: their roles come back as objects (loading every CT's roles was most of the ranking).
_RANKED = scoped(
    select(ConsultingTeacher, User.name)
    .join(User, User.id == ConsultingTeacher.user_id)
    .where(
        User.active.is_(True),
        User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == "consulting_teacher")),
    )
    .options(lazyload(ConsultingTeacher.user), lazyload(ConsultingTeacher.trainings))
    .order_by(User.name)
)


#: Built once (``scoped``): every case list offers the roster as a filter.
_CT_CHOICES = scoped(
    select(ConsultingTeacher.user_id, User.name)
    .join(User, User.id == ConsultingTeacher.user_id)
    .order_by(User.name)
)


def ct_choices() -> list[tuple[int, str]]:
    """Every CT on the roster as (user id, name), by name: a filter's choices, in one
    statement of two columns."""
    return [(row.user_id, row.name) for row in reads.execute(_CT_CHOICES)]


def profile_by_id(consulting_teacher_id: int) -> ConsultingTeacher | None:
    """One roster profile of the district, or None."""
    return db.session.execute(
        select(ConsultingTeacher).where(ConsultingTeacher.id == consulting_teacher_id)
    ).scalar_one_or_none()


def profile_for(user: User) -> ConsultingTeacher | None:
    return db.session.execute(
        select(ConsultingTeacher).where(ConsultingTeacher.user_id == user.id)
    ).scalar_one_or_none()


def ensure_profile(user: User) -> ConsultingTeacher:
    """Every consulting teacher has a roster profile from the day they get the role."""
    row = profile_for(user)
    if row is None:
        row = ConsultingTeacher(tenant_id=user.tenant_id, user_id=user.id)
        db.session.add(row)
        db.session.flush()
    return row


def save_profile(user: User, data: ProfileInput, actor: Actor) -> ConsultingTeacher:
    """Create or update a CT's profile; the person must hold the consulting-teacher role."""
    errors: dict[str, list[str]] = {}
    if "consulting_teacher" not in user.roles:
        errors["user_id"] = [f"{user.name} does not hold the consulting-teacher role."]
    if not 1 <= data.caseload_limit <= 40:
        errors["caseload_limit"] = ["Give a caseload limit between 1 and 40."]
    if data.term_start and data.term_end and data.term_end < data.term_start:
        errors["term_end"] = ["The term cannot end before it starts."]
    errors = _program_rules(data) | errors
    if errors:
        raise ValidationFailed(errors)
    row = profile_for(user)
    if row is None:
        row = ConsultingTeacher(tenant_id=user.tenant_id, user_id=user.id)
        db.session.add(row)
    for field in ("term_start", "term_end", "caseload_limit", "home_school"):
        setattr(row, field, getattr(data, field))
    for field in ("schools", "subjects", "grades", "languages"):
        setattr(row, field, sorted({v.strip() for v in getattr(data, field) if v.strip()}))
    db.session.flush()
    audit.record(
        user.tenant_id,
        "roster.saved",
        "consulting_teacher",
        row.id,
        after={"user_id": user.id, "caseload_limit": row.caseload_limit},
        actor=actor,
    )
    return row


#: Where ``ct_title`` keeps its answers on ``g``, by district.
CT_TITLES = "parley_ct_titles"


def ct_title() -> str:
    """What the district's program calls a consulting teacher ("Lead Teacher" in
    Rochester), for headings and labels: looked up once per request (or job) and district,
    however many places name the role; publishing a version forgets it."""
    from flask import g

    from app.tenants.context import require_tenant_id

    titles = g.setdefault(CT_TITLES, {})
    tenant_id = require_tenant_id()
    if tenant_id not in titles:
        version = configs.current_version()
        wording = {} if version is None else configs.config_of(version).program.wording
        titles[tenant_id] = wording.get("ct_title") or "Consulting teacher"
    return titles[tenant_id]


def _program_rules(data: ProfileInput) -> dict[str, list[str]]:
    """The caseload and term bounds the district's published program sets; a bound the
    configuration leaves out leaves the field free (and so does a program not yet published)."""
    version = configs.latest_published()
    if version is None:
        return {}
    config = configs.config_of(version)
    rules, program = config.caseload, config.program.name
    title = config.program.wording.get("ct_title") or "consulting teacher"
    errors: dict[str, list[str]] = {}
    if rules.max_limit is not None and data.caseload_limit > rules.max_limit:
        errors["caseload_limit"] = [
            f"{program} allows at most {rules.max_limit} cases per {title}."
        ]
    if rules.min_limit is not None and data.caseload_limit < rules.min_limit:
        errors["caseload_limit"] = [
            f"{program} sets a caseload of at least {rules.min_limit} cases per {title}."
        ]
    if rules.term_years and data.term_start and data.term_end:
        latest = _years_after(data.term_start, rules.term_years)
        if data.term_end > latest:
            errors["term_end"] = [
                f"{program} allows a {title}'s term of at most {rules.term_years} years: "
                f"one that starts on {data.term_start.isoformat()} ends by "
                f"{latest.isoformat()}."
            ]
    return errors


def _years_after(start: date, years: int) -> date:
    """The same day ``years`` later (28 February for a 29 February with no match)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def add_training(
    row: ConsultingTeacher, workshop: str, attended_on: date, hours: float, actor: Actor
) -> TrainingRecord:
    if not workshop.strip():
        raise ValidationFailed({"workshop": ["Name the workshop."]})
    if not 0 < hours <= 200:
        raise ValidationFailed({"hours": ["Give the hours, between 0 and 200."]})
    record = TrainingRecord(
        tenant_id=row.tenant_id,
        consulting_teacher=row,
        workshop=workshop.strip(),
        attended_on=attended_on,
        hours=Decimal(str(hours)),
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        row.tenant_id,
        "roster.training_added",
        "consulting_teacher",
        row.id,
        after={"workshop": record.workshop, "hours": float(record.hours)},
        actor=actor,
    )
    return record


#: Built once (``scoped``): the coordinator's case page weighs every CT's load.
_OPEN_CASES_BY_CT = scoped(
    select(Case.ct_id, Case.workflow_version_id, Case.track_key, func.count().label("open_cases"))
    .where(Case.ct_id.is_not(None), Case.closed_at.is_(None))
    .group_by(Case.ct_id, Case.workflow_version_id, Case.track_key)
)


def loads() -> dict[int, int]:
    """Each CT's current load: the caseload weights of their open cases, in one query per
    published version in use (weights live in each case's own configuration)."""
    total: dict[int, int] = {}
    for row in reads.rows(_OPEN_CASES_BY_CT):
        config = configs.config_of(configs.version_of(row))
        weight = config.tracks[row.track_key].caseload_weight
        total[row.ct_id] = total.get(row.ct_id, 0) + weight * row.open_cases
    return total


def suggestions(case: Case) -> list[Suggestion]:
    """Every CT on the roster, ranked for this case, with the reasons shown."""
    today = date.today()
    current = loads()
    weight = configs.config_of(case.workflow_version).tracks[case.track_key].caseload_weight
    profile = CaseProfile(
        school=case.school,
        subject=case.subject,
        grade=case.grade,
        language=case.preferred_language,
        track_weight=weight,
    )
    cts = [
        CtProfile(
            ct_id=row.user_id,
            name=name,
            caseload_limit=row.caseload_limit,
            current_load=current.get(row.user_id, 0),
            schools=frozenset(row.schools),
            subjects=frozenset(row.subjects),
            grades=frozenset(row.grades),
            languages=frozenset(row.languages),
            term_active=row.in_term(today),
            home_school=row.home_school,
        )
        for row, name in db.session.execute(_RANKED)
    ]
    return rank(profile, cts)
