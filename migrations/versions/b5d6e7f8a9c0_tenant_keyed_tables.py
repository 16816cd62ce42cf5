"""Tenant-keyed tables: tenant_id leads every key between a district's tables.

Every district table's primary key becomes ``(tenant_id, id)``; every reference from
one district table to another becomes ``(tenant_id, x_id) -> (tenant_id, id)``, so the
database refuses a row that points into another district (and its error no longer
tells whether an id exists elsewhere); every unique constraint gains ``tenant_id``; the
separate ``tenant_id`` index goes (the key leads with it). Data is kept: a row that
already pointed across districts would stop the upgrade, which is what should happen.

SQLite (the embedded default) numbers rows only through a one-column integer key, so
there ``id`` stays the key and ``UNIQUE (tenant_id, id)`` carries the references.

The two status-report references to a panel session were ``ON DELETE SET NULL``; a
two-column key would null ``tenant_id`` too, so they now refuse the delete instead
(sessions are never deleted while a report names them).

Revision ID: b5d6e7f8a9c0
Revises: a1b2c3d4e5f7
"""

from __future__ import annotations

from alembic import op

revision = "b5d6e7f8a9c0"
down_revision = "a1b2c3d4e5f7"
branch_labels = None
depends_on = None

TABLES = (
    "acknowledgments",
    "agenda_items",
    "api_tokens",
    "appeal_reminders",
    "appeal_votes",
    "appeals",
    "assignment_reviews",
    "assignments",
    "audit_events",
    "ballots",
    "calendar_feeds",
    "calendar_revisions",
    "case_deadlines",
    "case_responses",
    "cases",
    "closed_days",
    "consulting_teachers",
    "evidence",
    "export_jobs",
    "final_decisions",
    "goals",
    "import_uploads",
    "network_memberships",
    "oneroster_people",
    "oneroster_role_mappings",
    "panel_attendance",
    "panel_members",
    "panel_sessions",
    "password_resets",
    "privacy_spends",
    "recommendations",
    "recusals",
    "role_grants",
    "saml_assertion_uses",
    "sent_mails",
    "signing_keys",
    "sso_settings",
    "status_reports",
    "survey_invitations",
    "survey_responses",
    "survey_rounds",
    "training_records",
    "users",
    "visits",
    "workflow_versions",
)
#: (table, column, referred table, ON DELETE before, ON DELETE now)
KEYS = (
    ("acknowledgments", "case_id", "cases", "CASCADE", "CASCADE"),
    ("acknowledgments", "user_id", "users", None, None),
    ("agenda_items", "case_id", "cases", "CASCADE", "CASCADE"),
    ("agenda_items", "session_id", "panel_sessions", "CASCADE", "CASCADE"),
    ("api_tokens", "user_id", "users", "CASCADE", "CASCADE"),
    ("appeal_reminders", "case_id", "cases", "CASCADE", "CASCADE"),
    ("appeal_votes", "appeal_id", "appeals", "CASCADE", "CASCADE"),
    ("appeal_votes", "user_id", "users", None, None),
    ("appeals", "case_id", "cases", "CASCADE", "CASCADE"),
    ("appeals", "decided_by_id", "users", None, None),
    ("appeals", "filed_by_id", "users", None, None),
    ("assignment_reviews", "assignment_id", "assignments", "CASCADE", "CASCADE"),
    ("assignment_reviews", "member_id", "users", None, None),
    ("assignments", "case_id", "cases", "CASCADE", "CASCADE"),
    ("assignments", "ct_id", "users", None, None),
    ("assignments", "proposed_by_id", "users", None, None),
    ("ballots", "item_id", "agenda_items", "CASCADE", "CASCADE"),
    ("ballots", "member_id", "panel_members", "CASCADE", "CASCADE"),
    ("calendar_feeds", "user_id", "users", "CASCADE", "CASCADE"),
    ("case_deadlines", "case_id", "cases", "CASCADE", "CASCADE"),
    ("case_responses", "author_id", "users", None, None),
    ("case_responses", "case_id", "cases", "CASCADE", "CASCADE"),
    ("cases", "ct_id", "users", None, None),
    ("cases", "principal_id", "users", None, None),
    ("cases", "referred_by_id", "users", None, None),
    ("cases", "teacher_id", "users", None, None),
    ("cases", "workflow_version_id", "workflow_versions", None, None),
    ("consulting_teachers", "user_id", "users", "CASCADE", "CASCADE"),
    ("evidence", "author_id", "users", None, None),
    ("evidence", "case_id", "cases", "CASCADE", "CASCADE"),
    ("export_jobs", "requested_by_id", "users", None, None),
    ("final_decisions", "authority_id", "users", None, None),
    ("final_decisions", "case_id", "cases", "CASCADE", "CASCADE"),
    ("final_decisions", "item_id", "agenda_items", None, None),
    ("goals", "case_id", "cases", "CASCADE", "CASCADE"),
    ("import_uploads", "user_id", "users", "CASCADE", "CASCADE"),
    ("oneroster_people", "user_id", "users", "CASCADE", "CASCADE"),
    ("panel_attendance", "member_id", "panel_members", "CASCADE", "CASCADE"),
    ("panel_attendance", "session_id", "panel_sessions", "CASCADE", "CASCADE"),
    ("panel_members", "user_id", "users", "CASCADE", "CASCADE"),
    ("password_resets", "user_id", "users", "CASCADE", "CASCADE"),
    ("recommendations", "author_id", "users", None, None),
    ("recommendations", "case_id", "cases", "CASCADE", "CASCADE"),
    ("recusals", "item_id", "agenda_items", "CASCADE", "CASCADE"),
    ("recusals", "member_id", "panel_members", "CASCADE", "CASCADE"),
    ("role_grants", "user_id", "users", "CASCADE", "CASCADE"),
    ("status_reports", "author_id", "users", None, None),
    ("status_reports", "case_id", "cases", "CASCADE", "CASCADE"),
    ("status_reports", "for_session_id", "panel_sessions", "SET NULL", None),
    ("status_reports", "session_id", "panel_sessions", "SET NULL", None),
    ("survey_invitations", "round_id", "survey_rounds", "CASCADE", "CASCADE"),
    ("survey_invitations", "user_id", "users", "CASCADE", "CASCADE"),
    ("survey_responses", "round_id", "survey_rounds", "CASCADE", "CASCADE"),
    ("training_records", "consulting_teacher_id", "consulting_teachers", "CASCADE", "CASCADE"),
    ("visits", "author_id", "users", None, None),
    ("visits", "case_id", "cases", "CASCADE", "CASCADE"),
    ("workflow_versions", "published_by_id", "users", None, None),
)
#: (table, columns before): each gains a leading tenant_id
UNIQUES = (
    ("acknowledgments", ("case_id", "document", "user_id")),
    ("agenda_items", ("session_id", "case_id")),
    ("api_tokens", ("token_hash",)),
    ("appeal_reminders", ("case_id",)),
    ("appeal_votes", ("appeal_id", "user_id")),
    ("appeals", ("case_id",)),
    ("assignment_reviews", ("assignment_id", "member_id")),
    ("ballots", ("item_id", "member_id")),
    ("calendar_feeds", ("token_hash",)),
    ("case_deadlines", ("case_id", "key")),
    ("case_responses", ("case_id",)),
    ("consulting_teachers", ("user_id",)),
    ("import_uploads", ("token",)),
    ("oneroster_people", ("user_id",)),
    ("panel_attendance", ("session_id", "member_id")),
    ("panel_members", ("user_id",)),
    ("password_resets", ("token_hash",)),
    ("recusals", ("item_id", "member_id")),
    ("role_grants", ("user_id", "role")),
    ("sent_mails", ("outbox_id", "recipient")),
    ("status_reports", ("case_id", "label")),
    ("survey_invitations", ("round_id", "user_id")),
    ("survey_invitations", ("token_hash",)),
    ("survey_responses", ("round_id", "external_id")),
)


def _fk_name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def _uq_name(table: str, columns: tuple[str, ...]) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if _postgresql():
        _downgrade_postgresql()
    else:
        _downgrade_sqlite()


def _upgrade_postgresql() -> None:
    # The old keys hang on the one-column primary keys: they go first, come back last.
    for table, column, referred, _before, _now in KEYS:
        op.drop_constraint(_fk_name(table, column, referred), table, type_="foreignkey")
    for table in TABLES:
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, ["tenant_id", "id"])
        op.drop_index(f"ix_{table}_tenant_id", table_name=table)
    for table, columns in UNIQUES:
        op.drop_constraint(_uq_name(table, columns), table, type_="unique")
        keyed = ("tenant_id", *columns)
        op.create_unique_constraint(_uq_name(table, keyed), table, list(keyed))
    for table, column, referred, _before, now in KEYS:
        op.create_foreign_key(
            _fk_name(table, column, referred),
            table,
            referred,
            ["tenant_id", column],
            ["tenant_id", "id"],
            ondelete=now,
        )


def _downgrade_postgresql() -> None:
    for table, column, referred, _before, _now in KEYS:
        op.drop_constraint(_fk_name(table, column, referred), table, type_="foreignkey")
    for table, columns in UNIQUES:
        keyed = ("tenant_id", *columns)
        op.drop_constraint(_uq_name(table, keyed), table, type_="unique")
        op.create_unique_constraint(_uq_name(table, columns), table, list(columns))
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, ["id"])
    for table, column, referred, before, _now in KEYS:
        op.create_foreign_key(
            _fk_name(table, column, referred), table, referred, [column], ["id"], ondelete=before
        )


def _upgrade_sqlite() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_tenant_id")
            batch.create_unique_constraint(
                _uq_name(table, ("tenant_id", "id")), ["tenant_id", "id"]
            )
            for name, columns in UNIQUES:
                if name == table:
                    batch.drop_constraint(_uq_name(table, columns), type_="unique")
                    keyed = ("tenant_id", *columns)
                    batch.create_unique_constraint(_uq_name(table, keyed), list(keyed))
            for name, column, referred, _before, now in KEYS:
                if name == table:
                    batch.drop_constraint(_fk_name(table, column, referred), type_="foreignkey")
                    batch.create_foreign_key(
                        _fk_name(table, column, referred),
                        referred,
                        ["tenant_id", column],
                        ["tenant_id", "id"],
                        ondelete=now,
                    )


def _downgrade_sqlite() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name, column, referred, before, _now in KEYS:
                if name == table:
                    batch.drop_constraint(_fk_name(table, column, referred), type_="foreignkey")
                    batch.create_foreign_key(
                        _fk_name(table, column, referred),
                        referred,
                        [column],
                        ["id"],
                        ondelete=before,
                    )
            for name, columns in UNIQUES:
                if name == table:
                    batch.drop_constraint(_uq_name(table, ("tenant_id", *columns)), type_="unique")
                    batch.create_unique_constraint(_uq_name(table, columns), list(columns))
            batch.drop_constraint(_uq_name(table, ("tenant_id", "id")), type_="unique")
            batch.create_index(f"ix_{table}_tenant_id", ["tenant_id"])
