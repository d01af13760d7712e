"""what a node run warned about (a deprecated model), as a JSON list

Revision ID: 0009_node_run_warnings
Revises: 0008_version_message
Create Date: 2026-12-07 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_node_run_warnings"
down_revision = "0008_version_message"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("node_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("node_runs", schema=None) as batch_op:
        batch_op.drop_column("warnings")
