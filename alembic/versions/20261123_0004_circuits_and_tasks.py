"""Circuits and tasks: definitions, lane bindings, instances, the task table, the e-mail outbox.

Also lets a delegation be ended early (ended_at, ended_by_id).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:12:48.576675
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("failed_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL AND failed_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL AND failed_at IS NULL"),
        )

    op.create_table(
        "circuit_definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("bpmn", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("lanes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deployed_by_id", sa.Integer(), nullable=True),
        sa.Column("deployed_by_name", sa.String(length=64), nullable=False),
        sa.Column("deployed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_circuit_definition_version")),
        sa.ForeignKeyConstraint(
            ["deployed_by_id"],
            ["users.id"],
            name=op.f("fk_circuit_definition_deployed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circuit_definition")),
        sa.UniqueConstraint("process_id", "version", name="uq_circuit_definition_process_version"),
    )
    with op.batch_alter_table("circuit_definition", schema=None) as batch_op:
        batch_op.create_index(
            "ix_circuit_definition_process_active", ["process_id", "active"], unique=False
        )

    op.create_table(
        "circuit_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("next_wakeup_at", sa.DateTime(), nullable=True),
        sa.Column("end_events", sa.JSON(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'finished')", name=op.f("ck_circuit_instance_status")
        ),
        sa.CheckConstraint(
            "mail_id IS NOT NULL OR document_id IS NOT NULL",
            name=op.f("ck_circuit_instance_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["circuit_definition.id"],
            name=op.f("fk_circuit_instance_definition_id_circuit_definition"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_circuit_instance_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["mail_id"], ["mail.id"], name=op.f("fk_circuit_instance_mail_id_mail")
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["users.id"], name=op.f("fk_circuit_instance_started_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circuit_instance")),
    )
    with op.batch_alter_table("circuit_instance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_circuit_instance_definition_id"), ["definition_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_circuit_instance_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_circuit_instance_mail_id"), ["mail_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_circuit_instance_next_wakeup_at"), ["next_wakeup_at"], unique=False
        )

    op.create_table(
        "lane_binding",
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("lane", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('unit', 'unit_manager', 'top_unit_manager', 'role', 'addressed_unit', 'addressed_unit_manager', 'data_unit', 'data_user', 'initiator')",
            name=op.f("ck_lane_binding_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["circuit_definition.id"],
            name=op.f("fk_lane_binding_definition_id_circuit_definition"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_lane_binding_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("definition_id", "lane", name=op.f("pk_lane_binding")),
    )
    with op.batch_alter_table("lane_binding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lane_binding_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("engine_task_id", sa.String(length=36), nullable=True),
        sa.Column("bpmn_id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lane", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("candidate_unit_id", sa.Integer(), nullable=True),
        sa.Column("candidate_role", sa.String(length=16), nullable=True),
        sa.Column("candidate_user_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column(
            "escalated_task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("form_data", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=63), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('user', 'escalation')", name=op.f("ck_task_kind")),
        sa.CheckConstraint(
            "state IN ('open', 'claimed', 'done', 'cancelled')", name=op.f("ck_task_state")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_task_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_unit_id"], ["unit.id"], name=op.f("fk_task_candidate_unit_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_user_id"], ["users.id"], name=op.f("fk_task_candidate_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["completed_by_id"], ["users.id"], name=op.f("fk_task_completed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_task_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["escalated_task_id"], ["task.id"], name=op.f("fk_task_escalated_task_id_task")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["circuit_instance.id"],
            name=op.f("fk_task_instance_id_circuit_instance"),
        ),
        sa.ForeignKeyConstraint(["mail_id"], ["mail.id"], name=op.f("fk_task_mail_id_mail")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_task_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
        sa.UniqueConstraint("instance_id", "engine_task_id", name="uq_task_instance_engine_task"),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_assignee_active",
            ["assignee_id", "due_at"],
            unique=False,
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
        )
        batch_op.create_index(batch_op.f("ix_task_document_id"), ["document_id"], unique=False)
        batch_op.create_index(
            "ix_task_due_active",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
        )
        batch_op.create_index(batch_op.f("ix_task_mail_id"), ["mail_id"], unique=False)
        batch_op.create_index(
            "ix_task_role_pool",
            ["candidate_role", "due_at"],
            unique=False,
            postgresql_where=sa.text("state = 'open'"),
            sqlite_where=sa.text("state = 'open'"),
        )
        batch_op.create_index(
            "ix_task_unit_active",
            ["unit_id", "due_at"],
            unique=False,
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
        )
        batch_op.create_index(
            "ix_task_unit_pool",
            ["candidate_unit_id", "due_at"],
            unique=False,
            postgresql_where=sa.text("state = 'open'"),
            sqlite_where=sa.text("state = 'open'"),
        )

    op.create_table(
        "task_attachment",
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_task_attachment_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_attachment_task_id_task")
        ),
        sa.PrimaryKeyConstraint("task_id", "document_id", name=op.f("pk_task_attachment")),
    )
    with op.batch_alter_table("task_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_task_attachment_document_id"), ["document_id"], unique=False
        )

    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ended_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_delegation_ended_by_id_users"), "users", ["ended_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_delegation_ended_by_id_users"), type_="foreignkey")
        batch_op.drop_column("ended_by_id")
        batch_op.drop_column("ended_at")

    with op.batch_alter_table("task_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_attachment_document_id"))

    op.drop_table("task_attachment")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_task_unit_pool",
            postgresql_where=sa.text("state = 'open'"),
            sqlite_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index(
            "ix_task_unit_active",
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
        )
        batch_op.drop_index(
            "ix_task_role_pool",
            postgresql_where=sa.text("state = 'open'"),
            sqlite_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_task_mail_id"))
        batch_op.drop_index(
            "ix_task_due_active",
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
        )
        batch_op.drop_index(batch_op.f("ix_task_document_id"))
        batch_op.drop_index(
            "ix_task_assignee_active",
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
        )

    op.drop_table("task")
    with op.batch_alter_table("lane_binding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lane_binding_unit_id"))

    op.drop_table("lane_binding")
    with op.batch_alter_table("circuit_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_circuit_instance_next_wakeup_at"))
        batch_op.drop_index(batch_op.f("ix_circuit_instance_mail_id"))
        batch_op.drop_index(batch_op.f("ix_circuit_instance_document_id"))
        batch_op.drop_index(batch_op.f("ix_circuit_instance_definition_id"))

    op.drop_table("circuit_instance")
    with op.batch_alter_table("circuit_definition", schema=None) as batch_op:
        batch_op.drop_index("ix_circuit_definition_process_active")

    op.drop_table("circuit_definition")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_pending",
            postgresql_where=sa.text("sent_at IS NULL AND failed_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL AND failed_at IS NULL"),
        )

    op.drop_table("outbox")
