"""Carrying out the engine's effect commands on a case, in the same transaction.

Each command is data planned by the engine; this module is the only place that
turns them into rows (deadlines, outcome, ratings) and outbox messages.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core import outbox
from app.models.base import utcnow
from app.models.case import Case, CaseDeadline
from app.workflows import (
    AssignReportGroup,
    CancelDeadline,
    CloseWithOutcome,
    Command,
    Notify,
    OpenPanelReview,
    ProgramConfig,
    RecordRating,
    ScheduleDeadline,
    SendSurvey,
)


def execute(case: Case, config: ProgramConfig, commands: Iterable[Command]) -> list[str]:
    """Apply each command; returns a short description of each, for the audit event."""
    return [_execute(case, command) for command in commands]


def _execute(case: Case, command: Command) -> str:
    if isinstance(command, Notify):
        outbox.case_notice(case.id, case.tenant_id, command.template, command.to)
        return f"notify {','.join(sorted(command.to))}: {command.template}"
    if isinstance(command, ScheduleDeadline):
        existing = next((d for d in case.deadlines if d.key == command.key), None)
        if existing is None:
            case.deadlines.append(
                CaseDeadline(
                    tenant_id=case.tenant_id,
                    key=command.key,
                    due_on=command.due_on,
                    moved_from=command.moved_from,
                )
            )
        elif existing.due_on != command.due_on:
            existing.due_on, existing.reminded_at = command.due_on, None
            existing.moved_from = command.moved_from
        moved = f" (moved from {command.moved_from.isoformat()})" if command.moved_from else ""
        return f"deadline {command.key} on {command.due_on.isoformat()}{moved}"
    if isinstance(command, CancelDeadline):
        case.deadlines = [d for d in case.deadlines if d.key != command.key]
        return f"deadline {command.key} cancelled"
    if isinstance(command, OpenPanelReview):
        case.panel_review_open = True
        return "panel review opened"
    if isinstance(command, CloseWithOutcome):
        case.outcome, case.report_group, case.closed_at = command.outcome, command.group, utcnow()
        case.ended_on = case.closed_at.date()
        return f"closed: {command.outcome}"
    if isinstance(command, AssignReportGroup):
        case.report_group = command.group
        return f"report group {command.group}"
    if isinstance(command, RecordRating):
        _record_rating(case, command)
        return f"rating {command.rating} ({command.source})"
    if isinstance(command, SendSurvey):
        outbox.case_notice(case.id, case.tenant_id, f"survey_{command.survey}", ["case_teacher"])
        return f"survey {command.survey} sent"
    raise TypeError(f"no handler for effect {type(command).__name__}")


_RATING_COLUMNS = {
    "ct_recommendation": "recommended_rating",
    "panel": "panel_rating",
    "final_authority": "final_rating",
}


def _record_rating(case: Case, command: RecordRating) -> None:
    setattr(case, _RATING_COLUMNS[command.source], command.rating)
