"""Turn a schema-loaded, semantically valid document into frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from app.workflows.effects import EFFECTS
from app.workflows.guards import GUARDS
from app.workflows.meanings import resolve
from app.workflows.model import (
    AppealRules,
    Caseload,
    Deadline,
    EffectRef,
    Eligibility,
    FinalAuthority,
    GuardRef,
    Notification,
    Outcome,
    ProgramConfig,
    ProgramInfo,
    RatingLevel,
    ReportGroup,
    ReportPoint,
    ReportRules,
    Standard,
    State,
    Statement,
    StatusReportRules,
    Survey,
    Track,
    Transition,
    VisitType,
)
from app.workflows.panel import Constituency, DecisionRule, PanelRules
from app.workflows.registry import DocumentIndex, Entry
from app.workflows.vocabulary import DEFAULT_REQUIRED_TO_COUNT


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _params(entry: Entry[Any], raw: Mapping[str, Any], index: DocumentIndex) -> Mapping:
    params = entry.load_params(raw)
    if entry.complete is not None:
        params = entry.complete(params, index)
    return _frozen(params)


def _transition(raw: Mapping[str, Any], index: DocumentIndex) -> Transition:
    guards = tuple(
        GuardRef(g["name"], _params(GUARDS[g["name"]], g["params"], index)) for g in raw["guards"]
    )
    effects = tuple(
        EffectRef(e["name"], _params(EFFECTS[e["name"]], e["params"], index))
        for e in raw["effects"]
    )
    return Transition(
        key=raw["key"],
        label=raw["label"],
        sources=tuple(raw["from_"]),
        to=raw["to"],
        actors=frozenset(raw["actors"]),
        guards=guards,
        effects=effects,
    )


def _track(key: str, raw: Mapping[str, Any], index: DocumentIndex) -> Track:
    rules = raw["eligibility"]
    latest = rules.get("latest_ratings")
    transitions = tuple(_transition(t, index) for t in raw["transitions"])
    return Track(
        key=key,
        kind=raw["kind"],
        name=raw["name"],
        description=raw["description"],
        eligibility=Eligibility(
            latest_ratings=frozenset(latest) if latest is not None else None,
            min_years_of_service=rules.get("min_years_of_service"),
            requires_permanent_status=rules.get("requires_permanent_status", False),
        ),
        ct_evaluates=raw["ct_evaluates"],
        principal_secondary_evaluator=raw["principal_secondary_evaluator"],
        shared_with_principal=frozenset(raw["shared_with_principal"]),
        shared_with_teacher=frozenset(raw["shared_with_teacher"]),
        initial_state=raw["initial_state"],
        states=_frozen({k: State(k, **s) for k, s in raw["states"].items()}),
        transitions=transitions,
        ballot_options=tuple(raw["ballot_options"]),
        caseload_weight=raw["caseload_weight"],
        response_window_days=raw.get("response_window_days"),
        acknowledged_by=frozenset(raw["acknowledged_by"]) | {"case_teacher"},
        appeal=_appeal(raw.get("appeal")),
        status_reports=_status_reports(raw.get("status_reports")),
        # Derived once here, so every service reads the same answer for every case.
        steps=_frozen(resolve(raw["steps"], transitions, raw["initial_state"])),
    )


def _rule(rule: Mapping[str, Any]) -> DecisionRule:
    return DecisionRule(
        kind=rule["kind"],
        of=rule["of"],
        at_least=rule.get("at_least"),
        fraction=rule.get("fraction"),
    )


def _appeal(raw: Mapping[str, Any] | None) -> AppealRules | None:
    if raw is None:
        return None
    rule = raw.get("decision_rule")
    return AppealRules(
        window_working_days=raw["window_working_days"],
        body=raw["body"],
        granted_outcome=raw["granted_outcome"],
        decision_rule=_rule(rule) if rule is not None else None,
    )


def _status_reports(raw: Mapping[str, Any] | None) -> StatusReportRules | None:
    if raw is None:
        return None
    points = tuple(
        ReportPoint(p["label"], tuple(int(part) for part in p["on"].split("-")))
        for p in raw.get("at") or ()
    )
    return StatusReportRules(
        every_weeks=raw.get("every_weeks"),
        at=points,
        before_each_session=raw["before_each_session"],
        remind_days_before=raw["remind_days_before"],
    )


def _panel(raw: Mapping[str, Any] | None) -> PanelRules | None:
    if raw is None:
        return None
    rule = raw["decision_rule"]
    return PanelRules(
        constituencies=_frozen(
            {k: Constituency(k, c["label"], c["seats"]) for k, c in raw["constituencies"].items()}
        ),
        chair=raw["chair"],
        quorum=raw["quorum"],
        decision_rule=_rule(rule),
        tie_rule=raw["tie_rule"],
        recusal=frozenset(raw["recusal"]),
        sealed_ballots=raw["sealed_ballots"],
        invite_teacher=raw["invite_teacher"],
        invite_principal=raw["invite_principal"],
        per_constituency_minimum=raw.get("per_constituency_minimum"),
    )


def _survey(raw: Mapping[str, Any]) -> Survey:
    return Survey(
        key=raw["key"],
        title=raw["title"],
        scale=tuple(raw["scale"]),
        statements=tuple(Statement(s["key"], s["text"]) for s in raw["statements"]),
        comment_question=raw.get("comment_question"),
    )


def _visit_type(key: str, raw: Mapping[str, Any]) -> VisitType:
    logged = tuple(raw["log_fields"])
    required = raw.get("required_to_count")
    if required is None:
        # A type that never asks for a field cannot demand it: the default keeps to its log.
        required = [name for name in DEFAULT_REQUIRED_TO_COUNT if name in logged]
    return VisitType(key, raw["label"], logged, tuple(dict.fromkeys(required)))


def build_config(loaded: Mapping[str, Any], index: DocumentIndex) -> ProgramConfig:
    """Build the frozen configuration; ``loaded`` is the schema's output."""
    program = loaded["program"]
    authority = loaded.get("final_authority")
    month, day = (int(part) for part in loaded["school_year_start"].split("-"))
    return ProgramConfig(
        schema_version=loaded["schema_version"],
        program=ProgramInfo(program["name"], program["short_name"], _frozen(program["wording"])),
        rating_scale=tuple(RatingLevel(**level) for level in loaded["rating_scale"]),
        standards=tuple(Standard(**s) for s in loaded["standards"]),
        tracks=_frozen({k: _track(k, t, index) for k, t in loaded["tracks"].items()}),
        visit_types=_frozen({k: _visit_type(k, t) for k, t in loaded["visit_types"].items()}),
        outcomes=_frozen(
            {k: Outcome(k, o["label"], o["group"]) for k, o in loaded["outcomes"].items()}
        ),
        report_groups=_frozen(
            {
                k: ReportGroup(k, g["label"], g.get("network_group", "other"))
                for k, g in loaded["report_groups"].items()
            }
        ),
        surveys=tuple(_survey(s) for s in loaded["surveys"]),
        notifications=tuple(
            Notification(n["on"], frozenset(n["to"]), n["template"])
            for n in loaded["notifications"]
        ),
        deadlines=_frozen({d["key"]: Deadline(**d) for d in loaded["deadlines"]}),
        school_year_start=(month, day),
        caseload=Caseload(**loaded["caseload"]),
        report=ReportRules(**loaded["report"]),
        panel=_panel(loaded.get("panel")),
        final_authority=FinalAuthority(**authority) if authority else None,
    )
