"""items.assignee and items.started_at: who holds an item now, and when work on an Asana task started

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 14:00:00

People's time gives an item's days to whoever held it while it was worked on, from its assignee
changes (``item_transitions``); an item whose history holds none (a Jira issue created already
assigned) is held by its current assignee all along, which the store did not keep. ``assignee`` is
that account id (person-level data: no report or answer shows it). Asana has no started status:
``started_at`` is the task's ``start_at``, else its ``start_on`` at 00:00 UTC, before which it is not
worked on. Both are nullable; existing rows get them on their next reading (``v2mom sync --full``
reads every item).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import v2mom.store.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

UTC_TIME = v2mom.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('started_at', UTC_TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('started_at')
        batch_op.drop_column('assignee')
