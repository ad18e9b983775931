"""set-based re-resolution (items.tag_sig, resolutions.alloc_key instead of resolutions.data);
blocked items (items.blocked)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:50:00

Explanations are no longer stored per item (they are recomputed on demand); each resolution keeps
the fingerprint of its allocations instead, so a plan change rewrites only what moved. Existing
rows get fingerprint 0, which no real fingerprint equals (they are odd), so the next
re-resolution rewrites them. ``items.tag_sig`` starts empty and is filled by the next re-resolution (and by
every write after this version). ``items.blocked`` is computed here for the items already stored,
by the same rule the store applies on every write (``WorkItem.blocked``). ``allocations`` loses
its foreign key to ``items``: the rows are derived, written only by joining ``items``, and the
per-row check cost half of a re-resolution's insert time on PostgreSQL.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tag_sig', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('blocked', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(
            'ix_items_blocked',
            ['pk'],
            unique=False,
            sqlite_where=sa.text('blocked'),
            postgresql_where=sa.text('blocked'),
        )
    _mark_blocked()
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_allocations_item_pk_items', type_='foreignkey')
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alloc_key', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.drop_column('data')


def _mark_blocked() -> None:
    """Flag stored items whose status or labels say they are blocked (see ``WorkItem.blocked``)."""
    items = sa.table(
        'items', sa.column('pk'), sa.column('status_name'), sa.column('labels', sa.JSON), sa.column('blocked')
    )
    conn = op.get_bind()
    pattern = re.compile(r"\bblocked\b", re.IGNORECASE)
    blocked = [
        {'row_pk': row.pk}
        for row in conn.execute(sa.select(items.c.pk, items.c.status_name, items.c.labels))
        if pattern.search(row.status_name or '')
        or any(str(label).strip().casefold() == 'blocked' for label in row.labels or ())
    ]
    if blocked:
        conn.execute(
            items.update().where(items.c.pk == sa.bindparam('row_pk')).values(blocked=sa.true()), blocked
        )


def downgrade() -> None:
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_allocations_item_pk_items', 'items', ['item_pk'], ['pk'], ondelete='CASCADE'
        )
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.drop_column('alloc_key')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_blocked')
        batch_op.drop_column('blocked')
        batch_op.drop_column('tag_sig')
