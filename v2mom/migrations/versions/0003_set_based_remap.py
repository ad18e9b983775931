"""set-based re-resolution: items.tag_sig, resolutions.alloc_key instead of resolutions.data

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:50:00

Explanations are no longer stored per item (they are recomputed on demand); each resolution keeps
the fingerprint of its allocations instead, so a plan change rewrites only what moved. Existing
rows get fingerprint 0, which no real fingerprint equals (they are odd), so the next
re-resolution rewrites them. ``items.tag_sig`` starts empty and is filled by the next re-resolution (and by
every write after this version).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tag_sig', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alloc_key', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.drop_column('data')


def downgrade() -> None:
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.drop_column('alloc_key')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('tag_sig')
