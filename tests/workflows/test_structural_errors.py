"""Shape errors use the same path format as meaning errors."""

from __future__ import annotations

import pytest

from app.workflows import DocumentError, load_document, validate


def test_nested_dict_and_list_errors_are_flattened(document):
    document["tracks"]["par"]["transitions"][3]["to"] = 5
    document["tracks"]["par"]["states"]["closed"]["terminal"] = "maybe"
    errors = validate(document).errors
    assert errors["tracks.par.transitions[3].to"] == ["must be text"]
    assert errors["tracks.par.states.closed.terminal"] == ["must be true or false"]


def test_missing_and_unknown_keys(document):
    del document["tracks"]["par"]["transitions"][1]["label"]
    document["panel"]["chairs"] = "co_chairs"
    errors = validate(document).errors
    assert errors["tracks.par.transitions[1].label"] == ["is required"]
    assert errors["panel.chairs"] == ["unknown key"]


def test_closed_vocabulary_values(document):
    document["tracks"]["par"]["kind"] = "mentoring"
    document["panel"]["recusal"] = ["same_school", "bad_hair_day"]
    errors = validate(document).errors
    assert errors["tracks.par.kind"] == ["must be one of: assistance, review, induction"]
    assert errors["panel.recusal[1]"] == [
        "must be one of: same_school, supervised_teacher, declared_conflict"
    ]


def test_bad_mapping_keys_are_named(document):
    document["outcomes"]["Met Standards"] = {"label": "x", "group": "met_standards"}
    assert validate(document).errors == {
        "outcomes.Met Standards": ["key: must be lower-case letters, digits and underscores"]
    }


def test_malformed_guard_use(document):
    document["tracks"]["par"]["transitions"][1]["guards"][0] = {"a": {}, "b": {}}
    assert validate(document).errors == {
        "tracks.par.transitions[1].guards[0]": [
            "must be a name, or a mapping of one name to its parameters"
        ]
    }


def test_empty_actor_list(document):
    document["tracks"]["par"]["transitions"][0]["actors"] = []
    assert validate(document).errors == {
        "tracks.par.transitions[0].actors": ["must name at least one role or relation"]
    }


def test_wrong_schema_version_and_bad_date_format(document):
    document["schema_version"] = 2
    document["school_year_start"] = "September"
    assert validate(document).errors == {
        "schema_version": ["must be 1"],
        "school_year_start": ["must be MM-DD, e.g. 09-01"],
    }


def test_non_mapping_document():
    assert validate(["not", "a", "mapping"]).errors == {
        "(document)": ["must be a mapping of keys to values"]
    }


def test_yaml_keeps_on_as_a_key_and_yes_as_text():
    document = load_document("notifications:\n  - on: approve\n    template: yes\n")
    assert document == {"notifications": [{"on": "approve", "template": "yes"}]}


def test_yaml_still_reads_true_and_false():
    assert load_document("a: true\nb: False\n") == {"a": True, "b": False}


def test_json_text_is_accepted():
    assert load_document('{"schema_version": 1, "tracks": {}}') == {
        "schema_version": 1,
        "tracks": {},
    }


def test_syntax_error_names_the_line():
    with pytest.raises(DocumentError, match=r"^line 3, column 1: expected"):
        load_document("a: 1\nb: [unclosed\n")


def test_top_level_must_be_a_mapping():
    with pytest.raises(DocumentError, match="must be a mapping"):
        load_document("- just\n- a list\n")


def test_loading_a_dict_copies_it(document):
    loaded = load_document(document)
    loaded["program"]["name"] = "changed"
    assert document["program"]["name"] == "Test Program"


def test_caseload_bounds_must_hold_the_default(document):
    document["caseload"] = {"default_limit": 25, "min_limit": 18, "max_limit": 23}
    assert validate(document).errors == {
        "caseload.default_limit": ["must not be more than max_limit"]
    }
    document["caseload"] = {"default_limit": 12, "min_limit": 18}
    assert validate(document).errors == {"caseload.default_limit": ["must be at least min_limit"]}
    document["caseload"] = {"default_limit": 20, "min_limit": 24, "max_limit": 23}
    assert validate(document).errors == {"caseload.min_limit": ["must not be more than max_limit"]}


def test_an_appeal_names_a_real_outcome_and_a_panel_rule_only_for_a_panel(document):
    document["tracks"]["par"]["appeal"] = {
        "window_working_days": 10,
        "body": "final_authority",
        "granted_outcome": "reinstated",
        "decision_rule": {"kind": "majority"},
    }
    assert validate(document).errors == {
        "tracks.par.appeal.decision_rule": ["only an appeal panel has a decision rule"],
        "tracks.par.appeal.granted_outcome": ["unknown outcome 'reinstated'"],
    }
    del document["tracks"]["par"]["appeal"]["decision_rule"]
    assert validate(document).errors == {
        "tracks.par.appeal.granted_outcome": ["unknown outcome 'reinstated'"]
    }
    document["tracks"]["par"]["appeal"]["body"] = "appeal_panel"
    document["tracks"]["par"]["appeal"]["granted_outcome"] = "met_standards"
    assert validate(document).errors == {
        "tracks.par.appeal.decision_rule": ["an appeal panel needs a decision rule"]
    }


def test_status_reports_take_exactly_one_schedule_of_real_days(document):
    document["tracks"]["par"]["status_reports"] = {"every_weeks": 6, "before_each_session": True}
    assert validate(document).errors == {
        "tracks.par.status_reports": [
            "choose exactly one schedule: every_weeks, at or before_each_session"
        ]
    }
    document["tracks"]["par"]["status_reports"] = {"at": [{"label": "Mid-year", "on": "02-30"}]}
    assert validate(document).errors == {
        "tracks.par.status_reports.at[0].on": ["'02-30' is not a real date"]
    }
