"""The joint panel's rules, and the arithmetic of its decisions.

Kept apart from the rest of the model because the panel service counts votes
with it, and describe.py puts it into words; both must agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Constituency:
    key: str
    label: str
    seats: int


@dataclass(frozen=True)
class DecisionRule:
    """``kind`` is majority, supermajority or unanimity.

    A supermajority has either ``at_least`` (a number of seats) or ``fraction``
    (of ``of``: members present or all seats).
    """

    kind: str
    of: str = "present"
    at_least: int | None = None
    fraction: float | None = None

    def votes_needed(self, present: int, seats: int) -> int:
        """Votes for one option that carry it, with ``present`` members voting."""
        base = seats if self.of == "seats" else present
        if self.kind == "majority":
            return base // 2 + 1
        if self.kind == "unanimity":
            return base
        if self.at_least is not None:
            return self.at_least
        # Guard against 0.67 * 9 = 6.03 style float noise deciding a seat.
        return math.ceil(round((self.fraction or 0) * base, 9))


@dataclass(frozen=True)
class PanelRules:
    constituencies: Mapping[str, Constituency]
    chair: str
    quorum: int
    decision_rule: DecisionRule
    tie_rule: str
    recusal: frozenset[str]
    sealed_ballots: bool
    invite_teacher: bool
    invite_principal: bool
    per_constituency_minimum: int | None = None

    @property
    def seats(self) -> int:
        """Voting seats across every constituency."""
        return sum(c.seats for c in self.constituencies.values())

    def has_quorum(self, present: int) -> bool:
        """Whether enough members are present to vote."""
        return present >= self.quorum

    def votes_needed(self, present: int) -> int:
        """Votes for one option that carry it, ignoring the per-side minimum."""
        return self.decision_rule.votes_needed(present, self.seats)

    def carries(self, votes_by_constituency: Mapping[str, int], present: int) -> bool:
        """Whether the votes cast for one option decide the case.

        ``votes_by_constituency`` counts, per constituency, the votes for the
        option; ``present`` is the number of members present and voting.
        """
        if not self.has_quorum(present):
            return False
        total = sum(votes_by_constituency.values())
        if total < self.votes_needed(present):
            return False
        minimum = self.per_constituency_minimum or 0
        return all(votes_by_constituency.get(k, 0) >= minimum for k in self.constituencies)
