"""The joint panel's decision on one case, from its ballots and its attendance.

A pure function so that the panel service, the minutes and the tests all count
the same way, and a decision can be recomputed from the sealed ballots at any
time with the same result. How the edge cases count:

- Members present and not recused, who hold a seat of one of the panel's
  constituencies, are the *seated* members: only they count for quorum, and
  only their ballots count.
- An abstention (a ballot without an option, or no ballot at all) keeps the
  member present for quorum but is not a vote cast: a majority is of votes
  cast, and an abstention does not break unanimity ("every vote cast").
- A supermajority given as a fraction of those present counts every seated
  member, so there an abstention weighs like a vote against.
- When no single option meets the rule, the configuration's rule for that case
  (the document's ``tie_rule``, though it applies whenever no option carries,
  tied or not) decides: the chair's casting vote (only when options are tied
  for the most votes and the chair voted for one of them), the consulting
  teacher's recommendation, or a deferral to the next session. The sentence
  recorded says which happened: a tie only when there was one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from app.workflows import vocabulary as v
from app.workflows.describe import describe_decision, describe_quorum
from app.workflows.panel import PanelRules

MemberId = int | str
Outcome = Literal["decided", "no_quorum", "deferred", "no_decision"]
DecidedBy = Literal["rule", "chair_casting_vote", "ct_recommendation_stands"]


@dataclass(frozen=True)
class Ballot:
    """One member's vote; ``option`` is None for an abstention."""

    member_id: MemberId
    constituency: str
    option: str | None = None


@dataclass(frozen=True)
class Attendance:
    """Who sits for this case: the roll call, the seat roster and the recusals."""

    present: frozenset[MemberId]
    constituency_of: Mapping[MemberId, str]
    recused: frozenset[MemberId] = frozenset()

    def seated(self, rules: PanelRules) -> frozenset[MemberId]:
        """Members who count for quorum and vote: present, not recused, with a seat."""
        return frozenset(
            m
            for m in self.present - self.recused
            if self.constituency_of.get(m) in rules.constituencies
        )


@dataclass(frozen=True)
class Decision:
    """What the panel decided, with the counts and the words for the minutes.

    ``decided_by`` says whether the decision rule or the tie rule produced a
    decided outcome (None for every other outcome).
    """

    outcome: Outcome
    option: str | None
    tally: Mapping[str, int]
    tally_by_constituency: Mapping[str, Mapping[str, int]]
    votes_needed: int
    rule_text: str
    reasons: tuple[str, ...]
    decided_by: DecidedBy | None = None


def _member_key(member: MemberId) -> tuple[bool, MemberId]:
    # Ids of one kind sort naturally; mixed int and str ids still sort.
    return (isinstance(member, str), member)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _ignore_reason(
    key: MemberId,
    ballot: Ballot,
    attendance: Attendance,
    rules: PanelRules,
    options: Sequence[str] | None,
) -> str | None:
    """Why a ballot does not count, or None when it does."""
    member = ballot.member_id
    seat = attendance.constituency_of.get(member)
    if key != member:
        return f"the ballot filed for {key} is from {member}"
    if seat not in rules.constituencies:
        return f"{member} holds no seat on the panel"
    if member in attendance.recused:
        return f"{member} is recused"
    if member not in attendance.present:
        return f"{member} is not present"
    if ballot.constituency != seat:
        return f"{member} sits for {seat}, but the ballot names {ballot.constituency}"
    if ballot.option is not None and options is not None and ballot.option not in options:
        return f"{member} voted for '{ballot.option}', which is not a ballot option"
    return None


def _counted_votes(
    rules: PanelRules,
    ballots: Mapping[MemberId, Ballot],
    attendance: Attendance,
    options: Sequence[str] | None,
) -> tuple[dict[MemberId, Ballot], list[str]]:
    """The ballots that count, by member, and a sentence for each one ignored."""
    counted: dict[MemberId, Ballot] = {}
    ignored: list[str] = []
    for key in sorted(ballots, key=_member_key):
        reason = _ignore_reason(key, ballots[key], attendance, rules, options)
        if reason is None:
            counted[key] = ballots[key]
        else:
            ignored.append(f"Ballot ignored: {reason}.")
    return counted, ignored


def _tallies(
    rules: PanelRules, votes: Iterable[Ballot], options: Sequence[str] | None
) -> tuple[Mapping[str, int], Mapping[str, Mapping[str, int]]]:
    """Votes per option, overall and per constituency, every key sorted."""
    votes = [b for b in votes if b.option is not None]
    names = sorted(set(options) if options is not None else {b.option for b in votes})
    by_side = {
        side: {o: sum(1 for b in votes if b.constituency == side and b.option == o) for o in names}
        for side in sorted(rules.constituencies)
    }
    tally = {o: sum(counts[o] for counts in by_side.values()) for o in names}
    return MappingProxyType(tally), MappingProxyType(
        {side: MappingProxyType(counts) for side, counts in by_side.items()}
    )


def _uses_seated_base(rules: PanelRules) -> bool:
    rule = rules.decision_rule
    return rule.kind == "supermajority" and rule.at_least is None and rule.of != "seats"


def votes_needed(rules: PanelRules, cast: int, seated: int) -> int:
    """Votes one option needs under the decision rule, never fewer than one.

    A majority or unanimity "of those present" counts votes cast, so that an
    abstention neither blocks nor helps; a fraction of those present counts
    every seated member, as the district's share of the room.
    """
    base = seated if _uses_seated_base(rules) else cast
    return max(1, rules.decision_rule.votes_needed(base, rules.seats))


def _rule_words(rules: PanelRules) -> str:
    """The decision rule as describe.py says it, with the fraction's true base."""
    if not _uses_seated_base(rules):
        return describe_decision(rules)
    share = f"{(rules.decision_rule.fraction or 0):.0%}"
    text = f"Decision needs at least {share} of the members present and not recused"
    minimum = rules.per_constituency_minimum
    if minimum:
        who = "side" if len(rules.constituencies) == 2 else "constituency"
        text += f", at least {minimum} from each {who}"
    return text


def _short_sides(
    rules: PanelRules, by_side: Mapping[str, Mapping[str, int]], option: str
) -> list[str]:
    """Constituencies whose votes for ``option`` fall below the per-side minimum."""
    minimum = rules.per_constituency_minimum or 0
    return [side for side in by_side if by_side[side].get(option, 0) < minimum]


def _carrying(
    rules: PanelRules,
    tally: Mapping[str, int],
    by_side: Mapping[str, Mapping[str, int]],
    needed: int,
) -> tuple[list[str], list[str]]:
    """Options that meet the rule, and why each option with enough votes fell short."""
    carrying, short = [], []
    for option, count in tally.items():
        if count < needed:
            continue
        sides = _short_sides(rules, by_side, option)
        if not sides:
            carrying.append(option)
            continue
        labels = ", ".join(rules.constituencies[s].label for s in sides)
        short.append(
            f"'{option}' has {count} votes but fewer than "
            f"{rules.per_constituency_minimum} from {labels}."
        )
    return carrying, short


def _top_options(tally: Mapping[str, int]) -> list[str]:
    """Options with the most votes cast (none when nobody voted)."""
    most = max(tally.values(), default=0)
    return [o for o, count in tally.items() if count == most and most > 0]


def _tie_rule(
    rules: PanelRules,
    tally: Mapping[str, int],
    counted: Mapping[MemberId, Ballot],
    ct_recommendation: str | None,
    chair_id: MemberId | None,
    options: Sequence[str] | None,
) -> tuple[Outcome, str | None, DecidedBy | None, str]:
    """Apply the panel's tie rule once no single option meets the decision rule."""
    if rules.tie_rule == "defer":
        return "deferred", None, None, "The case goes to the next session."
    if rules.tie_rule == "ct_recommendation_stands":
        valid = bool(ct_recommendation) and (options is None or ct_recommendation in options)
        if valid:
            reason = f"The consulting teacher's recommendation '{ct_recommendation}' stands."
            return "decided", ct_recommendation, "ct_recommendation_stands", reason
        reason = "There is no consulting teacher's recommendation among the ballot options."
        return "no_decision", None, None, reason
    top = _top_options(tally)
    if len(top) < 2:
        # A casting vote breaks a tie; it does not make up for votes a rule requires.
        return "no_decision", None, None, "No option meets the rule and there is no tie to break."
    chair_ballot = counted.get(chair_id) if chair_id is not None else None
    if chair_ballot is not None and chair_ballot.option in top:
        reason = f"The chair's casting vote breaks the tie for '{chair_ballot.option}'."
        return "decided", chair_ballot.option, "chair_casting_vote", reason
    return "no_decision", None, None, "The chair cast no vote for one of the tied options."


def _attendance_notes(
    rules: PanelRules, attendance: Attendance, counted: Mapping[MemberId, Ballot]
) -> list[str]:
    """Present members without a seat, and how many seated members cast no vote."""
    notes = [
        f"{m} is present but holds no seat on the panel."
        for m in sorted(attendance.present - attendance.recused, key=_member_key)
        if attendance.constituency_of.get(m) not in rules.constituencies
    ]
    seated = attendance.seated(rules)
    silent = len(seated) - sum(1 for b in counted.values() if b.option is not None)
    if silent:
        notes.append(
            f"{_plural(silent, 'seated member')} cast no vote: present for quorum, not a vote cast."
        )
    return notes


def decide(
    rules: PanelRules,
    ballots: Mapping[MemberId, Ballot],
    attendance: Attendance,
    *,
    ct_recommendation: str | None,
    chair_id: MemberId | None,
    options: Sequence[str] | None = None,
) -> Decision:
    """The panel's decision on one case, the same for the same inputs.

    ``options`` are the track's ballot options; when given, a ballot for any
    other option is ignored and the consulting teacher's recommendation must be
    one of them to stand. ``ct_recommendation`` is said as a ballot option.
    """
    counted, ignored = _counted_votes(rules, ballots, attendance, options)
    tally, by_side = _tallies(rules, counted.values(), options)
    seated = len(attendance.seated(rules))
    needed = votes_needed(rules, sum(tally.values()), seated)
    notes = [*ignored, *_attendance_notes(rules, attendance, counted)]

    def result(outcome: Outcome, option: str | None, by: DecidedBy | None, text: str) -> Decision:
        return Decision(outcome, option, tally, by_side, needed, text, tuple(notes), by)

    if not rules.has_quorum(seated):
        notes.append(f"{_plural(seated, 'seated member')} present; the quorum is {rules.quorum}.")
        return result("no_quorum", None, None, f"{describe_quorum(rules)}.")
    carrying, short = _carrying(rules, tally, by_side, needed)
    notes.extend(short)
    words = f"{_rule_words(rules)} ({_plural(needed, 'vote')} needed this time)"
    if len(carrying) == 1:
        winner = carrying[0]
        notes.append(f"'{winner}' has {_plural(tally[winner], 'vote')}.")
        return result("decided", winner, "rule", f"{words}, and '{winner}' met it.")
    outcome, option, by, reason = _tie_rule(
        rules, tally, counted, ct_recommendation, chair_id, options
    )
    notes.append(reason)
    text = (
        f"{words}. {_shortfall(rules, tally, needed, seated)}; the configuration's rule when "
        f"no option reaches it: {v.TIE_RULES[rules.tie_rule]}."
    )
    return result(outcome, option, by, text)


def _base(rules: PanelRules, cast: int, seated: int) -> int:
    """What ``votes_needed`` is counted out of: seats, members seated, or votes cast."""
    rule = rules.decision_rule
    if rule.of == "seats" or rule.at_least is not None:
        return rules.seats
    return seated if _uses_seated_base(rules) else cast


def _shortfall(rules: PanelRules, tally: Mapping[str, int], needed: int, seated: int) -> str:
    """Why no option carried, in the words a union would check: a true tie is called a
    tie, anything else says how far the leading option fell short."""
    top = _top_options(tally)
    base = _base(rules, sum(tally.values()), seated)
    if len(top) >= 2:
        names = " and ".join(f"'{o}'" for o in top)
        return (
            f"{names} tied at {_plural(tally[top[0]], 'vote')} each, "
            f"and no option reached {needed} of {base}"
        )
    return f"No option reached {needed} of {base}"
