"""write-back records keep what an unconfirmed write replaces

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00

A write-back is recorded before it is sent. When the write fails, is cut short or its process is
killed, the tracker may hold the value from before it or the new one, so both must read as
v2mom-sync's own until a reading settles which: the ``prev_*`` columns keep the one from before.
Records left unconfirmed by earlier versions have no previous value to keep (it was overwritten).

Asana explanation links are listed again on the next write-back run (their record is cleared): two
runs at once could give a task two identical attachments, and only a run that lists a task's
attachments removes the extra ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('writebacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_value_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('prev_value_label', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('prev_method_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('prev_method_label', sa.String(length=255), nullable=True))
        batch_op.create_index(
            'ix_writebacks_unconfirmed',
            ['tracker'],
            unique=False,
            sqlite_where=sa.text('NOT confirmed'),
            postgresql_where=sa.text('NOT confirmed'),
        )
    op.execute("UPDATE writebacks SET link_url = NULL, linked_at = NULL WHERE tracker = 'asana'")


def downgrade() -> None:
    with op.batch_alter_table('writebacks', schema=None) as batch_op:
        batch_op.drop_index('ix_writebacks_unconfirmed')
        batch_op.drop_column('prev_method_label')
        batch_op.drop_column('prev_method_id')
        batch_op.drop_column('prev_value_label')
        batch_op.drop_column('prev_value_id')
