"""What the engine is told about a case and about the person acting.

The service layer fills these from the database; the engine only reads them,
which keeps every decision a pure function that tests can drive directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from types import MappingProxyType
from typing import Any, Protocol

from app.workflows.model import VisitType
from app.workflows.vocabulary import VISIT_EVIDENCE_FIELDS


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
    #: For each submitted status report, how many standards it rated below standard
    #: (a rating whose level has ``meets_standard: false``), oldest report first.
    reports_below_standard: tuple[int, ...] = ()
    cycle_start: date | None = None
    cycle_end: date | None = None
    payload: Mapping[str, Any] = field(default_factory=_empty)


#: The name of every fact a guard or an effect may read.
FACT_NAMES: frozenset[str] = frozenset(f.name for f in fields(CaseFacts))


class FactsOnDemand:
    """The facts of :class:`CaseFacts`, each worked out the first time something reads it.

    Most readers of a case page may take only steps without guards, and a guard reads one
    or two facts; computing every fact for every page cost more than the rest of the page.
    ``given`` holds facts known without asking (the case's own columns); ``loaders`` maps a
    fact to a function that works it out (usually one query, which the caller shares among
    the facts it answers). A fact is loaded at most once per object, so one object serves
    one evaluation: the service builds a new one for each action, never keeping one across
    a write.
    """

    __slots__ = ("_loaders", "_values")

    def __init__(
        self,
        given: Mapping[str, Any],
        loaders: Mapping[str, Callable[[], Any]] | None = None,
    ) -> None:
        loaders = loaders or {}
        unknown = sorted((set(given) | set(loaders)) - FACT_NAMES)
        if unknown:
            raise TypeError(f"not case facts: {', '.join(unknown)}")
        if "today" not in given:
            raise TypeError("'today' must be given: every deadline and period counts from it")
        self._values: dict[str, Any] = dict(given)
        self._loaders = dict(loaders)

    def __getattr__(self, name: str) -> Any:
        # Only called for names not found the ordinary way, i.e. the facts.
        if name not in FACT_NAMES:
            raise AttributeError(name)
        values = self._values
        if name not in values:
            loader = self._loaders.get(name)
            if loader is None:
                # A default here would let a guard pass or fail on a value nobody read.
                raise LookupError(f"the fact '{name}' was neither given nor loadable")
            values[name] = loader()
        return values[name]

    @property
    def loaded(self) -> frozenset[str]:
        """The facts known so far (given or loaded): what tests check was, or was not, asked."""
        return frozenset(self._values)


#: What guards and effects are given: every fact at once, or each as it is read.
Facts = CaseFacts | FactsOnDemand


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


@dataclass(frozen=True)
class SupportPeriod:
    """The days on which a visit counts: from the start of support to its end.

    ``end`` is the day the case closed when ``ended``, otherwise today.
    """

    start: date
    end: date
    ended: bool = False

    @property
    def months(self) -> float:
        """Months of support, to one decimal (a month is 30.44 days, as in the reports)."""
        return round(max((self.end - self.start).days, 0) / 30.44, 1)


class VisitRecord(Protocol):
    """What counting needs of one visit (a ``Visit`` row, or a row of its columns)."""

    visit_type: str
    visited_on: date
    planned: bool
    duration_minutes: int | None
    notes: str | None
    focus_standards: Sequence[str] | None
    next_steps: str | None


def visit_shortfalls(
    visit: VisitRecord, visit_types: Mapping[str, VisitType], period: SupportPeriod
) -> tuple[str, ...]:
    """Why ``visit`` does not count toward the guards, in plain words; empty when it counts.

    A visit counts when it is logged (not planned), of a type the program has, filled in
    as its type requires, and dated inside the support period. The guards' facts and the
    case page both ask this, so what a page shows as counting is what the guards count.
    """
    if visit.planned:
        return ("planned, not logged",)
    kind = visit_types.get(visit.visit_type)
    reasons = (
        [VISIT_EVIDENCE_FIELDS[name] for name in kind.required_to_count if _empty(visit, name)]
        if kind is not None
        else ["not a visit type of this program"]
    )
    if visit.visited_on < period.start:
        reasons.append(f"dated before support began ({period.start.isoformat()})")
    elif visit.visited_on > period.end:
        ended = f"dated after support ended ({period.end.isoformat()})"
        reasons.append(ended if period.ended else "dated in the future")
    return tuple(reasons)


def _empty(visit: VisitRecord, name: str) -> bool:
    value = getattr(visit, name)
    return not (value.strip() if isinstance(value, str) else value)
