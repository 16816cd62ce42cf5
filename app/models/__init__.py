"""Every model, imported here so Alembic and the tenant layer see the whole schema."""

from app.models.audit import AuditEvent
from app.models.base import TenantScoped
from app.models.case import Case, CaseDeadline
from app.models.outbox import OutboxMessage, SentMail
from app.models.tenant import Tenant
from app.models.user import ApiToken, PlatformUser, RoleGrant, User
from app.models.workflow import WorkflowVersion

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Case",
    "CaseDeadline",
    "OutboxMessage",
    "PlatformUser",
    "RoleGrant",
    "SentMail",
    "Tenant",
    "TenantScoped",
    "User",
    "WorkflowVersion",
]
