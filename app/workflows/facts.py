"""What the engine is told about a case and about the person acting.

The service layer fills these from the database; the engine only reads them,
which keeps every decision a pure function that tests can drive directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class CaseFacts:
    """One case as the guards and effects see it, at the moment of an action.

    ``payload`` is what the actor submitted with the action (e.g. ``outcome``,
    ``rating``); ``cycle_start``/``cycle_end`` default to the school year that
    contains ``today``.
    """

    today: date
    visits_by_type: Mapping[str, int] = field(default_factory=_empty)
    months_of_support: float = 0.0
    has_recommendation: bool = False
    principal_consulted: bool = False
    tagged_standards: frozenset[str] = frozenset()
    committee_consensus: bool = False
    panel_decided: bool = False
    deadlines: Mapping[str, date] = field(default_factory=_empty)
    outcome: str | None = None
    eligibility_failures: tuple[str, ...] = ()
    ct_assigned: bool = False
    enrolled_on: date | None = None
    cycle_start: date | None = None
    cycle_end: date | None = None
    payload: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True)
class ActorFacts:
    """Who is acting: tenant roles held, and relations to this particular case.

    Relations come from :data:`app.workflows.vocabulary.RELATIONS`
    (``assigned_ct``, ``case_teacher``, ``case_principal``, ``panel_chair``,
    ``seated_panelist``).
    """

    roles: frozenset[str] = frozenset()
    relations: frozenset[str] = frozenset()

    def standing(self) -> frozenset[str]:
        """Every name under which this person may be admitted to an action."""
        return self.roles | self.relations
