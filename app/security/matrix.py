"""The authorization matrix: every endpoint, who may call it, and whether it writes.

This table is the single place that says who may do what. ``enforce`` reads it
before every request; an endpoint missing here is refused, and a test walks
``app.url_map`` to prove every route is listed. ``writes`` marks endpoints whose
unsafe methods (POST, PUT, PATCH, DELETE) change data, so rules such as "a
lapsed tenant is read-only" apply to all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.security.roles import PROGRAM_STAFF, TENANT_ROLE_KEYS

PUBLIC = "public"
TENANT_PUBLIC = "tenant_public"
TENANT = "tenant"
PLATFORM = "platform"


@dataclass(frozen=True)
class Rule:
    audience: str
    roles: frozenset[str] = field(default_factory=frozenset)
    writes: bool = False
    #: Open to a signed-in person who holds no role yet (waiting for a program admin).
    roleless: bool = False


def _public() -> Rule:
    return Rule(PUBLIC)


def _tenant_public(*, writes: bool = False) -> Rule:
    return Rule(TENANT_PUBLIC, writes=writes)


def _tenant(*roles: str, writes: bool = False) -> Rule:
    return Rule(TENANT, frozenset(roles) or TENANT_ROLE_KEYS, writes)


def _platform(*roles: str, writes: bool = False) -> Rule:
    return Rule(PLATFORM, frozenset(roles), writes)


def _signed_in() -> Rule:
    """Any signed-in person of the district, even one who holds no role yet."""
    return Rule(TENANT, TENANT_ROLE_KEYS, roleless=True)


ANY_ROLE: tuple[str, ...] = ()
ADMIN = ("program_admin",)
STAFF = tuple(sorted(PROGRAM_STAFF))

MATRIX: dict[str, Rule] = {
    # Public pages and machine endpoints.
    "static": _public(),
    "public.index": _public(),
    "public.find_district": _public(),
    "public.healthz": _public(),
    "api.openapi": _public(),
    # A tenant's own public pages: sign-in and the theme.
    "auth.login": _tenant_public(),
    "auth.theme_css": _tenant_public(),
    "auth.logo": _tenant_public(),
    "offline.worker": _tenant_public(),
    "auth.password_forgot": _tenant_public(),
    "auth.password_reset": _tenant_public(),
    "auth.sso_start": _tenant_public(),
    "auth.sso_callback": _tenant_public(),
    "auth.saml_login": _tenant_public(),
    "auth.saml_acs": _tenant_public(),
    "auth.saml_metadata": _tenant_public(),
    "api.issue_token": _tenant_public(),
    # Every signed-in tenant user, and people waiting for their first role.
    "auth.logout": _signed_in(),
    "auth.pending": _signed_in(),
    "auth.logout_everywhere": _signed_in(),
    "auth.password_change": _signed_in(),
    "languages.choose": _tenant(writes=True),
    # A person's own calendar address; the feed itself is opened by its secret, not a session.
    "feeds.account": _tenant(writes=True),
    "feeds.revoke": _tenant(writes=True),
    "feeds.feed": _tenant_public(),
    "portal.home": _tenant(*ANY_ROLE),
    "api.me": _tenant(*ANY_ROLE),
    "api.revoke_token": _tenant(*ANY_ROLE),
    # Program administration.
    "admin.users_index": _tenant(*ADMIN),
    "admin.user_new": _tenant(*ADMIN, writes=True),
    "admin.user_detail": _tenant(*ADMIN, writes=True),
    "admin.user_status": _tenant(*ADMIN, writes=True),
    "admin.user_unlock": _tenant(*ADMIN, writes=True),
    "admin.user_sessions_end": _tenant(*ADMIN, writes=True),
    "admin.sso_settings": _tenant(*ADMIN, writes=True),
    "admin.saml_settings": _tenant(*ADMIN, writes=True),
    "admin.signing": _tenant(*ADMIN),
    "admin.signing_rotate": _tenant(*ADMIN, writes=True),
    "admin.branding_page": _tenant(*ADMIN, writes=True),
    "admin.branding_logo": _tenant(*ADMIN, writes=True),
    "admin.branding_logo_remove": _tenant(*ADMIN, writes=True),
    "admin.audit": _tenant(*ADMIN),
    "admin.calendar_page": _tenant(*ADMIN, writes=True),
    "admin.calendar_remove": _tenant(*ADMIN, writes=True),
    "admin.imports": _tenant(*ADMIN, writes=True),
    "admin.imports_apply": _tenant(*ADMIN, writes=True),
    "api.users_list": _tenant(*ADMIN),
    "api.user_create": _tenant(*ADMIN, writes=True),
    "api.user_get": _tenant(*ADMIN),
    "api.user_update_roles": _tenant(*ADMIN, writes=True),
    # Cases: every role may look; what each person sees is decided per case.
    "cases.index": _tenant(*ANY_ROLE),
    "cases.show": _tenant(*ANY_ROLE),
    "cases.act": _tenant(*ANY_ROLE, writes=True),
    "cases.export_csv": _tenant(*STAFF),
    "cases.intake": _tenant("coordinator", "program_admin"),
    "cases.visit_new": _tenant("consulting_teacher", writes=True),
    "cases.visit_log": _tenant("consulting_teacher", writes=True),
    "cases.goal_new": _tenant("consulting_teacher", "teacher", "coordinator", writes=True),
    "cases.goal_progress": _tenant("consulting_teacher", writes=True),
    "cases.evidence_new": _tenant("consulting_teacher", "principal", writes=True),
    "cases.evidence_file": _tenant(*ANY_ROLE),
    "cases.decision_pdf": _tenant(*ANY_ROLE),
    "cases.respond": _tenant("teacher", writes=True),
    "cases.acknowledge": _tenant("teacher", "consulting_teacher", "principal", writes=True),
    "cases.status_report_write": _tenant("consulting_teacher", writes=True),
    "cases.appeal_file": _tenant("teacher", writes=True),
    "cases.appeal_decide": _tenant("final_authority", "coordinator", writes=True),
    "cases.appeal_vote": _tenant("panel_member", writes=True),
    "cases.appeal_close": _tenant("coordinator", writes=True),
    "cases.status_report_acknowledge": _tenant(*ANY_ROLE, writes=True),
    "cases.recommend": _tenant("consulting_teacher", writes=True),
    "cases.propose": _tenant("coordinator", writes=True),
    "cases.review": _tenant("committee_member", writes=True),
    "cases.ask": _tenant("coordinator", writes=True),
    "cases.reopen": _tenant(*ADMIN, writes=True),
    # Enrollment: the public form, and referrals by principals and union representatives.
    "enroll.form": _tenant_public(writes=True),
    # Anyone checks a document the district signed (it reads an upload; nothing is kept).
    "verify.form": _tenant_public(),
    "enroll.refer": _tenant("principal", "committee_member", "coordinator", writes=True),
    # The CT roster.
    "roster.index": _tenant("coordinator", "program_admin", "committee_member"),
    "roster.edit": _tenant("coordinator", "program_admin", writes=True),
    "roster.training": _tenant("coordinator", "program_admin", writes=True),
    "api.cases_list": _tenant(*ANY_ROLE),
    "api.case_get": _tenant(*ANY_ROLE),
    "api.case_act": _tenant(*ANY_ROLE, writes=True),
    "api.case_open": _tenant("coordinator", "program_admin", writes=True),
    "api.enrollment_create": _tenant("coordinator", "principal", "committee_member", writes=True),
    "api.consulting_teachers": _tenant(*STAFF),
    "api.visits_list": _tenant(*ANY_ROLE),
    "api.visit_create": _tenant("consulting_teacher", writes=True),
    "api.evidence_list": _tenant(*ANY_ROLE),
    "api.evidence_create": _tenant("consulting_teacher", "principal", writes=True),
    "api.goal_create": _tenant("consulting_teacher", "teacher", "coordinator", writes=True),
    "api.recommendation_create": _tenant("consulting_teacher", writes=True),
    "api.assignment_get": _tenant(*ANY_ROLE),
    "api.assignment_propose": _tenant("coordinator", writes=True),
    "api.assignment_review": _tenant("committee_member", writes=True),
    # The program configuration.
    "admin.workflow": _tenant(*ADMIN),
    "admin.workflow_edit": _tenant(*ADMIN, writes=True),
    "admin.workflow_yaml": _tenant(*ADMIN, writes=True),
    "admin.workflow_publish": _tenant(*ADMIN, writes=True),
    "admin.workflow_diff": _tenant(*ADMIN),
    "admin.workflow_diagram": _tenant(*ADMIN),
    "admin.workflow_dry_run": _tenant(*ADMIN),
    "api.workflow_draft_get": _tenant(*ADMIN),
    "api.workflow_draft_put": _tenant(*ADMIN, writes=True),
    "api.workflow_draft_validate": _tenant(*ADMIN),
    "api.workflow_publish": _tenant(*ADMIN, writes=True),
    "api.workflow_versions": _tenant(*ADMIN),
    "api.workflow_version": _tenant(*ADMIN),
    "api.workflow_diff": _tenant(*ADMIN),
    "api.workflow_migrate_cases": _tenant(*ADMIN, writes=True),
    # The panel and final approval.
    "panel.index": _tenant("panel_member", "coordinator", "program_admin", "final_authority"),
    "panel.member_save": _tenant("coordinator", "program_admin", writes=True),
    "panel.schedule": _tenant("coordinator", writes=True),
    "panel.session": _tenant("panel_member", "coordinator", "program_admin", "final_authority"),
    "panel.add_case": _tenant("coordinator", writes=True),
    "panel.attendance": _tenant("coordinator", writes=True),
    "panel.cast": _tenant("panel_member", writes=True),
    "panel.declare": _tenant("panel_member", writes=True),
    "panel.close": _tenant("panel_member", "coordinator", writes=True),
    "panel.minutes": _tenant("panel_member", "coordinator", "program_admin", "final_authority"),
    "panel.minutes_pdf_request": _tenant("coordinator", "program_admin", writes=True),
    "panel.minutes_pdf": _tenant("coordinator", "program_admin", "final_authority"),
    "panel.approvals": _tenant("final_authority"),
    "panel.decide": _tenant("final_authority", writes=True),
    "api.panel_members": _tenant("panel_member", "coordinator", "program_admin"),
    "api.panel_member_save": _tenant("coordinator", "program_admin", writes=True),
    "api.panel_sessions": _tenant(
        "panel_member", "coordinator", "program_admin", "final_authority"
    ),
    "api.panel_session_create": _tenant("coordinator", writes=True),
    "api.panel_session_get": _tenant(
        "panel_member", "coordinator", "program_admin", "final_authority"
    ),
    "api.panel_agenda_add": _tenant("coordinator", writes=True),
    "api.panel_attendance": _tenant("coordinator", writes=True),
    "api.panel_ballot": _tenant("panel_member", writes=True),
    "api.panel_close": _tenant("panel_member", "coordinator", writes=True),
    "api.case_approval": _tenant("final_authority", writes=True),
    "api.import_cases": _tenant("program_admin", "coordinator", writes=True),
    "api.import_survey_responses": _tenant("program_admin", "coordinator", writes=True),
    "api.annual_report": _tenant(*STAFF),
    "reports.annual": _tenant(*STAFF),
    "surveys.index": _tenant("coordinator", "program_admin", writes=True),
    "surveys.remind_now": _tenant("coordinator", "program_admin", writes=True),
    "cases.deadline_remind": _tenant("coordinator", "program_admin", writes=True),
    "exports.index": _tenant(*STAFF, writes=True),
    "exports.download": _tenant(*STAFF),
    "surveys.answer": _tenant_public(writes=True),
    "reports.annual_chart": _tenant(*STAFF),
    # Billing: Stripe's webhook, and the pages a lapsed district can still use.
    "billing.stripe_webhook": _public(),
    "billing.page": _tenant(*ADMIN),
    "billing.checkout": _tenant(*ADMIN, writes=True),
    "billing.portal": _tenant(*ADMIN, writes=True),
    # The platform.
    "ops.login": _public(),
    "ops.logout": _platform("operator", "network_analyst"),
    "ops.home": _platform("operator"),
    "network.home": _platform("network_analyst", "operator"),
    "network.comparison_csv": _platform("network_analyst", "operator"),
    "network.trend_chart": _platform("network_analyst", "operator"),
    "api.network_outcomes": _platform("network_analyst"),
    "api.district_network_outcomes": _tenant(*ADMIN),
    "portal.network_page": _tenant(*ADMIN, writes=True),
    "portal.network_release": _tenant(*ADMIN, writes=True),
}


def rule_for(endpoint: str) -> Rule | None:
    return MATRIX.get(endpoint)


#: Where a signed-in person lands; a program admin of a closed district lands on billing.
LANDING = "portal.home"

#: What a lapsed district (read-only or canceled) can still reach, writes included: billing
#: (to pay or subscribe again), its data export, and signing in and out.
OPEN_WHEN_CLOSED = frozenset(
    {
        "billing.page",
        "billing.checkout",
        "billing.portal",
        "exports.index",
        "exports.download",
        "auth.login",
        "auth.logout",
        "auth.theme_css",
        "auth.logo",
        "auth.password_forgot",
        "auth.password_reset",
        "auth.sso_start",
        "auth.sso_callback",
        "auth.saml_login",
        "auth.saml_acs",
        "auth.saml_metadata",
        "auth.pending",
        "auth.logout_everywhere",
        "auth.password_change",
        "api.issue_token",
        "api.revoke_token",
    }
)


def is_write(rule: Rule, method: str) -> bool:
    return rule.writes and method not in {"GET", "HEAD", "OPTIONS"}
