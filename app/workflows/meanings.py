"""What a track's steps mean: the closed vocabulary the services ask the configuration by.

A service that must take "the panel's decision" or "the final authority's approval"
asks ``track.step_for(meaning, state)``; it never recognises a step by its key or by
the guards and effects it happens to carry, so a district may name, guard and word
its steps as it likes. A document names the meanings in a track's ``steps``; those it
leaves out are derived once, when the configuration is built, by each entry's rule
below. The rules are the ones the services followed before documents could say it,
so documents published before ``steps`` existed keep their behaviour unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from app.workflows.model import Transition

Derive = Callable[[Sequence[Transition], str, Mapping[str, str]], str | None]
"""(the track's transitions, its initial state, the meanings resolved so far) -> a key."""

_AUTHORITY = "final_authority"


@dataclass(frozen=True)
class Meaning:
    """One word of the vocabulary: what the product does with the step that carries it."""

    name: str
    label: str
    doc: str
    derived: str
    derive: Derive
    #: Only an evaluative track (review, induction) may name such a step.
    evaluative: bool = False
    #: The final authority takes it on the approvals page, so it must be among the actors.
    by_final_authority: bool = False
    #: Meanings the same action cannot also carry: one person's step is not another's.
    apart_from: tuple[str, ...] = ()


def _guarded(transition: Transition, name: str) -> bool:
    return any(g.name == name for g in transition.guards)


def _has_effect(transition: Transition, name: str) -> bool:
    return any(e.name == name for e in transition.effects)


def _first(transitions: Sequence[Transition], test: Callable[[Transition], bool]) -> str | None:
    return next((t.key for t in transitions if test(t)), None)


def _intake(
    transitions: Sequence[Transition], initial: str, found: Mapping[str, str]
) -> str | None:
    return _first(transitions, lambda t: _guarded(t, "eligible"))


def _end_support(
    transitions: Sequence[Transition], initial: str, found: Mapping[str, str]
) -> str | None:
    def ends(t: Transition) -> bool:
        marked = _guarded(t, "min_visits") or _has_effect(t, "close_with_outcome")
        return marked and any(s != initial for s in t.sources)

    return _first(transitions, ends)


def _panel_decision(
    transitions: Sequence[Transition], initial: str, found: Mapping[str, str]
) -> str | None:
    return _first(transitions, lambda t: _guarded(t, "panel_decided"))


def _final_approval(
    transitions: Sequence[Transition], initial: str, found: Mapping[str, str]
) -> str | None:
    return _first(
        transitions, lambda t: _AUTHORITY in t.actors and _has_effect(t, "close_with_outcome")
    )


def _final_return(
    transitions: Sequence[Transition], initial: str, found: Mapping[str, str]
) -> str | None:
    approval = found.get("final_approval")
    desk = {s for t in transitions if t.key == approval for s in t.sources}
    return _first(
        transitions,
        lambda t: (
            _AUTHORITY in t.actors
            and t.key != approval
            and not _has_effect(t, "close_with_outcome")
            and bool(desk & set(t.sources))
        ),
    )


def _recommendation(
    transitions: Sequence[Transition], initial: str, found: Mapping[str, str]
) -> str | None:
    taken_elsewhere = {found.get(m) for m in ("panel_decision", "final_approval", "final_return")}

    def sends(t: Transition) -> bool:
        return any(
            e.name == "open_panel_review"
            or (e.name == "record_rating" and e.params.get("source") == "ct_recommendation")
            for e in t.effects
        )

    return _first(
        transitions,
        lambda t: (
            sends(t)
            and t.key not in taken_elsewhere
            and not _guarded(t, "panel_decided")
            and _AUTHORITY not in t.actors
        ),
    )


# In the order of a case's life. Derivation runs in this order too, so a rule may read what
# an earlier one found: the return reads the approval. The recommendation comes before the
# panel's and the final authority's steps, so it reads only those the document names; its
# own rule already leaves out the steps derivation would pick for them.
_ENTRIES: tuple[Meaning, ...] = (
    Meaning(
        "intake",
        "intake",
        "Accepts a request into the program. Requests without a consulting teacher wait in "
        "the coordinator's intake queue in the track's initial state and in the states this "
        "step leaves.",
        "the first step guarded by `eligible`",
        _intake,
    ),
    Meaning(
        "end_support",
        "the end of support",
        "Ends the consulting teacher's support (for the recommendation, or the case's close). "
        "An open case brought in by a case import is placed in the first state this step "
        "leaves other than the initial state.",
        "the first step that is guarded by `min_visits` or closes with an outcome, and "
        "leaves a state other than the initial state",
        _end_support,
    ),
    Meaning(
        "recommendation",
        "the consulting teacher's recommendation",
        "Sends the consulting teacher's recommendation on; taken when the consulting teacher "
        "submits the recommendation, with its rating.",
        "the first step that opens panel review or records a rating from "
        "`ct_recommendation`, other than the panel's and the final authority's steps",
        _recommendation,
        evaluative=True,
        apart_from=("panel_decision", "final_approval", "final_return"),
    ),
    Meaning(
        "panel_decision",
        "the panel's decision",
        "Carries the panel's decision on from panel review. It is taken when the chair or "
        "the coordinator closes the vote with a decision, never as a plain action, whatever "
        "its guards.",
        "the first step guarded by `panel_decided`",
        _panel_decision,
        evaluative=True,
    ),
    Meaning(
        "final_approval",
        "the final authority's approval",
        "The final authority approves the panel's decision, on the approvals page; the "
        "outcomes it offers are those this step closes with.",
        "the first step the final authority takes that closes with an outcome",
        _final_approval,
        evaluative=True,
        by_final_authority=True,
    ),
    Meaning(
        "final_return",
        "the final authority's return to the panel",
        "The final authority sends the decision back to the panel, on the approvals page, "
        "saying why.",
        "the first other step the final authority takes from a state the approval leaves, "
        "one that does not close with an outcome",
        _final_return,
        evaluative=True,
        by_final_authority=True,
        apart_from=("final_approval",),
    ),
)

MEANINGS: Mapping[str, Meaning] = MappingProxyType({m.name: m for m in _ENTRIES})
"""Every meaning a track's ``steps`` may name."""


def resolve(
    named: Mapping[str, str], transitions: Sequence[Transition], initial: str
) -> dict[str, str]:
    """The track's meanings: those the document names, the rest derived from its steps.

    ``named`` must already be valid (known meanings, actions of this track).
    """
    found = dict(named)
    for meaning in _ENTRIES:
        if meaning.name not in found:
            key = meaning.derive(transitions, initial, found)
            if key is not None:
                found[meaning.name] = key
    return {m.name: found[m.name] for m in _ENTRIES if m.name in found}
