"""Registry indexes: the mail list's direction + status + date range filter.

Measured with bench/registry at 100,000 mails: the agent's filtered list read ~101,000
PostgreSQL buffers without it and ~2,100 with it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:25:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mail_direction_status_date", ["direction", "status", "mail_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_direction_status_date")
