"""the consulting teacher's status reports to the panel

Revision ID: d9e0f1a2b3c4
Revises: c8d9e0f1a2b3
Create Date: 2026-11-26 17:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import app.models.base  # noqa: F401
from app.tenants import rls  # noqa: F401

# revision identifiers, used by Alembic.
revision = "d9e0f1a2b3c4"
down_revision = "c8d9e0f1a2b3"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
