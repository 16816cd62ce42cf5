"""SAML 2.0 sign-in per district.

A district's single sign-on settings say which protocol it uses and, for SAML, keep the
identity provider's metadata; the assertions that signed someone in are remembered
(per district, behind the tenant policy) until they expire, so none is used twice.

Revision ID: e9c3a4b5d6e7
Revises: d8b2f3e4a5c6
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.tenants import rls

revision = "e9c3a4b5d6e7"
down_revision = "d8b2f3e4a5c6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The protocol and metadata columns, and the table of used assertions."""
    with op.batch_alter_table("sso_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("protocol", sa.String(length=10), server_default="oidc", nullable=False)
        )
        batch_op.add_column(sa.Column("saml_idp_metadata", sa.Text(), nullable=True))
    op.create_table(
        "saml_assertion_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assertion_key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_saml_assertion_uses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saml_assertion_uses")),
        sa.UniqueConstraint(
            "tenant_id",
            "assertion_key",
            name=op.f("uq_saml_assertion_uses_tenant_id_assertion_key"),
        ),
    )
    with op.batch_alter_table("saml_assertion_uses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_saml_assertion_uses_tenant_id"), ["tenant_id"], unique=False
        )
    rls.protect_tables(op, ["saml_assertion_uses"])


def downgrade() -> None:
    """Back to OpenID Connect only: the SAML settings and the used assertions are dropped."""
    with op.batch_alter_table("saml_assertion_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saml_assertion_uses_tenant_id"))
    op.drop_table("saml_assertion_uses")
    # Without its metadata a SAML district's row would read as a broken OpenID one: off.
    op.execute(sa.text("UPDATE sso_settings SET enabled = false WHERE protocol = 'saml'"))
    with op.batch_alter_table("sso_settings", schema=None) as batch_op:
        batch_op.drop_column("saml_idp_metadata")
        batch_op.drop_column("protocol")
