"""Every shipped preset is valid, and every case can reach every ending."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from app.workflows import evaluate, load_preset, preset_keys, validate
from app.workflows.describe import describe_track
from app.workflows.effects import CloseWithOutcome, chosen_outcomes

from .helpers import actor_for, path_to, payload_for, satisfied_facts

PRESETS = (
    "boston_esp",
    "boston_pap_2007",
    "cincinnati",
    "induction_minimal",
    "montgomery",
    "rochester",
    "san_juan",
    "st_paul",
    "toledo",
)


def _endings():
    for key in preset_keys():
        config = validate(load_preset(key)).config
        for track in config.tracks.values():
            for terminal in track.terminal_states:
                yield pytest.param(key, track.key, terminal, id=f"{key}-{track.key}-{terminal}")


def test_the_promised_presets_ship():
    assert set(PRESETS) <= set(preset_keys())


@pytest.mark.parametrize("key", PRESETS)
def test_preset_validates(key):
    result = validate(load_preset(key))
    assert result.errors == {}
    assert result.ok


@pytest.mark.parametrize(("preset", "track_key", "terminal"), list(_endings()))
def test_a_case_walks_from_the_start_to_each_ending(preset, track_key, terminal):
    config = validate(load_preset(preset)).config
    track = config.tracks[track_key]
    state = track.initial_state
    steps = path_to(track, terminal)
    assert steps, f"no path to {terminal}"
    for transition in steps:
        payload = payload_for(config, track, state, transition)
        facts = satisfied_facts(config, payload)
        result = evaluate(config, track_key, state, transition.key, actor_for(transition), facts)
        assert result.allowed, (state, transition.key, result.failures)
        assert result.to_state == transition.to
        state = result.to_state
    assert state == terminal
    if track.states[terminal].outcome_required:
        assert any(isinstance(e, CloseWithOutcome) for e in result.effects)


def test_boston_pap_reports_approved_leave_as_other():
    config = validate(load_preset("boston_pap_2007")).config
    assert config.outcome_group("approved_leave").label == "Retirements/Resignations/Other"
    assert config.outcome_group("met_standards").label == "Teachers who met standards"
    assert config.outcome_group("continuing").label == "Active"


def test_boston_uses_the_massachusetts_scale():
    config = validate(load_preset("boston_esp")).config
    assert [r.key for r in config.rating_scale] == [
        "exemplary",
        "proficient",
        "needs_improvement",
        "unsatisfactory",
    ]
    assert [config.meets_standard(r.key) for r in config.rating_scale] == [True, True, False, False]


def test_boston_assistance_never_evaluates_and_review_does():
    config = validate(load_preset("boston_esp")).config
    pa, par = config.tracks["pa"], config.tracks["par"]
    assert (pa.kind, pa.ct_evaluates, pa.shared_with_principal) == (
        "assistance",
        False,
        frozenset({"participation"}),
    )
    assert (par.kind, par.ct_evaluates, par.principal_secondary_evaluator) == ("review", True, True)
    assert config.panel.invite_principal
    assert config.final_authority.label == "Superintendent"


def test_toledo_panel_and_weights():
    config = validate(load_preset("toledo")).config
    assert config.panel.seats == 9
    assert config.panel.decision_rule.at_least == 6
    assert config.tracks["intervention"].caseload_weight == 2
    assert config.tracks["intern"].caseload_weight == 1
    assert config.caseload.term_years == 3


def test_rochester_schedules_status_reports_at_mid_and_end_of_semester():
    config = validate(load_preset("rochester")).config
    assert config.panel.seats == 12
    assert config.panel.decision_rule.kind == "majority"
    for track in ("intern", "intervention"):
        rules = config.tracks[track].status_reports
        assert [(p.label, p.on) for p in rules.at] == [
            ("Mid-semester (fall)", (10, 31)),
            ("End of semester (fall)", (1, 20)),
            ("Mid-semester (spring)", (3, 31)),
            ("End of semester (spring)", (6, 10)),
        ]
    # The reports are the schedule now: no dated deadline stands in for them.
    assert config.deadlines == {}
    hold = config.tracks["intern"].transition("introduction", "hold_introduction")
    assert not [e for e in hold.effects if e.name == "schedule_deadline"]


def test_montgomery_panel_and_caseload():
    config = validate(load_preset("montgomery")).config
    assert {k: c.seats for k, c in config.panel.constituencies.items()} == {
        "teachers": 8,
        "principals": 8,
    }
    assert config.tracks["underperforming"].caseload_weight == 2
    assert (config.caseload.default_limit, config.caseload.max_limit) == (18, 23)


def _seats(config):
    return {k: c.seats for k, c in config.panel.constituencies.items()}


def test_cincinnati_panel_of_five_and_five_decides_by_majority():
    config = validate(load_preset("cincinnati")).config
    assert _seats(config) == {"teachers": 5, "administrators": 5}
    assert config.panel.seats == 10
    assert config.panel.decision_rule.kind == "majority"
    assert set(config.tracks) == {"intern", "intervention"}
    assert config.tracks["intern"].kind == "induction"
    assert config.tracks["intervention"].kind == "review"
    assert "non_renewed" in chosen_outcomes(
        config.tracks["intern"].step_for("final_approval", "final_approval"), config
    )


@pytest.mark.parametrize("track_key", ["intern", "intervention"])
def test_cincinnati_sends_the_ct_report_to_the_panel_before_it_meets(track_key):
    config = validate(load_preset("cincinnati")).config
    track = config.tracks[track_key]
    submit = track.step_for("recommendation", "recommendation")
    assert submit.to == "panel_review"
    told = [e.params["to"] for e in submit.effects if e.name == "notify"]
    assert ["panel_member"] in told


def test_san_juan_panel_of_four_and_three_decides_by_majority():
    config = validate(load_preset("san_juan")).config
    assert _seats(config) == {"teachers": 4, "administrators": 3}
    assert config.panel.seats == 7
    assert config.panel.decision_rule.kind == "majority"


def test_san_juan_veteran_case_weighs_three_beginning_cases():
    config = validate(load_preset("san_juan")).config
    assert set(config.tracks) == {"beginning", "veteran"}
    assert config.tracks["beginning"].caseload_weight == 1
    assert config.tracks["veteran"].caseload_weight == 3
    assert config.tracks["veteran"].eligibility.latest_ratings == frozenset({"unsatisfactory"})
    assert len(config.standards) == 6


def test_san_juan_placement_refuses_a_teacher_who_is_not_eligible():
    config = validate(load_preset("san_juan")).config
    track = config.tracks["veteran"]
    accept = track.step_for("intake", "intake")
    failures = track.eligibility.failures("satisfactory", years_of_service=12, permanent=True)
    assert failures
    facts = dataclasses.replace(satisfied_facts(config), eligibility_failures=failures)
    refused = evaluate(config, "veteran", "intake", accept.key, actor_for(accept), facts)
    assert not refused.allowed
    allowed = evaluate(
        config, "veteran", "intake", accept.key, actor_for(accept), satisfied_facts(config)
    )
    assert allowed.allowed and allowed.to_state == "assignment"


def test_st_paul_is_one_review_track_for_tenured_teachers_before_a_joint_panel():
    config = validate(load_preset("st_paul")).config
    assert list(config.tracks) == ["par"]
    par = config.tracks["par"]
    assert (par.kind, par.ct_evaluates) == ("review", True)
    assert par.eligibility.failures(None, years_of_service=3, permanent=False) == (
        "needs permanent status",
    )
    assert par.eligibility.failures(None, years_of_service=3, permanent=True) == ()
    assert set(config.panel.constituencies) == {"teachers", "administrators"}
    assert "Open to teachers with permanent status." in describe_track(par, config)


def test_every_evaluative_track_follows_the_common_life():
    life = [
        "request",
        "intake",
        "assignment",
        "introduction",
        "support",
        "recommendation",
        "panel_review",
        "final_approval",
        "closed",
    ]
    for key in preset_keys():
        for track in validate(load_preset(key)).config.tracks.values():
            expected = life if track.is_evaluative else [*life[:5], "closed"]
            assert track.initial_state == "request"
            for here, there in itertools.pairwise(expected):
                targets = {t.to for t in track.transitions_from(here)}
                assert there in targets, (key, track.key, here, there)


def test_unknown_preset_is_refused():
    with pytest.raises(KeyError):
        load_preset("atlantis")


def test_load_preset_returns_a_fresh_copy():
    first = load_preset("toledo")
    first["program"]["name"] = "changed"
    assert load_preset("toledo")["program"]["name"] != "changed"
