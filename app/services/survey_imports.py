"""Survey answers a district collected before Parley (e.g. on paper), imported into a round.

All or nothing, keyed by ``response_id`` so a re-import updates. Columns: response_id,
submitted_on, one per statement key of the survey (a value of its scale, or empty),
comment. The file is read like every import (``app.services.csv_input``); as with
history files, ``plan_survey_responses`` checks and ``write_survey_responses`` writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TextIO

from sqlalchemy import select

from app.extensions import db
from app.models.survey import SurveyResponse, SurveyRound
from app.services import audit, csv_input
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.imports import PREVIEW_ROWS, ImportResult, Preview, parse_date
from app.tenants.context import require_tenant_id


@dataclass(frozen=True)
class ResponseRow:
    line: int
    external_id: str
    submitted_on: date
    answers: dict[str, str]  # statement key -> scale key; unanswered statements left out
    comment: str | None


@dataclass(frozen=True)
class ResponsePlan:
    """A checked answers file and the round it goes into."""

    round: SurveyRound
    rows: list[ResponseRow]
    existing: dict[str, SurveyResponse]  # by response_id

    def preview(self) -> Preview:
        created = {r.external_id for r in self.rows if r.external_id not in self.existing}
        first = tuple(self.rows[:PREVIEW_ROWS])
        return Preview(
            kind="survey_responses",
            total=len(self.rows),
            created=len(created),
            updated=len(self.rows) - len(created),
            new_people=0,
            first=first,
            new_ids=frozenset(r.external_id for r in first if r.external_id in created),
        )


def survey_columns(statements: list[str]) -> tuple[str, ...]:
    """The columns of an answers file for a survey with these statement keys."""
    return ("response_id", "submitted_on", *statements, "comment")


def plan_survey_responses(survey_key: str, year: str, sent: int, stream: TextIO) -> ResponsePlan:
    """Check answers a district collected before Parley (e.g. on paper) against the round
    they go into; raises with every error at once. The round is added (flushed) when the
    year has none yet: a preview runs this in a savepoint it rolls back."""
    from app.services import surveys

    row = surveys.imported_round(survey_key, year, sent)
    surveys.ensure_not_linked(row)
    statements = [k for k, _ in row.statements]
    table = csv_input.read(
        stream,
        survey_columns(statements),
        {"response_id": SurveyResponse.external_id, "comment": SurveyResponse.comment},
    )
    errors = dict(table.errors)
    parsed, seen = [], {}
    for entry in table.rows:
        number, raw = entry.line, {k: v.strip() for k, v in entry.values.items()}
        on, problem = parse_date(raw["submitted_on"], True)
        if problem:
            errors[f"rows[{number}].submitted_on"] = [problem]
        if not raw["response_id"]:
            errors[f"rows[{number}].response_id"] = ["is required"]
        elif raw["response_id"] in seen:
            errors[f"rows[{number}].response_id"] = [
                f"'{raw['response_id']}' is also on line {seen[raw['response_id']]}"
            ]
        seen.setdefault(raw["response_id"], number)
        for key in statements:
            if raw[key] and raw[key] not in row.scale:
                errors[f"rows[{number}].{key}"] = [
                    f"'{raw[key]}' is not on the scale ({', '.join(row.scale)})"
                ]
        answers = {k: raw[k] for k in statements if raw[k]}
        parsed.append(ResponseRow(number, raw["response_id"], on, answers, raw["comment"] or None))
    if errors:
        raise ValidationFailed(errors)
    if not parsed:
        raise ValidationFailed({"file": ["The file has no rows."]})
    if len(parsed) > sent:
        raise ValidationFailed({"sent": [f"{len(parsed)} answers but only {sent} sent."]})
    existing = {
        r.external_id: r
        for r in db.session.execute(
            select(SurveyResponse).where(SurveyResponse.round_id == row.id)
        ).scalars()
    }
    return ResponsePlan(row, parsed, existing)


def preview_survey_responses(survey_key: str, year: str, sent: int, stream: TextIO) -> Preview:
    """What importing these answers would write, without writing it (not even the round)."""
    savepoint = db.session.begin_nested()
    try:
        return plan_survey_responses(survey_key, year, sent, stream).preview()
    finally:
        savepoint.rollback()


def write_survey_responses(
    plan: ResponsePlan, actor: Actor, source: dict | None = None
) -> ImportResult:
    """Write checked answers, keyed by ``response_id`` so a re-import updates (flushes; the
    caller commits once); ``source`` as for :func:`write_cases`."""
    tenant_id = require_tenant_id()
    created = 0
    for row in plan.rows:
        response = plan.existing.get(row.external_id)
        if response is None:
            response = SurveyResponse(
                tenant_id=tenant_id, round_id=plan.round.id, external_id=row.external_id
            )
            db.session.add(response)
            created += 1
        response.submitted_on = row.submitted_on
        response.answers = dict(row.answers)
        response.comment = row.comment
    db.session.flush()
    audit.record(
        tenant_id,
        "import.survey_responses",
        "survey_round",
        plan.round.id,
        after={
            "rows": len(plan.rows),
            "created": created,
            "sent": plan.round.sent,
            **(source or {}),
        },
        actor=actor,
    )
    return ImportResult(created, len(plan.rows) - created)


def import_survey_responses(
    survey_key: str, year: str, sent: int, stream: TextIO, actor: Actor
) -> ImportResult:
    """Check and write answers at once (the command line and the API): all or nothing.
    Columns: response_id, submitted_on, one per statement key (a scale key, or empty),
    comment."""
    return write_survey_responses(plan_survey_responses(survey_key, year, sent, stream), actor)
