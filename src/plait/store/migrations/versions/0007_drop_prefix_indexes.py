"""drop the two indexes that repeat the first column of another one

`ix_runs_flow_id` is the prefix of `ix_runs_idempotency` (flow_id, idempotency_key) and
`ix_node_runs_run_id` of the unique (run_id, node_id): the longer indexes serve the same
lookups, and each run's rows no longer pay for two more B-tree inserts.

Revision ID: 0007_drop_prefix_indexes
Revises: 0006_trigger_budget
Create Date: 2026-11-26 05:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007_drop_prefix_indexes"
down_revision = "0006_trigger_budget"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("node_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_node_runs_run_id")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_flow_id")


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_flow_id", ["flow_id"], unique=False)
    with op.batch_alter_table("node_runs", schema=None) as batch_op:
        batch_op.create_index("ix_node_runs_run_id", ["run_id"], unique=False)
