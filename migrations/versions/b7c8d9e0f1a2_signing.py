"""district signing keys and acknowledgments: who signed which document, when

``signing_keys`` holds each district's key pairs (the private key sealed, the certificate
public; retired keys stay so old documents still verify); ``acknowledgments`` one row per
person and document of a case. Both are tenant tables behind the same policy as the others.

Revision ID: b7c8d9e0f1a2
Revises: a6b7c8d9e0f1
Create Date: 2026-11-26 17:30:00

"""

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.tenants import rls

# revision identifiers, used by Alembic.
revision = "b7c8d9e0f1a2"
down_revision = "a6b7c8d9e0f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        rls.tenant_fk(op, "signing_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "acknowledgments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=80), nullable=False),
        sa.Column("relation", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("typed_name", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_acknowledgments_case_id_cases"),
            ondelete="CASCADE",
        ),
        rls.tenant_fk(op, "acknowledgments"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_acknowledgments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgments")),
        sa.UniqueConstraint(
            "case_id",
            "document",
            "user_id",
            name=op.f("uq_acknowledgments_case_id_document_user_id"),
        ),
    )
    for table in ("signing_keys", "acknowledgments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_tenant_id"), ["tenant_id"], unique=False)
    rls.protect_tables(op, ["signing_keys", "acknowledgments"])


def downgrade():
    for table in ("acknowledgments", "signing_keys"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_tenant_id"))
        op.drop_table(table)
