"""The minutes of a panel session: attendance, who sat out, decisions and tallies.

One builder for the page, the API and the PDF job, so the three say the same thing.
Individual ballots appear only where the configuration makes them public.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from app.core import outbox
from app.models.panel import AgendaItem, PanelMember, PanelSession
from app.models.user import User
from app.services import audit
from app.services.actors import Actor
from app.services.errors import NotFound
from app.services.panel import ballots, eligibility


@dataclass(frozen=True)
class MinutesItem:
    case_id: int
    teacher: str
    track: str
    #: (member's name, why they sat out) in words.
    recused: list[tuple[str, str]]
    item: AgendaItem
    decision: str
    #: (option's label, votes) for a closed vote.
    tally: list[tuple[str, int]]
    public_ballots: list[tuple[PanelMember, str]]


@dataclass(frozen=True)
class Minutes:
    session: PanelSession
    present: list[PanelMember]
    absent: list[PanelMember]
    items: list[MinutesItem]


def entries(
    items: Sequence[AgendaItem], facts: Mapping[int, eligibility.ItemFacts]
) -> list[MinutesItem]:
    """The minutes' lines for ``items`` (``facts`` from :func:`eligibility.facts_for_items`);
    public ballots are read for all of them in one statement. The session page shows the
    same lines, so the two never differ."""
    public = ballots.public_ballots_by_item((item, facts[item.id].config) for item in items)
    return [_entry(facts[item.id], public.get(item.id, [])) for item in items]


def _entry(
    facts: eligibility.ItemFacts, public: list[tuple[PanelMember, str | None]]
) -> MinutesItem:
    item, config = facts.item, facts.config
    return MinutesItem(
        case_id=item.case_id,
        teacher=item.case.teacher.name,
        track=config.tracks[item.case.track_key].name,
        recused=[(r.member.user.name, r.words) for r in eligibility.recusals(facts)],
        item=item,
        decision=ballots.decision_words(item, config),
        tally=[
            (ballots.option_label(config, option), count)
            for option, count in (item.tally or {}).items()
        ],
        public_ballots=[
            (member, ballots.option_label(config, option)) for member, option in public
        ],
    )


def minutes(session: PanelSession, reader: User | None = None) -> Minutes:
    """Attendance, recusals and decisions with tallies; ballots only where they are public.

    For a ``reader``, only what they may see: nothing for someone without a seat, and
    never a case a member sits out.
    """
    roster = eligibility.seated_roster(session)
    if reader is not None and not eligibility.sees_session(reader, session, roster):
        return Minutes(session, [], [], [])
    present_ids = {a.member_id for a in session.attendance if a.present}
    facts = eligibility.facts_for_items(session.items, roster)
    items = (
        eligibility.items_seen_by(reader, session.items, facts) if reader else list(session.items)
    )
    members = list(roster.values())
    return Minutes(
        session,
        [m for m in members if m.id in present_ids],
        [m for m in members if m.id not in present_ids],
        entries(items, facts),
    )


def request_minutes_pdf(session: PanelSession, actor: Actor) -> None:
    """Ask the export worker for the minutes as PDF (the page shows it when ready)."""
    outbox.add(
        "exports.minutes", {"session_id": session.id}, tenant_id=session.tenant_id, queue="exports"
    )
    audit.record(
        session.tenant_id, "panel.minutes_requested", "panel_session", session.id, actor=actor
    )


def minutes_file(session: PanelSession) -> BinaryIO:
    """The minutes as PDF once the export worker made them; a 404 before that."""
    from flask import current_app

    from app.services.storage import storage_for

    if not session.minutes_key:
        raise NotFound({"_schema": ["The minutes are not ready yet."]})
    return storage_for(current_app).open(session.tenant_id, session.minutes_key)
