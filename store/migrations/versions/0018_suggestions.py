"""suggestion_models and suggestion_rejections: suggestions for untagged work

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:30:00

Suggestions are learned on this machine from the items people tagged. ``suggestion_models`` keeps
each model trained (under one plan version, with how many examples, its tags and its held-out
quality); only a model of the current plan version is used. ``suggestion_rejections`` keeps, per
item, the tags an admin rejected, which are never offered again for it. Both start empty: the
worker trains the first model after its next pass.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import v2mom.store.types

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

UTC_TIME = v2mom.store.types.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'suggestion_models',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('plan_version', sa.Integer(), nullable=False),
        sa.Column('trained_at', UTC_TIME, nullable=False),
        sa.Column('examples', sa.Integer(), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('quality', sa.JSON(), nullable=False),
        sa.Column('model', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_models')),
    )
    op.create_index(
        'ix_suggestion_models_plan_version', 'suggestion_models', ['plan_version', 'id'], unique=False
    )
    op.create_table(
        'suggestion_rejections',
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=128), nullable=False),
        sa.Column('tag', sa.String(length=160), nullable=False),
        sa.Column('rejected_at', UTC_TIME, nullable=False),
        sa.Column('rejected_by', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('tracker', 'item_id', 'tag', name=op.f('pk_suggestion_rejections')),
    )


def downgrade() -> None:
    op.drop_table('suggestion_rejections')
    op.drop_index('ix_suggestion_models_plan_version', table_name='suggestion_models')
    op.drop_table('suggestion_models')
