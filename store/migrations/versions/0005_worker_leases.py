"""worker leases: a workers table with heartbeats; sync runs and inbox claims name their process

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 10:00:00

Each process (``v2mom serve``, ``v2mom worker``, a sync run) registers a row in ``workers`` and
renews its short lease by heartbeat. Inbox claims of a process whose lease expired are taken again
at once, instead of after the five-minute claim timeout (which still covers claims by a process
that never registered). ``sync_runs.owner`` names the process running a sync, so a run left
``running`` by a killed process is marked ``interrupted`` when the next run starts. Existing
running rows get no owner and are marked interrupted by the next run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import v2mom.store.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'workers',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', v2mom.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', v2mom.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('lease_expires_at', v2mom.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workers')),
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('owner')
    op.drop_table('workers')
