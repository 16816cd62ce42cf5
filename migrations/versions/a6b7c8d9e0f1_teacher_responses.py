"""teacher responses: the teacher's written response to the approved decision

One row per case (``case_id`` unique), a tenant table behind the same policy as the others.

Revision ID: a6b7c8d9e0f1
Revises: f5a6b7c8d9e0
Create Date: 2026-11-26 16:00:00

"""

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.tenants import rls

# revision identifiers, used by Alembic.
revision = "a6b7c8d9e0f1"
down_revision = "f5a6b7c8d9e0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("submitted_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_case_responses_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_responses_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_case_responses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_responses")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_responses_case_id")),
    )
    with op.batch_alter_table("case_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_responses_tenant_id"), ["tenant_id"], unique=False
        )
    rls.protect_tables(op, ["case_responses"])


def downgrade():
    with op.batch_alter_table("case_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_responses_tenant_id"))
    op.drop_table("case_responses")
