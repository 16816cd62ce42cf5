"""import uploads: a previewed CSV file kept until its person applies it

The imports page checks an uploaded file and shows what it would write before anything
is written; the bytes are kept in the upload store and this row names them, bound to the
district (row-level security) and to the person who previewed them, so applying writes
exactly the previewed file.

Revision ID: a2b3c4d5e6f7
Revises: f1a2b3c4d5e6
Create Date: 2026-11-26 20:40:00

"""

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.tenants import rls

# revision identifiers, used by Alembic.
revision = "a2b3c4d5e6f7"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("expected", sa.JSON(), nullable=False),
        sa.Column("file_key", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_import_uploads_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_import_uploads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_uploads")),
        sa.UniqueConstraint("token", name=op.f("uq_import_uploads_token")),
    )
    with op.batch_alter_table("import_uploads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_uploads_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_import_uploads_user_id"), ["user_id"], unique=False)
    rls.protect_tables(op, ["import_uploads"])


def downgrade():
    with op.batch_alter_table("import_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_uploads_user_id"))
        batch_op.drop_index(batch_op.f("ix_import_uploads_tenant_id"))
    op.drop_table("import_uploads")
