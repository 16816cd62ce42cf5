"""Each kind of meaning error names its path and says what is wrong."""

from __future__ import annotations

from app.workflows import validate


def _errors(document):
    result = validate(document)
    assert not result.ok
    assert result.config is None
    return result.errors


def test_unknown_target_state(document):
    document["tracks"]["par"]["transitions"][3]["to"] = "panel"
    errors = _errors(document)
    assert errors["tracks.par.transitions[3].to"] == ["unknown state 'panel'"]
    # closed is now reached by nothing: reported too, in the same pass
    assert errors["tracks.par.states.closed"] == ["unreachable from the initial state 'request'"]


def test_unknown_source_state_in_a_list(document):
    document["tracks"]["par"]["transitions"][4]["from"] = ["request", "suport"]
    assert _errors(document)["tracks.par.transitions[4].from[1]"] == ["unknown state 'suport'"]


def test_unknown_initial_state(document):
    document["tracks"]["par"]["initial_state"] = "start"
    assert _errors(document)["tracks.par.initial_state"] == ["unknown state 'start'"]


def test_unreachable_state(document):
    document["tracks"]["par"]["states"]["limbo"] = {"label": "Limbo", "terminal": True}
    assert _errors(document) == {
        "tracks.par.states.limbo": ["unreachable from the initial state 'request'"]
    }


def test_non_terminal_state_with_no_way_out(document):
    document["tracks"]["par"]["transitions"][3]["from"] = "recommendation"
    document["tracks"]["par"]["transitions"][3]["key"] = "approve_early"
    errors = _errors(document)
    assert errors["tracks.par.states.panel_review"] == ["not terminal, but no action leaves it"]


def test_states_trapped_in_a_loop(document):
    track = document["tracks"]["par"]
    track["transitions"][3].update({"to": "recommendation", "effects": []})
    errors = _errors(document)
    trapped = ["no path leads from here to a terminal state"]
    assert errors["tracks.par.states.recommendation"] == trapped
    assert errors["tracks.par.states.panel_review"] == trapped
    assert errors["tracks.par.states.closed"] == ["unreachable from the initial state 'request'"]


def test_terminal_state_with_an_outgoing_action(document):
    document["tracks"]["par"]["transitions"][4]["from"] = ["request", "support", "withdrawn"]
    assert _errors(document) == {
        "tracks.par.transitions[4].from[2]": [
            "state 'withdrawn' is terminal; no action may leave it"
        ]
    }


def test_track_without_a_terminal_state(document):
    states = document["tracks"]["par"]["states"]
    states["withdrawn"]["terminal"] = False
    states["closed"]["terminal"] = False
    errors = _errors(document)
    assert errors["tracks.par.states"] == ["must include at least one terminal state"]


def test_guard_naming_an_unknown_visit_type(document):
    guards = document["tracks"]["par"]["transitions"][1]["guards"]
    guards[0] = {"min_visits": {"count": 6, "types": ["observation", "walkthrough"]}}
    assert _errors(document) == {
        "tracks.par.transitions[1].guards[0].min_visits.types[1]": [
            "unknown visit type 'walkthrough'"
        ]
    }


def test_unknown_guard(document):
    document["tracks"]["par"]["transitions"][1]["guards"].append("moon_is_full")
    assert _errors(document) == {
        "tracks.par.transitions[1].guards[2]": ["unknown guard 'moon_is_full'"]
    }


def test_guard_with_bad_parameters(document):
    guards = document["tracks"]["par"]["transitions"][1]["guards"]
    guards[0] = {"min_visits": {"count": "six", "kinds": ["observation"]}}
    assert _errors(document) == {
        "tracks.par.transitions[1].guards[0].min_visits.count": ["must be a whole number"],
        "tracks.par.transitions[1].guards[0].min_visits.kinds": ["unknown key"],
    }


def test_guard_that_takes_no_parameters_refuses_them(document):
    document["tracks"]["par"]["transitions"][2]["guards"] = [{"has_recommendation": {"n": 1}}]
    assert _errors(document) == {
        "tracks.par.transitions[2].guards[0].has_recommendation.n": ["unknown key"]
    }


def test_guard_on_an_unknown_deadline(document):
    document["tracks"]["par"]["transitions"][2]["guards"].append(
        {"before_deadline": {"deadline": "someday"}}
    )
    assert _errors(document) == {
        "tracks.par.transitions[2].guards[1].before_deadline.deadline": [
            "unknown deadline 'someday'"
        ]
    }


def test_unknown_effect(document):
    document["tracks"]["par"]["transitions"][0]["effects"].append("send_flowers")
    assert _errors(document) == {
        "tracks.par.transitions[0].effects[1]": ["unknown effect 'send_flowers'"]
    }


def test_effect_naming_an_unknown_outcome(document):
    effects = document["tracks"]["par"]["transitions"][3]["effects"]
    effects[0] = {"close_with_outcome": {"choices": ["met_standards", "promoted"]}}
    assert _errors(document) == {
        "tracks.par.transitions[3].effects[0].close_with_outcome.choices[1]": [
            "unknown outcome 'promoted'"
        ]
    }


def test_effect_naming_an_unknown_deadline(document):
    effects = document["tracks"]["par"]["transitions"][0]["effects"]
    effects[0] = {"schedule_deadline": {"deadline": "report_due"}}
    assert _errors(document) == {
        "tracks.par.transitions[0].effects[0].schedule_deadline.deadline": [
            "unknown deadline 'report_due'"
        ]
    }


def test_closing_effect_on_a_non_terminal_target(document):
    document["tracks"]["par"]["transitions"][2]["effects"].append(
        {"close_with_outcome": {"outcome": "resigned"}}
    )
    assert _errors(document) == {
        "tracks.par.transitions[2].effects[2].close_with_outcome": [
            "closes the case, so 'to' must be a terminal state"
        ]
    }


def test_entering_an_outcome_state_without_an_outcome(document):
    document["tracks"]["par"]["transitions"][3]["effects"] = []
    assert _errors(document) == {
        "tracks.par.transitions[3].effects": [
            "entering 'closed' requires an outcome: add close_with_outcome"
        ]
    }


def test_unknown_role_or_relation(document):
    document["tracks"]["par"]["transitions"][0]["actors"] = ["coordinator", "janitor"]
    assert _errors(document) == {
        "tracks.par.transitions[0].actors[1]": ["unknown role or relation 'janitor'"]
    }


def test_broad_role_as_actor_is_refused(document):
    document["tracks"]["par"]["transitions"][4]["actors"] = ["teacher"]
    assert _errors(document) == {
        "tracks.par.transitions[4].actors[0]": [
            "role 'teacher' admits all of them in the district; use 'case_teacher'"
        ]
    }


def test_notification_to_unknown_recipient_and_action(document):
    document["notifications"] = [
        {"on": "par.aprove", "to": ["case_teacher", "parents"], "template": "x"},
        {"on": "nothing_like_it", "to": ["coordinator"], "template": "x"},
        {"on": "pa.approve", "to": ["coordinator"], "template": "x"},
    ]
    assert _errors(document) == {
        "notifications[0].on": ["track 'par' has no action 'aprove'"],
        "notifications[0].to[1]": ["unknown role or relation 'parents'"],
        "notifications[1].on": ["no track has an action 'nothing_like_it'"],
        "notifications[2].on": ["unknown track 'pa'"],
    }


def test_unknown_rating_in_eligibility_and_ballot(document):
    track = document["tracks"]["par"]
    track["eligibility"]["latest_ratings"] = ["needs_improvement", "poor"]
    track["ballot_options"] = ["proficient", "excellent"]
    errors = _errors(document)
    assert errors["tracks.par.eligibility.latest_ratings[1]"] == ["unknown rating 'poor'"]
    assert errors["tracks.par.ballot_options[1]"] == [
        "unknown ballot option 'excellent': not a rating level or one of "
        "affirm, reject, uphold, renew, non_renew, extend"
    ]


def test_outcome_in_unknown_report_group(document):
    document["outcomes"]["resigned"]["group"] = "other_exits"
    assert _errors(document) == {"outcomes.resigned.group": ["unknown report group 'other_exits'"]}


def test_quorum_larger_than_the_panel(document):
    document["panel"]["quorum"] = 10
    assert _errors(document) == {"panel.quorum": ["must be <= seats (9)"]}


def test_supermajority_larger_than_the_panel(document):
    document["panel"]["decision_rule"]["at_least"] = 10
    assert _errors(document) == {"panel.decision_rule.at_least": ["must be <= seats (9)"]}


def test_supermajority_that_is_no_majority(document):
    document["panel"]["decision_rule"]["at_least"] = 4
    assert _errors(document) == {
        "panel.decision_rule.at_least": ["must be more than half the seats (9)"]
    }


def test_fraction_above_one(document):
    document["panel"]["decision_rule"] = {"kind": "supermajority", "fraction": 1.5}
    assert _errors(document) == {"panel.decision_rule.fraction": ["must be <= 1"]}


def test_supermajority_needs_a_threshold(document):
    document["panel"]["decision_rule"] = {"kind": "supermajority"}
    assert _errors(document) == {
        "panel.decision_rule": ["a supermajority needs at_least or fraction"]
    }


def test_majority_takes_no_threshold(document):
    document["panel"]["decision_rule"] = {"kind": "majority", "at_least": 6}
    assert _errors(document) == {
        "panel.decision_rule.at_least": ["only a supermajority takes this"]
    }


def test_per_constituency_minimum_above_a_constituency(document):
    document["panel"]["per_constituency_minimum"] = 5
    assert _errors(document) == {
        "panel.per_constituency_minimum": [
            "must be <= the seats of every constituency ('administrators' has 4)"
        ]
    }


def test_chair_from_unknown_constituency(document):
    document["panel"]["chair"] = "parents"
    assert _errors(document) == {
        "panel.chair": ["unknown constituency 'parents' (or use alternating or co_chairs)"]
    }


def test_duplicate_action_from_the_same_state(document):
    transitions = document["tracks"]["par"]["transitions"]
    transitions.append(dict(transitions[4], **{"from": "support", "to": "closed"}))
    errors = _errors(document)
    assert errors["tracks.par.transitions[5].key"] == [
        "duplicate action 'withdraw' from state 'support' (also transitions[4])"
    ]


def test_same_action_from_different_states_is_fine(document):
    transitions = document["tracks"]["par"]["transitions"]
    transitions[4]["from"] = "request"
    transitions.append(dict(transitions[4], **{"from": "support"}))
    assert validate(document).ok


def test_school_year_start_must_be_a_real_date(document):
    document["school_year_start"] = "02-30"
    assert _errors(document) == {"school_year_start": ["'02-30' is not a real date"]}


def test_school_year_start_may_be_a_leap_day(document):
    document["school_year_start"] = "02-29"
    assert validate(document).ok


def test_assistance_track_keeps_confidence(document):
    track = document["tracks"]["par"]
    track.update(kind="assistance", shared_with_principal=["participation", "evidence"])
    errors = _errors(document)
    assert errors["tracks.par.ct_evaluates"] == ["an assistance track never evaluates"]
    assert errors["tracks.par.shared_with_principal[1]"] == [
        "an assistance track shares only participation with the principal"
    ]
    assert errors["tracks.par.transitions[2].effects[1].open_panel_review"] == [
        "an assistance track never goes to the panel"
    ]
    assert errors["tracks.par.transitions[2].effects[0].record_rating"] == [
        "an assistance track never records a rating"
    ]


def test_panel_review_without_a_panel(document):
    del document["panel"]
    assert _errors(document) == {
        "tracks.par.transitions[2].effects[1].open_panel_review": [
            "the document has no panel section"
        ]
    }


def test_panel_review_without_ballot_options(document):
    document["tracks"]["par"]["ballot_options"] = []
    assert _errors(document) == {
        "tracks.par.ballot_options": [
            "must list what the panel votes on (transitions[2] opens a review)"
        ]
    }


def test_final_authority_actor_needs_the_section(document):
    del document["final_authority"]
    assert _errors(document) == {
        "tracks.par.transitions[3].actors[0]": ["the document has no final_authority section"]
    }


def test_duplicate_keys_in_keyed_lists(document):
    document["rating_scale"].append(dict(document["rating_scale"][0]))
    assert _errors(document) == {"rating_scale[3].key": ["duplicate key 'proficient' (also [0])"]}


def test_a_scale_where_nothing_meets_standard(document):
    document["rating_scale"][0]["meets_standard"] = False
    assert _errors(document) == {"rating_scale": ["no level meets standard"]}


def test_all_errors_arrive_together(document):
    document["panel"]["quorum"] = 10
    document["outcomes"]["resigned"]["group"] = "other_exits"
    document["tracks"]["par"]["transitions"][0]["actors"] = ["janitor"]
    document["school_year_start"] = "13-01"
    document["program"]["short_name"] = 7
    assert validate(document).messages() == [
        "program.short_name: must be text",
        "tracks.par.transitions[0].actors[0]: unknown role or relation 'janitor'",
        "panel.quorum: must be <= seats (9)",
        "outcomes.resigned.group: unknown report group 'other_exits'",
        "school_year_start: '13-01' is not a real date",
    ]
