"""Every model, imported here so Alembic and the tenant layer see the whole schema."""

from app.models.assignment import Assignment, AssignmentReview
from app.models.audit import AuditEvent
from app.models.base import TenantScoped
from app.models.billing import StripeEvent
from app.models.calendar_feed import CalendarFeed, CalendarRevision  # noqa: F401
from app.models.case import Case, CaseDeadline
from app.models.export import ExportJob
from app.models.import_upload import ImportUpload
from app.models.network import NetworkMembership, NetworkRelease, PrivacySpend
from app.models.oneroster import OneRosterPerson, OneRosterRoleMapping  # noqa: F401
from app.models.outbox import OutboxMessage, SentMail
from app.models.panel import (
    AgendaItem,
    Attendance,
    Ballot,
    FinalDecision,
    PanelMember,
    PanelSession,
    Recusal,
)
from app.models.response import CaseResponse
from app.models.roster import ConsultingTeacher, TrainingRecord
from app.models.sso import SsoSettings
from app.models.support import Evidence, Goal, Recommendation, Visit
from app.models.survey import SurveyInvitation, SurveyResponse, SurveyRound
from app.models.tenant import Tenant
from app.models.user import ApiToken, PasswordReset, PlatformUser, RoleGrant, User
from app.models.workflow import WorkflowVersion

# Modules whose tables register themselves when imported.
from app.models import appeal, signing, status_report  # noqa: F401  isort: skip

__all__ = [
    "AgendaItem",
    "ApiToken",
    "Assignment",
    "AssignmentReview",
    "Attendance",
    "AuditEvent",
    "Ballot",
    "Case",
    "CaseDeadline",
    "CaseResponse",
    "ConsultingTeacher",
    "Evidence",
    "ExportJob",
    "FinalDecision",
    "Goal",
    "ImportUpload",
    "NetworkMembership",
    "NetworkRelease",
    "OutboxMessage",
    "PanelMember",
    "PanelSession",
    "PasswordReset",
    "PlatformUser",
    "PrivacySpend",
    "Recommendation",
    "Recusal",
    "RoleGrant",
    "SentMail",
    "SsoSettings",
    "StripeEvent",
    "SurveyInvitation",
    "SurveyResponse",
    "SurveyRound",
    "Tenant",
    "TenantScoped",
    "TrainingRecord",
    "User",
    "Visit",
    "WorkflowVersion",
]
