"""Panel sessions: scheduling, the agenda, attendance and declared conflicts.

Who may vote and see is worked out in ``eligibility``, voting in ``ballots``, the
minutes in ``minutes`` and the final authority's step in ``approval``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from app.core import outbox
from app.extensions import db
from app.models.case import Case
from app.models.panel import AgendaItem, Attendance, Ballot, PanelMember, PanelSession, Recusal
from app.models.user import User
from app.security.roles import PANEL_STAFF
from app.services import audit
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.panel import eligibility
from app.tenants import reads
from app.tenants.scoping import scoped

# Sessions and agenda -------------------------------------------------------------------


def sessions(reader: User) -> list[PanelSession]:
    """The sessions ``reader`` may see, newest first (the panel page and the API list)."""
    rows = db.session.execute(select(PanelSession).order_by(PanelSession.meets_on.desc()))
    return eligibility.sessions_seen_by(reader, list(rows.scalars()))


def schedule(meets_on: date, location: str | None, actor: Actor) -> PanelSession:
    """Schedule a session; cases of tracks that report before each session get a status
    report due before it, and written reports still waiting for a session go on it."""
    from app.services import status_report_schedule
    from app.tenants.context import current_tenant_id

    if meets_on < date.today():
        raise ValidationFailed({"meets_on": ["Schedule the session for today or later."]})
    row = PanelSession(tenant_id=current_tenant_id(), meets_on=meets_on, location=location)
    db.session.add(row)
    db.session.flush()
    audit.record(
        row.tenant_id,
        "panel.session_scheduled",
        "panel_session",
        row.id,
        after={"meets_on": meets_on.isoformat()},
        actor=actor,
    )
    status_report_schedule.schedule_for_session(row)
    return row


def status_reports_on(
    session: PanelSession, reader: User, roster: Mapping[int, PanelMember] | None = None
) -> list:
    """The CT status reports placed on ``session`` for reading that ``reader`` may read
    (none for someone who does not see the session); ``roster`` when the caller has read
    it already."""
    from app.services import status_reports

    if not eligibility.sees_session(reader, session, roster):
        return []
    return [status_reports.reading(r) for r in status_reports.on_session(session, reader)]


def ready_cases() -> list[Case]:
    """Cases in panel review that are not on an open agenda item already."""
    busy = select(AgendaItem.case_id).where(AgendaItem.status == "open")
    return list(
        db.session.execute(
            select(Case)
            .where(Case.panel_review_open.is_(True), Case.closed_at.is_(None), Case.id.not_in(busy))
            .order_by(Case.id)
        ).scalars()
    )


def add_to_agenda(session: PanelSession, case: Case, actor: Actor) -> AgendaItem:
    """Put a case before the session. Who sits it out is worked out live
    (``eligibility``), never fixed here: seats and roles change after this."""
    if session.status != "scheduled":
        raise Conflict({"session": ["This session is closed."]})
    if not case.panel_review_open or case.closed_at is not None:
        raise Conflict({"case_id": ["This case is not waiting for the panel."]})
    if any(i.case_id == case.id for i in session.items):
        raise Conflict({"case_id": ["This case is already on the agenda."]})
    item = AgendaItem(tenant_id=session.tenant_id, session=session, case_id=case.id)
    db.session.add(item)
    db.session.flush()
    config = configs.config_of(case.workflow_version)
    audit.record(
        session.tenant_id,
        "panel.case_added",
        "panel_session",
        session.id,
        after={"case_id": case.id, "item_id": item.id},
        actor=actor,
    )
    outbox.case_notice(case.id, session.tenant_id, "panel_session_scheduled", ["panel_member"])
    invited = [
        name
        for name, on in (
            ("case_teacher", config.panel.invite_teacher),
            ("case_principal", config.panel.invite_principal),
        )
        if on
    ]
    if invited:
        outbox.case_notice(case.id, session.tenant_id, "invited_to_present", invited)
    return item


def declare_conflict(item: AgendaItem, user: User, note: str, actor: Actor) -> Recusal:
    """A seated member sits a case out of their own accord; a ballot already cast goes."""
    _open(item)
    member = eligibility.standing(eligibility.facts_for(item), user).member
    if member is None:
        raise Conflict({"_schema": ["You do not hold a seat on the panel for this session."]})
    config = configs.config_of(item.case.workflow_version)
    if config.panel and "declared_conflict" not in config.panel.recusal:
        raise Conflict({"_schema": ["This program's rules do not provide for declared conflicts."]})
    if not note.strip():
        raise ValidationFailed({"note": ["Say what the conflict is."]})
    existing = next((r for r in item.recusals if r.member_id == member.id), None)
    if existing:
        return existing
    recusal = Recusal(
        tenant_id=item.tenant_id,
        item=item,
        member_id=member.id,
        rule="declared_conflict",
        note=note.strip(),
    )
    db.session.add(recusal)
    _drop_ballot(item, member)
    db.session.flush()
    audit.record(
        item.tenant_id,
        "panel.conflict_declared",
        "agenda_item",
        item.id,
        after={"member_id": member.id},
        actor=actor,
    )
    return recusal


def set_attendance(session: PanelSession, member: PanelMember, present: bool, actor: Actor) -> None:
    """Record a member present or absent; only a member who holds a seat on the day."""
    if session.status != "scheduled":
        raise Conflict({"session": ["This session is closed."]})
    if member.id not in eligibility.seated_roster(session):
        raise ValidationFailed(
            {"member_id": [f"{member.user.name} holds no seat on the panel on {session.meets_on}."]}
        )
    row = next((a for a in session.attendance if a.member_id == member.id), None)
    if row is None:
        row = Attendance(tenant_id=session.tenant_id, session=session, member_id=member.id)
        db.session.add(row)
    row.present = present
    db.session.flush()
    audit.record(
        session.tenant_id,
        "panel.attendance",
        "panel_session",
        session.id,
        after={"member_id": member.id, "present": present},
        actor=actor,
    )


def _open(item: AgendaItem) -> None:
    if item.status != "open":
        raise Conflict({"_schema": ["The vote on this case is closed."]})


def _drop_ballot(item: AgendaItem, member: PanelMember) -> None:
    row = db.session.execute(
        select(Ballot).where(Ballot.item_id == item.id, Ballot.member_id == member.id)
    ).scalar_one_or_none()
    if row is not None:
        db.session.delete(row)


def item_for_case(case: Case) -> AgendaItem | None:
    """The case's latest agenda item (a guard's fact on the case page), or None."""
    return db.session.execute(_LATEST_ITEM, {"case_id": case.id}).scalar_one_or_none()


_LATEST_ITEM = scoped(
    select(AgendaItem)
    .where(AgendaItem.case_id == bindparam("case_id"))
    .order_by(AgendaItem.id.desc())
    .limit(1)
)


def by_id(panel_session_id: int) -> PanelSession | None:
    """One session of the district with its agenda and its attendance, or None."""
    found = db.session.execute(_BY_ID, {"id": panel_session_id}).unique().scalar_one_or_none()
    if found is not None and "attendance" not in inspect(found).dict:
        present = db.session.execute(_ATTENDANCE, {"session_id": found.id}).scalars().all()
        set_committed_value(found, "attendance", list(present))
    return found


#: Built once (``scoped``): every session page and action finds its session so. Its agenda
#: comes in the same statement, each item with its case, the case's teacher and the item's
#: recusals (joined: a separate load per collection built and keyed a new statement each
#: time, most of the session's load). The cases' CTs, principals and versions are read when
#: asked for (a version is nearly always the district's newest, which the request has read
#: already).
_AGENDA = joinedload(PanelSession.items)
_AGENDA_CASE = _AGENDA.defaultload(AgendaItem.case)
_BY_ID = scoped(
    select(PanelSession)
    .where(PanelSession.id == bindparam("id"))
    .options(
        _AGENDA.joinedload(AgendaItem.recusals),
        lazyload(PanelSession.attendance),
        _AGENDA_CASE.lazyload(Case.ct),
        _AGENDA_CASE.lazyload(Case.principal),
        _AGENDA_CASE.lazyload(Case.workflow_version),
    )
)
#: The session's attendance, a handful of rows, in a statement of its own built once and
#: given to the session as its loaded collection (``set_committed_value``). Joined beside
#: the agenda it would multiply the agenda's rows; loaded by the relationship, its
#: statement would carry the agenda's loader options, whose cache key SQLAlchemy computed
#: again on every request (twice a plain read's time).
_ATTENDANCE = scoped(select(Attendance).where(Attendance.session_id == bindparam("session_id")))


def get_item(session: PanelSession, case_id: int) -> AgendaItem:
    item = next((i for i in session.items if i.case_id == case_id), None)
    if item is None:
        raise NotFound({"case_id": ["This case is not on the session's agenda."]})
    return item


def visible_items(session: PanelSession, user: User) -> list[AgendaItem]:
    """Agenda items a reader may see: all for program staff; for a member with a seat
    for the session, those they do not sit out; for anyone else, none."""
    if user.roles & PANEL_STAFF:
        return list(session.items)
    roster = eligibility.seated_roster(session)
    if not eligibility.sees_session(user, session, roster):
        return []
    facts = eligibility.facts_for_items(session.items, roster)
    return eligibility.items_seen_by(user, session.items, facts)


def panel_decided(case: Case) -> bool:
    """The guard's fact: a vote on the case closed with a decision since it (last) entered
    panel review; a decision returned by the final authority does not count again."""
    latest = item_for_case(case)
    return (
        latest is not None
        and latest.outcome == "decided"
        and latest.closed_at is not None
        and latest.closed_at >= case.state_entered_at
    )


def panel_relations(case: Case, user: User) -> frozenset[str]:
    """``panel_chair`` / ``seated_panelist`` for the case's latest agenda item, from the
    live eligibility rules."""
    item = item_for_case(case)
    if item is None:
        return frozenset()
    facts = eligibility.facts_for(item)
    if not eligibility.standing(facts, user).may_vote:
        return frozenset()
    chair = any(m.user_id == user.id for m in eligibility.chairs(facts))
    return frozenset({"seated_panelist"} | ({"panel_chair"} if chair else set()))


def latest_items(case_ids: list[int]) -> dict[int, AgendaItem]:
    """Each case's latest agenda item, for a whole page of cases in one query."""
    if not case_ids:
        return {}
    newest = (
        select(AgendaItem.case_id, func.max(AgendaItem.id).label("id"))
        .where(AgendaItem.case_id.in_(case_ids))
        .group_by(AgendaItem.case_id)
        .subquery()
    )
    rows = db.session.execute(
        select(AgendaItem).join(newest, newest.c.id == AgendaItem.id)
    ).scalars()
    return {item.case_id: item for item in rows}


#: Built once (``scoped``): every panel session page counts its items' ballots.
_BALLOT_COUNTS = scoped(
    select(Ballot.item_id, func.count())
    .where(Ballot.item_id.in_(bindparam("item_ids", expanding=True)))
    .group_by(Ballot.item_id)
)


def ballot_counts(item_ids: list[int]) -> dict[int, int]:
    """Ballots in per agenda item (never their content), in one query."""
    if not item_ids:
        return {}
    return dict(reads.rows(_BALLOT_COUNTS, {"item_ids": item_ids}))
