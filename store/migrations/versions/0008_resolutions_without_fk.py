"""resolutions without a foreign key: the resolution engine keeps them in step with items itself

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 05:00:00

``resolutions.item_pk`` referenced ``items.pk`` with ON DELETE CASCADE. No code deletes item rows
(a deleted item is marked, and the engine removes its resolution in the same pass), so the cascade
never fired, while the check cost every insert a lookup and, on PostgreSQL, a row lock on the item:
6 of the 9.7 s that inserting 1,000,000 first resolutions took (EXPLAIN ANALYZE, bench/scale.py).
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_resolutions_item_pk_items', type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_resolutions_item_pk_items', 'items', ['item_pk'], ['pk'], ondelete='CASCADE'
        )
