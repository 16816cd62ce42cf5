"""subscription price and monthly amount: what a district's Stripe subscription bills

The plan and the MRR shown to operators are read from the subscription itself (its
price and amount), not from metadata the checkout never sent.

Revision ID: f1a2b3c4d5e6
Revises: e0f1a2b3c4d5
Create Date: 2026-11-26 20:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f1a2b3c4d5e6"
down_revision = "e0f1a2b3c4d5"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stripe_price_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("monthly_amount_cents", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("monthly_amount_cents")
        batch_op.drop_column("stripe_price_id")
