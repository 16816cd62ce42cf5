"""A track says which steps are its recommendation, panel decision and approval; what it
leaves out is derived from its steps as the services used to derive it."""

from __future__ import annotations

import copy
import json

import pytest

from app.workflows import DocumentError, load_document, load_preset, preset_keys, validate
from app.workflows.effects import chosen_outcomes, closes_with
from app.workflows.meanings import MEANINGS
from app.workflows.reference import render_reference

MEANING_LIST = "intake, end_support, recommendation, panel_decision, final_approval, final_return"


def _errors(document) -> dict[str, list[str]]:
    result = validate(document)
    assert result.config is None
    return result.errors


def _steps(document, **named) -> dict:
    document["tracks"]["par"]["steps"] = named
    return document


def _return_step() -> dict:
    return {
        "key": "send_back",
        "label": "Send back to the panel",
        "from": "panel_review",
        "to": "panel_review",
        "actors": ["final_authority"],
        "effects": ["open_panel_review"],
    }


# --- validation ---------------------------------------------------------------------------


def test_an_unknown_meaning_is_refused_at_its_key(document):
    errors = _errors(_steps(document, appeal="approve"))
    assert errors == {
        "tracks.par.steps.appeal": [f"unknown meaning 'appeal' (meanings: {MEANING_LIST})"]
    }


def test_a_meaning_naming_an_action_the_track_lacks_is_refused(document):
    errors = _errors(_steps(document, panel_decision="panel_votes"))
    assert errors == {"tracks.par.steps.panel_decision": ["no action 'panel_votes' in this track"]}


def test_a_meaning_must_name_an_action_key(document):
    errors = _errors(_steps(document, panel_decision=["approve"]))
    assert errors == {"tracks.par.steps.panel_decision": ["must be text"]}


def test_a_meaning_named_twice_in_a_track_is_refused_with_both_lines(document):
    text = json.dumps(_steps(document, panel_decision="approve"), indent=1)
    twice = text.replace(
        '"panel_decision": "approve"', '"panel_decision": "approve",\n"panel_decision": "recommend"'
    )
    assert twice != text
    line = twice.splitlines().index('"panel_decision": "recommend"') + 1
    with pytest.raises(DocumentError) as refused:
        load_document(twice)
    assert str(refused.value) == (
        f"line {line}, column 1: duplicate key 'panel_decision' (also on line {line - 1})"
    )


def test_a_meaning_named_twice_in_yaml_is_refused_too():
    text = "steps:\n  final_approval: approve\n  recommendation: recommend\n  final_approval: x\n"
    with pytest.raises(DocumentError, match=r"^line 4, column 3: duplicate key 'final_approval'"):
        load_document(text)


def test_a_merge_may_still_be_overridden_beside_it():
    text = "base: &base {a: 1, b: 2}\nvariant:\n  <<: *base\n  b: 3\n"
    assert load_document(text) == {"base": {"a": 1, "b": 2}, "variant": {"a": 1, "b": 3}}


def test_the_final_authoritys_steps_must_be_theirs(document):
    errors = _errors(_steps(document, final_approval="withdraw"))
    assert errors == {
        "tracks.par.steps.final_approval": [
            "'withdraw' must list final_authority among its actors (the final authority takes it)"
        ]
    }


def test_an_assistance_track_has_no_panel_steps():
    document = load_preset("boston_esp")
    document["tracks"]["pa"]["steps"]["panel_decision"] = "close"
    message = "only a review or induction track has the panel's decision"
    assert _errors(document) == {"tracks.pa.steps.panel_decision": [message]}


def test_one_step_cannot_be_the_recommendation_and_the_panels_decision(document):
    errors = _errors(_steps(document, panel_decision="recommend", recommendation="recommend"))
    assert errors == {
        "tracks.par.steps.recommendation": [
            "'recommend' is the panel's decision; one step cannot be both"
        ]
    }


def test_every_meaning_error_is_reported_at_once(document):
    errors = _errors(_steps(document, appeal="approve", panel_decision="vote", intake="accept"))
    assert set(errors) == {"tracks.par.steps.appeal", "tracks.par.steps.panel_decision"}


# --- derivation ---------------------------------------------------------------------------


def test_omitted_meanings_are_derived_from_guards_and_effects(config):
    assert dict(config.tracks["par"].steps) == {
        "intake": "accept",  # guarded by eligible
        "end_support": "end_support",  # needs visits
        "recommendation": "recommend",  # records the CT's rating and opens panel review
        "panel_decision": "approve",  # guarded by panel_decided
        "final_approval": "approve",  # the final authority's, and closes with an outcome
    }


def test_a_named_meaning_wins_and_the_rest_are_still_derived(document):
    track = document["tracks"]["par"]
    approve = track["transitions"][3]
    approve["guards"] = []  # a panel step without panel_decided: derivation would miss it
    track["steps"] = {"panel_decision": "approve"}
    built = validate(document).config.tracks["par"]
    assert built.steps["panel_decision"] == "approve"
    assert built.steps["recommendation"] == "recommend"
    assert built.steps["intake"] == "accept"


def test_without_its_name_a_differently_guarded_panel_step_has_no_meaning(document):
    document["tracks"]["par"]["transitions"][3]["guards"] = []
    assert "panel_decision" not in validate(document).config.tracks["par"].steps


def test_the_return_is_the_final_authoritys_other_step_from_the_approvals_desk(document):
    track = document["tracks"]["par"]
    track["states"]["final_approval"] = {"label": "Awaiting approval"}
    track["transitions"][3].update(
        {"key": "panel_decides", "to": "final_approval", "actors": ["panel_chair"], "effects": []}
    )
    early = {**_return_step(), "key": "recall", "from": "recommendation", "to": "support"}
    early["effects"] = []
    back = {**_return_step(), "from": "final_approval"}
    approve = {
        "key": "approve",
        "label": "Approve",
        "from": "final_approval",
        "to": "closed",
        "actors": ["final_authority"],
        "effects": [{"close_with_outcome": {"choices": ["met_standards"]}}],
    }
    track["transitions"][4:4] = [early, back, approve]
    built = validate(document).config.tracks["par"]
    assert built.steps["panel_decision"] == "panel_decides"
    assert built.steps["final_approval"] == "approve"
    assert built.steps["final_return"] == "send_back"  # not 'recall', from another state


def test_a_recommendation_that_is_also_the_final_authoritys_is_not_derived(document):
    track = document["tracks"]["par"]
    track["transitions"][2]["actors"] = ["assigned_ct", "final_authority"]
    assert "recommendation" not in validate(document).config.tracks["par"].steps


def test_end_support_is_not_a_step_out_of_the_initial_state(document):
    track = document["tracks"]["par"]
    track["transitions"][0]["guards"].append({"min_visits": {"count": 1}})
    assert validate(document).config.tracks["par"].steps["end_support"] == "end_support"


@pytest.mark.parametrize("key", preset_keys())
def test_presets_name_what_derivation_finds(key):
    """Presets write their meanings out; they are what the services derived before, except
    where derivation was wrong: the minimal induction track's end of support has no guard,
    so derivation passed over it to the approval; and an induction track's ``accept`` has no
    ``eligible`` guard, so derivation found no intake step and a begun request left the
    intake queue."""
    named = validate(load_preset(key)).config
    bare = copy.deepcopy(load_preset(key))
    for track in bare["tracks"].values():
        assert track.pop("steps"), "every preset track names its meanings"
    derived = validate(bare).config
    for track_key, track in named.tracks.items():
        expected = dict(derived.tracks[track_key].steps)
        if key == "induction_minimal":
            assert expected["end_support"] == "approve"
            expected["end_support"] = "end_support"
        if "intake" not in expected and track.kind == "induction":
            expected["intake"] = "accept"
        assert dict(track.steps) == expected, track_key


# --- asking the built configuration ----------------------------------------------------------


def test_a_step_is_found_by_meaning_from_the_state_it_leaves():
    track = validate(load_preset("boston_esp")).config.tracks["par"]
    assert track.step_for("panel_decision", "panel_review").key == "panel_decides"
    assert track.step_for("panel_decision", "final_approval") is None
    assert track.step_for("final_return", "final_approval").key == "return_to_panel"
    assert [t.key for t in track.steps_for("intake")] == ["accept"]
    assert track.means("approve", "final_approval")
    assert not track.means("approve", "panel_decision")
    assert track.step_for("appeal", "panel_review") is None


def test_an_assistance_track_has_no_recommendation_step():
    track = validate(load_preset("boston_esp")).config.tracks["pa"]
    assert track.steps_for("recommendation") == ()
    assert track.step_for("end_support", "support").key == "close"


def test_committee_consensus_applies_where_a_step_asks_for_it():
    boston = validate(load_preset("boston_esp")).config
    toledo = validate(load_preset("toledo")).config
    assert boston.tracks["par"].needs_committee_consensus
    assert not toledo.tracks["intervention"].needs_committee_consensus


def test_the_outcomes_a_step_closes_with():
    config = validate(load_preset("toledo")).config
    track = config.tracks["intern"]
    approve = track.step_for("final_approval", "final_approval")
    resign = track.transition("support", "resign")
    assert chosen_outcomes(approve, config) == ("renewed", "non_renewed", "resigned")
    assert closes_with(resign, config) == ("resigned",)
    assert chosen_outcomes(resign, config) == ()  # fixed: nothing to choose
    assert closes_with(track.transition("request", "begin_intake"), config) == ()


def test_the_reference_documents_every_meaning():
    text = render_reference()
    assert "| `steps` |" in text
    for name, meaning in MEANINGS.items():
        assert f"### `{name}`: {meaning.label}" in text
        assert f"When `steps` does not name it: {meaning.derived}." in text
