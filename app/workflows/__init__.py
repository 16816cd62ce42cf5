"""The workflow configuration layer: documents, validation, presets and the engine.

Pure Python: nothing here imports Flask or SQLAlchemy, so the service layer,
the CLI and the tests all use it the same way.
"""

from app.workflows.diff import Change, describe_change, diff
from app.workflows.effects import (
    AssignReportGroup,
    CancelDeadline,
    CloseWithOutcome,
    Command,
    Notify,
    OpenPanelReview,
    RecordRating,
    ScheduleDeadline,
    SendSurvey,
)
from app.workflows.engine import (
    ActionOption,
    Evaluation,
    WorkflowError,
    available_actions,
    evaluate,
)
from app.workflows.facts import ActorFacts, CaseFacts
from app.workflows.model import ProgramConfig, Track, Transition
from app.workflows.presets import load_preset, preset_keys
from app.workflows.validation import DocumentError, ValidationResult, load_document, validate

__all__ = [
    "ActionOption",
    "ActorFacts",
    "AssignReportGroup",
    "CancelDeadline",
    "CaseFacts",
    "Change",
    "CloseWithOutcome",
    "Command",
    "DocumentError",
    "Evaluation",
    "Notify",
    "OpenPanelReview",
    "ProgramConfig",
    "RecordRating",
    "ScheduleDeadline",
    "SendSurvey",
    "Track",
    "Transition",
    "ValidationResult",
    "WorkflowError",
    "available_actions",
    "describe_change",
    "diff",
    "evaluate",
    "load_document",
    "load_preset",
    "preset_keys",
    "validate",
]
