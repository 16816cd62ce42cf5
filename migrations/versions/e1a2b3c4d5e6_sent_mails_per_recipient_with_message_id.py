"""sent mails: a district's row per recipient, with the Message-ID it went out with

``sent_mails`` becomes a tenant table like the others (a row id, ``tenant_id`` required and
indexed, behind the same policy) and records the ``Message-ID`` of each message, derived from
(outbox id, recipient) so a repeat after a crash carries the same one. (outbox id, recipient)
stays unique. Rows from before this revision get the Message-ID they would have had.

Revision ID: e1a2b3c4d5e6
Revises: d4a7e9b2c8f1
Create Date: 2026-11-27 10:00:00

"""

import hashlib

import sqlalchemy as sa
from alembic import op

from app.tenants import rls

# revision identifiers, used by Alembic.
revision = "e1a2b3c4d5e6"
down_revision = "d4a7e9b2c8f1"
branch_labels = None
depends_on = None

#: The sender's domain of the shipped settings; a Message-ID only has to be stable, and
#: a record written before this revision was never sent with one.
_DOMAIN = "parley.local"


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        # Row-level security is forced even for the owner: a data change sees every district.
        bind.execute(sa.text("SELECT set_config('app.all_tenants', 'on', true)"))
    # Every mail job names its district; a row without one is no district's record.
    op.execute("DELETE FROM sent_mails WHERE tenant_id IS NULL")
    with op.batch_alter_table("sent_mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=255), nullable=True))
    _backfill_message_ids(bind)
    if postgres:
        op.drop_constraint("pk_sent_mails", "sent_mails", type_="primary")
        op.execute("ALTER TABLE sent_mails ADD COLUMN id SERIAL")
        op.create_primary_key("pk_sent_mails", "sent_mails", ["id"])
        with op.batch_alter_table("sent_mails", schema=None) as batch_op:
            _constrain(batch_op)
        rls.protect_tables(op, ["sent_mails"])
    else:
        # SQLite changes a primary key by copying the table; a NULL id is numbered on insert.
        with op.batch_alter_table("sent_mails", schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint("pk_sent_mails", type_="primary")
            batch_op.add_column(
                sa.Column("id", sa.Integer(), nullable=False), insert_before="outbox_id"
            )
            batch_op.create_primary_key("pk_sent_mails", ["id"])
            _constrain(batch_op)


def _constrain(batch_op) -> None:
    batch_op.alter_column("tenant_id", existing_type=sa.Integer(), nullable=False)
    batch_op.alter_column("message_id", existing_type=sa.String(length=255), nullable=False)
    batch_op.create_unique_constraint(
        batch_op.f("uq_sent_mails_outbox_id_recipient"), ["outbox_id", "recipient"]
    )
    batch_op.create_index(batch_op.f("ix_sent_mails_tenant_id"), ["tenant_id"], unique=False)


def _backfill_message_ids(bind) -> None:
    """The Message-ID each recorded message would carry (``mailer.message_id_for``)."""
    rows = bind.execute(sa.text("SELECT outbox_id, recipient FROM sent_mails")).all()
    for outbox_id, recipient in rows:
        digest = hashlib.sha256(recipient.encode()).hexdigest()[:16]
        bind.execute(
            sa.text(
                "UPDATE sent_mails SET message_id = :message_id "
                "WHERE outbox_id = :outbox_id AND recipient = :recipient"
            ),
            {
                "message_id": f"<{outbox_id.replace('-', '')}.{digest}@{_DOMAIN}>",
                "outbox_id": outbox_id,
                "recipient": recipient,
            },
        )


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("sent_mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_mails_tenant_id"))
        batch_op.drop_constraint(batch_op.f("uq_sent_mails_outbox_id_recipient"), type_="unique")
        batch_op.alter_column("tenant_id", existing_type=sa.Integer(), nullable=True)
    if postgres:
        op.drop_constraint("pk_sent_mails", "sent_mails", type_="primary")
        op.drop_column("sent_mails", "id")
        op.create_primary_key("pk_sent_mails", "sent_mails", ["outbox_id", "recipient"])
        op.drop_column("sent_mails", "message_id")
    else:
        with op.batch_alter_table("sent_mails", schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint("pk_sent_mails", type_="primary")
            batch_op.drop_column("id")
            batch_op.drop_column("message_id")
            batch_op.create_primary_key("pk_sent_mails", ["outbox_id", "recipient"])
