"""plans.reason and plans.changes; review_snapshots

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:00:00

Once a cycle has a plan, every new version carries the reason it was made and a summary of what it
changed (values, methods, rules added, renamed, removed; effort moved), so the plan history reads
who, when, why and what. Versions stored before keep no reason (null).

``review_snapshots`` holds one immutable review per (cycle, period): the whole report for the
company and every team, measures met or not, obstacles, flag counts and the plan version it was
computed under. A past period is read from it, never recomputed.

``resolutions.team_id`` and ``effort_rollup.team_id`` name the deepest team whose scope holds an
item (null: the company's own work), so a team's report is the company's GROUP BY narrowed to its
subtree. Existing rows stay null until the next resolution; a rollup group's key gains the team as
its last part (empty: the company's), so existing keys gain a trailing ``|``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import v2mom.store.types

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

UTC_TIME = v2mom.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    for table in ('resolutions', 'effort_rollup'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('team_id', sa.String(length=64), nullable=True))
    rollup = sa.table('effort_rollup', sa.column('group_key', sa.String))
    op.execute(rollup.update().values(group_key=rollup.c.group_key + '|'))
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=True))
    op.create_table(
        'review_snapshots',
        sa.Column('cycle_id', sa.String(length=64), nullable=False),
        sa.Column('period_id', sa.String(length=64), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('plan_version', sa.Integer(), nullable=False),
        sa.Column('closed_at', UTC_TIME, nullable=False),
        sa.Column('closed_by', sa.String(length=255), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('cycle_id', 'period_id', name=op.f('pk_review_snapshots')),
    )


def downgrade() -> None:
    op.drop_table('review_snapshots')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('changes')
        batch_op.drop_column('reason')
    rollup = sa.table('effort_rollup', sa.column('group_key', sa.String))
    op.execute(rollup.update().values(group_key=sa.func.substr(rollup.c.group_key, 1, sa.func.length(rollup.c.group_key) - 1)))
    for table in ('effort_rollup', 'resolutions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('team_id')
