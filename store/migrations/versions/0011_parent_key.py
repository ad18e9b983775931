"""items.parent_key: the parent's key as its tracker names it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:00:00

An item whose parent is not stored (outside the synced scope, deleted, no access) is flagged
orphaned, and the reason named the parent by its internal id ("parent 10001"), which nobody can
look up. The trackers give the parent's key with the item (Jira ``parent.key``, Linear
``parent.identifier`` or the project's slug, Asana the gid); it is kept here for the reason to name
it. Existing rows get it on their next sync.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_key', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('parent_key')
