"""API tokens get scopes and an optional expiry

Tokens made before scopes existed keep what they could do, except minting tokens and
changing the Gemini key: `run read write`.

Revision ID: 0011_token_scopes
Revises: 0010_run_error_category
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_token_scopes"
down_revision = "0010_run_error_category"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scopes", sa.String(length=64), nullable=False, server_default="run read write"
            )
        )
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
