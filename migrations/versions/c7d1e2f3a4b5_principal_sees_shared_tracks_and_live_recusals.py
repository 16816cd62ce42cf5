"""principal sees what the track shares; recusals on open votes are derived live

Cases opened before this revision set ``principal_can_see`` only on review tracks with a
secondary evaluator; the rule is now "the track shares something with the principal".
Recusals on votes still open were worked out once, at the agenda; they are now derived
when someone acts, so only declared conflicts stay stored until the vote closes.

Revision ID: c7d1e2f3a4b5
Revises: 41672731b5e2
Create Date: 2026-11-26 12:00:00

"""

import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c7d1e2f3a4b5"
down_revision = "41672731b5e2"
branch_labels = None
depends_on = None


def _all_tenants(bind) -> None:
    # Row-level security is forced even for the owner: a data change sees every district.
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT set_config('app.all_tenants', 'on', true)"))


def _shares(document, track_key: str) -> bool:
    if isinstance(document, str):
        document = json.loads(document)
    track = ((document or {}).get("tracks") or {}).get(track_key) or {}
    return bool(track.get("shared_with_principal"))


def upgrade():
    bind = op.get_bind()
    _all_tenants(bind)
    documents = dict(bind.execute(sa.text("SELECT id, document FROM workflow_versions")).all())
    cases = bind.execute(sa.text("SELECT id, workflow_version_id, track_key FROM cases")).all()
    for case_id, version_id, track_key in cases:
        bind.execute(
            sa.text("UPDATE cases SET principal_can_see = :sees WHERE id = :id"),
            {"sees": _shares(documents.get(version_id), track_key), "id": case_id},
        )
    bind.execute(
        sa.text(
            "DELETE FROM recusals WHERE rule <> 'declared_conflict' AND item_id IN "
            "(SELECT id FROM agenda_items WHERE status = 'open')"
        )
    )


def downgrade():
    """Nothing to undo: the schema is unchanged, the earlier flag cannot be recomputed
    faithfully, and recusals on open votes are derived again whenever someone acts."""
