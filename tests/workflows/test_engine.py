"""The engine decides actions from configuration and facts alone."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from app.workflows import (
    ActorFacts,
    CloseWithOutcome,
    Notify,
    OpenPanelReview,
    RecordRating,
    ScheduleDeadline,
    WorkflowError,
    available_actions,
    evaluate,
    validate,
)
from app.workflows.effects import (
    AssignReportGroup,
    CancelDeadline,
    EffectContext,
    SendSurvey,
    plan_effect,
)

from .helpers import TODAY, satisfied_facts

COORDINATOR = ActorFacts(roles=frozenset({"coordinator"}))
CT = ActorFacts(roles=frozenset({"consulting_teacher"}), relations=frozenset({"assigned_ct"}))
OTHER_CT = ActorFacts(roles=frozenset({"consulting_teacher"}))
SUPERINTENDENT = ActorFacts(roles=frozenset({"final_authority"}))


def test_allowed_action_moves_and_plans_effects(config):
    result = evaluate(config, "par", "request", "accept", COORDINATOR, satisfied_facts(config))
    assert result.allowed
    assert result.to_state == "support"
    assert result.failures == ()
    # 2023-24 school year from 09-01 ends 2024-08-31; the deadline is 30 days before
    assert result.effects == (ScheduleDeadline("recommendation_due", date(2024, 8, 1)),)


def test_every_refusal_is_listed(config):
    facts = dataclasses.replace(
        satisfied_facts(config),
        visits_by_type={"observation": 2, "coaching": 9},
        tagged_standards=frozenset({"planning"}),
    )
    result = evaluate(config, "par", "support", "end_support", OTHER_CT, facts)
    assert not result.allowed
    assert result.effects == ()
    assert result.failures == (
        "'End support' is for the case's consulting teacher",
        "needs at least 6 observation visits (has 2)",
        "no evidence tagged yet to: instruction",
    )


def test_any_one_listed_role_or_relation_suffices(config):
    facts = satisfied_facts(config)
    teacher = ActorFacts(roles=frozenset({"teacher"}), relations=frozenset({"case_teacher"}))
    for actor in (teacher, COORDINATOR):
        assert evaluate(config, "par", "support", "withdraw", actor, facts).allowed


def test_role_without_relation_is_refused(config):
    someone_else = ActorFacts(roles=frozenset({"teacher"}))
    result = evaluate(config, "par", "support", "withdraw", someone_else, satisfied_facts(config))
    assert result.failures == ("'Withdraw' is for the teacher the case is about or a coordinator",)


def test_action_not_available_from_the_state(config):
    result = evaluate(config, "par", "request", "approve", SUPERINTENDENT, satisfied_facts(config))
    assert not result.allowed
    assert result.to_state is None
    assert result.failures == (
        "'approve' is not an action from 'request' (available: accept, withdraw)",
    )


def test_unknown_track_or_state_is_a_caller_error(config):
    facts = satisfied_facts(config)
    with pytest.raises(WorkflowError, match="unknown track 'pa'"):
        evaluate(config, "pa", "request", "accept", COORDINATOR, facts)
    with pytest.raises(WorkflowError, match="track 'par' has no state 'limbo'"):
        available_actions(config, "par", "limbo", COORDINATOR, facts)


def test_recommendation_records_the_rating_and_opens_the_panel(config):
    facts = satisfied_facts(config, {"rating": "needs_improvement"})
    result = evaluate(config, "par", "recommendation", "recommend", CT, facts)
    assert result.effects == (
        RecordRating("needs_improvement", "ct_recommendation", meets_standard=False),
        OpenPanelReview(("proficient", "needs_improvement", "unsatisfactory")),
    )


def test_closing_needs_an_outcome_among_the_choices(config):
    missing = evaluate(
        config, "par", "panel_review", "approve", SUPERINTENDENT, satisfied_facts(config)
    )
    assert missing.failures == ("choose an outcome: Met standards, Resigned",)
    wrong = evaluate(
        config,
        "par",
        "panel_review",
        "approve",
        SUPERINTENDENT,
        satisfied_facts(config, {"outcome": "promoted"}),
    )
    assert wrong.failures == (
        "that is not an outcome of this step (choose Met standards, Resigned)",
    )


def test_closing_plans_the_outcome_its_group_and_notifications(config):
    facts = satisfied_facts(config, {"outcome": "resigned"})
    result = evaluate(config, "par", "panel_review", "approve", SUPERINTENDENT, facts)
    assert result.allowed
    assert result.effects == (
        CloseWithOutcome("resigned", "other"),
        Notify(frozenset({"case_teacher"}), "case_closed"),
    )


def test_available_actions_show_only_what_the_actor_may_take(config):
    facts = dataclasses.replace(satisfied_facts(config), ct_assigned=False)
    options = available_actions(config, "par", "request", COORDINATOR, facts)
    assert [(o.key, o.enabled, o.reasons) for o in options] == [
        ("accept", False, ("no consulting teacher is assigned yet",)),
        ("withdraw", True, ()),
    ]
    assert available_actions(config, "par", "request", SUPERINTENDENT, facts) == []


def test_available_actions_offer_choices_for_the_form(config):
    (option,) = available_actions(
        config, "par", "panel_review", SUPERINTENDENT, satisfied_facts(config)
    )
    assert dict(option.choices) == {"outcome": ("met_standards", "resigned")}
    (recommend,) = available_actions(config, "par", "recommendation", CT, satisfied_facts(config))
    assert dict(recommend.choices) == {
        "rating": ("proficient", "needs_improvement", "unsatisfactory")
    }


def test_deadline_from_enrollment_needs_an_enrollment_date(document):
    document["deadlines"][0].update(relative_to="enrolled_on", days=60)
    config = validate(document).config
    facts = dataclasses.replace(satisfied_facts(config), enrolled_on=None)
    result = evaluate(config, "par", "request", "accept", COORDINATOR, facts)
    assert result.failures == ("the case has no enrollment date to count from",)
    dated = dataclasses.replace(facts, enrolled_on=date(2024, 2, 10))
    result = evaluate(config, "par", "request", "accept", COORDINATOR, dated)
    assert result.effects == (ScheduleDeadline("recommendation_due", date(2024, 4, 10)),)


def test_school_year_wraps_around_its_start(config):
    assert config.school_year(date(2024, 9, 1)) == (date(2024, 9, 1), date(2025, 8, 31))
    assert config.school_year(date(2024, 8, 31)) == (date(2023, 9, 1), date(2024, 8, 31))
    assert config.school_year(TODAY) == (date(2023, 9, 1), date(2024, 8, 31))


def test_the_engine_never_changes_its_inputs(config):
    facts = satisfied_facts(config, {"outcome": "resigned"})
    before = (dataclasses.asdict(facts), config)
    evaluate(config, "par", "panel_review", "approve", SUPERINTENDENT, facts)
    assert (dataclasses.asdict(facts), config) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.tracks["par"].initial_state = "support"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.tracks["other"] = config.tracks["par"]  # type: ignore[index]


def test_simple_effects_plan_their_commands(config):
    ctx = EffectContext(config, config.tracks["par"], satisfied_facts(config))
    assert plan_effect("assign_report_group", {"group": "other"}, ctx) == AssignReportGroup("other")
    assert plan_effect("cancel_deadline", {"deadline": "x"}, ctx) == CancelDeadline("x")
    assert plan_effect("send_survey", {"survey": "participant"}, ctx) == SendSurvey("participant")
    fixed = plan_effect("record_rating", {"source": "panel", "rating": "proficient"}, ctx)
    assert fixed == RecordRating("proficient", "panel", meets_standard=True)
