"""The front door: a teacher's own request, or a referral by a principal or the union.

Enrolling opens a case in the first state of the requested track; eligibility is
not a gate here but is shown at intake, with the track's reason, so the
coordinator decides with the rule in view.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.core import outbox
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.security.emails import InvalidEmail, checked_email
from app.services import audit, cases, users
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.people import school_principal
from app.tenants.context import current_tenant_id

SOURCES = ("self", "principal", "union")


@dataclass(frozen=True)
class EnrollmentRequest:
    name: str
    email: str
    school: str
    track: str
    letter: str
    subject: str | None = None
    grade: str | None = None
    preferred_language: str | None = None
    latest_rating: str | None = None
    years_of_service: int | None = None
    permanent_status: bool | None = None
    source: str = "self"


def _check(tenant_id: int, request: EnrollmentRequest, referred: bool) -> str:
    """The teacher's address as stored, once every field is right; all errors at once."""
    config = configs.config_of(_current_version(tenant_id))
    email, errors = _email_problems(request.email, referred)
    if request.track not in config.tracks:
        errors["track"] = [f"Choose one of: {', '.join(t.name for t in config.tracks.values())}."]
    ratings = {r.key for r in config.rating_scale}
    if request.latest_rating and request.latest_rating not in ratings:
        errors["latest_rating"] = ["Choose a rating from the district's scale."]
    if request.source not in SOURCES:
        errors["source"] = [f"Use one of: {', '.join(SOURCES)}."]
    if not request.letter.strip():
        errors["letter"] = ["Tell the program in your own words what support you want."]
    if not request.school.strip():
        errors["school"] = ["Enter the school."]
    if errors:
        raise ValidationFailed(errors)
    return email


#: The public form's refusal names no role: it must not tell a stranger which addresses
#: belong to the district's staff (it does tell that the address cannot enroll here).
_NOT_THROUGH_THIS_FORM = "This address cannot enroll through this form; ask your program office."


def _email_problems(text: str, referred: bool) -> tuple[str, dict[str, list[str]]]:
    """The address as stored, and what is wrong with it. An existing account must already
    be a teacher's, and active: enrolling never grants a role or restores an account, and a
    case must not name a program admin, coordinator or CT as its teacher."""
    try:
        email = checked_email(text)
    except InvalidEmail as exc:
        return text, {"email": [str(exc)]}
    person = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if person is None or ("teacher" in person.roles and person.active):
        return email, {}
    if not referred:
        return email, {"email": [_NOT_THROUGH_THIS_FORM]}
    if not person.active:
        message = (
            f"{email} belongs to an account the program admin has disabled; a case cannot "
            "be opened for it until they restore it."
        )
        return email, {"email": [message]}
    message = (
        f"{email} belongs to an account that is not a teacher's; a referral cannot open a "
        "case for it (the program admin manages its roles)."
    )
    return email, {"email": [message]}


def _current_version(tenant_id: int):
    version = configs.latest_published()
    if version is None:
        raise ValidationFailed({"track": ["The program is not open for enrollment yet."]})
    return version


def _teacher(tenant_id: int, email: str, request: EnrollmentRequest) -> User:
    """The teacher's account (``_check`` made sure an existing one is a teacher's), created
    without a password when it is new.

    An existing account is never changed from here (no role added, no school moved):
    the form is public, and a person's roles and school decide what they see and
    whom they are recused from.
    """
    teacher = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if teacher is None:
        teacher = users.create_user(
            tenant_id, email=email, name=request.name, roles=["teacher"], send_welcome=False
        )
        teacher.school = request.school
    return teacher


def enroll(request: EnrollmentRequest, referred_by: User | None = None) -> Case:
    """Open a case for the request (flushes); the teacher and coordinators are told."""
    tenant_id = current_tenant_id()
    email = _check(tenant_id, request, referred=referred_by is not None)
    teacher = _teacher(tenant_id, email, request)
    db.session.flush()
    actor = (
        Actor.of(referred_by)
        if referred_by
        else Actor("system", None, f"enrollment form ({email})")
    )
    case = cases.open_case(
        teacher=teacher,
        track_key=request.track,
        school=request.school,
        latest_rating=request.latest_rating,
        principal=school_principal(request.school),
        actor=actor,
    )
    case.subject, case.grade = request.subject, request.grade
    case.preferred_language = request.preferred_language
    case.request_letter = request.letter.strip()
    case.years_of_service, case.permanent_status = (
        request.years_of_service,
        request.permanent_status,
    )
    case.source = request.source
    case.referred_by_id = referred_by.id if referred_by else None
    db.session.flush()
    outbox.case_notice(case.id, tenant_id, "enrollment_received", ["case_teacher", "coordinator"])
    return case


def request_information(case: Case, coordinator: User, question: str) -> Case:
    """Ask the teacher for more before deciding; the question shows on their case page."""
    from app.services.case_permissions import require

    require(case, coordinator, roles=("coordinator",), what="ask for information")
    cases.ensure_open(case)
    if not question.strip():
        raise ValidationFailed({"question": ["Write the question for the teacher."]})
    cases.set_status_note(case, question.strip())
    outbox.case_notice(case.id, case.tenant_id, "information_requested", ["case_teacher"])
    audit.record(
        case.tenant_id,
        "case.information_requested",
        "case",
        case.id,
        after={"question": question.strip()},
        actor=Actor.of(coordinator),
    )
    return case
