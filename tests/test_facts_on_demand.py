"""The case's facts are read only when a guard of a step the reader may take reads them.

The engine is given ``FactsOnDemand``: a reader whose steps have no guards costs no
query, a fact several guards read costs one, and a guarded step still refuses on the
facts as they are at the moment of acting (never an answer from before a write).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import cases, support
from app.tenants.context import tenant_scope
from app.workflows import ActorFacts, CaseFacts, available_actions, evaluate, validate
from app.workflows.facts import FACT_NAMES, FactsOnDemand
from app.workflows.presets import load_preset, preset_keys
from app.workflows.vocabulary import RELATIONS, ROLES
from tests.casework import to_support

TODAY = date.today()
COMPLETE = {"duration_minutes": 45, "notes": "Watched the reading block."}


# The engine, without a database ---------------------------------------------------------


def _counting(facts: CaseFacts) -> tuple[FactsOnDemand, list[str]]:
    """``facts`` on demand, every fact but ``today`` loaded, each load written down."""
    asked: list[str] = []
    values = {f.name: getattr(facts, f.name) for f in dataclasses.fields(facts)}

    def loader(name: str):
        def load():
            asked.append(name)
            return values[name]

        return load

    loaders = {name: loader(name) for name in FACT_NAMES - {"today"}}
    return FactsOnDemand({"today": facts.today}, loaders), asked


def _unmet(today: date) -> CaseFacts:
    """Facts under which most guards refuse, so the reasons are worth comparing."""
    return CaseFacts(today=today, visits_by_type={"observation": 2}, months_of_support=1.5)


def _everyone(config) -> list[ActorFacts]:
    names = sorted({a for t in config.tracks.values() for tr in t.transitions for a in tr.actors})
    return [
        ActorFacts(
            roles=frozenset({n}) & frozenset(ROLES), relations=frozenset({n}) & frozenset(RELATIONS)
        )
        for n in names
    ]


@pytest.mark.parametrize("preset", preset_keys())
def test_facts_on_demand_offer_the_same_actions_and_read_only_the_admitted_guards(preset):
    config = validate(load_preset(preset)).config
    eager = _unmet(TODAY)
    for track in config.tracks.values():
        for state in track.states:
            for actor in _everyone(config):
                lazy, asked = _counting(eager)
                options = available_actions(config, track.key, state, actor, lazy)
                assert options == available_actions(config, track.key, state, actor, eager)
                admitted = [t for t in track.transitions_from(state) if t.actors & actor.standing()]
                if not any(t.guards for t in admitted):
                    assert asked == [], (preset, track.key, state, actor)
                assert len(asked) == len(set(asked)), f"a fact was loaded twice: {asked}"


@pytest.mark.parametrize("preset", preset_keys())
def test_an_evaluation_on_demand_gives_the_same_answer(preset):
    config = validate(load_preset(preset)).config
    eager = _unmet(TODAY)
    for track in config.tracks.values():
        for transition in track.transitions:
            actor = ActorFacts(roles=transition.actors, relations=transition.actors)
            for state in [s for s in track.states if track.transition(s, transition.key)]:
                lazy, _ = _counting(eager)
                lazy_answer = evaluate(config, track.key, state, transition.key, actor, lazy)
                eager_answer = evaluate(config, track.key, state, transition.key, actor, eager)
                assert lazy_answer == eager_answer


def test_two_guards_reading_one_fact_load_it_once():
    config = validate(load_preset("toledo")).config
    lazy, asked = _counting(_unmet(TODAY))
    ct = ActorFacts(relations=frozenset({"assigned_ct"}))
    for _ in range(2):
        options = available_actions(config, "intervention", "support", ct, lazy)
    assert [o.key for o in options if not o.enabled] == ["end_support"]
    assert asked == ["visits_by_type"]


def test_a_fact_nobody_can_know_is_an_error_not_a_default():
    facts = FactsOnDemand({"today": TODAY})
    with pytest.raises(LookupError, match="visits_by_type"):
        _ = facts.visits_by_type
    with pytest.raises(TypeError, match="not case facts: mood"):
        FactsOnDemand({"today": TODAY, "mood": "good"})
    with pytest.raises(AttributeError):
        _ = facts.mood


# The service, against the database -------------------------------------------------------


def _loaded(case_id: int, *people: int) -> tuple[Case, list[User]]:
    """The case as its page loads it (version, deadlines) and the people, roles read."""
    case = db.session.get(Case, case_id)
    _ = case.workflow_version.document, case.deadlines
    users = [db.session.get(User, uid) for uid in people]
    for user in users:
        _ = user.roles
    return case, users


def test_readers_whose_steps_have_no_guard_cause_no_fact_query(app, toledo, count_queries):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory", with_principal=False)
    people = toledo.people
    with app.app_context(), tenant_scope(toledo.tenant.id):
        case, (coordinator, teacher) = _loaded(
            case_id, people["coordinator"].id, people["teacher"].id
        )
        with count_queries() as counted:
            offered = {
                who: [o.key for o in cases.options(case, user)]
                for who, user in (("coordinator", coordinator), ("teacher", teacher))
            }
        assert offered == {"coordinator": ["leave"], "teacher": []}
        assert counted == []


def test_a_guarded_step_reads_only_its_own_fact(app, toledo, count_queries):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory", with_principal=False)
    with app.app_context(), tenant_scope(toledo.tenant.id):
        case, (ct,) = _loaded(case_id, toledo.people["ct"].id)
        with count_queries() as counted:
            (option,) = cases.options(case, ct)
        assert (option.key, option.enabled) == ("end_support", False)
        assert option.reasons == ("needs at least 8 observation visits (has 0)",)
        assert len(counted) == 1 and "FROM visits" in counted[0], counted


def test_facts_read_by_several_guards_share_one_query(app, toledo, count_queries):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory", with_principal=False)
    with app.app_context(), tenant_scope(toledo.tenant.id):
        case, _ = _loaded(case_id)
        facts = cases.case_facts(case)
        with count_queries() as counted:
            read = (
                facts.visits_by_type,
                facts.principal_consulted,
                facts.tagged_standards,
                facts.principal_consulted,
                facts.visits_by_type,
            )
        assert read == ({}, False, frozenset(), False, {})
        tables = sorted(re.search(r"\bFROM (\w+)", s).group(1) for s in counted)
        assert tables == ["evidence", "visits"]


def test_a_guarded_step_refuses_then_passes_on_the_facts_of_the_moment(app, toledo):
    """Within one transaction: refused with the count of the moment, then, after visits are
    written, offered and taken (no answer is kept from before the write)."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory", with_principal=False)
    with app.app_context(), tenant_scope(toledo.tenant.id):
        case, (ct,) = _loaded(case_id, toledo.people["ct"].id)
        for _ in range(7):
            support.log_visit(case, ct, support.VisitInput("observation", TODAY, **COMPLETE))
        (option,) = cases.options(case, ct)
        assert option.reasons == ("needs at least 8 observation visits (has 7)",)
        with pytest.raises(cases.TransitionRefused) as refused:
            cases.apply(case, "end_support", ct)
        assert refused.value.errors == {"action": ["needs at least 8 observation visits (has 7)"]}
        # A visit dated in the future does not count, whenever it is read.
        support.log_visit(
            case,
            ct,
            support.VisitInput("observation", TODAY + timedelta(days=3), planned=True),
        )
        with pytest.raises(cases.TransitionRefused):
            cases.apply(case, "end_support", ct)
        support.log_visit(case, ct, support.VisitInput("observation", TODAY, **COMPLETE))
        (option,) = cases.options(case, ct)
        assert option.enabled
        assert cases.apply(case, "end_support", ct).to_state == "recommendation"
        db.session.rollback()


def test_facts_counted_from_rows_given_match_their_own_read_and_send_nothing(
    app, toledo, count_queries
):
    """The case page hands the guards the visits and evidence its sections read: the facts
    from those rows are the facts from their own read, and cost no statement."""
    from app.services.case_page import _EVIDENCE, _VISITS

    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    with app.app_context(), tenant_scope(toledo.tenant.id):
        case, (ct,) = _loaded(case_id, toledo.people["ct"].id)
        support.log_visit(case, ct, support.VisitInput("observation", TODAY, **COMPLETE))
        support.log_visit(
            case,
            ct,
            support.VisitInput("observation", TODAY, principal_present=True, **COMPLETE),
        )
        support.add_evidence(case, ct, "Walkthrough notes", [], None)
        visits = db.session.execute(_VISITS, {"case_id": case.id}).all()
        evidence = db.session.execute(_EVIDENCE, {"case_id": case.id}).all()
        own = cases.case_facts(case)
        given = cases.case_facts(
            case, reads=cases.SharedReads(visits=lambda: visits, evidence=lambda: evidence)
        )
        names = ("visits_by_type", "principal_consulted", "tagged_standards")
        with count_queries() as counted:
            from_rows = [getattr(given, name) for name in names]
        assert counted == []
        assert from_rows == [getattr(own, name) for name in names]
        assert from_rows == [{"observation": 2}, True, frozenset()]
        assert len(evidence) == 1
        db.session.rollback()
