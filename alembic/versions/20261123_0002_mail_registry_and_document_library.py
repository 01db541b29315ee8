"""Mail registry and document library: mail, chrono counters, types, holidays, plan, tags.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:35:26.129456
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chrono_counter",
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("direction", "year", name=op.f("pk_chrono_counter")),
    )
    op.create_table(
        "classification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("retention_years", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["classification.id"],
            name=op.f("fk_classification_parent_id_classification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification")),
        sa.UniqueConstraint("code", name=op.f("uq_classification_code")),
    )
    with op.batch_alter_table("classification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_classification_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "holiday",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_holiday")),
    )
    op.create_table(
        "mail_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("delay_days", sa.Integer(), nullable=False),
        sa.Column("circuit", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_type")),
        sa.UniqueConstraint("code", name=op.f("uq_mail_type_code")),
    )
    op.create_table(
        "mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chrono", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("correspondent_id", sa.Integer(), nullable=True),
        sa.Column("letter_date", sa.Date(), nullable=True),
        sa.Column("mail_date", sa.Date(), nullable=False),
        sa.Column("sender_reference", sa.String(length=100), nullable=False),
        sa.Column("mail_type_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("answer_to_id", sa.Integer(), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('post', 'hand', 'email', 'portal')", name=op.f("ck_mail_channel")
        ),
        sa.CheckConstraint(
            "direction IN ('incoming', 'outgoing', 'internal')", name=op.f("ck_mail_direction")
        ),
        sa.CheckConstraint(
            "priority IN ('normal', 'urgent', 'very_urgent')", name=op.f("ck_mail_priority")
        ),
        sa.CheckConstraint(
            "status IN ('registered', 'in_progress', 'answered', 'closed')",
            name=op.f("ck_mail_status"),
        ),
        sa.ForeignKeyConstraint(
            ["answer_to_id"], ["mail.id"], name=op.f("fk_mail_answer_to_id_mail")
        ),
        sa.ForeignKeyConstraint(
            ["correspondent_id"],
            ["correspondent.id"],
            name=op.f("fk_mail_correspondent_id_correspondent"),
        ),
        sa.ForeignKeyConstraint(
            ["mail_type_id"], ["mail_type.id"], name=op.f("fk_mail_mail_type_id_mail_type")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_id"], ["users.id"], name=op.f("fk_mail_registered_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail")),
        sa.UniqueConstraint("chrono", name=op.f("uq_mail_chrono")),
        sa.UniqueConstraint("direction", "year", "number", name="uq_mail_direction_year_number"),
    )
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_answer_to_id"), ["answer_to_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_correspondent_id"), ["correspondent_id"], unique=False
        )
        batch_op.create_index(
            "ix_mail_direction_registered_at", ["direction", "registered_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_mail_type_id"), ["mail_type_id"], unique=False)
        batch_op.create_index("ix_mail_registered_at", ["registered_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_registered_by_id"), ["registered_by_id"], unique=False
        )
        batch_op.create_index("ix_mail_status_due_on", ["status", "due_on"], unique=False)

    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_comment_author_id_users")
        ),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name=op.f("fk_comment_mail_id_mail")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index("ix_comment_mail_created", ["mail_id", "created_at"], unique=False)

    op.create_table(
        "document_tag",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_document_tag_document_id_document")
        ),
        sa.PrimaryKeyConstraint("document_id", "tag", name=op.f("pk_document_tag")),
    )
    with op.batch_alter_table("document_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_tag_tag"), ["tag"], unique=False)

    op.create_table(
        "mail_document",
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_mail_document_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["mail_id"], ["mail.id"], name=op.f("fk_mail_document_mail_id_mail")
        ),
        sa.PrimaryKeyConstraint("mail_id", "document_id", name=op.f("pk_mail_document")),
        sa.UniqueConstraint("mail_id", "position", name="uq_mail_document_position"),
    )
    with op.batch_alter_table("mail_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_document_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "mail_person",
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name=op.f("fk_mail_person_mail_id_mail")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_person_user_id_users")
        ),
        sa.PrimaryKeyConstraint("mail_id", "user_id", name=op.f("pk_mail_person")),
    )
    with op.batch_alter_table("mail_person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_person_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mail_unit",
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name=op.f("fk_mail_unit_mail_id_mail")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_mail_unit_unit_id_unit")),
        sa.PrimaryKeyConstraint("mail_id", "unit_id", name=op.f("pk_mail_unit")),
    )
    with op.batch_alter_table("mail_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_unit_unit_id"), ["unit_id"], unique=False)

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=sa.func.now())
        )
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("classification_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("deleted_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_document_classification_id"), ["classification_id"], unique=False
        )
        batch_op.create_index(
            "ix_document_deleted_created", ["deleted_at", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_document_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_document_deleted_by_id_users"), "users", ["deleted_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_document_unit_id_unit"), "unit", ["unit_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_document_classification_id_classification"),
            "classification",
            ["classification_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_document_classification_id_classification"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_document_unit_id_unit"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_document_deleted_by_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_document_unit_id"))
        batch_op.drop_index("ix_document_deleted_created")
        batch_op.drop_index(batch_op.f("ix_document_classification_id"))
        batch_op.drop_column("deleted_by_id")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("legal_hold")
        batch_op.drop_column("classification_id")
        batch_op.drop_column("confidential")
        batch_op.drop_column("unit_id")
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("mail_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_unit_unit_id"))

    op.drop_table("mail_unit")
    with op.batch_alter_table("mail_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_person_user_id"))

    op.drop_table("mail_person")
    with op.batch_alter_table("mail_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_document_document_id"))

    op.drop_table("mail_document")
    with op.batch_alter_table("document_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_tag_tag"))

    op.drop_table("document_tag")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_mail_created")

    op.drop_table("comment")
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_status_due_on")
        batch_op.drop_index(batch_op.f("ix_mail_registered_by_id"))
        batch_op.drop_index("ix_mail_registered_at")
        batch_op.drop_index(batch_op.f("ix_mail_mail_type_id"))
        batch_op.drop_index("ix_mail_direction_registered_at")
        batch_op.drop_index(batch_op.f("ix_mail_correspondent_id"))
        batch_op.drop_index(batch_op.f("ix_mail_answer_to_id"))

    op.drop_table("mail")
    op.drop_table("mail_type")
    op.drop_table("holiday")
    with op.batch_alter_table("classification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classification_parent_id"))

    op.drop_table("classification")
    op.drop_table("chrono_counter")
