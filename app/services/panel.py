"""The panel: members and balance, sessions and agendas, recusal, sealed ballots, decisions.

Ballots are sealed: nothing returns a ballot's option before the chair closes
the vote, and afterwards only the tally leaves this module unless the
configuration makes ballots public. The decision itself comes from the pure
rule function (``app.workflows.decision.decide``) on the configured panel rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.jobs import outbox
from app.models.base import utcnow
from app.models.case import Case
from app.models.panel import AgendaItem, Attendance, Ballot, PanelMember, PanelSession, Recusal
from app.models.user import User
from app.services import audit, cases
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.workflows import ProgramConfig
from app.workflows import decision as rules_engine


def _actor(user: User) -> Actor:
    return Actor("user", user.id, user.email)


def _config() -> ProgramConfig:
    from app.tenants.context import current_tenant_id

    return configs.config_of(configs.latest_published(current_tenant_id()))


# Members ------------------------------------------------------------------------------


def members(on: date | None = None) -> list[PanelMember]:
    rows = db.session.execute(
        select(PanelMember).join(PanelMember.user).order_by(PanelMember.constituency, User.name)
    ).scalars()
    return [m for m in rows if on is None or m.serves_on(on)]


def member_for(user: User) -> PanelMember | None:
    return db.session.execute(
        select(PanelMember).where(PanelMember.user_id == user.id)
    ).scalar_one_or_none()


def save_member(
    user: User,
    constituency: str,
    is_chair: bool,
    term_start: date | None,
    term_end: date | None,
    actor: Actor,
) -> PanelMember:
    panel = _config().panel
    errors: dict[str, list[str]] = {}
    if panel is None:
        errors["constituency"] = ["This program has no panel."]
    elif constituency not in panel.constituencies:
        errors["constituency"] = [f"Choose one of: {', '.join(panel.constituencies)}."]
    if "panel_member" not in user.roles:
        errors["user_id"] = [f"{user.name} does not hold the panel-member role."]
    if errors:
        raise ValidationFailed(errors)
    row = member_for(user) or PanelMember(tenant_id=user.tenant_id, user_id=user.id)
    row.constituency, row.is_chair = constituency, is_chair
    row.term_start, row.term_end = term_start, term_end
    db.session.add(row)
    db.session.flush()
    audit.record(
        user.tenant_id,
        "panel.member_saved",
        "panel_member",
        row.id,
        after={"user_id": user.id, "constituency": constituency, "chair": is_chair},
        actor=actor,
    )
    return row


def balance(on: date | None = None) -> list[str]:
    """Where the panel differs from its rules: seats per constituency, and the chair."""
    panel = _config().panel
    if panel is None:
        return []
    seated = members(on or date.today())
    notes = []
    for key, constituency in panel.constituencies.items():
        count = sum(1 for m in seated if m.constituency == key)
        if count != constituency.seats:
            notes.append(f"{constituency.label}: {count} members for {constituency.seats} seats.")
    if not any(m.is_chair for m in seated):
        notes.append("No member is marked as chair.")
    return notes


# Sessions and agenda -------------------------------------------------------------------


def schedule(meets_on: date, location: str | None, actor: Actor) -> PanelSession:
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
    return row


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
    """Put a case before the session; members recused by the configured rules are recorded."""
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
    for member in members(session.meets_on):
        rule = _recusal_rule(config, member, case)
        if rule:
            db.session.add(
                Recusal(tenant_id=session.tenant_id, item=item, member_id=member.id, rule=rule)
            )
    db.session.flush()
    audit.record(
        session.tenant_id,
        "panel.case_added",
        "panel_session",
        session.id,
        after={"case_id": case.id, "item_id": item.id},
        actor=actor,
    )
    outbox.add(
        "mail.case_notice",
        {"case_id": case.id, "template": "panel_session_scheduled", "to": ["panel_member"]},
        tenant_id=session.tenant_id,
        queue="mail",
    )
    invited = [
        name
        for name, on in (
            ("case_teacher", config.panel.invite_teacher),
            ("case_principal", config.panel.invite_principal),
        )
        if on
    ]
    if invited:
        outbox.add(
            "mail.case_notice",
            {"case_id": case.id, "template": "invited_to_present", "to": invited},
            tenant_id=session.tenant_id,
            queue="mail",
        )
    return item


def _recusal_rule(config: ProgramConfig, member: PanelMember, case: Case) -> str | None:
    """The configured rules, and always: nobody votes on their own case or on one they
    coach or supervise, whatever the configuration says."""
    if member.user_id == case.teacher_id:
        return "own_case"
    rules = config.panel.recusal if config.panel else frozenset()
    if member.user_id in (case.principal_id, case.ct_id):
        return "supervised_teacher"
    if "same_school" in rules and member.user.school and member.user.school == case.school:
        return "same_school"
    return None


def declare_conflict(item: AgendaItem, member: PanelMember, note: str, actor: Actor) -> Recusal:
    _open(item)
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


# Voting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """Where a member stands on one agenda item."""

    member: PanelMember | None
    present: bool
    recused: Recusal | None

    @property
    def may_vote(self) -> bool:
        return self.member is not None and self.present and self.recused is None


def seat(item: AgendaItem, user: User) -> Seat:
    member = member_for(user)
    if member is None:
        return Seat(None, False, None)
    present = any(a.member_id == member.id and a.present for a in item.session.attendance)
    recused = next((r for r in item.recusals if r.member_id == member.id), None)
    return Seat(member, present, recused)


def _open(item: AgendaItem) -> None:
    if item.status != "open":
        raise Conflict({"_schema": ["The vote on this case is closed."]})


def _attendance(item: AgendaItem) -> rules_engine.Attendance:
    roster = {m.id: m.constituency for m in members(item.session.meets_on)}
    present = frozenset(
        a.member_id for a in item.session.attendance if a.present and a.member_id in roster
    )
    recused = frozenset(r.member_id for r in item.recusals)
    return rules_engine.Attendance(present=present, constituency_of=roster, recused=recused)


def ballot_options(item: AgendaItem) -> tuple[str, ...]:
    config = configs.config_of(item.case.workflow_version)
    return config.tracks[item.case.track_key].ballot_options


def cast(item: AgendaItem, user: User, option: str | None) -> None:
    """Cast or change this member's ballot (``None`` abstains); 409 when they may not."""
    _open(item)
    where = seat(item, user)
    if where.member is None:
        raise Conflict({"_schema": ["You do not hold a seat on the panel."]})
    if where.recused is not None:
        raise Conflict({"_schema": [f"You are recused from this case ({where.recused.rule})."]})
    if not where.present:
        raise Conflict({"_schema": ["Only members marked present may vote."]})
    config = configs.config_of(item.case.workflow_version)
    if not config.panel.has_quorum(len(_seated(item))):
        raise Conflict(
            {
                "_schema": [
                    f"No quorum: {config.panel.quorum} members must be present and not recused."
                ]
            }
        )
    if option is not None and option not in ballot_options(item):
        raise ValidationFailed({"option": [f"Choose one of: {', '.join(ballot_options(item))}."]})
    row = db.session.execute(
        select(Ballot).where(Ballot.item_id == item.id, Ballot.member_id == where.member.id)
    ).scalar_one_or_none()
    if row is None:
        row = Ballot(tenant_id=item.tenant_id, item_id=item.id, member_id=where.member.id)
        db.session.add(row)
    row.option, row.cast_at = option, utcnow()
    db.session.flush()
    # The audit records that a ballot was cast, never what it says.
    audit.record(
        item.tenant_id,
        "panel.ballot_cast",
        "agenda_item",
        item.id,
        after={"member_id": where.member.id},
        actor=_actor(user),
    )


def _seated(item: AgendaItem) -> frozenset[int]:
    attendance = _attendance(item)
    return attendance.present - attendance.recused


def _drop_ballot(item: AgendaItem, member: PanelMember) -> None:
    row = db.session.execute(
        select(Ballot).where(Ballot.item_id == item.id, Ballot.member_id == member.id)
    ).scalar_one_or_none()
    if row is not None:
        db.session.delete(row)


def ballots_cast(item: AgendaItem) -> int:
    """How many ballots are in (never which way): what the chair sees before closing."""
    return db.session.execute(
        select(func.count()).select_from(Ballot).where(Ballot.item_id == item.id)
    ).scalar_one()


def chair_of(item: AgendaItem) -> PanelMember | None:
    seated = _seated(item)
    return next((m for m in members(item.session.meets_on) if m.is_chair and m.id in seated), None)


def close(item: AgendaItem, user: User) -> AgendaItem:
    """The chair (or the coordinator) closes the vote; the configured rule decides."""
    db.session.execute(select(AgendaItem.id).where(AgendaItem.id == item.id).with_for_update())
    db.session.refresh(item)
    _open(item)
    chair = chair_of(item)
    is_chair = chair is not None and chair.user_id == user.id
    if not is_chair and "coordinator" not in user.roles:
        raise Conflict({"_schema": ["Only the chair or the coordinator closes the vote."]})
    case = item.case
    config = configs.config_of(case.workflow_version)
    attendance = _attendance(item)
    ballots = {
        b.member_id: rules_engine.Ballot(
            b.member_id, attendance.constituency_of.get(b.member_id, ""), b.option
        )
        for b in db.session.execute(select(Ballot).where(Ballot.item_id == item.id)).scalars()
    }
    recommendation = _recommended_option(case, config)
    result = rules_engine.decide(
        config.panel,
        ballots,
        attendance,
        ct_recommendation=recommendation,
        chair_id=chair.id if chair else None,
        options=ballot_options(item),
    )
    item.status, item.closed_at = "closed", utcnow()
    item.outcome, item.option, item.decided_by = result.outcome, result.option, result.decided_by
    item.tally = dict(result.tally)
    item.tally_by_constituency = {k: dict(v) for k, v in result.tally_by_constituency.items()}
    item.votes_needed, item.rule_text, item.reasons = (
        result.votes_needed,
        result.rule_text,
        list(result.reasons),
    )
    db.session.flush()
    audit.record(
        item.tenant_id,
        "panel.vote_closed",
        "case",
        case.id,
        after={
            "item_id": item.id,
            "outcome": result.outcome,
            "option": result.option,
            "tally": item.tally,
            "rule": result.rule_text,
        },
        actor=_actor(user),
    )
    if result.outcome == "decided":
        _carry_decision(case, config, result.option, user)
    return item


def _recommended_option(case: Case, config: ProgramConfig) -> str | None:
    """The CT's recommendation as a ballot option: itself, or 'affirm' where the panel
    votes on it (the tie rule "the recommendation stands" then affirms it)."""
    options = config.tracks[case.track_key].ballot_options
    if case.recommended_rating in options:
        return case.recommended_rating
    for word in ("affirm", "uphold"):
        if word in options:
            return word
    return None


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


def _carry_decision(case: Case, config: ProgramConfig, option: str, user: User) -> None:
    """Take the track's step out of panel review (the one guarded by ``panel_decided``)."""
    track = config.tracks[case.track_key]
    step = next(
        (
            t
            for t in track.transitions_from(case.state)
            if any(g.name == "panel_decided" for g in t.guards)
        ),
        None,
    )
    if step is None:
        return
    rating = option if option in {r.key for r in config.rating_scale} else case.recommended_rating
    case.panel_review_open = False
    cases.apply(case, step.key, user, {"rating": rating} if rating else {}, internal=True)


def item_for_case(case: Case) -> AgendaItem | None:
    return db.session.execute(
        select(AgendaItem)
        .where(AgendaItem.case_id == case.id)
        .order_by(AgendaItem.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def get_item(session: PanelSession, case_id: int) -> AgendaItem:
    item = next((i for i in session.items if i.case_id == case_id), None)
    if item is None:
        raise NotFound({"case_id": ["This case is not on the session's agenda."]})
    return item


def public_ballots(item: AgendaItem) -> list[tuple[PanelMember, str | None]]:
    """Individual ballots, only after closing and only where the configuration makes them
    public; otherwise an empty list (the tally is the record)."""
    config = configs.config_of(item.case.workflow_version)
    if item.status != "closed" or config.panel.sealed_ballots:
        return []
    rows = db.session.execute(select(Ballot).where(Ballot.item_id == item.id)).scalars()
    by_id = {m.id: m for m in members()}
    return [(by_id[b.member_id], b.option) for b in rows if b.member_id in by_id]


def panel_relations(case: Case, user: User) -> frozenset[str]:
    """``panel_chair`` / ``seated_panelist`` for the case's latest agenda item."""
    item = item_for_case(case)
    if item is None:
        return frozenset()
    where = seat(item, user)
    if not where.may_vote:
        return frozenset()
    chair = chair_of(item)
    return frozenset({"seated_panelist"} | ({"panel_chair"} if chair == where.member else set()))


# Final approval ------------------------------------------------------------------------------


def final_decision(
    case: Case, user: User, approve: bool, note: str | None, outcome: str | None = None
):
    """The final authority approves (closing the case) or returns it to the panel."""
    from app.models.panel import FinalDecision

    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    steps = [t for t in track.transitions_from(case.state) if "final_authority" in t.actors]
    closing = [t for t in steps if any(e.name == "close_with_outcome" for e in t.effects)]
    step = (closing or [None])[0] if approve else next((t for t in steps if t not in closing), None)
    if step is None:
        what = "approve" if approve else "return"
        raise Conflict({"_schema": [f"There is no step to {what} the case from here."]})
    if not approve and not (note or "").strip():
        raise ValidationFailed({"note": ["Say why the decision goes back to the panel."]})
    item = item_for_case(case)
    payload = {"outcome": outcome} if outcome else {}
    if item is not None and item.option:
        rating = (
            item.option
            if item.option in {r.key for r in config.rating_scale}
            else (case.panel_rating or case.recommended_rating)
        )
        if rating:
            payload["rating"] = rating
    if approve and (item is None or item.outcome != "decided"):
        raise Conflict({"_schema": ["There is no panel decision to approve."]})
    row = FinalDecision(
        tenant_id=case.tenant_id,
        case_id=case.id,
        item_id=item.id if item else None,
        authority_id=user.id,
        approved=approve,
        note=(note or "").strip() or None,
    )
    db.session.add(row)
    db.session.flush()
    cases.apply(case, step.key, user, payload, internal=True)
    return row


# Minutes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesItem:
    case_id: int
    teacher: str
    track: str
    recused: list[tuple[str, str]]
    item: AgendaItem
    public_ballots: list[tuple[PanelMember, str | None]]


@dataclass(frozen=True)
class Minutes:
    session: PanelSession
    present: list[PanelMember]
    absent: list[PanelMember]
    items: list[MinutesItem]


def minutes(session: PanelSession, reader: User | None = None) -> Minutes:
    """Attendance, recusals and decisions with tallies; ballots only where they are public.

    For a ``reader``, the items they may see (a member never sees a case they sat out).
    """
    present_ids = {a.member_id for a in session.attendance if a.present}
    roster = members(session.meets_on)
    items = [
        MinutesItem(
            case_id=item.case_id,
            teacher=item.case.teacher.name,
            track=item.case.track_key,
            recused=[(r.member.user.name, r.rule) for r in item.recusals],
            item=item,
            public_ballots=public_ballots(item),
        )
        for item in (visible_items(session, reader) if reader else session.items)
    ]
    return Minutes(
        session,
        [m for m in roster if m.id in present_ids],
        [m for m in roster if m.id not in present_ids],
        items,
    )


def request_minutes_pdf(session: PanelSession, actor: Actor) -> None:
    """Ask the export worker for the minutes as PDF (the page shows it when ready)."""
    outbox.add(
        "exports.minutes", {"session_id": session.id}, tenant_id=session.tenant_id, queue="exports"
    )
    audit.record(
        session.tenant_id, "panel.minutes_requested", "panel_session", session.id, actor=actor
    )


def visible_items(session: PanelSession, user: User) -> list[AgendaItem]:
    """Agenda items a reader may see: all for program staff, none a member is recused from."""
    if user.roles & {"coordinator", "program_admin", "final_authority"}:
        return list(session.items)
    member = member_for(user)
    return [
        i
        for i in session.items
        if member is None or all(r.member_id != member.id for r in i.recusals)
    ]


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


def ballot_counts(item_ids: list[int]) -> dict[int, int]:
    """Ballots in per agenda item (never their content), in one query."""
    if not item_ids:
        return {}
    return dict(
        db.session.execute(
            select(Ballot.item_id, func.count())
            .where(Ballot.item_id.in_(item_ids))
            .group_by(Ballot.item_id)
        ).all()
    )
