"""What each person's home page shows: their own work first, in a few fixed queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, bindparam, func, select

from app.extensions import db
from app.models.assignment import Assignment, AssignmentReview
from app.models.case import Case
from app.models.support import Visit
from app.models.user import User
from app.services import case_access, case_lists
from app.tenants.scoping import scoped


@dataclass
class Home:
    my_cases: list[Case] = field(default_factory=list)
    upcoming: list[Visit] = field(default_factory=list)
    caseload: list[Case] = field(default_factory=list)
    day: case_lists.CtDay | None = None
    school_cases: list[Case] = field(default_factory=list)
    intake_waiting: int = 0
    proposals_to_answer: list[Assignment] = field(default_factory=list)


def home_for(user: User) -> Home:
    home = Home()
    roles = user.roles
    if "teacher" in roles:
        home.my_cases = _read(_TEACHERS_CASES, user_id=user.id)
        home.upcoming = _read(_TEACHERS_MEETINGS, user_id=user.id, today=date.today())
    if "consulting_teacher" in roles:
        home.caseload = _read(_CASELOAD, user_id=user.id)
        home.day = case_lists.ct_day(user)
    if "principal" in roles:
        home.school_cases = _read(_PRINCIPALS_CASES, user_id=user.id)
    if roles & {"coordinator", "program_admin"}:
        home.intake_waiting = db.session.execute(
            select(func.count()).select_from(case_lists.intake_queue().subquery())
        ).scalar_one()
    if "committee_member" in roles:
        answered = select(AssignmentReview.assignment_id).where(
            AssignmentReview.member_id == user.id
        )
        home.proposals_to_answer = list(
            db.session.execute(
                select(Assignment)
                .where(Assignment.status == "proposed", Assignment.id.not_in(answered))
                .order_by(Assignment.proposed_at)
            ).scalars()
        )
    return home


def _cases(*conditions) -> Select:
    """Cases with their people by name, newest first (only the caseload shows deadlines)."""
    return (
        select(Case)
        .where(*conditions)
        .options(case_lists.WITHOUT_DOCUMENT, *case_lists.NAMES_ONLY)
        .order_by(Case.id.desc())
    )


def _read(statement: Select, **values) -> list:
    return list(db.session.execute(statement, values).scalars())


# What a teacher's, a CT's and a principal's home read, built once (``scoped``).
_USER_ID = bindparam("user_id")
_TEACHERS_CASES = scoped(_cases(Case.teacher_id == _USER_ID))
_TEACHERS_MEETINGS = scoped(
    select(Visit)
    .join(Case, Case.id == Visit.case_id)
    .options(case_lists.AUTHOR_NAME_ONLY)
    .where(
        Case.teacher_id == _USER_ID,
        Case.closed_at.is_(None),  # a closed case has no meetings ahead
        Visit.planned.is_(True),
        Visit.visited_on >= bindparam("today"),
    )
    .order_by(Visit.visited_on)
)
_PRINCIPALS_CASES = scoped(_cases(case_access.seen_as_principal(_USER_ID)))
_CASELOAD = scoped(
    _cases(Case.ct_id == _USER_ID, Case.closed_at.is_(None)).options(*case_lists.WITH_NEXT_DEADLINE)
)
