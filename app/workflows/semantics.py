"""Checks that need the whole document: references between its sections.

Structure is the schema's job; this module finds what a schema cannot see,
such as an outcome counted in a report group that does not exist or a panel
rule that no full panel could ever satisfy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.workflows import paths
from app.workflows import vocabulary as v
from app.workflows.registry import DocumentIndex
from app.workflows.track_checks import check_track, listing, mapping


def _keys_of(items: Any) -> frozenset[str]:
    return frozenset(
        item["key"] for item in listing(items) if isinstance(mapping(item).get("key"), str)
    )


def build_index(doc: Mapping[str, Any]) -> DocumentIndex:
    """Collect the keys a raw document defines."""
    return DocumentIndex(
        ratings=_keys_of(doc.get("rating_scale")),
        standards=_keys_of(doc.get("standards")),
        visit_types=frozenset(mapping(doc.get("visit_types"))),
        deadlines=_keys_of(doc.get("deadlines")),
        outcomes=frozenset(mapping(doc.get("outcomes"))),
        report_groups=frozenset(mapping(doc.get("report_groups"))),
        surveys=_keys_of(doc.get("surveys")),
        actors=frozenset(v.ROLES) | frozenset(v.RELATIONS),
        has_panel=isinstance(doc.get("panel"), Mapping),
    )


def check_document(doc: Mapping[str, Any]) -> paths.Errors:
    """Every cross-reference error in a raw document, keyed by path."""
    errors: paths.Errors = {}
    index = build_index(doc)
    _check_scale(doc, errors)
    for section in ("rating_scale", "standards", "surveys", "deadlines"):
        _check_unique(section, doc.get(section), errors)
    for i, survey in enumerate(listing(doc.get("surveys"))):
        _check_unique(f"surveys[{i}].statements", mapping(survey).get("statements"), errors)
    for key, track in mapping(doc.get("tracks")).items():
        if isinstance(track, Mapping):
            check_track(key, track, index, errors)
    _check_final_authority(doc, errors)
    if isinstance(doc.get("panel"), Mapping):
        _check_panel(doc["panel"], errors)
    for key, outcome in mapping(doc.get("outcomes")).items():
        group = mapping(outcome).get("group")
        if isinstance(group, str) and group not in index.report_groups:
            paths.add(errors, f"outcomes.{key}.group", f"unknown report group '{group}'")
    _check_notifications(doc, index, errors)
    paths.check_month_day(doc.get("school_year_start"), errors, "school_year_start")
    return errors


def _check_scale(doc: Mapping[str, Any], errors: paths.Errors) -> None:
    levels = [mapping(level) for level in listing(doc.get("rating_scale"))]
    if levels and not any(level.get("meets_standard") is True for level in levels):
        paths.add(errors, "rating_scale", "no level meets standard")


def _check_unique(path: str, items: Any, errors: paths.Errors) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(listing(items)):
        key = mapping(item).get("key")
        if isinstance(key, str) and seen.setdefault(key, i) != i:
            paths.add(errors, f"{path}[{i}].key", f"duplicate key '{key}' (also [{seen[key]}])")


def _check_final_authority(doc: Mapping[str, Any], errors: paths.Errors) -> None:
    if isinstance(doc.get("final_authority"), Mapping):
        return
    for key, track in mapping(doc.get("tracks")).items():
        for i, transition in enumerate(listing(mapping(track).get("transitions"))):
            for j, actor in enumerate(listing(mapping(transition).get("actors"))):
                if actor == "final_authority":
                    path = f"tracks.{key}.transitions[{i}].actors[{j}]"
                    paths.add(errors, path, "the document has no final_authority section")


def _seat_counts(panel: Mapping[str, Any]) -> dict[str, int] | None:
    counts = {k: mapping(c).get("seats") for k, c in mapping(panel.get("constituencies")).items()}
    valid = all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in counts.values())
    return counts if counts and valid else None


def _check_panel(panel: Mapping[str, Any], errors: paths.Errors) -> None:
    chair = panel.get("chair")
    constituencies = mapping(panel.get("constituencies"))
    if isinstance(chair, str) and chair not in constituencies and chair not in v.CHAIR_MODES:
        modes = " or ".join(v.CHAIR_MODES)
        paths.add(errors, "panel.chair", f"unknown constituency '{chair}' (or use {modes})")
    counts = _seat_counts(panel)
    if counts is None:
        return  # the schema reports bad seats; arithmetic on them would only add noise
    seats = sum(counts.values())
    quorum = panel.get("quorum")
    if isinstance(quorum, int) and quorum > seats:
        paths.add(errors, "panel.quorum", f"must be <= seats ({seats})")
    minimum = panel.get("per_constituency_minimum")
    smallest = min(counts, key=counts.__getitem__)
    if isinstance(minimum, int) and minimum > counts[smallest]:
        message = (
            f"must be <= the seats of every constituency ('{smallest}' has {counts[smallest]})"
        )
        paths.add(errors, "panel.per_constituency_minimum", message)
    _check_rule(mapping(panel.get("decision_rule")), seats, errors)


def _check_rule(rule: Mapping[str, Any], seats: int, errors: paths.Errors) -> None:
    path = "panel.decision_rule"
    at_least, fraction = rule.get("at_least"), rule.get("fraction")
    if rule.get("kind") != "supermajority":
        for name, value in (("at_least", at_least), ("fraction", fraction)):
            if value is not None:
                paths.add(errors, f"{path}.{name}", "only a supermajority takes this")
        return
    if at_least is None and fraction is None:
        paths.add(errors, path, "a supermajority needs at_least or fraction")
    elif at_least is not None and fraction is not None:
        paths.add(errors, path, "give at_least or fraction, not both")
    if isinstance(at_least, int) and at_least > seats:
        paths.add(errors, f"{path}.at_least", f"must be <= seats ({seats})")
    elif isinstance(at_least, int) and at_least * 2 <= seats:
        paths.add(errors, f"{path}.at_least", f"must be more than half the seats ({seats})")
    if isinstance(fraction, int | float) and fraction > 1:
        paths.add(errors, f"{path}.fraction", "must be <= 1")
    elif isinstance(fraction, int | float) and 0 < fraction <= 0.5:
        paths.add(errors, f"{path}.fraction", "must be more than 0.5")


def _check_notifications(doc: Mapping[str, Any], index: DocumentIndex, errors) -> None:
    actions: dict[str, set[str]] = {
        key: {
            t["key"]
            for t in map(mapping, listing(mapping(track).get("transitions")))
            if isinstance(t.get("key"), str)
        }
        for key, track in mapping(doc.get("tracks")).items()
    }
    for i, rule in enumerate(listing(doc.get("notifications"))):
        path = f"notifications[{i}]"
        on = mapping(rule).get("on")
        if isinstance(on, str):
            message = _unknown_event(on, actions)
            if message:
                paths.add(errors, f"{path}.on", message)
        for j, actor in enumerate(listing(mapping(rule).get("to"))):
            if isinstance(actor, str) and actor not in index.actors:
                paths.add(errors, f"{path}.to[{j}]", f"unknown role or relation '{actor}'")


def _unknown_event(on: str, actions: Mapping[str, set[str]]) -> str | None:
    track, _, action = on.rpartition(".")
    if not track:
        known = any(action in keys for keys in actions.values())
        return None if known else f"no track has an action '{action}'"
    if track not in actions:
        return f"unknown track '{track}'"
    return None if action in actions[track] else f"track '{track}' has no action '{action}'"
