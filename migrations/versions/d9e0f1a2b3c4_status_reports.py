"""the consulting teacher's status reports to the panel

One row per report due on a case (written or not), a tenant table behind the same policy as
the others; a moved deadline keeps the date the configuration gave (``moved_from``).

Revision ID: d9e0f1a2b3c4
Revises: c8d9e0f1a2b3
Create Date: 2026-11-26 17:30:00

"""

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.tenants import rls

# revision identifiers, used by Alembic.
revision = "d9e0f1a2b3c4"
down_revision = "c8d9e0f1a2b3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "status_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("moved_from", sa.Date(), nullable=True),
        sa.Column("for_session_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("visits_since", sa.Integer(), nullable=True),
        sa.Column("concerns", sa.Text(), nullable=True),
        sa.Column("current_view", sa.Text(), nullable=True),
        sa.Column("signed_name", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_status_reports_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_status_reports_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["for_session_id"],
            ["panel_sessions.id"],
            name=op.f("fk_status_reports_for_session_id_panel_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["panel_sessions.id"],
            name=op.f("fk_status_reports_session_id_panel_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_status_reports_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_reports")),
        sa.UniqueConstraint("case_id", "label", name=op.f("uq_status_reports_case_id_label")),
    )
    with op.batch_alter_table("status_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_reports_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_status_reports_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_status_reports_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_status_reports_tenant_id"), ["tenant_id"], unique=False
        )
    rls.protect_tables(op, ["status_reports"])
    with op.batch_alter_table("case_deadlines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_from", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("case_deadlines", schema=None) as batch_op:
        batch_op.drop_column("moved_from")
    with op.batch_alter_table("status_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_reports_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_status_reports_session_id"))
        batch_op.drop_index(batch_op.f("ix_status_reports_due_on"))
        batch_op.drop_index(batch_op.f("ix_status_reports_case_id"))
    op.drop_table("status_reports")
