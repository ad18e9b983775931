"""people_shares, people_unheld, people_changes and people_state: people's time, materialized

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:00:00

A people's-time report computed who worked on what each working day from the whole history at
every request (seconds at a million items). ``people_shares`` keeps each person's share of each
working day per item, and ``people_unheld`` the in-progress items nobody held (as runs of working
days), for the days ``people_state`` says they cover and the calendar and ``people:`` accounts they
were computed for; ``people_changes`` names the items written since (in the same transaction as
the write), whose people's rows a refresh computes again. All start empty: the first refresh (after a sync, or
before a people's-time report) computes everything.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import v2mom.store.types

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

UTC_TIME = v2mom.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'people_shares',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('person', sa.String(length=255), nullable=False),
        sa.Column('item_pk', sa.BigInteger(), nullable=False),
        sa.Column('share', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'person', 'item_pk', name=op.f('pk_people_shares')),
    )
    op.create_index('ix_people_shares_item_pk', 'people_shares', ['item_pk'], unique=False)
    op.create_index('ix_people_shares_person', 'people_shares', ['person'], unique=False)
    op.create_table(
        'people_unheld',
        sa.Column('item_pk', sa.BigInteger(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('item_pk', 'first_day', name=op.f('pk_people_unheld')),
    )
    op.create_table(
        'people_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_people_changes')),
    )
    op.create_table(
        'people_state',
        sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('computed_at', UTC_TIME, nullable=False),
        sa.Column('horizon', UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_people_state')),
    )


def downgrade() -> None:
    op.drop_table('people_state')
    op.drop_table('people_changes')
    op.drop_table('people_unheld')
    op.drop_index('ix_people_shares_person', table_name='people_shares')
    op.drop_index('ix_people_shares_item_pk', table_name='people_shares')
    op.drop_table('people_shares')
