"""a published flow's optional daily budget in USD

Revision ID: 0006_trigger_budget
Revises: 0005
Create Date: 2026-11-25 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_trigger_budget"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("daily_budget_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.drop_column("daily_budget_usd")
