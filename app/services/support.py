"""The support record: visits (logged and planned), goals, evidence, the recommendation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import BinaryIO
from uuid import UUID

from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import IntegrityError

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.support import Evidence, Goal, Recommendation, Visit
from app.models.user import User
from app.services import audit
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.case_permissions import require, sections
from app.services.cases import ensure_open
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.tenants.scoping import scoped
from app.workflows.facts import SupportPeriod, visit_shortfalls

#: How far ahead the introduction meeting is put on the calendar when a CT is assigned.
INTRODUCTION_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class VisitInput:
    visit_type: str
    visited_on: date
    duration_minutes: int | None = None
    focus_standards: tuple[str, ...] = ()
    notes: str | None = None
    next_steps: str | None = None
    principal_present: bool = False
    shared_with_teacher: bool = True
    planned: bool = False


def _of_case(model, row_id: int, case: Case):
    """A row a URL names, only if it belongs to the URL's case (another case's is None)."""
    return db.session.execute(
        select(model).where(model.id == row_id, model.case_id == case.id)
    ).scalar_one_or_none()


def visit_of(case: Case, visit_id: int) -> Visit | None:
    return _of_case(Visit, visit_id, case)


def goal_of(case: Case, goal_id: int) -> Goal | None:
    return _of_case(Goal, goal_id, case)


def evidence_of(case: Case, evidence_id: int) -> Evidence | None:
    return _of_case(Evidence, evidence_id, case)


def support_period(case: Case, today: date | None = None) -> SupportPeriod:
    """From the start of support to the case's end, or today while it is open.

    Support starts when the first consulting teacher's assignment takes effect
    (``started_on``); a case without that date counts from its enrollment, and no
    case's support starts before it enrolled.
    """
    today = today or date.today()
    start = max(case.enrolled_on, case.started_on or case.enrolled_on)
    if case.ended_on is None:
        return SupportPeriod(start, today)
    return SupportPeriod(start, min(case.ended_on, today), ended=True)


@dataclass(frozen=True)
class VisitFacts:
    """What the guards read of a case's visits."""

    #: Visits that count (see ``app.workflows.facts.visit_shortfalls``), per visit type.
    counted_by_type: Mapping[str, int]
    months_of_support: float
    #: Whether the principal took part in a logged visit.
    principal_present: bool


#: The columns of a visit that ``visit_shortfalls`` judges: what every read of visits that
#: says whether each one counts selects (the guards' facts, the case page).
VISIT_RECORD = (
    Visit.visit_type,
    Visit.visited_on,
    Visit.planned,
    Visit.duration_minutes,
    Visit.notes,
    Visit.focus_standards,
    Visit.next_steps,
)


#: What ``visit_facts`` counts from, built once (``scoped``): a CT's case page asks.
_VISITS_OF_CASE = scoped(
    select(*VISIT_RECORD, Visit.principal_present).where(Visit.case_id == bindparam("case_id"))
)


def visit_facts(case: Case, today: date, rows: Sequence[Row] | None = None) -> VisitFacts:
    """Count the visits that count, in one query (none when the caller gives the case's
    visits as ``rows``: ``VISIT_RECORD`` and ``principal_present``), and the months of
    support."""
    config = configs.config_of(case.workflow_version)
    period = support_period(case, today)
    if rows is None:
        rows = db.session.execute(_VISITS_OF_CASE, {"case_id": case.id}).all()
    counted = Counter(
        row.visit_type for row in rows if not visit_shortfalls(row, config.visit_types, period)
    )
    return VisitFacts(
        counted_by_type=dict(counted),
        months_of_support=period.months,
        principal_present=any(row.principal_present and not row.planned for row in rows),
    )


def _check_visit(case: Case, data: VisitInput) -> None:
    config = configs.config_of(case.workflow_version)
    errors: dict[str, list[str]] = {}
    if data.visit_type not in config.visit_types:
        known = ", ".join(v.label for v in config.visit_types.values())
        errors["visit_type"] = [f"Choose a visit type ({known})."]
    unknown = sorted(set(data.focus_standards) - {s.key for s in config.standards})
    if unknown:
        errors["focus_standards"] = [f"Unknown standard: {', '.join(unknown)}."]
    if data.duration_minutes is not None and not 0 < data.duration_minutes <= 600:
        errors["duration_minutes"] = ["Give the length in minutes, between 1 and 600."]
    start = support_period(case).start
    if data.visited_on < start:
        errors["visited_on"] = [
            f"A visit cannot be dated before support began ({start.isoformat()})."
        ]
    elif not data.planned and data.visited_on > date.today():
        errors["visited_on"] = ["A logged visit cannot be in the future; plan it instead."]
    if errors:
        raise ValidationFailed(errors)


def log_visit(case: Case, author: User, data: VisitInput, *, key: UUID | None = None) -> Visit:
    """The assigned CT logs (or plans) a visit.

    With a ``key`` (the visit form's), the same visit sent again, a double click or a queue
    sent again after a connection dropped before the answer came, returns the visit the
    first sending stored and stores nothing: the device cannot know whether that answer was
    lost before or after the visit was kept. Two sendings at the same moment meet at the
    unique key; the later one finds the earlier's visit.
    """
    require(case, author, relations=("assigned_ct",), what="log visits")
    if key is None:
        return _add_visit(case, author, data)
    earlier = _visit_with_key(key)
    if earlier is not None:
        return _sent_again(earlier, case, author)
    try:
        with db.session.begin_nested():
            return _add_visit(case, author, data, key=key)
    except IntegrityError:
        earlier = _visit_with_key(key)
        if earlier is None:  # another constraint refused it: not ours to answer
            raise
        return _sent_again(earlier, case, author)


def _visit_with_key(key: UUID) -> Visit | None:
    return db.session.execute(
        select(Visit).where(Visit.idempotency_key == key)
    ).scalar_one_or_none()


def _sent_again(earlier: Visit, case: Case, author: User) -> Visit:
    """The visit a key already stored, if it is this person's visit on this case; a key
    reused for anything else is refused rather than answered with someone else's visit."""
    if earlier.case_id != case.id or earlier.author_id != author.id:
        raise Conflict({"idempotency_key": ["This form was already used for another visit."]})
    return earlier


def _add_visit(case: Case, author: User, data: VisitInput, key: UUID | None = None) -> Visit:
    ensure_open(case)
    _check_visit(case, data)
    visit = Visit(
        tenant_id=case.tenant_id,
        case_id=case.id,
        author_id=author.id,
        visit_type=data.visit_type,
        visited_on=data.visited_on,
        duration_minutes=data.duration_minutes,
        focus_standards=list(data.focus_standards),
        notes=data.notes,
        next_steps=data.next_steps,
        principal_present=data.principal_present,
        shared_with_teacher=data.shared_with_teacher,
        planned=data.planned,
        idempotency_key=key,
    )
    db.session.add(visit)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "visit.planned" if data.planned else "visit.logged",
        "case",
        case.id,
        after={"visit_id": visit.id, "type": data.visit_type, "on": data.visited_on.isoformat()},
        actor=Actor.of(author),
    )
    return visit


def complete_visit(visit: Visit, case: Case, author: User, data: VisitInput) -> Visit:
    """Log a planned meeting once it happened (type, date and notes as it went)."""
    require(case, author, relations=("assigned_ct",), what="log visits")
    ensure_open(case)
    if not visit.planned:
        raise Conflict({"visit": ["This visit is already logged."]})
    _check_visit(case, data)
    for field in (
        "visit_type",
        "visited_on",
        "duration_minutes",
        "notes",
        "next_steps",
        "principal_present",
        "shared_with_teacher",
    ):
        setattr(visit, field, getattr(data, field))
    visit.focus_standards, visit.planned, visit.author_id = (
        list(data.focus_standards),
        False,
        author.id,
    )
    db.session.flush()
    audit.record(
        case.tenant_id,
        "visit.logged",
        "case",
        case.id,
        after={"visit_id": visit.id, "type": visit.visit_type},
        actor=Actor.of(author),
    )
    return visit


def schedule_introduction(case: Case, by: User) -> Visit:
    """Put the introduction meeting (teacher, principal, CT) on the calendar."""
    config = configs.config_of(case.workflow_version)
    kind = (
        "introduction" if "introduction" in config.visit_types else next(iter(config.visit_types))
    )
    visit = _add_visit(
        case,
        by,
        VisitInput(
            kind,
            date.today() + INTRODUCTION_AFTER,
            planned=True,
            principal_present=case.principal_id is not None,
        ),
    )
    outbox.case_notice(
        case.id,
        case.tenant_id,
        "introduction_scheduled",
        ["assigned_ct", "case_teacher", "case_principal"],
    )
    return visit


def visits(case: Case, *, for_teacher: bool = False) -> list[Visit]:
    """The case's visits, newest first, each saying why it does not count (if it does not)."""
    query = select(Visit).where(Visit.case_id == case.id).order_by(Visit.visited_on.desc())
    rows = list(db.session.execute(query).scalars())
    config, period = configs.config_of(case.workflow_version), support_period(case)
    for visit in rows:  # judged on the whole record, before any notes are withheld below
        visit.not_counted_because = visit_shortfalls(visit, config.visit_types, period)
    if for_teacher:
        for visit in rows:  # the date and kind always show; notes only when shared
            if not visit.shared_with_teacher:
                db.session.expunge(visit)
                visit.notes = visit.next_steps = None
    return rows


def add_goal(case: Case, author: User, text: str) -> Goal:
    require(
        case,
        author,
        relations=("assigned_ct", "case_teacher"),
        roles=("coordinator",),
        what="set goals",
    )
    ensure_open(case)
    if not text.strip():
        raise ValidationFailed({"text": ["Write the goal."]})
    goal = Goal(tenant_id=case.tenant_id, case_id=case.id, text=text.strip())
    db.session.add(goal)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "goal.added",
        "case",
        case.id,
        after={"goal_id": goal.id},
        actor=Actor.of(author),
    )
    return goal


def set_goal_progress(goal: Goal, case: Case, author: User, progress: int) -> Goal:
    require(case, author, relations=("assigned_ct",), what="record progress")
    ensure_open(case)
    if not 0 <= progress <= 100:
        raise ValidationFailed({"progress": ["Give progress as a percentage from 0 to 100."]})
    before = goal.progress
    goal.progress, goal.updated_at = progress, utcnow()
    db.session.flush()
    audit.record(
        case.tenant_id,
        "goal.progress",
        "case",
        case.id,
        before={"goal_id": goal.id, "progress": before},
        after={"goal_id": goal.id, "progress": progress},
        actor=Actor.of(author),
    )
    return goal


def goals(case: Case) -> list[Goal]:
    return list(
        db.session.execute(select(Goal).where(Goal.case_id == case.id).order_by(Goal.id)).scalars()
    )


def add_evidence(
    case: Case,
    author: User,
    text: str | None,
    standards: list[str],
    upload: tuple[BinaryIO, str] | None = None,
) -> Evidence:
    """Evidence tagged to standards: text, a file (stored per tenant), or both.

    The assigned CT adds the primary evaluator's evidence; the case's principal, where the
    track makes them its secondary evaluator, the secondary evaluator's (``require`` lets a
    principal act only then: what a track shares with them is for reading).
    """
    from flask import current_app

    from app.services.storage import save_upload

    require(case, author, relations=("assigned_ct", "case_principal"), what="add evidence")
    role = "principal" if case.principal_id == author.id else "consulting_teacher"
    ensure_open(case)
    config = configs.config_of(case.workflow_version)
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(standards) - {s.key for s in config.standards})
    if unknown:
        errors["standards"] = [f"Unknown standard: {', '.join(unknown)}."]
    if not (text or "").strip() and upload is None:
        errors["text"] = ["Describe the evidence or attach a file."]
    if errors:
        raise ValidationFailed(errors)
    evidence = Evidence(
        tenant_id=case.tenant_id,
        case_id=case.id,
        author_id=author.id,
        author_role=role,
        text=(text or "").strip() or None,
        standards=sorted(set(standards)),
    )
    if upload is not None:
        stream, name = upload
        stored = save_upload(current_app, case.tenant_id, stream, name)
        evidence.file_key, evidence.file_name = stored.key, stored.original_name
        evidence.file_type, evidence.file_size = stored.content_type, stored.size
        evidence.file_sha256 = stored.sha256
    db.session.add(evidence)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "evidence.added",
        "case",
        case.id,
        after={
            "evidence_id": evidence.id,
            "standards": evidence.standards,
            "file_sha256": evidence.file_sha256,
        },
        actor=Actor.of(author),
    )
    return evidence


def evidence(case: Case) -> list[Evidence]:
    return list(
        db.session.execute(
            select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id.desc())
        ).scalars()
    )


def evidence_file(case: Case, reader: User, item: Evidence) -> BinaryIO:
    """The file of a piece of the case's evidence, for a reader who sees the evidence;
    anyone else, like a missing file, is told it is not found (404, never 403)."""
    from flask import current_app

    from app.services.storage import storage_for

    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    seen = sections(case, reader, track.shared_with_principal).evidence
    if not seen or item.case_id != case.id or not item.file_key:
        raise NotFound({"_schema": ["Not found."]})
    return storage_for(current_app).open(case.tenant_id, item.file_key)


def recommend(
    case: Case, ct: User, rating: str, rationale: str, evidence_ids: list[int]
) -> Recommendation:
    """Record the CT's end-of-cycle recommendation (the transition follows separately)."""
    ensure_open(case)
    config = configs.config_of(case.workflow_version)
    allowed = config.recommendation_options(case.track_key)
    errors: dict[str, list[str]] = {}
    if rating not in allowed:
        errors["rating"] = [f"Choose one of: {', '.join(allowed)}."]
    if len(rationale.strip()) < 20:
        errors["rationale"] = ["Explain the recommendation (at least a few sentences)."]
    own = {e.id for e in evidence(case)}
    if set(evidence_ids) - own:
        errors["evidence_ids"] = ["Link only evidence of this case."]
    if errors:
        raise ValidationFailed(errors)
    row = Recommendation(
        tenant_id=case.tenant_id,
        case_id=case.id,
        author_id=ct.id,
        rating=rating,
        rationale=rationale.strip(),
        evidence_ids=sorted(set(evidence_ids)),
    )
    db.session.add(row)
    case.recommended_rating = rating
    db.session.flush()
    audit.record(
        case.tenant_id,
        "recommendation.submitted",
        "case",
        case.id,
        after={"recommendation_id": row.id, "rating": rating},
        actor=Actor.of(ct),
    )
    return row


def recommendation(case: Case) -> Recommendation | None:
    return db.session.execute(
        select(Recommendation)
        .where(Recommendation.case_id == case.id)
        .order_by(Recommendation.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def submit_recommendation(
    case: Case, ct: User, rating: str, rationale: str, evidence_ids: list[int]
):
    """Record the recommendation and take the track's step that sends it to the panel.

    The step is the track's ``recommendation`` step from the current state, as the
    configuration names it (or derives it), never found by its key. Without such a step
    (too early, or the panel already has the case) nothing is recorded.
    """
    from app.services import cases

    require(case, ct, relations=("assigned_ct",), what="recommend")
    if case.panel_review_open:
        raise Conflict({"_schema": ["The panel has the case; the recommendation is final."]})
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    step = cases.recommendation_step(track, case.state)
    if step is None:
        raise Conflict({"_schema": ["The case is not at the recommendation step."]})
    row = recommend(case, ct, rating, rationale, evidence_ids)
    cases.apply(case, step.key, ct, {"rating": rating})
    return row
