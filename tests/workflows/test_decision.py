"""The panel's decision: worked examples from real presets, then properties."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workflows import load_preset, validate
from app.workflows.decision import Attendance, Ballot, Decision, decide
from app.workflows.panel import Constituency, DecisionRule, PanelRules

from .helpers import base_document

# Toledo's roster: five teachers (t1-t5) and four administrators (a1-a4).
TOLEDO_SEATS = {
    **{f"t{i}": "teachers" for i in range(1, 6)},
    **{f"a{i}": "administrators" for i in range(1, 5)},
}
MONTGOMERY_SEATS = {
    **{f"t{i}": "teachers" for i in range(1, 9)},
    **{f"p{i}": "principals" for i in range(1, 9)},
}


def _preset(key: str):
    result = validate(load_preset(key))
    assert result.ok, result.messages()
    return result.config


def _panel_from(**changes: Any) -> PanelRules:
    """The helpers' 5 + 4 panel with some rules changed, validated like a district's."""
    document = base_document()
    document["panel"].update(changes)
    result = validate(document)
    assert result.ok, result.messages()
    return result.config.panel


def _vote(
    rules: PanelRules,
    seats: dict[str, str],
    votes: dict[str, str | None],
    *,
    absent: frozenset[str] = frozenset(),
    recused: frozenset[str] = frozenset(),
    ct_recommendation: str | None = None,
    chair_id: str | None = None,
    options: tuple[str, ...] | None = None,
) -> Decision:
    ballots = {m: Ballot(m, seats[m], option) for m, option in votes.items()}
    attendance = Attendance(frozenset(seats) - absent, seats, recused)
    return decide(
        rules,
        ballots,
        attendance,
        ct_recommendation=ct_recommendation,
        chair_id=chair_id,
        options=options,
    )


def _split(for_affirm: list[str], for_reject: list[str]) -> dict[str, str | None]:
    return {**{m: "affirm" for m in for_affirm}, **{m: "reject" for m in for_reject}}


TEACHERS, ADMINS = ["t1", "t2", "t3", "t4", "t5"], ["a1", "a2", "a3", "a4"]


def test_toledo_six_of_nine_affirm_decides():
    config = _preset("toledo")
    options = config.tracks["intervention"].ballot_options
    votes = _split([*TEACHERS, "a1"], ADMINS[1:])
    decision = _vote(config.panel, TOLEDO_SEATS, votes, options=options)
    assert (decision.outcome, decision.option, decision.decided_by) == ("decided", "affirm", "rule")
    assert decision.tally == {"affirm": 6, "reject": 3}
    assert decision.tally_by_constituency["administrators"] == {"affirm": 1, "reject": 3}
    assert decision.votes_needed == 6
    assert decision.rule_text.startswith("Decision needs 6 of 9 seats")


def test_toledo_five_to_four_lets_the_recommendation_stand():
    config = _preset("toledo")
    options = config.tracks["intervention"].ballot_options
    votes = _split(TEACHERS, ADMINS)
    decision = _vote(config.panel, TOLEDO_SEATS, votes, ct_recommendation="reject", options=options)
    assert (decision.outcome, decision.option) == ("decided", "reject")
    assert decision.decided_by == "ct_recommendation_stands"
    assert "recommendation stands" in decision.rule_text


def test_toledo_five_to_four_defers_when_the_tie_rule_says_so():
    rules = dataclasses.replace(_preset("toledo").panel, tie_rule="defer")
    decision = _vote(rules, TOLEDO_SEATS, _split(TEACHERS, ADMINS), ct_recommendation="reject")
    assert (decision.outcome, decision.option, decision.decided_by) == ("deferred", None, None)


def test_recommendation_outside_the_ballot_options_cannot_stand():
    config = _preset("toledo")
    decision = _vote(
        config.panel,
        TOLEDO_SEATS,
        _split(TEACHERS, ADMINS),
        ct_recommendation="unsatisfactory",
        options=config.tracks["intervention"].ballot_options,
    )
    assert (decision.outcome, decision.option) == ("no_decision", None)


def test_toledo_six_present_is_no_quorum_even_if_unanimous():
    rules = _preset("toledo").panel
    votes = _split([*TEACHERS, "a1"], [])
    decision = _vote(rules, TOLEDO_SEATS, votes, absent=frozenset({"a2", "a3", "a4"}))
    assert (decision.outcome, decision.option) == ("no_quorum", None)
    assert decision.rule_text == "At least 7 of 9 members must be present to vote."


def test_recused_members_ballot_is_ignored_and_not_counted_for_quorum():
    rules = _preset("toledo").panel
    votes = _split([*TEACHERS, "a1"], ADMINS[1:])
    decision = _vote(rules, TOLEDO_SEATS, votes, recused=frozenset({"a1"}))
    assert decision.outcome == "no_decision"  # 5 affirm, short of 6; no recommendation given
    assert decision.tally == {"affirm": 5, "reject": 3}
    assert "Ballot ignored: a1 is recused." in decision.reasons
    three_recused = frozenset({"a1", "a2", "a3"})
    assert _vote(rules, TOLEDO_SEATS, votes, recused=three_recused).outcome == "no_quorum"


def test_ballots_from_absent_or_unseated_members_are_ignored():
    rules = _preset("toledo").panel
    seats = {**TOLEDO_SEATS, "guest": "parents"}
    votes = {**_split([*TEACHERS, "a1"], ADMINS[2:]), "a2": "affirm", "guest": "affirm"}
    decision = _vote(rules, seats, votes, absent=frozenset({"a2"}))
    assert decision.tally == {"affirm": 6, "reject": 2}
    assert "Ballot ignored: a2 is not present." in decision.reasons
    assert "Ballot ignored: guest holds no seat on the panel." in decision.reasons


def test_ballot_for_an_option_the_track_does_not_offer_is_ignored():
    config = _preset("toledo")
    votes = {**_split([*TEACHERS, "a1"], ADMINS[1:]), "a4": "renew"}
    decision = _vote(
        config.panel, TOLEDO_SEATS, votes, options=config.tracks["intervention"].ballot_options
    )
    assert decision.tally == {"affirm": 6, "reject": 2}
    assert any("'renew', which is not a ballot option" in r for r in decision.reasons)


def test_montgomery_majority_counts_votes_cast_not_abstentions():
    config = _preset("montgomery")
    options = config.tracks["novice"].ballot_options
    votes: dict[str, str | None] = {"t1": "renew", "t2": "renew", "t3": "renew", "p1": "renew"}
    votes |= {"p2": "renew", "p3": "non_renew", "p4": "non_renew", "p5": "extend"}
    votes |= {"t4": None, "t5": None, "t6": None}
    decision = _vote(config.panel, MONTGOMERY_SEATS, votes, options=options)
    assert (decision.outcome, decision.option) == ("decided", "renew")
    assert decision.votes_needed == 5  # a majority of 8 votes cast, 11 present
    assert decision.tally == {"extend": 1, "non_renew": 2, "renew": 5}


def test_montgomery_per_side_minimum_blocks_a_one_sided_six():
    rules = dataclasses.replace(_preset("montgomery").panel, per_constituency_minimum=1)
    votes = {**{f"t{i}": "renew" for i in range(1, 7)}, "p1": "non_renew", "p2": "non_renew"}
    votes |= {"p3": "non_renew"}
    decision = _vote(rules, MONTGOMERY_SEATS, votes)
    assert decision.outcome == "deferred"  # Montgomery defers what does not carry
    assert any("fewer than 1 from Principals" in r for r in decision.reasons)
    plain = _vote(_preset("montgomery").panel, MONTGOMERY_SEATS, votes)
    assert (plain.outcome, plain.option) == ("decided", "renew")


def test_unanimity_is_broken_by_one_dissent_but_not_by_an_abstention():
    rules = _panel_from(decision_rule={"kind": "unanimity"}, tie_rule="defer")
    eight = {m: "renew" for m in TEACHERS + ADMINS[:3]}
    dissent = _vote(rules, TOLEDO_SEATS, {**eight, "a4": "non_renew"})
    assert (dissent.outcome, dissent.option) == ("deferred", None)
    abstain = _vote(rules, TOLEDO_SEATS, {**eight, "a4": None})
    assert (abstain.outcome, abstain.option, abstain.votes_needed) == ("decided", "renew", 8)


def test_chair_casting_vote_breaks_a_four_four_tie_with_one_absent():
    rules = _panel_from(decision_rule={"kind": "majority"}, tie_rule="chair_casting_vote")
    votes = _split(["t1", "t2", "t3", "a1"], ["t4", "t5", "a2", "a3"])
    absent = frozenset({"a4"})
    decision = _vote(rules, TOLEDO_SEATS, votes, absent=absent, chair_id="a2")
    assert (decision.outcome, decision.option) == ("decided", "reject")
    assert decision.decided_by == "chair_casting_vote"
    recused_chair = _vote(
        rules, TOLEDO_SEATS, votes, absent=absent, recused=frozenset({"a2"}), chair_id="a2"
    )
    assert recused_chair.outcome == "decided" and recused_chair.option == "affirm"  # 4 of 7
    no_chair_vote = _vote(rules, TOLEDO_SEATS, {**votes, "a2": None}, absent=absent, chair_id="a2")
    assert no_chair_vote.outcome == "decided" and no_chair_vote.option == "affirm"  # 4 of 7
    silent = _vote(rules, TOLEDO_SEATS, votes, absent=absent, chair_id=None)
    assert (silent.outcome, silent.option) == ("no_decision", None)


def test_the_chairs_casting_vote_breaks_ties_but_never_replaces_missing_votes():
    rules = dataclasses.replace(_preset("toledo").panel, tie_rule="chair_casting_vote")
    tie = {**_split(["t1", "t2", "t3", "a1"], ["t4", "t5", "a2", "a3"]), "a4": None}
    decision = _vote(rules, TOLEDO_SEATS, tie, chair_id="t1")
    assert (decision.option, decision.decided_by) == ("affirm", "chair_casting_vote")
    one_more = _vote(rules, TOLEDO_SEATS, {**tie, "a4": "affirm"}, chair_id="t1")
    assert (one_more.outcome, one_more.option) == ("no_decision", None)
    trailing_chair = _vote(rules, TOLEDO_SEATS, {**tie, "a4": "affirm"}, chair_id="t4")
    assert (trailing_chair.outcome, trailing_chair.option) == ("no_decision", None)


def test_fraction_of_those_present_weighs_abstentions_against():
    rules = _panel_from(decision_rule={"kind": "supermajority", "fraction": 0.67})
    votes: dict[str, str | None] = {m: "affirm" for m in [*TEACHERS, "a1"]}
    votes |= {"a2": None, "a3": None, "a4": None}
    decision = _vote(rules, TOLEDO_SEATS, votes)
    assert decision.votes_needed == 7  # ceil(0.67 x 9 present), not of the 6 votes cast
    assert decision.outcome == "deferred"
    assert "67% of the members present and not recused" in decision.rule_text


@pytest.mark.parametrize("key", ["toledo", "montgomery", "rochester"])
def test_full_attendance_for_the_ct_recommendation_decides_on_every_preset(key):
    config = _preset(key)
    track = next(t for t in config.tracks.values() if t.ballot_options)
    seats = {
        f"{side}{i}": side
        for side, c in config.panel.constituencies.items()
        for i in range(c.seats)
    }
    option = track.ballot_options[0]
    decision = _vote(
        config.panel, seats, dict.fromkeys(seats, option), options=track.ballot_options
    )
    assert (decision.outcome, decision.option, decision.decided_by) == ("decided", option, "rule")


# ---------------------------------------------------------------- properties

OPTIONS = ("a", "b", "c")


@dataclasses.dataclass(frozen=True)
class Scenario:
    rules: PanelRules
    ballots: dict[str, Ballot]
    attendance: Attendance
    ct_recommendation: str | None
    chair_id: str | None
    options: tuple[str, ...] | None

    def run(self, **changes: Any) -> Decision:
        s = dataclasses.replace(self, **changes)
        return decide(
            s.rules,
            s.ballots,
            s.attendance,
            ct_recommendation=s.ct_recommendation,
            chair_id=s.chair_id,
            options=s.options,
        )

    @property
    def seated(self) -> set[str]:
        a = self.attendance
        return {
            m
            for m in a.present - a.recused
            if a.constituency_of.get(m) in self.rules.constituencies
        }

    def cast_votes(self) -> dict[str, str]:
        """Options of the well-formed ballots of seated members, worked out from scratch."""
        return {
            m: b.option
            for m, b in self.ballots.items()
            if m in self.seated
            and b.member_id == m
            and b.constituency == self.attendance.constituency_of[m]
            and b.option is not None
            and (self.options is None or b.option in self.options)
        }


@st.composite
def decision_rules(draw, seats: int) -> DecisionRule:
    kind = draw(st.sampled_from(["majority", "supermajority", "unanimity"]))
    of = draw(st.sampled_from(["present", "seats"]))
    if kind != "supermajority":
        return DecisionRule(kind, of)
    if draw(st.booleans()):
        return DecisionRule(kind, of, at_least=draw(st.integers(seats // 2 + 1, seats)))
    return DecisionRule(kind, of, fraction=draw(st.sampled_from([0.51, 0.6, 0.67, 0.75, 1.0])))


@st.composite
def panels(draw, kind=None) -> PanelRules:
    """Panels inside the space validation allows: 1-3 sides, 1-5 seats each."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    sides = {f"s{i}": Constituency(f"s{i}", f"Side {i}", n) for i, n in enumerate(sizes)}
    seats = sum(sizes)
    rule = draw(decision_rules(seats))
    if kind is not None:
        rule = DecisionRule(kind, rule.of)
    minimum = draw(st.none() | st.integers(1, min(sizes)))
    return PanelRules(
        constituencies=sides,
        chair="co_chairs",
        quorum=draw(st.integers(1, seats)),
        decision_rule=rule,
        tie_rule=draw(st.sampled_from(["chair_casting_vote", "ct_recommendation_stands", "defer"])),
        recusal=frozenset(),
        sealed_ballots=True,
        invite_teacher=False,
        invite_principal=False,
        per_constituency_minimum=minimum,
    )


@st.composite
def scenarios(draw, kind=None) -> Scenario:
    rules = draw(panels(kind))
    roster = {f"{k}-{i}": k for k, c in rules.constituencies.items() for i in range(c.seats)}
    roster["guest"] = "visitors"  # a person in the room who holds no seat
    members = sorted(roster)
    few = st.sets(st.sampled_from(members), max_size=2)
    absent = draw(few | st.sets(st.sampled_from(members)))  # mostly a full room
    recused = draw(few)
    ballots = {}
    for m in sorted(set(members) - draw(few)):
        side = roster[m] if draw(st.integers(0, 9)) else "s0"  # now and then the wrong side
        ballots[m] = Ballot(
            m, side, draw(st.sampled_from(["a", "b", "a", "b", *OPTIONS, "x", None]))
        )
    return Scenario(
        rules,
        ballots,
        Attendance(frozenset(members) - absent, roster, frozenset(recused)),
        draw(st.sampled_from([*OPTIONS, "x", None])),
        draw(st.none() | st.sampled_from(members)),
        draw(st.sampled_from([OPTIONS, None])),
    )


PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(scenarios())
def test_an_option_decided_by_the_rule_has_the_votes_needed(scenario):
    decision = scenario.run()
    if decision.decided_by == "rule":
        assert decision.tally[decision.option] >= decision.votes_needed
        votes = list(scenario.cast_votes().values())
        assert votes.count(decision.option) >= decision.votes_needed
        minimum = scenario.rules.per_constituency_minimum or 0
        assert all(t[decision.option] >= minimum for t in decision.tally_by_constituency.values())
    if scenario.rules.tie_rule == "defer" and decision.outcome == "decided":
        assert decision.decided_by == "rule"


@PROPERTY
@given(scenarios(), st.data())
def test_one_more_vote_for_the_decided_option_keeps_it_decided(scenario, data):
    decision = scenario.run()
    silent = sorted(scenario.seated - set(scenario.cast_votes()))
    # Monotone for what the rule decides; a casting vote only exists while a tie does.
    if decision.decided_by != "rule" or not silent:
        return
    member = data.draw(st.sampled_from(silent))
    side = scenario.attendance.constituency_of[member]
    ballots = {**scenario.ballots, member: Ballot(member, side, decision.option)}
    after = scenario.run(ballots=ballots)
    assert (after.outcome, after.option) == ("decided", decision.option)


@PROPERTY
@given(scenarios(), st.randoms())
def test_the_order_of_ballots_and_roster_never_matters(scenario, random):
    items, roster = (
        list(scenario.ballots.items()),
        list(scenario.attendance.constituency_of.items()),
    )
    random.shuffle(items)
    random.shuffle(roster)
    attendance = dataclasses.replace(scenario.attendance, constituency_of=dict(roster))
    before, after = scenario.run(), scenario.run(ballots=dict(items), attendance=attendance)
    assert after == before
    assert list(after.tally) == list(before.tally)
    assert list(after.tally_by_constituency) == list(before.tally_by_constituency)


@PROPERTY
@given(scenarios(kind="unanimity"))
def test_unanimity_decided_by_the_rule_means_every_vote_cast_agrees(scenario):
    decision = scenario.run()
    if decision.decided_by == "rule":
        votes = set(scenario.cast_votes().values())
        assert votes == {decision.option}


@PROPERTY
@given(scenarios(), st.data())
def test_recused_members_ballots_never_affect_the_result(scenario, data):
    recused = sorted(scenario.attendance.recused)
    ballots = {m: b for m, b in scenario.ballots.items() if m not in recused}
    for m in recused:
        option = data.draw(st.sampled_from([*OPTIONS, None, "drop"]))
        if option != "drop":
            ballots[m] = Ballot(m, scenario.attendance.constituency_of[m], option)
    before, after = scenario.run(), scenario.run(ballots=ballots)
    keep = ("outcome", "option", "decided_by", "tally", "tally_by_constituency", "votes_needed")
    assert [getattr(after, f) for f in keep] == [getattr(before, f) for f in keep]


@PROPERTY
@given(scenarios())
def test_without_quorum_the_outcome_is_always_no_quorum(scenario):
    decision = scenario.run()
    if len(scenario.seated) < scenario.rules.quorum:
        assert (decision.outcome, decision.option, decision.decided_by) == ("no_quorum", None, None)
    else:
        assert decision.outcome != "no_quorum"


BOSTON_SEATS = {**{f"b{i}": "btu" for i in range(1, 4)}, **{f"s{i}": "bps" for i in range(1, 4)}}


def test_boston_majority_of_those_present_decides_a_rating():
    rules = _preset("boston_esp").panel
    votes = {
        "b1": "proficient",
        "b2": "proficient",
        "b3": "needs_improvement",
        "s1": "proficient",
        "s2": "proficient",
        "s3": "needs_improvement",
    }
    decision = _vote(rules, BOSTON_SEATS, votes)
    assert (decision.outcome, decision.option) == ("decided", "proficient")
    assert decision.tally["proficient"] == 4


def test_boston_even_split_is_deferred_to_the_next_session():
    rules = _preset("boston_esp").panel
    votes = {
        "b1": "proficient",
        "b2": "proficient",
        "b3": "proficient",
        "s1": "needs_improvement",
        "s2": "needs_improvement",
        "s3": "needs_improvement",
    }
    decision = _vote(rules, BOSTON_SEATS, votes)
    assert decision.outcome == "deferred"
    assert decision.option is None


def test_boston_below_quorum_of_four_never_decides():
    rules = _preset("boston_esp").panel
    decision = _vote(
        rules,
        BOSTON_SEATS,
        {"b1": "proficient", "s1": "proficient", "s2": "proficient"},
        absent=frozenset({"b2", "b3", "s3"}),
    )
    assert decision.outcome == "no_quorum"
