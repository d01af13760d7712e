"""published flows' daily budgets as one shared row per flow and UTC day

Revision ID: 0013_budget_days
Revises: 0012_flow_mcp
Create Date: 2026-12-07 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_budget_days"
down_revision = "0012_flow_mcp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget_days",
        sa.Column("flow_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("spent_usd", sa.Float(), nullable=False),
        sa.Column("reserved_usd", sa.Float(), nullable=False),
        sa.Column("in_flight", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("flow_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("budget_days")
