"""Text extraction state and page texts; indexed_at on mail and documents for the search sweep.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:44:08.095176
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_text",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_page_text_version_id_version")
        ),
        sa.PrimaryKeyConstraint("version_id", "page", name=op.f("pk_page_text")),
    )
    op.create_table(
        "version_text",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("languages", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("searchable_sha256", sa.String(length=64), nullable=True),
        sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'done', 'failed')", name=op.f("ck_version_text_state")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_version_text_version_id_version")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_version_text")),
    )
    with op.batch_alter_table("version_text", schema=None) as batch_op:
        batch_op.create_index(
            "ix_version_text_state_updated", ["state", "updated_at"], unique=False
        )

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("indexed_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_document_indexed_at"), ["indexed_at"], unique=False)

    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("indexed_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_mail_indexed_at"), ["indexed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_indexed_at"))
        batch_op.drop_column("indexed_at")

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_indexed_at"))
        batch_op.drop_column("indexed_at")

    with op.batch_alter_table("version_text", schema=None) as batch_op:
        batch_op.drop_index("ix_version_text_state_updated")

    op.drop_table("version_text")
    op.drop_table("page_text")
