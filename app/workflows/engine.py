"""The workflow engine: may this person take this action on this case now?

Everything here is a pure function of a frozen configuration and the facts it
is given; it never touches the database. The facts may be given all at once
(``CaseFacts``) or worked out as they are read (``FactsOnDemand``): the engine
reads only what the guards of the steps it weighs read, so a reader whose steps
have no guards costs no fact at all. The service layer applies an allowed
evaluation: it moves the case to ``to_state`` and executes ``effects``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from app.workflows.effects import (
    Command,
    EffectContext,
    Notify,
    outcome_choices,
    plan_effect,
    rating_choices,
)
from app.workflows.facts import ActorFacts, CaseFacts, Facts, FactsOnDemand
from app.workflows.guards import run_guard
from app.workflows.model import ProgramConfig, Track, Transition
from app.workflows.vocabulary import actor_words

__all__ = [
    "ActionOption",
    "ActorFacts",
    "CaseFacts",
    "Evaluation",
    "Facts",
    "FactsOnDemand",
    "WorkflowError",
    "available_actions",
    "evaluate",
]


class WorkflowError(LookupError):
    """A track or state that the configuration does not have: a caller's bug."""


@dataclass(frozen=True)
class Evaluation:
    """The answer for one action; ``failures`` lists every reason it is refused."""

    action: str
    allowed: bool
    to_state: str | None
    failures: tuple[str, ...] = ()
    effects: tuple[Command, ...] = ()


@dataclass(frozen=True)
class ActionOption:
    """An action the actor may take from here, for a portal to show.

    ``choices`` names payload fields the actor must fill and their options,
    e.g. ``{"outcome": ("met_standards", "resigned")}``.
    """

    key: str
    label: str
    to_state: str
    enabled: bool
    reasons: tuple[str, ...] = ()
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _track(config: ProgramConfig, track_key: str, state: str) -> Track:
    track = config.tracks.get(track_key)
    if track is None:
        raise WorkflowError(f"unknown track '{track_key}'")
    if state not in track.states:
        raise WorkflowError(f"track '{track_key}' has no state '{state}'")
    return track


def _admits(transition: Transition, actor: ActorFacts) -> bool:
    return bool(transition.actors & actor.standing())


def _guard_failures(transition: Transition, facts: Facts) -> list[str]:
    results = (run_guard(g.name, facts, g.params) for g in transition.guards)
    return [reason for reason in results if reason is not None]


def _plan(
    config: ProgramConfig, track: Track, transition: Transition, facts: Facts
) -> tuple[list[Command], list[str]]:
    ctx = EffectContext(config, track, facts)
    commands: list[Command] = []
    failures: list[str] = []
    for ref in transition.effects:
        planned = plan_effect(ref.name, ref.params, ctx)
        (failures.append if isinstance(planned, str) else commands.append)(planned)
    for rule in config.notifications_for(track.key, transition.key):
        commands.append(Notify(rule.to, rule.template))
    return commands, failures


def evaluate(
    config: ProgramConfig,
    track_key: str,
    state: str,
    action: str,
    actor: ActorFacts,
    facts: Facts,
) -> Evaluation:
    """Decide one action, listing every refusal (actor, guards, effects) at once."""
    track = _track(config, track_key, state)
    transition = track.transition(state, action)
    if transition is None:
        offered = ", ".join(dict.fromkeys(t.key for t in track.transitions_from(state)))
        reason = f"'{action}' is not an action from '{state}' (available: {offered or 'none'})"
        return Evaluation(action, False, None, (reason,))
    failures: list[str] = []
    if not _admits(transition, actor):
        failures.append(f"'{transition.label}' is for {actor_words(transition.actors)}")
    failures += _guard_failures(transition, facts)
    commands, planning = _plan(config, track, transition, facts)
    failures += planning
    if failures:
        return Evaluation(action, False, transition.to, tuple(failures))
    return Evaluation(action, True, transition.to, (), tuple(commands))


def _choices(config: ProgramConfig, track: Track, transition: Transition) -> Mapping:
    found: dict[str, tuple[str, ...]] = {}
    for ref in transition.effects:
        if ref.name == "close_with_outcome" and outcome_choices(ref.params, config):
            found["outcome"] = outcome_choices(ref.params, config)
        if ref.name == "record_rating" and rating_choices(ref.params, config, track):
            found["rating"] = rating_choices(ref.params, config, track)
    return MappingProxyType(found)


def available_actions(
    config: ProgramConfig,
    track_key: str,
    state: str,
    actor: ActorFacts,
    facts: Facts,
) -> list[ActionOption]:
    """Actions this actor may take from ``state``, with why each is blocked, if it is.

    Only the guards of steps the actor is admitted to run, so only the facts they read are
    asked for (steps offered to others are not the reader's business, nor worth a query).
    """
    track = _track(config, track_key, state)
    options = []
    for transition in track.transitions_from(state):
        if not _admits(transition, actor):
            continue
        reasons = tuple(_guard_failures(transition, facts))
        options.append(
            ActionOption(
                key=transition.key,
                label=transition.label,
                to_state=transition.to,
                enabled=not reasons,
                reasons=reasons,
                choices=_choices(config, track, transition),
            )
        )
    return options
