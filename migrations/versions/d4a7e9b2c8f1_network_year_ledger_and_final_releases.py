"""network: each district's year ledger (published years are final), bands may be hidden

``privacy_spends`` becomes the district's ledger of its network years: when a year was
published (it is then final), whether noised and whether by name, under which release key,
when it was withdrawn, and the last refusal. Years already in ``network_releases`` are
entered as published, so they cannot be published again after this revision.
``network_releases.size_band`` may be empty: a band is shown only beside a published total.

Revision ID: d4a7e9b2c8f1
Revises: c7d1e2f3a4b5
Create Date: 2026-11-26 13:00:00

"""

import sqlalchemy as sa
from alembic import op

import app.models.base

# revision identifiers, used by Alembic.
revision = "d4a7e9b2c8f1"
down_revision = "c7d1e2f3a4b5"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("privacy_spends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_at", app.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("noisy", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("named", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("member_key", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", app.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("refusal", sa.Text(), nullable=True))
    with op.batch_alter_table("network_releases", schema=None) as batch_op:
        batch_op.alter_column("size_band", existing_type=sa.String(length=20), nullable=True)
    _ledger_from_releases(op.get_bind())


def _ledger_from_releases(bind) -> None:
    if bind.dialect.name == "postgresql":
        # Row-level security is forced even for the owner: a data change sees every district.
        bind.execute(sa.text("SELECT set_config('app.all_tenants', 'on', true)"))
    members = bind.execute(
        sa.text("SELECT tenant_id, member_key, anonymous_label FROM network_memberships")
    ).all()
    for tenant_id, member_key, label in members:
        published = bind.execute(
            sa.text(
                "SELECT year, created_at, noisy, display_name FROM network_releases "
                "WHERE member_key = :key"
            ),
            {"key": member_key},
        ).all()
        for year, created_at, noisy, display_name in published:
            values = {
                "tenant_id": tenant_id,
                "year": year,
                "published_at": created_at,
                "noisy": noisy,
                "named": display_name != label,
                "key": member_key,
            }
            exists = bind.execute(
                sa.text(
                    "SELECT id FROM privacy_spends WHERE tenant_id = :tenant_id AND year = :year"
                ),
                values,
            ).first()
            if exists:
                bind.execute(
                    sa.text(
                        "UPDATE privacy_spends SET published_at = :published_at, noisy = :noisy, "
                        "named = :named, member_key = :key "
                        "WHERE tenant_id = :tenant_id AND year = :year"
                    ),
                    values,
                )
            else:
                bind.execute(
                    sa.text(
                        "INSERT INTO privacy_spends "
                        "(tenant_id, year, spent, published_at, noisy, named, member_key) "
                        "VALUES (:tenant_id, :year, 0, :published_at, :noisy, :named, :key)"
                    ),
                    values,
                )


def downgrade():
    op.execute("UPDATE network_releases SET size_band = '' WHERE size_band IS NULL")
    with op.batch_alter_table("network_releases", schema=None) as batch_op:
        batch_op.alter_column("size_band", existing_type=sa.String(length=20), nullable=False)
    with op.batch_alter_table("privacy_spends", schema=None) as batch_op:
        batch_op.drop_column("refusal")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("member_key")
        batch_op.drop_column("named")
        batch_op.drop_column("noisy")
        batch_op.drop_column("published_at")
