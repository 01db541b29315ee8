"""Capture drafts: scans waiting in the "à qualifier" basket, kept apart from the register.

A separate table rather than a nullable chrono: the mail table keeps its NOT NULL, unique,
gapless chrono, and no list, export or count of mail has to learn to skip drafts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capture_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("first_page", sa.Integer(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'qualified', 'discarded')", name=op.f("ck_capture_draft_state")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_capture_draft_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_capture_draft_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_capture_draft_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["mail_id"], ["mail.id"], name=op.f("fk_capture_draft_mail_id_mail")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_draft")),
        sa.UniqueConstraint("document_id", name=op.f("uq_capture_draft_document_id")),
    )
    with op.batch_alter_table("capture_draft", schema=None) as batch_op:
        batch_op.create_index(
            "ix_capture_draft_state_created", ["state", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_capture_draft_mail_id"), ["mail_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("capture_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capture_draft_mail_id"))
        batch_op.drop_index("ix_capture_draft_state_created")
    op.drop_table("capture_draft")
