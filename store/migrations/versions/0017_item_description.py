"""items.description: the item's description as plain text, for suggestions

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 06:00:00

Suggestions for untagged work learn from what people wrote about the items they tagged: the title
alone is a few words. ``description`` holds the item's description as plain text (Jira's document
format flattened), cut to a bounded length. Nullable: existing rows get it on their next reading
(``v2mom sync --full`` reads every item).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('description')
