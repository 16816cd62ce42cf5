"""appeals of approved decisions and the district calendar of non-working days

``closed_days`` lists the weekdays a district is closed (one row per day); ``appeals`` one
row per case whose teacher appealed the approved decision, ``appeal_votes`` an appeal
panel's votes (one per member) and ``appeal_reminders`` that the teacher was reminded the
window is closing (one per case). All are tenant tables behind the same policy as the others.

Revision ID: c8d9e0f1a2b3
Revises: b7c8d9e0f1a2
Create Date: 2026-11-26 17:30:00

"""

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.tenants import rls

# revision identifiers, used by Alembic.
revision = "c8d9e0f1a2b3"
down_revision = "b7c8d9e0f1a2"
branch_labels = None
depends_on = None

_TABLES = ["closed_days", "appeals", "appeal_votes", "appeal_reminders"]


def _case_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["case_id"], ["cases.id"], name=op.f(f"fk_{table}_case_id_cases"), ondelete="CASCADE"
    )


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, app.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "closed_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        _when("created_at"),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        rls.tenant_fk(op, "closed_days"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_days")),
        sa.UniqueConstraint("tenant_id", "day", name=op.f("uq_closed_days_tenant_id_day")),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        _when("filed_at"),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("body", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        _when("decided_at", nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("arbiter_name", sa.String(length=200), nullable=True),
        sa.Column("decision_words", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _case_fk("appeals"),
        sa.ForeignKeyConstraint(
            ["filed_by_id"], ["users.id"], name=op.f("fk_appeals_filed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_appeals_decided_by_id_users")
        ),
        rls.tenant_fk(op, "appeals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("case_id", name=op.f("uq_appeals_case_id")),
    )
    op.create_table(
        "appeal_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("vote", sa.String(length=10), nullable=False),
        _when("cast_at"),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"],
            ["appeals.id"],
            name=op.f("fk_appeal_votes_appeal_id_appeals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_appeal_votes_user_id_users")
        ),
        rls.tenant_fk(op, "appeal_votes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_votes")),
        sa.UniqueConstraint("appeal_id", "user_id", name=op.f("uq_appeal_votes_appeal_id_user_id")),
    )
    op.create_table(
        "appeal_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        _when("sent_at"),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _case_fk("appeal_reminders"),
        rls.tenant_fk(op, "appeal_reminders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_reminders")),
        sa.UniqueConstraint("case_id", name=op.f("uq_appeal_reminders_case_id")),
    )
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_tenant_id"), ["tenant_id"], unique=False)
    with op.batch_alter_table("appeal_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeal_votes_appeal_id"), ["appeal_id"], unique=False)
    rls.protect_tables(op, _TABLES)


def downgrade():
    with op.batch_alter_table("appeal_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_votes_appeal_id"))
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_tenant_id"))
        op.drop_table(table)
