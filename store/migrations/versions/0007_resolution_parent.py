"""resolution parent: each resolution keeps the stored parent it was resolved under

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 04:00:00

The resolution engine re-resolves only the trees that changed items touch. When an item moves to
another parent (or is deleted), the tree it left changes too: its old parent may count effort again
that the item used to carry. The item row no longer names that parent, so the resolution keeps it:
``resolutions.parent_pk``, the pk of the live parent the item was resolved under (NULL for a root).
Existing rows start NULL; the next full re-resolution fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_pk', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.drop_column('parent_pk')
