"""What each person's home page shows: their own work first, in a few fixed queries.

The teacher's, the CT's and the principal's sections are rows of the columns the page
shows, read on the request's connection (``app.tenants.reads``): the home page reads nothing
back, and whole cases and visits cost several times their columns (every column, the
identity map's bookkeeping, a loader per attribute).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.assignment import Assignment, AssignmentReview
from app.models.case import Case, CaseDeadline
from app.models.support import Visit
from app.models.user import User
from app.services import case_access, case_lists
from app.tenants import reads
from app.tenants.scoping import scoped


@dataclass
class Home:
    #: Rows: id, workflow_version_id, track_key, state, status_note, ct_name.
    my_cases: list[Row] = field(default_factory=list)
    #: Rows: visited_on, visit_type.
    upcoming: list[Row] = field(default_factory=list)
    #: Rows: id, workflow_version_id, track_key, state, teacher_name, next_due_on,
    #: next_due_moved_from.
    caseload: list[Row] = field(default_factory=list)
    day: case_lists.CtDay | None = None
    #: Rows: id, workflow_version_id, track_key, state, teacher_name.
    school_cases: list[Row] = field(default_factory=list)
    intake_waiting: int = 0
    proposals_to_answer: list[Assignment] = field(default_factory=list)


def home_for(user: User) -> Home:
    home = Home()
    roles = user.roles
    if "teacher" in roles:
        home.my_cases = list(reads.rows(_TEACHERS_CASES, {"user_id": user.id}))
        home.upcoming = list(
            reads.rows(_TEACHERS_MEETINGS, {"user_id": user.id, "today": date.today()})
        )
    if "consulting_teacher" in roles:
        home.caseload = list(reads.rows(_CASELOAD, {"user_id": user.id}))
        home.day = case_lists.ct_day(user)
    if "principal" in roles:
        home.school_cases = list(reads.rows(_PRINCIPALS_CASES, {"user_id": user.id}))
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


# What a teacher's, a CT's and a principal's home read, built once (``scoped``).
_USER_ID = bindparam("user_id")
_CT = aliased(User)
_TEACHERS_CASES = scoped(
    select(*case_lists.CASE_ROW, Case.status_note, _CT.name.label("ct_name"))
    .outerjoin(_CT, _CT.id == Case.ct_id)
    .where(Case.teacher_id == _USER_ID)
    .order_by(Case.id.desc())
)
_TEACHERS_MEETINGS = scoped(
    select(Visit.visited_on, Visit.visit_type)
    .join(Case, Case.id == Visit.case_id)
    .where(
        Case.teacher_id == _USER_ID,
        Case.closed_at.is_(None),  # a closed case has no meetings ahead
        Visit.planned.is_(True),
        Visit.visited_on >= bindparam("today"),
    )
    .order_by(Visit.visited_on)
)
_PRINCIPALS_CASES = scoped(
    select(*case_lists.CASE_ROW, User.name.label("teacher_name"))
    .join(User, User.id == Case.teacher_id)
    .where(case_access.seen_as_principal(_USER_ID))
    .order_by(Case.id.desc())
)
_CASELOAD = scoped(
    select(
        *case_lists.CASE_ROW,
        User.name.label("teacher_name"),
        case_lists.next_deadline_column(CaseDeadline.due_on).label("next_due_on"),
        case_lists.next_deadline_column(CaseDeadline.moved_from).label("next_due_moved_from"),
    )
    .join(User, User.id == Case.teacher_id)
    .where(Case.ct_id == _USER_ID, Case.closed_at.is_(None))
    .order_by(Case.id.desc())
)
