"""a failed run's error category: whose move it is (errors.Category)

The published API answers a failed run with a status that says whose fault it was (422
for the flow's input, 502/503/504 for the image provider's side); a repeated
Idempotency-Key reads the run back and must answer alike.

Revision ID: 0008_run_error_category
Revises: 0007_drop_prefix_indexes
Create Date: 2026-12-07 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_run_error_category"
down_revision = "0007_drop_prefix_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_category", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("error_category")
