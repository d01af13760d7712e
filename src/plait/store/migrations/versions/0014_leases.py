"""leases on runs and batches (owner, expiry), and the callback outbox

Revision ID: 0014_leases
Revises: 0013_budget_days
Create Date: 2026-12-07 13:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_leases"
down_revision = "0013_budget_days"
branch_labels = None
depends_on = None

_LEASED = ("runs", "batches")


def upgrade() -> None:
    for table in _LEASED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
            expires = sa.Column("lease_expires", sa.DateTime(timezone=True), nullable=True)
            batch_op.add_column(expires)
    op.create_table(
        "callback_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_owner", sa.String(length=64), nullable=True),
        sa.Column("claim_expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callback_outbox_run_id", "callback_outbox", ["run_id"])
    op.create_index("ix_callback_outbox_state", "callback_outbox", ["state"])


def downgrade() -> None:
    op.drop_index("ix_callback_outbox_state", table_name="callback_outbox")
    op.drop_index("ix_callback_outbox_run_id", table_name="callback_outbox")
    op.drop_table("callback_outbox")
    for table in _LEASED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("lease_expires")
            batch_op.drop_column("lease_owner")
