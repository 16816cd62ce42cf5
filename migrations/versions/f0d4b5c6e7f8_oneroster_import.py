"""The roster from a OneRoster bundle: the district's role mapping and its people's sourcedIds.

Two tenant tables behind the same policy as the others: which Parley role each OneRoster
role grants (``oneroster_role_mappings``; a role with no row grants nothing), and which
account each person of the district's system is (``oneroster_people``, by ``sourcedId``).

Revision ID: f0d4b5c6e7f8
Revises: e9c3a4b5d6e7
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.tenants import rls

revision = "f0d4b5c6e7f8"
down_revision = "e9c3a4b5d6e7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oneroster_role_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_role", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        rls.tenant_fk(op, "oneroster_role_mappings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oneroster_role_mappings")),
        sa.UniqueConstraint(
            "tenant_id",
            "source_role",
            name=op.f("uq_oneroster_role_mappings_tenant_id_source_role"),
        ),
    )
    op.create_index(
        op.f("ix_oneroster_role_mappings_tenant_id"), "oneroster_role_mappings", ["tenant_id"]
    )
    op.create_table(
        "oneroster_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sourced_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oneroster_people_user_id_users"),
            ondelete="CASCADE",
        ),
        rls.tenant_fk(op, "oneroster_people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oneroster_people")),
        sa.UniqueConstraint(
            "tenant_id", "sourced_id", name=op.f("uq_oneroster_people_tenant_id_sourced_id")
        ),
        sa.UniqueConstraint("user_id", name=op.f("uq_oneroster_people_user_id")),
    )
    op.create_index(op.f("ix_oneroster_people_tenant_id"), "oneroster_people", ["tenant_id"])
    rls.protect_tables(op, ["oneroster_role_mappings", "oneroster_people"])


def downgrade() -> None:
    op.drop_index(op.f("ix_oneroster_people_tenant_id"), table_name="oneroster_people")
    op.drop_table("oneroster_people")
    op.drop_index(
        op.f("ix_oneroster_role_mappings_tenant_id"), table_name="oneroster_role_mappings"
    )
    op.drop_table("oneroster_role_mappings")
