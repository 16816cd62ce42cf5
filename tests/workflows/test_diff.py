"""Differences between versions read as an admin would describe them."""

from __future__ import annotations

from app.workflows import Change, describe_change, diff


def test_identical_documents_have_no_changes(document):
    assert diff(document, document) == []


def test_changed_scalar(document):
    new = {**document, "panel": {**document["panel"], "quorum": 6}}
    (change,) = diff(document, new)
    assert change == Change("panel.quorum", "changed", 7, 6)
    assert describe_change(change) == "Changed panel.quorum from 7 to 6"


def test_added_and_removed_mapping_entries(document):
    old = document
    new = {
        **document,
        "outcomes": {**document["outcomes"], "retired": {"label": "Retired", "group": "other"}},
    }
    del new["outcomes"]["resigned"]
    assert [describe_change(c) for c in diff(old, new)] == [
        'Removed outcomes.resigned (was "Resigned")',
        'Added outcomes.retired: "Retired"',
    ]


def test_keyed_list_items_match_by_key(document):
    new_scale = [
        {"key": "exemplary", "label": "Exemplary", "meets_standard": True},
        *document["rating_scale"],
    ]
    new_scale[1] = {**new_scale[1], "label": "Proficient (meets)"}
    changes = diff(document, {**document, "rating_scale": new_scale})
    assert changes == [
        Change("rating_scale[proficient].label", "changed", "Proficient", "Proficient (meets)"),
        Change("rating_scale[exemplary]", "added", None, new_scale[0]),
    ]


def test_reordering_a_keyed_list_is_a_change(document):
    reordered = list(reversed(document["rating_scale"]))
    (change,) = diff(document, {**document, "rating_scale": reordered})
    assert change.path == "rating_scale (order)"
    assert change.new == ["unsatisfactory", "needs_improvement", "proficient"]


def test_lists_of_names_change_as_a_whole(document):
    new = {**document, "tracks": {"par": {**document["tracks"]["par"]}}}
    new["tracks"]["par"]["transitions"] = [
        dict(t) for t in document["tracks"]["par"]["transitions"]
    ]
    new["tracks"]["par"]["transitions"][0]["actors"] = ["coordinator", "program_admin"]
    assert [describe_change(c) for c in diff(document, new)] == [
        "Changed tracks.par.transitions[accept].actors from "
        '["coordinator"] to ["coordinator", "program_admin"]'
    ]


def test_type_change_is_a_change():
    assert diff({"a": 1}, {"a": "1"}) == [Change("a", "changed", 1, "1")]
