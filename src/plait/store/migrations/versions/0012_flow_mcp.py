"""a published flow may be offered to MCP clients as a tool (off by default)

Revision ID: 0012_flow_mcp
Revises: 0011_token_scopes
Create Date: 2026-12-07 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_flow_mcp"
down_revision = "0011_token_scopes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mcp", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.drop_column("mcp")
