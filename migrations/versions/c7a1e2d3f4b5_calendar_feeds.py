"""Private calendar feeds.

Each person's feed address (only the secret's SHA-256 is kept) and the revision count of
every row a feed shows, so a calendar app replaces an event when it changes. Both are
tenant tables behind the same policy as the others.

Revision ID: c7a1e2d3f4b5
Revises: f0d4b5c6e7f8
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.tenants import rls

revision = "c7a1e2d3f4b5"
down_revision = "f0d4b5c6e7f8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The feeds and the revisions, each behind the tenant policy."""
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_feeds_user_id_users"),
            ondelete="CASCADE",
        ),
        rls.tenant_fk(op, "calendar_feeds"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feeds_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_calendar_feeds_tenant_id"), ["tenant_id"], unique=False
        )
    op.create_table(
        "calendar_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("modified_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        rls.tenant_fk(op, "calendar_revisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_revisions")),
        sa.UniqueConstraint(
            "tenant_id",
            "source",
            "source_id",
            name=op.f("uq_calendar_revisions_tenant_id_source_source_id"),
        ),
    )
    with op.batch_alter_table("calendar_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_revisions_tenant_id"), ["tenant_id"], unique=False
        )
    rls.protect_tables(op, ["calendar_feeds", "calendar_revisions"])


def downgrade() -> None:
    """Drop both tables (their policies go with them)."""
    with op.batch_alter_table("calendar_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_revisions_tenant_id"))
    op.drop_table("calendar_revisions")
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_user_id"))
    op.drop_table("calendar_feeds")
