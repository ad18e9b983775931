"""item_transitions and history_reads: each item's status and assignee history

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:00:00

People's time is counted from who worked on what, when: ``item_transitions`` holds every status
and assignee change of each item as its tracker's history records it, one row per (history entry,
field), so reading a history again writes the same rows; indexed for an item's changes in time
order and for every change in a window of time. ``history_reads`` holds, per item, the updated
time its history was read for, so a sync reads again only the histories of items that moved.
Both start empty: ``v2mom sync --full`` reads every item's history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import v2mom.store.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

UTC_TIME = v2mom.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'item_transitions',
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=128), nullable=False),
        sa.Column('event_id', sa.String(length=128), nullable=False),
        sa.Column('field', sa.String(length=16), nullable=False),
        sa.Column('at', UTC_TIME, nullable=False),
        sa.Column('from_value', sa.String(length=128), nullable=True),
        sa.Column('to_value', sa.String(length=128), nullable=True),
        sa.Column('to_category', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('tracker', 'item_id', 'event_id', 'field', name=op.f('pk_item_transitions')),
    )
    op.create_index(
        'ix_item_transitions_item_field_at', 'item_transitions', ['tracker', 'item_id', 'field', 'at'], unique=False
    )
    op.create_index('ix_item_transitions_at', 'item_transitions', ['at'], unique=False)
    op.create_table(
        'history_reads',
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=128), nullable=False),
        sa.Column('updated_at', UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint('tracker', 'item_id', name=op.f('pk_history_reads')),
    )


def downgrade() -> None:
    op.drop_table('history_reads')
    op.drop_index('ix_item_transitions_at', table_name='item_transitions')
    op.drop_index('ix_item_transitions_item_field_at', table_name='item_transitions')
    op.drop_table('item_transitions')
