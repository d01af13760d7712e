"""batches started through the server: flow version, budget, concurrency, state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flow_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("flow_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("budget_usd", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("concurrency", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("estimate_usd", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_batches_flow_id"), ["flow_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_batches_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_state"))
        batch_op.drop_index(batch_op.f("ix_batches_flow_id"))
        batch_op.drop_column("state")
        batch_op.drop_column("estimate_usd")
        batch_op.drop_column("concurrency")
        batch_op.drop_column("budget_usd")
        batch_op.drop_column("flow_version")
        batch_op.drop_column("flow_id")
