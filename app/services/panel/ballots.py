"""Sealed ballots on one agenda item, and the decision the configured rule draws from them.

Ballots are sealed: nothing returns a ballot's option before the chair closes the
vote except to the member who cast it, and afterwards only the tally leaves this
module unless the configuration makes ballots public. Who may vote is asked of
``eligibility`` at the moment of voting and again at the close, so a ballot
counts only if its member is eligible when the vote closes. The decision itself
comes from the pure rule function (``app.workflows.decision.decide``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.panel import AgendaItem, Ballot, PanelMember, Recusal
from app.models.user import User
from app.services import audit, cases
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, ValidationFailed
from app.services.panel import eligibility
from app.tenants.scoping import scoped
from app.workflows import ProgramConfig
from app.workflows import decision as rules_engine
from app.workflows.vocabulary import BALLOT_WORDS

#: The ballot a member casts to abstain; an abstention is a ballot, never a default.
ABSTAIN = "abstain"


def ballot_options(item: AgendaItem) -> tuple[str, ...]:
    config = configs.config_of(item.case.workflow_version)
    return config.tracks[item.case.track_key].ballot_options


def option_label(config: ProgramConfig, key: str | None) -> str:
    """A ballot option as people read it: the rating's label, or the ballot's words."""
    if key is None or key == ABSTAIN:
        return "Abstain"
    level = next((r for r in config.rating_scale if r.key == key), None)
    if level is not None:
        return level.label
    words = BALLOT_WORDS.get(key, key.replace("_", " "))
    return words[0].upper() + words[1:]


def ballot_choices(item: AgendaItem, config: ProgramConfig | None = None) -> list[tuple[str, str]]:
    """What the ballot offers, labelled: the track's options and an explicit abstention.
    The same list the service accepts (:func:`cast`). ``config`` is the item's own, when
    the caller has it already (a page of items asks once per program version)."""
    config = configs.config_of(item.case.workflow_version) if config is None else config
    options = config.tracks[item.case.track_key].ballot_options
    return [(o, option_label(config, o)) for o in options] + [(ABSTAIN, "Abstain")]


def _lock(item: AgendaItem) -> None:
    """Serialize ballots and the close on one item, then read it afresh."""
    db.session.execute(select(AgendaItem.id).where(AgendaItem.id == item.id).with_for_update())
    db.session.refresh(item)
    if item.status != "open":
        raise Conflict({"_schema": ["The vote on this case is closed."]})


def _ballot_of(item: AgendaItem, member_id: int) -> Ballot | None:
    return db.session.execute(
        select(Ballot).where(Ballot.item_id == item.id, Ballot.member_id == member_id)
    ).scalar_one_or_none()


#: Built once (``scoped``): a member's session page reads their own ballots.
_OWN_BALLOTS = scoped(
    select(Ballot).where(
        Ballot.member_id == bindparam("member_id"),
        Ballot.item_id.in_(bindparam("item_ids", expanding=True)),
    )
)


def own_ballots(member: PanelMember, items: Sequence[AgendaItem]) -> dict[int, Ballot]:
    """``member``'s own ballots on ``items``, keyed by item id, in one statement (only
    ever shown to their author)."""
    if not items:
        return {}
    rows = db.session.execute(
        _OWN_BALLOTS, {"member_id": member.id, "item_ids": [i.id for i in items]}
    ).scalars()
    return {b.item_id: b for b in rows}


@dataclass(frozen=True)
class BallotChange:
    """What a cast did, so the member is told when they changed an earlier ballot."""

    before: str | None
    after: str
    changed: bool
    first: bool

    def message(self, config: ProgramConfig) -> str:
        after = option_label(config, self.after)
        if self.first:
            return f"Your ballot is in: {after}. You may change it until the vote is closed."
        if not self.changed:
            return f"Your ballot is unchanged: {after}."
        before = option_label(config, self.before)
        return f"You changed your ballot from {before} to {after}."


def cast(item: AgendaItem, user: User, option: str | None) -> BallotChange:
    """Cast or change this member's ballot; ``option`` is one of :func:`ballot_choices`
    (``None`` also abstains, for API clients). 409 when they may not vote now."""
    _lock(item)
    facts = eligibility.facts_for(item)
    standing = eligibility.standing(facts, user)
    if not standing.may_vote:
        raise Conflict({"_schema": [standing.refusal]})
    panel = facts.config.panel
    if not panel.has_quorum(len(eligibility.eligible(facts))):
        raise Conflict(
            {"_schema": [f"No quorum: {panel.quorum} members must be present and not recused."]}
        )
    offered = {key for key, _ in ballot_choices(item)}
    choice = ABSTAIN if option is None else option
    if choice not in offered:
        labels = ", ".join(label for _, label in ballot_choices(item))
        raise ValidationFailed({"option": [f"Choose one of: {labels}."]})
    row = _ballot_of(item, standing.member.id)
    before = None if row is None else (row.option or ABSTAIN)
    if row is None:
        row = Ballot(tenant_id=item.tenant_id, item_id=item.id, member_id=standing.member.id)
        db.session.add(row)
    row.option, row.cast_at = (None if choice == ABSTAIN else choice), utcnow()
    db.session.flush()
    # The audit records that a ballot was cast or changed, never what it says.
    audit.record(
        item.tenant_id,
        "panel.ballot_changed" if before is not None else "panel.ballot_cast",
        "agenda_item",
        item.id,
        after={"member_id": standing.member.id},
        actor=Actor.of(user),
    )
    return BallotChange(before, choice, before is not None and before != choice, before is None)


def ballots_cast(item: AgendaItem) -> int:
    """How many ballots are in (never which way): what the chair sees before closing."""
    return len(db.session.execute(select(Ballot.id).where(Ballot.item_id == item.id)).all())


def _casting_chair(chairs_now: list[PanelMember], ballots: dict[int, Ballot]) -> int | None:
    """The chair whose ballot is the casting vote: the one chair, or co-chairs who agree."""
    options = {ballots[c.id].option for c in chairs_now if c.id in ballots}
    if len(options) != 1 or None in options:
        return None
    return next(c.id for c in chairs_now if c.id in ballots)


def close(item: AgendaItem, user: User) -> AgendaItem:
    """A chair (or the coordinator) closes the vote; the configured rule decides from the
    ballots of members eligible now (an alternate's only while filling a seat), and the
    recusals that applied are written down."""
    _lock(item)
    facts = eligibility.facts_for(item)
    chairs_now = eligibility.chairs(facts)
    if user.id not in {c.user_id for c in chairs_now} and "coordinator" not in user.roles:
        raise Conflict(
            {"_schema": ["Only a chair of the panel or the coordinator closes the vote."]}
        )
    case, config = item.case, facts.config
    sitting_out = eligibility.recusals(facts)
    # An alternate whose constituency's seats are all filled now sits in the room, not
    # on the panel: neither counted for quorum nor their ballot.
    standby = eligibility.standing_by(facts)
    attendance = rules_engine.Attendance(
        present=facts.present - standby,
        constituency_of={m.id: m.constituency for m in facts.roster.values()},
        recused=frozenset(r.member.id for r in sitting_out),
    )
    rows = {
        b.member_id: b
        for b in db.session.execute(select(Ballot).where(Ballot.item_id == item.id)).scalars()
    }
    ballots = {
        member_id: rules_engine.Ballot(
            member_id, attendance.constituency_of.get(member_id, ""), b.option
        )
        for member_id, b in rows.items()
        if member_id not in standby
    }
    result = rules_engine.decide(
        config.panel,
        ballots,
        attendance,
        ct_recommendation=_recommended_option(case, config),
        chair_id=_casting_chair(chairs_now, rows),
        options=ballot_options(item),
    )
    for out in sitting_out:
        if out.member.id not in facts.recorded:
            db.session.add(
                Recusal(tenant_id=item.tenant_id, item=item, member_id=out.member.id, rule=out.rule)
            )
    item.status, item.closed_at = "closed", utcnow()
    item.outcome, item.option, item.decided_by = result.outcome, result.option, result.decided_by
    item.tally = dict(result.tally)
    item.tally_by_constituency = {k: dict(v) for k, v in result.tally_by_constituency.items()}
    item.votes_needed, item.rule_text = result.votes_needed, result.rule_text
    item.reasons = [
        *(
            f"Ballot ignored: {member_id} sat as an alternate, and every seat of their "
            "constituency was filled when the vote closed."
            for member_id in sorted(rows)
            if member_id in standby
        ),
        *result.reasons,
    ]
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
        actor=Actor.of(user),
    )
    if result.outcome == "decided":
        _carry_decision(case, config, result.option, user)
    return item


def _recommended_option(case: Case, config: ProgramConfig) -> str | None:
    """The CT's recommendation as a ballot option: itself, or 'affirm' where the panel
    votes on it (the rule "the recommendation stands" then affirms it)."""
    options = config.tracks[case.track_key].ballot_options
    if case.recommended_rating in options:
        return case.recommended_rating
    for word in ("affirm", "uphold"):
        if word in options:
            return word
    return None


def _carry_decision(case: Case, config: ProgramConfig, option: str, user: User) -> None:
    """Take the track's ``panel_decision`` step out of panel review: the step the
    configuration names for it (or derives), whatever its key and guards."""
    step = config.tracks[case.track_key].step_for("panel_decision", case.state)
    if step is None:
        return
    rating = option if option in {r.key for r in config.rating_scale} else case.recommended_rating
    case.panel_review_open = False
    cases.apply(case, step.key, user, {"rating": rating} if rating else {}, internal=True)


def decision_words(item: AgendaItem, config: ProgramConfig | None = None) -> str:
    """A closed item's decision as the agenda and minutes say it: which rule produced it.
    ``config`` is the item's own, when the caller has it already."""
    if item.status == "open":
        return "Vote open"
    config = configs.config_of(item.case.workflow_version) if config is None else config
    if item.outcome != "decided":
        return {
            "no_quorum": "No decision: no quorum",
            "deferred": "Deferred to the next session",
            "no_decision": "No decision",
        }.get(item.outcome or "", "No decision")
    label = option_label(config, item.option)
    if item.decided_by == "ct_recommendation_stands":
        return f"Decided: {label} (the consulting teacher's recommendation stands)"
    if item.decided_by == "chair_casting_vote":
        return f"Decided: {label} (by the chair's casting vote)"
    return f"Decided: {label}"


def public_ballots(item: AgendaItem) -> list[tuple[PanelMember, str | None]]:
    """Individual ballots, only after closing and only where the configuration makes them
    public; otherwise an empty list (the tally is the record)."""
    config = configs.config_of(item.case.workflow_version)
    return public_ballots_by_item([(item, config)]).get(item.id, [])


def public_ballots_by_item(
    items: Iterable[tuple[AgendaItem, ProgramConfig]],
) -> dict[int, list[tuple[PanelMember, str | None]]]:
    """:func:`public_ballots` of many items, each with its configuration, in at most one
    statement: only closed items whose configuration makes ballots public are read."""
    public = [item.id for item, config in items if _public(item, config)]
    if not public:
        return {}
    rows = db.session.execute(
        select(Ballot, PanelMember)
        .join(PanelMember, PanelMember.id == Ballot.member_id)
        .where(Ballot.item_id.in_(public))
        .order_by(Ballot.item_id, Ballot.id)
    ).all()
    found: dict[int, list[tuple[PanelMember, str | None]]] = {item_id: [] for item_id in public}
    for ballot, member in rows:
        found[ballot.item_id].append((member, ballot.option))
    return found


def _public(item: AgendaItem, config: ProgramConfig) -> bool:
    return item.status == "closed" and not config.panel.sealed_ballots
