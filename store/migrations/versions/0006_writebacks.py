"""write-back records and the tag audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:00:00

``writebacks`` keeps, per tracker item, what ``v2mom writeback`` last wrote there (value and method,
by plan id and by the option name selected, when, and the explanation link), so a re-run writes only
what changed and a field reading equal to our own write is read as inferred. ``tag_audit`` logs the
tags admins set from the dashboard.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import v2mom.store.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'writebacks',
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=128), nullable=False),
        sa.Column('value_id', sa.String(length=64), nullable=True),
        sa.Column('value_label', sa.String(length=255), nullable=True),
        sa.Column('method_id', sa.String(length=64), nullable=True),
        sa.Column('method_label', sa.String(length=255), nullable=True),
        sa.Column('fields_at', v2mom.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('confirmed', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('link_url', sa.Text(), nullable=True),
        sa.Column('linked_at', v2mom.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('tracker', 'item_id', name=op.f('pk_writebacks')),
    )
    op.create_table(
        'tag_audit',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('at', v2mom.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=128), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('plan_id', sa.String(length=64), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_audit')),
    )


def downgrade() -> None:
    op.drop_table('tag_audit')
    op.drop_table('writebacks')
