"""Each guard passes on satisfied facts and explains itself when it fails."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from app.workflows.facts import CaseFacts
from app.workflows.guards import GUARDS, run_guard

TODAY = date(2024, 3, 15)
EMPTY = CaseFacts(today=TODAY)


@pytest.mark.parametrize(
    ("name", "params", "facts", "reason"),
    [
        (
            "min_visits",
            {"count": 6, "types": ["observation"]},
            dataclasses.replace(EMPTY, visits_by_type={"observation": 2, "coaching": 7}),
            "needs at least 6 observation visits (has 2)",
        ),
        (
            "min_visits",
            {"count": 10},
            dataclasses.replace(EMPTY, visits_by_type={"observation": 2, "coaching": 7}),
            "needs at least 10 visits (has 9)",
        ),
        (
            "min_months_of_support",
            {"months": 6},
            dataclasses.replace(EMPTY, months_of_support=4.5),
            "needs at least 6 months of support (has 4.5)",
        ),
        (
            "has_recommendation",
            {},
            EMPTY,
            "the consulting teacher has not made a recommendation yet",
        ),
        ("principal_consulted", {}, EMPTY, "the principal has not been consulted yet"),
        (
            "evidence_tagged_to_all_standards",
            {"standards": ["planning", "teaching_all_students"]},
            dataclasses.replace(EMPTY, tagged_standards=frozenset({"planning"})),
            "no evidence tagged yet to: teaching all students",
        ),
        ("committee_consensus", {}, EMPTY, "the committee has not reached consensus"),
        ("panel_decided", {}, EMPTY, "the panel has not decided yet"),
        (
            "before_deadline",
            {"deadline": "report_due"},
            EMPTY,
            "the report due deadline is not scheduled for this case",
        ),
        (
            "before_deadline",
            {"deadline": "report_due"},
            dataclasses.replace(EMPTY, deadlines={"report_due": date(2024, 3, 1)}),
            "the report due deadline passed on 2024-03-01",
        ),
        ("has_outcome", {}, EMPTY, "no outcome has been chosen"),
        (
            "eligible",
            {},
            dataclasses.replace(EMPTY, eligibility_failures=("needs permanent status",)),
            "not eligible: needs permanent status",
        ),
        ("ct_assigned", {}, EMPTY, "no consulting teacher is assigned yet"),
    ],
)
def test_guard_explains_a_failure(name, params, facts, reason):
    assert run_guard(name, facts, params) == reason


@pytest.mark.parametrize(
    ("name", "params", "facts"),
    [
        ("min_visits", {"count": 2}, dataclasses.replace(EMPTY, visits_by_type={"coaching": 2})),
        ("min_months_of_support", {"months": 6}, dataclasses.replace(EMPTY, months_of_support=6)),
        ("has_recommendation", {}, dataclasses.replace(EMPTY, has_recommendation=True)),
        ("principal_consulted", {}, dataclasses.replace(EMPTY, principal_consulted=True)),
        (
            "evidence_tagged_to_all_standards",
            {"standards": ["planning"]},
            dataclasses.replace(EMPTY, tagged_standards=frozenset({"planning", "other"})),
        ),
        ("committee_consensus", {}, dataclasses.replace(EMPTY, committee_consensus=True)),
        ("panel_decided", {}, dataclasses.replace(EMPTY, panel_decided=True)),
        (
            "before_deadline",
            {"deadline": "due"},
            dataclasses.replace(EMPTY, deadlines={"due": TODAY}),
        ),
        ("has_outcome", {}, dataclasses.replace(EMPTY, payload={"outcome": "resigned"})),
        ("has_outcome", {}, dataclasses.replace(EMPTY, outcome="resigned")),
        ("eligible", {}, EMPTY),
        ("ct_assigned", {}, dataclasses.replace(EMPTY, ct_assigned=True)),
    ],
)
def test_guard_passes_when_satisfied(name, params, facts):
    assert run_guard(name, facts, params) is None


def test_the_vocabulary_is_closed_and_documented():
    assert set(GUARDS) == {
        "min_visits",
        "min_months_of_support",
        "has_recommendation",
        "principal_consulted",
        "evidence_tagged_to_all_standards",
        "committee_consensus",
        "panel_decided",
        "before_deadline",
        "has_outcome",
        "eligible",
        "ct_assigned",
        "unsatisfactory_status_reports",
    }
    for entry in GUARDS.values():
        assert entry.doc.endswith(".")


def test_omitted_standards_mean_every_standard(config):
    end_support = config.tracks["par"].transition("support", "end_support")
    tagged = next(g for g in end_support.guards if g.name == "evidence_tagged_to_all_standards")
    assert sorted(tagged.params["standards"]) == ["instruction", "planning"]
