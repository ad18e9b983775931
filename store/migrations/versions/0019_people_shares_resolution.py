"""people_shares: each row carries its item's resolution, as a report filters and counts it

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 15:00:00

A people's-time report joined the window's stored shares to the resolutions, one index probe per
item and person (most of an fte report's time at ten million items). Each row now carries the
item's ``alloc_key``, ``orphaned``, ``team_id``, ``state`` and ``tracker``, copied when the row is
computed and whenever the resolution engine writes the item's resolution. The stored people's time
is a cache: the upgrade empties it (and ``people_state``), so the next refresh computes it whole,
with the new columns filled.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _copied() -> list[sa.Column[object]]:
    return [
        sa.Column('alloc_key', sa.BigInteger(), nullable=True),
        sa.Column('orphaned', sa.Boolean(), nullable=True),
        sa.Column('team_id', sa.String(length=64), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=True),
        sa.Column('tracker', sa.String(length=16), nullable=True),
    ]


def _empty_the_cache() -> None:
    for table in ('people_shares', 'people_unheld', 'people_state'):
        op.execute(sa.text(f'DELETE FROM {table}'))


def upgrade() -> None:
    _empty_the_cache()
    with op.batch_alter_table('people_shares') as batch:
        for column in _copied():
            batch.add_column(column)


def downgrade() -> None:
    _empty_the_cache()
    with op.batch_alter_table('people_shares') as batch:
        for column in reversed(_copied()):
            batch.drop_column(column.name)
