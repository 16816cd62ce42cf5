"""Who may vote on an agenda item, and who sits it out: worked out from live facts.

A seat, a role, the roll call, a school or an authorship can all change after a case
is put on the agenda, so nothing here is decided once and stored: the voting service,
the chair's close, the agenda and minutes pages, the API and the case list all ask
these functions at the moment they act. Only when the vote closes are the recusals
written down, so the record of a closed vote says who sat out *then*.

An alternate sits for a constituency without holding one of its seats: they vote only
while fewer of that constituency's regular members are eligible (present and not
recused) than it has seats, the earliest seated alternate first.

Some people never vote on a case, whatever the configuration says: its teacher,
anyone who coached them as its consulting teacher, its principal, whoever referred
the teacher, and anyone who gave evidence on it. The configuration adds its own
rules (``same_school``, ``supervised_teacher``, ``declared_conflict``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, bindparam, exists, false, func, or_, select

from app.extensions import db
from app.models.assignment import Assignment
from app.models.case import Case
from app.models.panel import AgendaItem, PanelMember, PanelSession, Recusal
from app.models.support import Evidence
from app.models.user import RoleGrant, User
from app.security.roles import PANEL_STAFF
from app.services import workflow_config as configs
from app.tenants import reads
from app.tenants.scoping import scoped
from app.workflows import ProgramConfig

#: Why someone is a party to a case: they never vote on it, whatever the configuration.
PARTY_RULES: Mapping[str, str] = {
    "own_case": "the teacher the case is about",
    "coached_teacher": "a consulting teacher of the case",
    "case_principal": "the principal of the case",
    "referred_teacher": "referred the teacher",
    "gave_evidence": "gave evidence on the case",
}
#: Recusals the configuration asks for, in the words the agenda shows.
CONFIGURED_RULES: Mapping[str, str] = {
    "same_school": "works in the teacher's school",
    "supervised_teacher": "supervises or evaluates the teacher",
    "declared_conflict": "declared a conflict of interest",
}
RECUSAL_WORDS: Mapping[str, str] = {**PARTY_RULES, **CONFIGURED_RULES}


def recusal_words(rule: str) -> str:
    """A recusal's reason as the agenda and minutes say it."""
    return RECUSAL_WORDS.get(rule, rule.replace("_", " "))


@dataclass(frozen=True)
class SittingOut:
    """One member recused from one agenda item, and why."""

    member: PanelMember
    rule: str
    note: str | None = None

    @property
    def words(self) -> str:
        return recusal_words(self.rule)


@dataclass(frozen=True)
class ItemFacts:
    """Everything eligibility depends on for one agenda item, read in a few queries."""

    item: AgendaItem
    config: ProgramConfig
    #: Members whose term covers the session's date, active and holding the panel role.
    roster: Mapping[int, PanelMember]
    present: frozenset[int]
    #: User id -> the party rule that keeps them out of this case.
    parties: Mapping[int, str]
    #: Recusals written down: declared conflicts, and every recusal once the vote closed.
    recorded: Mapping[int, Recusal]

    @property
    def closed(self) -> bool:
        return self.item.status != "open"


# Built once (``scoped``): every panel page and every vote reads them.
_SEATED = scoped(
    select(PanelMember)
    .join(PanelMember.user)
    .where(
        User.active.is_(True),
        PanelMember.user_id.in_(select(RoleGrant.user_id).where(RoleGrant.role == "panel_member")),
    )
    .order_by(PanelMember.constituency, User.name)
)
_CASE_IDS = bindparam("case_ids", expanding=True)
_COACHES = scoped(
    select(Assignment.case_id, Assignment.ct_id).where(
        Assignment.case_id.in_(_CASE_IDS), Assignment.started_at.is_not(None)
    )
)
_AUTHORS = scoped(
    select(Evidence.case_id, Evidence.author_id).where(Evidence.case_id.in_(_CASE_IDS))
)


def seated_roster(session: PanelSession) -> dict[int, PanelMember]:
    """Members who hold a seat for the session: a term covering its date, an active
    account and the panel-member role today (a revoked role empties the seat)."""
    rows = db.session.execute(_SEATED).scalars()
    return {m.id: m for m in rows if m.serves_on(session.meets_on)}


def parties(case: Case) -> dict[int, str]:
    """Who never judges ``case``, and why (the strongest reason): its teacher, principal,
    CTs, referrer and anyone who gave evidence on it."""
    return parties_by_case([case])[case.id]


def parties_by_case(cases: Iterable[Case]) -> dict[int, dict[int, str]]:
    """:func:`parties` of many cases in two statements, whatever their number (an agenda
    asks this of every case on it)."""
    cases = list(cases)
    ids = [c.id for c in cases]
    if not ids:
        return {}
    coaches: dict[int, list[int]] = defaultdict(list)
    authors: dict[int, list[int]] = defaultdict(list)
    for case_id, ct_id in reads.execute(_COACHES, {"case_ids": ids}):
        coaches[case_id].append(ct_id)
    for case_id, author_id in reads.execute(_AUTHORS, {"case_ids": ids}):
        authors[case_id].append(author_id)
    return {c.id: _parties(c, coaches[c.id], authors[c.id]) for c in cases}


def _parties(case: Case, coaches: list[int], authors: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    # Weakest first: a later, stronger reason overwrites an earlier one.
    for user_id in authors:
        found[user_id] = "gave_evidence"
    if case.referred_by_id is not None:
        found[case.referred_by_id] = "referred_teacher"
    for user_id in [*coaches, case.ct_id]:
        if user_id is not None:
            found[user_id] = "coached_teacher"
    if case.principal_id is not None:
        found[case.principal_id] = "case_principal"
    found[case.teacher_id] = "own_case"
    return found


def facts_for(item: AgendaItem, roster: Mapping[int, PanelMember] | None = None) -> ItemFacts:
    """Read the live facts of one item (``roster`` may be shared across a session's items)."""
    roster = seated_roster(item.session) if roster is None else roster
    return facts_for_items([item], roster)[item.id]


def facts_for_items(
    items: Sequence[AgendaItem], roster: Mapping[int, PanelMember]
) -> dict[int, ItemFacts]:
    """:func:`facts_for` of every item of one session, keyed by item id, sharing the roster
    and the roll call: the cases' parties are read in two statements, and each program
    version's configuration once, so a long agenda costs what a short one does."""
    parties_of = parties_by_case(item.case for item in items)
    configs_of: dict[int, ProgramConfig] = {}
    found: dict[int, ItemFacts] = {}
    for item in items:
        version = item.case.workflow_version
        if version.id not in configs_of:
            configs_of[version.id] = configs.config_of(version)
        found[item.id] = ItemFacts(
            item=item,
            config=configs_of[version.id],
            roster=roster,
            present=frozenset(
                a.member_id for a in item.session.attendance if a.present and a.member_id in roster
            ),
            parties=parties_of[item.case_id],
            recorded={r.member_id: r for r in item.recusals},
        )
    return found


def recusal(facts: ItemFacts, member: PanelMember) -> SittingOut | None:
    """Why ``member`` sits this item out, or None. The one rule every screen derives from."""
    recorded = facts.recorded.get(member.id)
    if facts.closed:
        return SittingOut(member, recorded.rule, recorded.note) if recorded else None
    party = facts.parties.get(member.user_id)
    if party:
        return SittingOut(member, party)
    rules = facts.config.panel.recusal if facts.config.panel else frozenset()
    school = facts.item.case.school
    if "same_school" in rules and school and member.user.school == school:
        return SittingOut(member, "same_school")
    if recorded is not None:
        return SittingOut(member, recorded.rule, recorded.note)
    return None


def recusals(facts: ItemFacts) -> list[SittingOut]:
    """Every member of the roster who sits the item out (as recorded, once closed)."""
    if facts.closed:
        return [SittingOut(r.member, r.rule, r.note) for r in facts.item.recusals]
    found = (recusal(facts, m) for m in facts.roster.values())
    return [r for r in found if r is not None]


@dataclass(frozen=True)
class Standing:
    """Where one person stands on one agenda item, and in words why they may not vote."""

    member: PanelMember | None
    present: bool
    recused: SittingOut | None
    refusal: str | None

    @property
    def may_vote(self) -> bool:
        return self.refusal is None


def standing(facts: ItemFacts, user: User) -> Standing:
    """May ``user`` vote on this item now? Checked by the service at the moment of voting."""
    member = next((m for m in facts.roster.values() if m.user_id == user.id), None)
    if member is None:
        return Standing(None, False, None, "You do not hold a seat on the panel for this session.")
    present = member.id in facts.present
    out = recusal(facts, member)
    panel = facts.config.panel
    refusal = None
    if panel is None or member.constituency not in panel.constituencies:
        refusal = "Your seat is not one of this program's constituencies."
    elif out is not None:
        refusal = f"You are recused from this case: you {_as_clause(out)}."
    elif not present:
        refusal = "Only members marked present may vote."
    elif member.is_alternate and member.id not in eligible(facts):
        refusal = (
            "You sit as an alternate: you vote only while a member of your constituency "
            "is absent or recused, and every seat of it is filled now."
        )
    return Standing(member, present, out, refusal)


def _as_clause(out: SittingOut) -> str:
    clauses = {
        "own_case": "are the teacher the case is about",
        "coached_teacher": "are a consulting teacher of the case",
        "case_principal": "are the principal of the case",
        "referred_teacher": "referred the teacher",
        "gave_evidence": "gave evidence on the case",
        "same_school": "work in the teacher's school",
        "supervised_teacher": "supervise or evaluate the teacher",
        "declared_conflict": "declared a conflict of interest",
    }
    return clauses.get(out.rule, out.words)


def _sits(facts: ItemFacts, member: PanelMember) -> bool:
    """Present, in one of the configuration's constituencies, and not recused."""
    panel = facts.config.panel
    return (
        panel is not None
        and member.id in facts.present
        and member.constituency in panel.constituencies
        and recusal(facts, member) is None
    )


def eligible(facts: ItemFacts) -> frozenset[int]:
    """Member ids whose ballots count: seated, present, in a constituency, not recused;
    an alternate only while their constituency's eligible regular members are fewer than
    its seats, the earliest seated (lowest id) alternates filling the open seats first."""
    panel = facts.config.panel
    if panel is None:
        return frozenset()
    sitting = [m for m in facts.roster.values() if _sits(facts, m)]
    chosen = {m.id for m in sitting if not m.is_alternate}
    for key, constituency in panel.constituencies.items():
        regular = sum(1 for m in sitting if not m.is_alternate and m.constituency == key)
        waiting = sorted(
            (m for m in sitting if m.is_alternate and m.constituency == key), key=lambda m: m.id
        )
        chosen.update(m.id for m in waiting[: max(constituency.seats - regular, 0)])
    return frozenset(chosen)


def standing_by(facts: ItemFacts) -> frozenset[int]:
    """Alternates present and not recused whose constituency's seats are all filled:
    they sit in the room but their ballots do not count."""
    voters = eligible(facts)
    return frozenset(
        m.id
        for m in facts.roster.values()
        if m.is_alternate and _sits(facts, m) and m.id not in voters
    )


def chairs(facts: ItemFacts) -> list[PanelMember]:
    """Members who may chair this item: every member marked chair (co-chairs included)
    who is eligible to sit on it."""
    voters = eligible(facts)
    return [m for m in facts.roster.values() if m.is_chair and m.id in voters]


def sees_session(user: User, session: PanelSession, roster=None) -> bool:
    """Program staff see every session; a panel member only one they hold a seat for."""
    if user.roles & PANEL_STAFF:
        return True
    roster = seated_roster(session) if roster is None else roster
    return any(m.user_id == user.id for m in roster.values())


def items_seen_by(
    user: User, items: Sequence[AgendaItem], facts: Mapping[int, ItemFacts]
) -> list[AgendaItem]:
    """Of the items of a session ``user`` sees (:func:`sees_session`), those they may see:
    all for program staff; for a member, those they do not sit out."""
    if user.roles & PANEL_STAFF:
        return list(items)
    return [item for item in items if standing(facts[item.id], user).recused is None]


def sessions_seen_by(user: User, sessions: list[PanelSession]) -> list[PanelSession]:
    """Of ``sessions``, those ``user`` may see (:func:`sees_session`), in one query."""
    if user.roles & PANEL_STAFF:
        return sessions
    if "panel_member" not in user.roles or not user.active:
        return []
    member = db.session.execute(
        select(PanelMember).where(PanelMember.user_id == user.id)
    ).scalar_one_or_none()
    return [s for s in sessions if member is not None and member.serves_on(s.meets_on)]


def packet_case_ids(user: User) -> Select:
    """Cases whose packet ``user`` reads as a panel member, as one query for case lists.

    The query form of :func:`recusal` and :func:`seated_roster`: a seat whose term covers
    the session's date, the panel role, an active account, and not recused (a party, the
    configured same-school rule, or a recorded recusal on any of the case's agenda items).
    """
    from app.models.case import Case as CaseRow

    if "panel_member" not in user.roles or not user.active:
        return select(AgendaItem.case_id).where(false())
    seat = select(PanelMember).where(PanelMember.user_id == user.id).subquery()
    recorded = (
        select(AgendaItem.case_id)
        .join(Recusal, Recusal.item_id == AgendaItem.id)
        .join(seat, seat.c.id == Recusal.member_id)
    )
    gave_evidence = exists().where(Evidence.case_id == CaseRow.id, Evidence.author_id == user.id)
    coached = exists().where(
        Assignment.case_id == CaseRow.id,
        Assignment.ct_id == user.id,
        Assignment.started_at.is_not(None),
    )
    party = or_(
        CaseRow.teacher_id == user.id,
        CaseRow.ct_id == user.id,
        CaseRow.principal_id == user.id,
        CaseRow.referred_by_id == user.id,
        gave_evidence,
        coached,
    )
    same_school = false()
    if user.school:
        versions = _versions_recusing_same_school()
        if versions:
            same_school = and_(
                CaseRow.school == user.school, CaseRow.workflow_version_id.in_(versions)
            )
    return (
        select(AgendaItem.case_id)
        .join(PanelSession, PanelSession.id == AgendaItem.session_id)
        .join(CaseRow, CaseRow.id == AgendaItem.case_id)
        .join(
            seat,
            and_(
                or_(seat.c.term_start.is_(None), seat.c.term_start <= PanelSession.meets_on),
                or_(seat.c.term_end.is_(None), seat.c.term_end >= PanelSession.meets_on),
            ),
        )
        # A NULL principal or school must not make "not a party" unknown (and hide the case).
        .where(
            AgendaItem.case_id.not_in(recorded),
            ~func.coalesce(party, false()),
            ~func.coalesce(same_school, false()),
        )
    )


def _versions_recusing_same_school() -> list[int]:
    from app.models.workflow import WorkflowVersion

    rows = db.session.execute(
        select(WorkflowVersion).where(WorkflowVersion.status == configs.PUBLISHED)
    ).scalars()
    found = []
    for row in rows:
        panel = configs.config_of(row).panel
        if panel is not None and "same_school" in panel.recusal:
            found.append(row.id)
    return found
