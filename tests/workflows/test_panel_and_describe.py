"""Panel arithmetic and the words that describe it agree."""

from __future__ import annotations

import pytest

from app.workflows import load_preset, validate
from app.workflows.describe import (
    describe_decision,
    describe_panel,
    describe_quorum,
    describe_track,
)


def _panel(document, **changes):
    document["panel"].update(changes)
    result = validate(document)
    assert result.ok, result.messages()
    return result.config.panel


def test_toledo_decision_in_words():
    panel = validate(load_preset("toledo")).config.panel
    assert describe_decision(panel) == "Decision needs 6 of 9 seats"
    assert describe_quorum(panel) == "At least 7 of 9 members must be present to vote"


def test_per_constituency_minimum_in_words(document):
    panel = _panel(document, per_constituency_minimum=2)
    assert describe_decision(panel) == "Decision needs 6 of 9 seats, at least 2 from each side"


def test_majority_in_words():
    panel = validate(load_preset("rochester")).config.panel
    assert describe_decision(panel) == "Decision needs a majority of votes cast"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"kind": "majority", "of": "seats"}, "Decision needs 5 of 9 seats (a majority)"),
        ({"kind": "unanimity"}, "Decision needs every vote cast"),
        ({"kind": "unanimity", "of": "seats"}, "Decision needs all 9 seats"),
        (
            {"kind": "supermajority", "fraction": 0.67, "of": "seats"},
            "Decision needs 7 of 9 seats (67%)",
        ),
        ({"kind": "supermajority", "fraction": 0.75}, "Decision needs at least 75% of votes cast"),
    ],
)
def test_other_rules_in_words(document, rule, words):
    assert describe_decision(_panel(document, decision_rule=rule)) == words


def test_toledo_six_of_nine_carries_and_five_does_not():
    panel = validate(load_preset("toledo")).config.panel
    assert panel.carries({"teachers": 5, "administrators": 1}, present=9)
    assert not panel.carries({"teachers": 5, "administrators": 0}, present=9)
    assert not panel.carries({"teachers": 5, "administrators": 1}, present=6)  # no quorum


def test_majority_of_those_present(document):
    panel = _panel(document, quorum=5, decision_rule={"kind": "majority"})
    assert panel.votes_needed(present=5) == 3
    assert panel.votes_needed(present=8) == 5
    assert panel.carries({"teachers": 2, "administrators": 1}, present=5)


def test_per_constituency_minimum_is_enforced(document):
    panel = _panel(document, per_constituency_minimum=2)
    assert not panel.carries({"teachers": 5, "administrators": 1}, present=9)
    assert panel.carries({"teachers": 4, "administrators": 2}, present=9)


def test_panel_in_sentences():
    panel = validate(load_preset("montgomery")).config.panel
    assert describe_panel(panel) == [
        "16 seats: 8 Teachers, 8 Principals.",
        "Co-chairs, one from each constituency, lead the panel.",
        "Decision needs a majority of votes cast.",
        "At least 9 of 16 members must be present to vote.",
        "When no option carries, the case is deferred to the next session.",
        "Recused from a case: members who declare a conflict of interest; members who work "
        "in the teacher's school; members who supervise or evaluate the teacher.",
        "Votes stay sealed until the session closes.",
        "The principal may attend.",
    ]


def test_track_in_sentences():
    config = validate(load_preset("boston_esp")).config
    assert describe_track(config.tracks["pa"], config) == [
        "Peer Assistance (PA): an assistance track.",
        "Open to teachers whose latest rating is Needs Improvement or Unsatisfactory.",
        "The Consulting Teacher coaches and does not evaluate.",
        "The principal sees: that the teacher takes part in the program.",
        "A case starts at Requested and ends at one of: Closed, Declined, Withdrawn.",
        "Key steps: intake is “Accept into the program”; the end of support is “Close the case”.",
        "Each case takes 1 caseload place.",
    ]
