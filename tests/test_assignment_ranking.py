"""Ranked CT suggestions: the rules the coordinator relies on, and their invariants.

Pure tests: no database, no app. The ranking is a function of plain values.
"""

from __future__ import annotations

import ast
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services import assignment_ranking
from app.services.assignment_ranking import CaseProfile, CtProfile, Suggestion, rank


def _case(**overrides: object) -> CaseProfile:
    values: dict[str, object] = {
        "school": "Lincoln",
        "subject": "Mathematics",
        "grade": "7",
        "language": None,
        "track_weight": 1,
        "neighbouring_schools": {},
    }
    values.update(overrides)
    return CaseProfile(**values)  # type: ignore[arg-type]


def _ct(ct_id: int = 1, name: str = "Avery", **overrides: object) -> CtProfile:
    values: dict[str, object] = {
        "ct_id": ct_id,
        "name": name,
        "caseload_limit": 12,
        "current_load": 0,
        "schools": frozenset(),
        "subjects": frozenset(),
        "grades": frozenset(),
        "languages": frozenset(),
        "term_active": True,
        "home_school": None,
    }
    values.update(overrides)
    return CtProfile(**values)  # type: ignore[arg-type]


def _only(case: CaseProfile, ct: CtProfile) -> Suggestion:
    (suggestion,) = rank(case, [ct])
    return suggestion


# --- eligibility -----------------------------------------------------------------


def test_ct_from_the_teachers_own_school_is_never_eligible() -> None:
    case = _case(school="Lincoln")
    ct = _ct(home_school=" lincoln ", subjects=frozenset({"Mathematics"}), grades=frozenset({"7"}))
    suggestion = _only(case, ct)
    assert not suggestion.eligible
    assert "from the teacher's own school: not suggested" in suggestion.reasons
    assert not any("serves the teacher's school" in r for r in suggestion.reasons)


def test_ct_from_own_school_ranks_below_a_weaker_eligible_ct() -> None:
    case = _case(school="Lincoln")
    strong = _ct(1, "Avery", home_school="Lincoln", subjects=frozenset({"Mathematics"}))
    weak = _ct(2, "Blake", home_school="Adams", caseload_limit=2)
    assert [s.ct_id for s in rank(case, [strong, weak])] == [2, 1]


def test_ct_at_the_limit_minus_one_cannot_take_a_double_weighted_case() -> None:
    ct = _ct(caseload_limit=12, current_load=11)
    suggestion = _only(_case(track_weight=2), ct)
    assert not suggestion.eligible
    assert suggestion.open_capacity == -1
    assert "over the caseload limit by 1" in suggestion.reasons


def test_ct_with_one_unit_of_room_can_take_a_single_weighted_case() -> None:
    ct = _ct(caseload_limit=12, current_load=11)
    suggestion = _only(_case(track_weight=1), ct)
    assert suggestion.eligible
    assert suggestion.open_capacity == 0
    assert "has room: 0 of 12 open after this case" in suggestion.reasons


def test_ct_exactly_at_the_limit_cannot_take_even_a_single_case() -> None:
    suggestion = _only(_case(track_weight=1), _ct(caseload_limit=12, current_load=12))
    assert not suggestion.eligible
    assert "over the caseload limit by 1" in suggestion.reasons


def test_ct_outside_their_term_is_not_eligible() -> None:
    suggestion = _only(_case(), _ct(term_active=False))
    assert not suggestion.eligible
    assert "outside their term dates: not suggested" in suggestion.reasons


def test_a_case_that_weighs_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="track_weight"):
        rank(_case(track_weight=0), [_ct()])


# --- scoring and the documented trade-off ----------------------------------------


def test_subject_and_language_match_outrank_two_more_units_of_capacity() -> None:
    # Documented trade-off: subject + language (7 points) beat up to 6 more open units.
    case = _case(subject="Mathematics", language="Spanish", grade=None)
    matched = _ct(
        1,
        "Zoe",
        caseload_limit=12,
        current_load=7,
        subjects=frozenset({"mathematics"}),
        languages=frozenset({"SPANISH"}),
    )
    roomier = _ct(2, "Adam", caseload_limit=12, current_load=5)
    first, second = rank(case, [roomier, matched])
    assert (first.ct_id, first.open_capacity) == (1, 4)
    assert (second.ct_id, second.open_capacity) == (2, 6)
    assert first.score > second.score


def test_capacity_beyond_the_cap_does_not_drown_a_subject_match() -> None:
    case = _case(subject="Science", grade=None)
    matched = _ct(1, "Avery", caseload_limit=20, current_load=8, subjects=frozenset({"Science"}))
    empty = _ct(2, "Blake", caseload_limit=23, current_load=0)
    assert [s.ct_id for s in rank(case, [empty, matched])] == [1, 2]


def test_closer_ct_ranks_above_a_farther_one_and_unknown_is_neutral() -> None:
    case = _case(school="Lincoln", neighbouring_schools={"Adams": 1, "Brooks": 3})
    near = _ct(1, "Casey", schools=frozenset({"adams"}))
    far = _ct(2, "Avery", schools=frozenset({"Brooks"}))
    unknown = _ct(3, "Blake", schools=frozenset({"Carver"}))
    by_id = {s.ct_id: s for s in rank(case, [far, near, unknown])}
    assert by_id[1].score > by_id[2].score
    assert by_id[2].score == by_id[3].score
    assert "1 school away from the teacher's school" in by_id[1].reasons
    assert "3 schools away from the teacher's school" in by_id[2].reasons
    assert "distance from the teacher's school unknown" in by_id[3].reasons


def test_ct_serving_the_teachers_school_without_coming_from_it_is_closest() -> None:
    case = _case(school="Lincoln", neighbouring_schools={"Adams": 1})
    serving = _ct(1, "Avery", schools=frozenset({"Lincoln"}), home_school="Adams")
    suggestion = _only(case, serving)
    assert suggestion.eligible
    assert "serves the teacher's school" in suggestion.reasons


def test_two_spellings_of_a_neighbouring_school_use_the_nearer_distance() -> None:
    ct = _ct(schools=frozenset({"ADAMS"}))
    for neighbours in ({"adams": 3, "Adams": 1}, {"Adams": 1, "adams": 3}):
        reasons = _only(_case(neighbouring_schools=neighbours), ct).reasons
        assert "1 school away from the teacher's school" in reasons


# --- reasons ---------------------------------------------------------------------


def test_reasons_mention_each_match() -> None:
    case = _case(subject="Mathematics", grade="7", language="Spanish")
    ct = _ct(
        subjects=frozenset({"MATHEMATICS"}),
        grades=frozenset({"7"}),
        languages=frozenset({"spanish"}),
        caseload_limit=12,
        current_load=7,
    )
    reasons = _only(case, ct).reasons
    assert "has room: 4 of 12 open after this case" in reasons
    assert "teaches Mathematics" in reasons
    assert "works with grade 7" in reasons
    assert "speaks Spanish" in reasons


def test_reasons_mention_each_mismatch_and_each_disqualification() -> None:
    case = _case(school="Lincoln", subject="Mathematics", grade="7", language="Spanish")
    ct = _ct(
        term_active=False,
        home_school="Lincoln",
        caseload_limit=12,
        current_load=12,
        subjects=frozenset({"Science"}),
    )
    reasons = _only(case, ct).reasons
    assert reasons[:3] == (
        "outside their term dates: not suggested",
        "from the teacher's own school: not suggested",
        "over the caseload limit by 1",
    )
    assert "does not teach Mathematics" in reasons
    assert "does not work with grade 7" in reasons
    assert "does not speak Spanish" in reasons


def test_no_language_reason_when_the_teacher_has_no_preference() -> None:
    reasons = _only(_case(language=None), _ct(languages=frozenset({"French"}))).reasons
    assert not any("speak" in r for r in reasons)


# --- determinism -----------------------------------------------------------------


def test_ties_are_broken_by_name_then_ct_id() -> None:
    case = _case()
    cts = [_ct(3, "blake"), _ct(2, "Avery"), _ct(1, "Blake"), _ct(4, "avery")]
    ordered = [(s.name, s.ct_id) for s in rank(case, cts)]
    assert ordered == [("Avery", 2), ("avery", 4), ("Blake", 1), ("blake", 3)]
    assert len({s.score for s in rank(case, cts)}) == 1


def test_module_imports_neither_flask_nor_sqlalchemy() -> None:
    tree = ast.parse(Path(assignment_ranking.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {m for m in imported if m.split(".")[0] in {"flask", "sqlalchemy", "app"}}


# --- properties ------------------------------------------------------------------

# Small pools with differently-cased spellings, so ties and case-folding both happen.
_SCHOOLS = ["Lincoln", "lincoln", "Adams", "Brooks", "Carver"]
_SUBJECTS = ["Mathematics", "mathematics", "Science", "English"]
_GRADES = ["K", "3", "7", "10"]
_LANGUAGES = ["Spanish", "SPANISH", "Haitian Creole", "Vietnamese"]


def _subset(pool: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(pool), max_size=3)


cases = st.builds(
    CaseProfile,
    school=st.none() | st.sampled_from(_SCHOOLS),
    subject=st.none() | st.sampled_from(_SUBJECTS),
    grade=st.none() | st.sampled_from(_GRADES),
    language=st.none() | st.sampled_from(_LANGUAGES),
    track_weight=st.integers(1, 3),
    neighbouring_schools=st.dictionaries(st.sampled_from(_SCHOOLS), st.integers(0, 5)),
)

cts_strategy = st.builds(
    CtProfile,
    ct_id=st.integers(1, 6),
    name=st.sampled_from(["Avery", "avery", "Blake", "Casey"]),
    caseload_limit=st.integers(0, 23),
    current_load=st.integers(0, 25),
    schools=_subset(_SCHOOLS),
    subjects=_subset(_SUBJECTS),
    grades=_subset(_GRADES),
    languages=_subset(_LANGUAGES),
    term_active=st.booleans(),
    home_school=st.none() | st.sampled_from(_SCHOOLS),
)


@given(cases, st.lists(cts_strategy, max_size=8))
def test_eligible_suggestions_always_precede_ineligible_ones(
    case: CaseProfile, cts: list[CtProfile]
) -> None:
    flags = [s.eligible for s in rank(case, cts)]
    assert flags == sorted(flags, reverse=True)


@given(cases, st.lists(cts_strategy, max_size=8))
def test_an_eligible_suggestion_never_has_negative_open_capacity(
    case: CaseProfile, cts: list[CtProfile]
) -> None:
    for suggestion in rank(case, cts):
        if suggestion.eligible:
            assert suggestion.open_capacity >= 0


@given(cases, cts_strategy, st.sampled_from(_LANGUAGES))
def test_adding_a_matching_language_never_lowers_the_score(
    case: CaseProfile, ct: CtProfile, fallback: str
) -> None:
    language = case.language or fallback
    richer = replace(ct, languages=ct.languages | {language.lower()})
    before, after = _only(case, ct), _only(case, richer)
    assert after.score >= before.score
    assert after.eligible == before.eligible


@given(cases, st.lists(cts_strategy, max_size=8), st.randoms(use_true_random=False))
def test_permuting_the_input_never_changes_the_output(
    case: CaseProfile, cts: list[CtProfile], rnd: random.Random
) -> None:
    shuffled = list(cts)
    rnd.shuffle(shuffled)
    assert rank(case, shuffled) == rank(case, cts)


@given(cases, st.lists(cts_strategy, max_size=8))
def test_every_ct_appears_exactly_once(case: CaseProfile, cts: list[CtProfile]) -> None:
    assert sorted(s.ct_id for s in rank(case, cts)) == sorted(ct.ct_id for ct in cts)


@given(cases, st.lists(cts_strategy, max_size=8))
def test_an_ineligible_suggestion_always_says_why(case: CaseProfile, cts: list[CtProfile]) -> None:
    for suggestion in rank(case, cts):
        if not suggestion.eligible:
            assert any(
                r.endswith("not suggested") or r.startswith("over the caseload limit")
                for r in suggestion.reasons
            )
