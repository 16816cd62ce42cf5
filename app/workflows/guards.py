"""Guards: the closed set of conditions a transition may require.

Each guard is ``(facts, params) -> None`` when it passes, or a plain sentence
saying what is missing; a portal shows that sentence next to a disabled
button, so it must make sense to a teacher or coordinator on its own.

A guard reads only the facts it needs, by attribute: given ``FactsOnDemand``, that
reading is what makes the service work the fact out, so a guard never reads a fact
it does not use (e.g. to build a sentence it will not return).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, fields, validate

from app.workflows.facts import Facts
from app.workflows.registry import DocumentIndex, Entry, Problems, unknown_keys


def _d(text: str) -> dict[str, str]:
    return {"description": text}


GuardFunc = Callable[[Facts, Mapping[str, Any]], str | None]


class _MinVisits(Schema):
    count = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata=_d("visits needed")
    )
    types = fields.List(
        fields.String(), validate=validate.Length(min=1), metadata=_d("visit type keys to count")
    )


class _MinMonths(Schema):
    months = fields.Float(
        required=True,
        validate=validate.Range(min=0, min_inclusive=False),
        metadata=_d("months of support needed"),
    )


class _Standards(Schema):
    standards = fields.List(
        fields.String(),
        validate=validate.Length(min=1),
        metadata=_d("standard keys; every standard when omitted"),
    )


class _Deadline(Schema):
    deadline = fields.String(required=True, metadata=_d("a deadline key"))


class _UnsatisfactoryReports(Schema):
    reports = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata=_d("submitted status reports needed"),
    )
    areas = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata=_d("standards each of those reports rates below standard"),
    )


def _words(key: str) -> str:
    return key.replace("_", " ")


def _min_visits(facts: Facts, params: Mapping[str, Any]) -> str | None:
    types = params.get("types")
    counted = facts.visits_by_type.items()
    have = sum(n for kind, n in counted if types is None or kind in types)
    if have >= params["count"]:
        return None
    kinds = " or ".join(_words(t) for t in types) + " " if types else ""
    return f"needs at least {params['count']} {kinds}visits (has {have})"


def _check_visit_types(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    return unknown_keys(params.get("types"), index.visit_types, "visit type", "types")


def _min_months(facts: Facts, params: Mapping[str, Any]) -> str | None:
    if facts.months_of_support >= params["months"]:
        return None
    return (
        f"needs at least {params['months']:g} months of support (has {facts.months_of_support:g})"
    )


def _flag(attribute: str, sentence: str) -> GuardFunc:
    def guard(facts: Facts, params: Mapping[str, Any]) -> str | None:
        return None if getattr(facts, attribute) else sentence

    return guard


def _tagged(facts: Facts, params: Mapping[str, Any]) -> str | None:
    missing = sorted(set(params["standards"]) - facts.tagged_standards)
    if not missing:
        return None
    return "no evidence tagged yet to: " + ", ".join(_words(m) for m in missing)


def _check_standards(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    if not index.standards:
        return [("", "the document lists no standards to tag evidence to")]
    return unknown_keys(params.get("standards"), index.standards, "standard", "standards")


def _all_standards(params: dict[str, Any], index: DocumentIndex) -> dict[str, Any]:
    # Omitting the list means "every standard", resolved once at build time so
    # the guard itself stays a function of facts and parameters only.
    return {"standards": params.get("standards") or sorted(index.standards)}


def _before_deadline(facts: Facts, params: Mapping[str, Any]) -> str | None:
    key = params["deadline"]
    due = facts.deadlines.get(key)
    if due is None:
        # Fail closed: an unscheduled deadline is a missing step, not a pass.
        return f"the {_words(key)} deadline is not scheduled for this case"
    if facts.today > due:
        return f"the {_words(key)} deadline passed on {due.isoformat()}"
    return None


def _check_deadline(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    return unknown_keys(params["deadline"], index.deadlines, "deadline", "deadline")


def _unsatisfactory_reports(facts: Facts, params: Mapping[str, Any]) -> str | None:
    have = sum(1 for below in facts.reports_below_standard if below >= params["areas"])
    if have >= params["reports"]:
        return None
    areas = params["areas"]
    standards = "standard" if areas == 1 else "standards"
    return (
        f"needs {params['reports']} status reports each rating at least {areas} "
        f"{standards} below standard (has {have})"
    )


def _check_areas(params: Mapping[str, Any], index: DocumentIndex) -> Problems:
    if not index.standards:
        return [("", "the document lists no standards for status reports to rate")]
    if params["areas"] > len(index.standards):
        return [("areas", f"must be <= the number of standards ({len(index.standards)})")]
    return []


def _has_outcome(facts: Facts, params: Mapping[str, Any]) -> str | None:
    if facts.outcome or facts.payload.get("outcome"):
        return None
    return "no outcome has been chosen"


def _eligible(facts: Facts, params: Mapping[str, Any]) -> str | None:
    if not facts.eligibility_failures:
        return None
    return "not eligible: " + "; ".join(facts.eligibility_failures)


_ENTRIES: tuple[Entry[GuardFunc], ...] = (
    Entry(
        "min_visits",
        "At least `count` visits that count, of the given visit types if `types` is set. "
        "A visit counts when it is logged (not planned), has the fields its type's "
        "`required_to_count` names, and is dated inside the case's support period "
        "(from the start of support to the case's end; never before enrollment or in "
        "the future). The case page says why each other visit does not count.",
        _min_visits,
        _MinVisits,
        {"count": 6, "types": ["observation"]},
        _check_visit_types,
    ),
    Entry(
        "min_months_of_support",
        "The case has had at least `months` months of support, counted from the start "
        "of support (when its first consulting teacher's assignment took effect; its "
        "enrollment if it has no such date) to the case's end, or today while it is open.",
        _min_months,
        _MinMonths,
        {"months": 6},
    ),
    Entry(
        "has_recommendation",
        "The consulting teacher has written a recommendation.",
        _flag("has_recommendation", "the consulting teacher has not made a recommendation yet"),
    ),
    Entry(
        "principal_consulted",
        "The principal (secondary evaluator) has been consulted.",
        _flag("principal_consulted", "the principal has not been consulted yet"),
    ),
    Entry(
        "evidence_tagged_to_all_standards",
        "Evidence is tagged to every standard (or to each of `standards`).",
        _tagged,
        _Standards,
        check=_check_standards,
        complete=_all_standards,
    ),
    Entry(
        "committee_consensus",
        "The committee has agreed (e.g. on the proposed consulting teacher).",
        _flag("committee_consensus", "the committee has not reached consensus"),
    ),
    Entry(
        "panel_decided",
        "The panel session has closed with a decision on the case.",
        _flag("panel_decided", "the panel has not decided yet"),
    ),
    Entry(
        "before_deadline",
        "Today is on or before the case's `deadline`; fails if it was never scheduled.",
        _before_deadline,
        _Deadline,
        {"deadline": "recommendation_due"},
        _check_deadline,
    ),
    Entry(
        "unsatisfactory_status_reports",
        "At least `reports` of the consulting teacher's submitted status reports each rate "
        "at least `areas` standards below standard (a level of the rating scale with "
        "`meets_standard: false`). Reports not yet written do not count. San Juan's rule "
        "(intervention after the second report unsatisfactory in 2 of its 6 areas) is "
        "`{reports: 2, areas: 2}`.",
        _unsatisfactory_reports,
        _UnsatisfactoryReports,
        {"reports": 2, "areas": 2},
        _check_areas,
    ),
    Entry(
        "has_outcome",
        "The case has an outcome, or the action's payload chooses one.",
        _has_outcome,
    ),
    Entry(
        "eligible",
        "The teacher meets the track's eligibility rules.",
        _eligible,
    ),
    Entry(
        "ct_assigned",
        "A consulting teacher is assigned to the case.",
        _flag("ct_assigned", "no consulting teacher is assigned yet"),
    ),
)

GUARDS: Mapping[str, Entry[GuardFunc]] = MappingProxyType({e.name: e for e in _ENTRIES})
"""Every guard a document may name."""


def run_guard(name: str, facts: Facts, params: Mapping[str, Any]) -> str | None:
    """Apply one guard; the name must come from a validated configuration."""
    return GUARDS[name].func(facts, params)
