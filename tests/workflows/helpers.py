"""Shared helpers for the workflow tests: a base document and case walkers."""

from __future__ import annotations

import copy
from collections import deque
from datetime import date, timedelta
from typing import Any

from app.workflows import (
    ActorFacts,
    CaseFacts,
    ProgramConfig,
    Track,
    Transition,
    available_actions,
)
from app.workflows.vocabulary import RELATIONS, ROLES

TODAY = date(2024, 3, 15)

_BASE: dict[str, Any] = {
    "schema_version": 1,
    "program": {"name": "Test Program", "short_name": "TP"},
    "rating_scale": [
        {"key": "proficient", "label": "Proficient", "meets_standard": True},
        {"key": "needs_improvement", "label": "Needs Improvement", "meets_standard": False},
        {"key": "unsatisfactory", "label": "Unsatisfactory", "meets_standard": False},
    ],
    "standards": [
        {"key": "planning", "label": "Planning"},
        {"key": "instruction", "label": "Instruction"},
    ],
    "visit_types": {
        "observation": {"label": "Observation"},
        "coaching": {"label": "Coaching"},
    },
    "tracks": {
        "par": {
            "kind": "review",
            "name": "PAR",
            "ct_evaluates": True,
            "eligibility": {"latest_ratings": ["needs_improvement", "unsatisfactory"]},
            "ballot_options": ["proficient", "needs_improvement", "unsatisfactory"],
            "initial_state": "request",
            "states": {
                "request": {"label": "Requested"},
                "support": {"label": "Support"},
                "recommendation": {"label": "Recommendation"},
                "panel_review": {"label": "Panel review"},
                "closed": {"label": "Closed", "terminal": True, "outcome_required": True},
                "withdrawn": {"label": "Withdrawn", "terminal": True},
            },
            "transitions": [
                {
                    "key": "accept",
                    "label": "Accept",
                    "from": "request",
                    "to": "support",
                    "actors": ["coordinator"],
                    "guards": ["eligible", "ct_assigned"],
                    "effects": [{"schedule_deadline": {"deadline": "recommendation_due"}}],
                },
                {
                    "key": "end_support",
                    "label": "End support",
                    "from": "support",
                    "to": "recommendation",
                    "actors": ["assigned_ct"],
                    "guards": [
                        {"min_visits": {"count": 6, "types": ["observation"]}},
                        "evidence_tagged_to_all_standards",
                    ],
                },
                {
                    "key": "recommend",
                    "label": "Recommend a rating",
                    "from": "recommendation",
                    "to": "panel_review",
                    "actors": ["assigned_ct"],
                    "guards": ["has_recommendation"],
                    "effects": [
                        {"record_rating": {"source": "ct_recommendation"}},
                        "open_panel_review",
                    ],
                },
                {
                    "key": "approve",
                    "label": "Approve",
                    "from": "panel_review",
                    "to": "closed",
                    "actors": ["final_authority"],
                    "guards": ["panel_decided"],
                    "effects": [{"close_with_outcome": {"choices": ["met_standards", "resigned"]}}],
                },
                {
                    "key": "withdraw",
                    "label": "Withdraw",
                    "from": ["request", "support"],
                    "to": "withdrawn",
                    "actors": ["case_teacher", "coordinator"],
                },
            ],
        }
    },
    "panel": {
        "constituencies": {
            "teachers": {"label": "Teachers", "seats": 5},
            "administrators": {"label": "Administrators", "seats": 4},
        },
        "chair": "co_chairs",
        "quorum": 7,
        "decision_rule": {"kind": "supermajority", "at_least": 6},
    },
    "final_authority": {"label": "Superintendent"},
    "outcomes": {
        "met_standards": {"label": "Met standards", "group": "met_standards"},
        "resigned": {"label": "Resigned", "group": "other"},
    },
    "report_groups": {"met_standards": {"label": "Met standards"}, "other": {"label": "Other"}},
    "deadlines": [
        {"key": "recommendation_due", "label": "Due", "relative_to": "cycle_end", "days": -30}
    ],
    "notifications": [{"on": "par.approve", "to": ["case_teacher"], "template": "case_closed"}],
}


def base_document() -> dict[str, Any]:
    """A small valid document, fresh each call, to break on purpose."""
    return copy.deepcopy(_BASE)


def satisfied_facts(config: ProgramConfig, payload: dict[str, Any] | None = None) -> CaseFacts:
    """Facts under which every guard in the vocabulary passes."""
    return CaseFacts(
        today=TODAY,
        visits_by_type={key: 50 for key in config.visit_types},
        months_of_support=24,
        has_recommendation=True,
        principal_consulted=True,
        tagged_standards=frozenset(s.key for s in config.standards),
        committee_consensus=True,
        panel_decided=True,
        deadlines={key: TODAY + timedelta(days=30) for key in config.deadlines},
        ct_assigned=True,
        enrolled_on=TODAY,
        payload=payload or {},
    )


def actor_for(transition: Transition) -> ActorFacts:
    """The narrowest actor admitted: one role or relation, the first by name."""
    name = sorted(transition.actors)[0]
    return ActorFacts(
        roles=frozenset({name}) & frozenset(ROLES),
        relations=frozenset({name}) & frozenset(RELATIONS),
    )


def path_to(track: Track, target: str) -> list[Transition]:
    """Shortest list of transitions from the initial state to ``target``."""
    came_from: dict[str, tuple[str, Transition] | None] = {track.initial_state: None}
    queue = deque([track.initial_state])
    while queue:
        state = queue.popleft()
        for transition in track.transitions_from(state):
            if transition.to not in came_from:
                came_from[transition.to] = (state, transition)
                queue.append(transition.to)
    steps: list[Transition] = []
    state = target
    while came_from[state] is not None:
        state, transition = came_from[state]
        steps.append(transition)
    return steps[::-1]


def payload_for(config: ProgramConfig, track: Track, state: str, transition: Transition) -> dict:
    """Fill the action's form with the first choice the portal would offer."""
    actor = actor_for(transition)
    options = available_actions(config, track.key, state, actor, satisfied_facts(config))
    option = next(o for o in options if o.key == transition.key)
    return {name: choices[0] for name, choices in option.choices.items()}
