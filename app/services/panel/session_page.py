"""What the panel session page shows one reader, gathered in one place (the page builds
its forms from it).

Each agenda item the reader may see carries its line of the minutes and where the reader
stands on it: their seat and recusal, whether they chair it, their own ballot. Everything
is read for all items at once (the cases' parties, the reader's ballots, the counts, the
public ballots), so the page sends as many statements for eight items as for two; the
rules themselves are the ones every other screen asks (``eligibility``).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.panel import AgendaItem, PanelMember, PanelSession
from app.models.user import User
from app.services.panel import ballots, eligibility, minutes, sessions


@dataclass(frozen=True)
class PageItem:
    """One agenda item as the reader sees it."""

    entry: minutes.MinutesItem
    standing: eligibility.Standing
    #: How many ballots are in (never which way).
    ballots_cast: int
    #: The reader may chair this item now (close the vote).
    is_chair: bool
    #: What the ballot offers, labelled (the same list the service accepts).
    choices: list[tuple[str, str]]
    #: The reader's own ballot, in words; None without a seat or a ballot.
    mine: str | None

    @property
    def item(self) -> AgendaItem:
        return self.entry.item


@dataclass(frozen=True)
class SessionPage:
    """One reader's session page: nothing but the session itself without a seat for it."""

    session: PanelSession
    sees_session: bool
    #: Members who hold a seat for the session, by member id.
    roster: dict[int, PanelMember]
    #: Member id -> present, for members whose attendance is recorded.
    present: dict[int, bool]
    items: list[PageItem]
    #: Items on the agenda this reader does not see (those they sit out).
    not_shown: int
    status_reports: list


def session_page(session: PanelSession, reader: User) -> SessionPage:
    """The session as ``reader`` may see it, in a fixed number of statements."""
    roster = eligibility.seated_roster(session)
    sees = eligibility.sees_session(reader, session, roster)
    items = _items(session, reader, roster) if sees else []
    return SessionPage(
        session=session,
        sees_session=sees,
        roster=roster,
        present={a.member_id: a.present for a in session.attendance},
        items=items,
        not_shown=len(session.items) - len(items),
        status_reports=sessions.status_reports_on(session, reader, roster),
    )


def _items(session: PanelSession, reader: User, roster: dict[int, PanelMember]) -> list[PageItem]:
    facts = eligibility.facts_for_items(session.items, roster)
    shown = eligibility.items_seen_by(reader, session.items, facts)
    counts = sessions.ballot_counts([item.id for item in shown])
    # The reader's seat is the same on every item of the session: one roster for all.
    seat = next((m for m in roster.values() if m.user_id == reader.id), None)
    own = ballots.own_ballots(seat, shown) if seat is not None else {}
    found = []
    for entry in minutes.entries(shown, facts):
        item, item_facts = entry.item, facts[entry.item.id]
        mine = own.get(item.id)
        found.append(
            PageItem(
                entry=entry,
                standing=eligibility.standing(item_facts, reader),
                ballots_cast=counts.get(item.id, 0),
                is_chair=reader.id in {c.user_id for c in eligibility.chairs(item_facts)},
                choices=ballots.ballot_choices(item, item_facts.config),
                mine=None if mine is None else ballots.option_label(item_facts.config, mine.option),
            )
        )
    return found
