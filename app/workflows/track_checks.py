"""Cross-reference and graph checks for one track of a raw document.

They read the raw document (not marshmallow's output) so that a structural
slip elsewhere never hides these errors; anything malformed is skipped here
because the schema already reports it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from app.workflows import paths
from app.workflows import vocabulary as v
from app.workflows.effects import EFFECTS
from app.workflows.guards import GUARDS
from app.workflows.meanings import MEANINGS
from app.workflows.registry import DocumentIndex, Entry, check_params

_EVALUATIVE_EFFECTS = {
    "open_panel_review": "an assistance track never goes to the panel",
    "record_rating": "an assistance track never records a rating",
}


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def listing(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def sources(transition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(sub-path, state) for each state a transition leaves."""
    raw = transition.get("from")
    if isinstance(raw, str):
        return [("from", raw)]
    return [(f"from[{i}]", s) for i, s in enumerate(listing(raw)) if isinstance(s, str)]


def ref_name(ref: Any) -> tuple[str, Mapping[str, Any]] | None:
    """The name and parameters of a guard or effect use, if well formed."""
    if isinstance(ref, str):
        return ref, {}
    if isinstance(ref, Mapping) and len(ref) == 1:
        ((name, params),) = ref.items()
        if isinstance(name, str) and (params is None or isinstance(params, Mapping)):
            return name, params or {}
    return None


def check_track(
    key: str, track: Mapping[str, Any], index: DocumentIndex, errors: paths.Errors
) -> None:
    """Report every problem in one track, in document order."""
    path = f"tracks.{key}"
    states = mapping(track.get("states"))
    transitions = [mapping(t) for t in listing(track.get("transitions"))]
    initial = track.get("initial_state") if isinstance(track.get("initial_state"), str) else None
    if initial is not None and states and initial not in states:
        paths.add(errors, f"{path}.initial_state", f"unknown state '{initial}'")
    _check_eligibility_and_ballot(path, track, index, errors)
    _check_appeal_and_reports(path, track, index, errors)
    if track.get("kind") == "assistance":
        _check_confidential(path, track, errors)
    for i, transition in enumerate(transitions):
        _check_transition(f"{path}.transitions[{i}]", track, transition, index, errors)
    _check_duplicates(path, transitions, errors)
    _check_steps(path, track, transitions, errors)
    _check_outcome_states(path, states, transitions, errors)
    _check_graph(path, states, transitions, initial, errors)


def _check_eligibility_and_ballot(path, track, index: DocumentIndex, errors) -> None:
    ratings = mapping(track.get("eligibility")).get("latest_ratings")
    for i, rating in enumerate(listing(ratings)):
        if isinstance(rating, str) and rating not in index.ratings:
            paths.add(
                errors, f"{path}.eligibility.latest_ratings[{i}]", f"unknown rating '{rating}'"
            )
    words = ", ".join(v.BALLOT_WORDS)
    for i, option in enumerate(listing(track.get("ballot_options"))):
        if isinstance(option, str) and option not in index.ratings | set(v.BALLOT_WORDS):
            message = f"unknown ballot option '{option}': not a rating level or one of {words}"
            paths.add(errors, f"{path}.ballot_options[{i}]", message)


def _check_appeal_and_reports(path, track, index: DocumentIndex, errors) -> None:
    appeal = mapping(track.get("appeal"))
    granted = appeal.get("granted_outcome")
    if isinstance(granted, str) and granted not in index.outcomes:
        paths.add(errors, f"{path}.appeal.granted_outcome", f"unknown outcome '{granted}'")
    if appeal and track.get("kind") == "assistance":
        paths.add(errors, f"{path}.appeal", "an assistance track has no decision to appeal")
    for i, point in enumerate(listing(mapping(track.get("status_reports")).get("at"))):
        paths.check_month_day(mapping(point).get("on"), errors, f"{path}.status_reports.at[{i}].on")


def _check_confidential(path: str, track: Mapping[str, Any], errors: paths.Errors) -> None:
    for flag in ("ct_evaluates", "principal_secondary_evaluator"):
        if track.get(flag) is True:
            paths.add(errors, f"{path}.{flag}", "an assistance track never evaluates")
    for i, item in enumerate(listing(track.get("shared_with_principal"))):
        if isinstance(item, str) and item in v.SHARED_ITEMS and item not in v.ASSISTANCE_SHAREABLE:
            message = "an assistance track shares only participation with the principal"
            paths.add(errors, f"{path}.shared_with_principal[{i}]", message)


def _check_transition(path, track, transition, index: DocumentIndex, errors) -> None:
    states = mapping(track.get("states"))
    for sub, state in sources(transition):
        if state not in states:
            paths.add(errors, f"{path}.{sub}", f"unknown state '{state}'")
        elif mapping(states[state]).get("terminal") is True:
            paths.add(
                errors, f"{path}.{sub}", f"state '{state}' is terminal; no action may leave it"
            )
    target = transition.get("to") if isinstance(transition.get("to"), str) else None
    if target is not None and states and target not in states:
        paths.add(errors, f"{path}.to", f"unknown state '{target}'")
    _check_actors(path, transition, index, errors)
    for j, ref in enumerate(listing(transition.get("guards"))):
        _check_ref(f"{path}.guards[{j}]", ref, GUARDS, "guard", index, errors)
    is_terminal = mapping(states.get(target)).get("terminal")
    for j, ref in enumerate(listing(transition.get("effects"))):
        sub = f"{path}.effects[{j}]"
        named = _check_ref(sub, ref, EFFECTS, "effect", index, errors)
        if named == "close_with_outcome" and is_terminal is not True and target in states:
            paths.add(errors, f"{sub}.{named}", "closes the case, so 'to' must be a terminal state")
        if named in _EVALUATIVE_EFFECTS and track.get("kind") == "assistance":
            paths.add(errors, f"{sub}.{named}", _EVALUATIVE_EFFECTS[named])
        if named == "open_panel_review" and not listing(track.get("ballot_options")):
            message = f"must list what the panel votes on ({path.rsplit('.', 1)[1]} opens a review)"
            paths.add(errors, f"{path.rsplit('.', 1)[0]}.ballot_options", message)


def _check_actors(path: str, transition: Mapping[str, Any], index: DocumentIndex, errors) -> None:
    for j, actor in enumerate(listing(transition.get("actors"))):
        if not isinstance(actor, str):
            continue
        sub = f"{path}.actors[{j}]"
        if actor not in index.actors:
            paths.add(errors, sub, f"unknown role or relation '{actor}'")
        elif actor in v.NARROW_ROLES:
            relation = v.NARROW_ROLES[actor]
            message = f"role '{actor}' admits all of them in the district; use '{relation}'"
            paths.add(errors, sub, message)


def _check_ref(path, ref, registry: Mapping[str, Entry[Any]], what, index, errors) -> str | None:
    named = ref_name(ref)
    if named is None:
        return None
    name, params = named
    if name not in registry:
        paths.add(errors, path, f"unknown {what} '{name}'")
        return None
    check_params(registry[name], params, index, f"{path}.{name}", errors)
    return name


def _check_duplicates(path: str, transitions: list[Mapping[str, Any]], errors) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, transition in enumerate(transitions):
        key = transition.get("key")
        if not isinstance(key, str):
            continue
        for _, state in sources(transition):
            first = seen.setdefault((state, key), i)
            if first != i:
                message = (
                    f"duplicate action '{key}' from state '{state}' (also transitions[{first}])"
                )
                paths.add(errors, f"{path}.transitions[{i}].key", message)


def _check_steps(path, track, transitions: list[Mapping[str, Any]], errors) -> None:
    """Each meaning named is known, names an action of this track, and fits it.

    A meaning named twice cannot reach here: the document loader refuses a mapping that
    repeats a key, and a parsed mapping cannot hold one.
    """
    actions: dict[str, list[Mapping[str, Any]]] = {}
    for transition in transitions:
        if isinstance(transition.get("key"), str):
            actions.setdefault(transition["key"], []).append(transition)
    known = ", ".join(MEANINGS)
    for name, action in mapping(track.get("steps")).items():
        sub = f"{path}.steps.{name}"
        if name not in MEANINGS:
            paths.add(errors, sub, f"unknown meaning '{name}' (meanings: {known})")
            continue
        if not isinstance(action, str):
            continue  # the schema reports it
        if action not in actions:
            paths.add(errors, sub, f"no action '{action}' in this track")
            continue
        meaning = MEANINGS[name]
        if meaning.evaluative and track.get("kind") == "assistance":
            paths.add(errors, sub, f"only a review or induction track has {meaning.label}")
        if meaning.by_final_authority and not all(
            "final_authority" in listing(t.get("actors")) for t in actions[action]
        ):
            message = f"'{action}' must list final_authority among its actors"
            paths.add(errors, sub, message + " (the final authority takes it)")
        for other in meaning.apart_from:
            if mapping(track.get("steps")).get(other) == action:
                label = MEANINGS[other].label
                paths.add(errors, sub, f"'{action}' is {label}; one step cannot be both")


def _check_outcome_states(path, states, transitions, errors) -> None:
    for i, transition in enumerate(transitions):
        target = transition.get("to")
        if (
            not isinstance(target, str)
            or mapping(states.get(target)).get("outcome_required") is not True
        ):
            continue
        names = {n[0] for n in map(ref_name, listing(transition.get("effects"))) if n}
        if "close_with_outcome" not in names:
            message = f"entering '{target}' requires an outcome: add close_with_outcome"
            paths.add(errors, f"{path}.transitions[{i}].effects", message)


def _check_graph(path, states, transitions, initial, errors) -> None:
    terminal = {k for k, s in states.items() if mapping(s).get("terminal") is True}
    if states and not terminal:
        paths.add(errors, f"{path}.states", "must include at least one terminal state")
    edges: dict[str, set[str]] = {k: set() for k in states}
    for transition in transitions:
        target = transition.get("to")
        for _, state in sources(transition):
            if state in edges and isinstance(target, str) and target in states:
                edges[state].add(target)
    reachable = _reach(edges, {initial} if initial in states else set())
    leads_out = _reach(_reverse(edges), terminal)
    for key in states:
        sub = f"{path}.states.{key}"
        if initial in states and key not in reachable:
            paths.add(errors, sub, f"unreachable from the initial state '{initial}'")
        if key in terminal:
            continue
        if not edges[key]:
            paths.add(errors, sub, "not terminal, but no action leaves it")
        elif terminal and key not in leads_out:
            paths.add(errors, sub, "no path leads from here to a terminal state")


def _reverse(edges: Mapping[str, set[str]]) -> dict[str, set[str]]:
    back: dict[str, set[str]] = {k: set() for k in edges}
    for source, targets in edges.items():
        for target in targets:
            back[target].add(source)
    return back


def _reach(edges: Mapping[str, set[str]], start: set[str]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
