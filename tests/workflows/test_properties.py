"""Properties over generated configurations, facts and documents."""

from __future__ import annotations

import itertools
from collections import deque
from datetime import date, timedelta

from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from app.workflows import ActorFacts, CaseFacts, diff, evaluate, load_preset, preset_keys, validate
from app.workflows.guards import run_guard
from app.workflows.vocabulary import RELATIONS, ROLES

from .helpers import base_document

ACTORS = ["coordinator", "assigned_ct", "case_teacher", "final_authority", "program_admin"]
GUARD_USES = [
    "ct_assigned",
    "has_recommendation",
    "panel_decided",
    {"min_visits": {"count": 3, "types": ["observation"]}},
    {"min_months_of_support": {"months": 2}},
]


def _transition(state):
    return st.fixed_dictionaries(
        {
            "key": st.sampled_from(["go", "stop", "back", "skip"]),
            "label": st.just("Act"),
            "from": state | st.lists(state, min_size=1, max_size=2),
            "to": state,
            "actors": st.lists(st.sampled_from(ACTORS), min_size=1, max_size=2),
            "guards": st.lists(st.sampled_from(GUARD_USES), max_size=2),
        }
    )


@st.composite
def documents(draw):
    """Random tracks; half of them grow along a spine so that many are valid."""
    count = draw(st.integers(min_value=1, max_value=6))
    states = [f"s{i}" for i in range(count)]
    state = st.sampled_from(states)
    if draw(st.booleans()):
        terminal = {s: s == states[-1] for s in states}
        initial = states[0]
        spine = [
            {"key": "step", "label": "Step", "from": a, "to": b, "actors": ["coordinator"]}
            for a, b in itertools.pairwise(states)
        ]
        extra = draw(st.lists(_transition(st.sampled_from(states[:-1] or states)), max_size=4))
        transitions = spine + extra
    else:
        terminal = {s: draw(st.booleans()) for s in states}
        initial = draw(state)
        transitions = draw(st.lists(_transition(state), max_size=10))
    return {
        "schema_version": 1,
        "program": {"name": "Generated", "short_name": "G"},
        "rating_scale": [{"key": "ok", "label": "OK", "meets_standard": True}],
        "visit_types": {"observation": {"label": "Observation"}},
        "final_authority": {"label": "Board"},
        "tracks": {
            "t": {
                "kind": "induction",
                "name": "Generated",
                "initial_state": initial,
                "states": {s: {"label": s, "terminal": terminal[s]} for s in states},
                "transitions": transitions,
            }
        },
    }


def _reach(edges: dict[str, set[str]], start: set[str]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _graph_is_sound(document) -> bool:
    track = document["tracks"]["t"]
    states = track["states"]
    forward: dict[str, set[str]] = {s: set() for s in states}
    backward: dict[str, set[str]] = {s: set() for s in states}
    for t in track["transitions"]:
        for source in [t["from"]] if isinstance(t["from"], str) else t["from"]:
            forward[source].add(t["to"])
            backward[t["to"]].add(source)
    terminal = {s for s, spec in states.items() if spec["terminal"]}
    reachable = _reach(forward, {track["initial_state"]})
    leads_out = _reach(backward, terminal)
    return reachable == set(states) and all(
        s in terminal or (forward[s] and s in leads_out) for s in states
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_valid_configs_have_no_unreachable_or_dead_end_states(document):
    if validate(document).ok:
        assert _graph_is_sound(document)


def test_the_generator_does_produce_valid_multi_state_configs():
    found = find(
        documents(),
        lambda d: len(d["tracks"]["t"]["states"]) >= 3 and validate(d).ok,
        settings=settings(max_examples=1000, database=None),
    )
    assert _graph_is_sound(found)


def test_the_generator_does_produce_unsound_graphs_that_are_refused():
    found = find(
        documents(),
        lambda d: not _graph_is_sound(d),
        settings=settings(max_examples=500, database=None),
    )
    assert not validate(found).ok


CONFIGS = {key: validate(load_preset(key)).config for key in preset_keys()}


@st.composite
def situations(draw):
    """A preset, a state, an action from it, an actor and arbitrary facts."""
    config = CONFIGS[draw(st.sampled_from(sorted(CONFIGS)))]
    track = config.tracks[draw(st.sampled_from(sorted(config.tracks)))]
    transition = draw(st.sampled_from(track.transitions))
    state = draw(st.sampled_from(transition.sources))
    today = date(2024, 3, 15)
    facts = CaseFacts(
        today=today,
        visits_by_type=draw(
            st.dictionaries(st.sampled_from(sorted(config.visit_types)), st.integers(0, 12))
        ),
        months_of_support=draw(st.floats(0, 12)),
        has_recommendation=draw(st.booleans()),
        principal_consulted=draw(st.booleans()),
        tagged_standards=frozenset(
            draw(st.sets(st.sampled_from([s.key for s in config.standards] or ["x"])))
        ),
        committee_consensus=draw(st.booleans()),
        panel_decided=draw(st.booleans()),
        deadlines={k: today + timedelta(days=draw(st.integers(-10, 10))) for k in config.deadlines},
        eligibility_failures=draw(st.sampled_from([(), ("needs permanent status",)])),
        ct_assigned=draw(st.booleans()),
        enrolled_on=today,
        payload={"outcome": draw(st.sampled_from(sorted(config.outcomes)))},
    )
    actor = ActorFacts(
        roles=frozenset(draw(st.sets(st.sampled_from(sorted(ROLES))))),
        relations=frozenset(draw(st.sets(st.sampled_from(sorted(RELATIONS))))),
    )
    return config, track, state, transition, actor, facts


@settings(max_examples=400)
@given(situations())
def test_evaluate_never_allows_a_failed_guard_or_an_unlisted_actor(situation):
    config, track, state, transition, actor, facts = situation
    result = evaluate(config, track.key, state, transition.key, actor, facts)
    guard_failures = [run_guard(g.name, facts, g.params) for g in transition.guards]
    failed = [reason for reason in guard_failures if reason is not None]
    admitted = bool(transition.actors & (actor.roles | actor.relations))
    if result.allowed:
        assert admitted and not failed
    for reason in failed:
        assert reason in result.failures
    assert result.allowed or result.failures


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=4), children, max_size=4)
        | st.lists(
            st.fixed_dictionaries({"key": st.sampled_from("abc"), "v": children}), max_size=3
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_a_document_never_differs_from_itself(value):
    assert diff(value, value) == []


@given(json_values, json_values)
def test_different_documents_always_show_a_change(a, b):
    if a != b:
        assert diff(a, b)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))


def _replace(document, path, new):
    if not path:
        return new
    copy = document.copy() if isinstance(document, dict) else list(document)
    copy[path[0]] = _replace(document[path[0]], path[1:], new)
    return copy


BASE_PATHS = list(_paths(base_document()))


@settings(max_examples=500)
@given(st.lists(st.tuples(st.sampled_from(BASE_PATHS), json_values), min_size=1, max_size=3))
def test_validation_reports_and_never_crashes_on_broken_documents(replacements):
    document = base_document()
    for path, value in replacements:
        try:
            document = _replace(document, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this path
    result = validate(document)
    assert result.ok == (result.config is not None)
    assert all(isinstance(m, str) for messages in result.errors.values() for m in messages)
