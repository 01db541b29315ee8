"""SQLAlchemy 2 typed models: the database schema of ged.

Designed for 10 million mails: every foreign key and every list filter has an index; nothing
here loads a collection implicitly (relationships are ``lazy="raise"`` unless stated).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ged.domain.model import (
    Channel,
    CorrespondentKind,
    Direction,
    Locale,
    MailStatus,
    Priority,
    Role,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite (no time zones) and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def _enum_check(column: str, values: type[enum.StrEnum]) -> str:
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Unit(Base):
    """A node of the org chart (direction, division, service)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_unit_manager_id_users"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="joined")
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id], lazy="joined")


class User(Base):
    __tablename__ = "users"  # "user" is reserved in PostgreSQL
    __table_args__ = (
        CheckConstraint(_enum_check("role", Role), name="role"),
        CheckConstraint(_enum_check("locale", Locale), name="locale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    locale: Mapped[str] = mapped_column(String(2), default=Locale.FR.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    # The daily e-mail digest (overdue and due-soon tasks): on unless the person switches it off.
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The agency day of the last digest sent (or found empty): one digest a day, even if the job
    # runs again or on two workers.
    last_digest_on: Mapped[dt.date | None] = mapped_column(Date)

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id], lazy="joined")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class Delegation(Base):
    """Between two dates, the tasks of ``from_user`` also go to ``to_user`` (absence)."""

    __tablename__ = "delegation"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates"),
        CheckConstraint("from_user_id <> to_user_id", name="distinct_users"),
        Index("ix_delegation_to_user_dates", "to_user_id", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Ended early (the person came back): kept, not deleted, so the history stays readable.
    ended_at: Mapped[dt.datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Correspondent(Base):
    """A sender or recipient outside the agency."""

    __tablename__ = "correspondent"
    __table_args__ = (CheckConstraint(_enum_check("kind", CorrespondentKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=CorrespondentKind.ORGANISATION.value)
    name: Mapped[str] = mapped_column(String(300), index=True)
    organisation: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="MA")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Classification(Base):
    """A node of the classification plan (plan de classement)."""

    __tablename__ = "classification"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("classification.id"), index=True)
    retention_years: Mapped[int | None] = mapped_column(Integer)


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (Index("ix_document_deleted_created", "deleted_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The unit that owns a library document: it decides who may see it (mail documents follow
    # their mail instead).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    classification_id: Mapped[int | None] = mapped_column(
        ForeignKey("classification.id"), index=True
    )
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[dt.datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set by the indexing job; a row with indexed_at older than updated_at awaits the index.
    indexed_at: Mapped[dt.datetime | None] = mapped_column(index=True)


class DocumentTag(Base):
    __tablename__ = "document_tag"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Version(Base):
    """An immutable file of a document; the bytes live in the store under their sha256."""

    __tablename__ = "version"
    __table_args__ = (
        UniqueConstraint("document_id", "number", name="uq_version_document_number"),
        CheckConstraint("size >= 0", name="size"),
        CheckConstraint("number >= 1", name="number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    page_count: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class VersionText(Base):
    """What the text extraction (OCR or text layer) found in a version: state, then pages.

    Kept apart from ``Version`` because versions are immutable and this changes as jobs run.
    """

    __tablename__ = "version_text"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'running', 'done', 'failed')", name="state"),
        Index("ix_version_text_state_updated", "state", "updated_at"),
    )

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    languages: Mapped[str] = mapped_column(String(32), default="fra+ara")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str] = mapped_column(String(32), default="")
    error: Mapped[str] = mapped_column(String(500), default="")
    searchable_sha256: Mapped[str | None] = mapped_column(String(64))
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PageText(Base):
    __tablename__ = "page_text"

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), primary_key=True)
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(16), default="ocr")


@event.listens_for(Session, "before_flush")
def _refuse_version_changes(session: Session, _context: object, _instances: object) -> None:
    """Versions are history: once written, neither edited nor deleted through the ORM."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Version) and (obj in session.deleted or session.is_modified(obj)):
            raise ValueError(f"version {obj.id} is immutable")


class MailType(Base):
    """Kind of mail (request, complaint, invoice…): carries the processing delay and circuit."""

    __tablename__ = "mail_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200), default="")
    delay_days: Mapped[int] = mapped_column(Integer, default=10)  # working days
    circuit: Mapped[str] = mapped_column(String(100), default="")  # BPMN process id
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Holiday(Base):
    """A public holiday: not a working day for deadlines."""

    __tablename__ = "holiday"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class ChronoCounter(Base):
    """Last chrono number given per direction and year; its row lock makes numbers gapless."""

    __tablename__ = "chrono_counter"

    direction: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Mail(Base):
    """A registered letter."""

    __tablename__ = "mail"
    __table_args__ = (
        CheckConstraint(_enum_check("direction", Direction), name="direction"),
        CheckConstraint(_enum_check("status", MailStatus), name="status"),
        CheckConstraint(_enum_check("priority", Priority), name="priority"),
        CheckConstraint(_enum_check("channel", Channel), name="channel"),
        UniqueConstraint("direction", "year", "number", name="uq_mail_direction_year_number"),
        Index("ix_mail_registered_at", "registered_at"),
        Index("ix_mail_direction_registered_at", "direction", "registered_at"),
        Index("ix_mail_status_due_on", "status", "due_on"),
        # The mail list filters on direction, status and a date range together; without it
        # PostgreSQL reads the list through mail_unit, ~50 times more pages (bench/registry).
        Index("ix_mail_direction_status_date", "direction", "status", "mail_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chrono: Mapped[str] = mapped_column(String(40), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.REGISTERED.value)
    subject: Mapped[str] = mapped_column(String(500))
    correspondent_id: Mapped[int | None] = mapped_column(ForeignKey("correspondent.id"), index=True)
    letter_date: Mapped[dt.date | None] = mapped_column(Date)
    # Received (incoming) or sent (outgoing) date.
    mail_date: Mapped[dt.date] = mapped_column(Date)
    sender_reference: Mapped[str] = mapped_column(String(100), default="")
    mail_type_id: Mapped[int | None] = mapped_column(ForeignKey("mail_type.id"), index=True)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL.value)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.POST.value)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    answer_to_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"), index=True)
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    indexed_at: Mapped[dt.datetime | None] = mapped_column(index=True)

    correspondent: Mapped[Correspondent | None] = relationship(lazy="joined")
    mail_type: Mapped[MailType | None] = relationship(lazy="joined")


class MailUnit(Base):
    """A unit the mail is addressed to."""

    __tablename__ = "mail_unit"

    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)


class MailPerson(Base):
    """A person named on the mail: they see it, confidential or not."""

    __tablename__ = "mail_person"

    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class MailDocument(Base):
    """The files of a mail, in order: position 0 is the main document."""

    __tablename__ = "mail_document"
    __table_args__ = (UniqueConstraint("mail_id", "position", name="uq_mail_document_position"),)

    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)


class Comment(Base):
    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_mail_created", "mail_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only, hash-chained: ``hash = sha256(prev_hash + canonical content)``."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row: the chain's last event. Updating it serialises writers so the chain never forks."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuthSession(Base):
    """A browser login; the cookie carries only a random token whose sha256 is stored here."""

    __tablename__ = "auth_session"
    __table_args__ = (Index("ix_auth_session_user_open", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str] = mapped_column(String(32), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class ApiToken(Base):
    """A bearer token for ``/api/v1``; only its sha256 is kept, the prefix helps people tell them apart."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class RateLimit(Base):
    """Fixed-window counters shared by every web process (login throttling)."""

    __tablename__ = "rate_limit"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


# --- Circuits and tasks ---------------------------------------------------------------------------

BINDING_KINDS = (
    "unit",
    "unit_manager",
    "top_unit_manager",
    "role",
    "addressed_unit",
    "addressed_unit_manager",
    "data_unit",
    "data_user",
    "initiator",
)
TASK_STATES = ("open", "claimed", "done", "cancelled")
TASK_KINDS = ("user", "escalation")
# Written out as SQL text, not bound parameters: SQLite uses a partial index only when the query
# repeats the index's condition with the same constants.
ACTIVE_TASK = "state IN ('open', 'claimed')"
OPEN_TASK = "state = 'open'"
PENDING_EMAIL = "sent_at IS NULL AND failed_at IS NULL"


def _listed(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CircuitDefinition(Base):
    """One deployed version of a BPMN circuit; the bytes are kept exactly as uploaded.

    New instances start on the active version of their process; a running instance keeps the
    version it started with (its state names the definition's sha256).
    """

    __tablename__ = "circuit_definition"
    __table_args__ = (
        UniqueConstraint("process_id", "version", name="uq_circuit_definition_process_version"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_circuit_definition_process_active", "process_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    lanes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_by_name: Mapped[str] = mapped_column(String(64), default="")
    deployed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LaneBinding(Base):
    """Who works in a lane of one definition version (see ``ged.services.circuits.BindingKind``)."""

    __tablename__ = "lane_binding"
    __table_args__ = (CheckConstraint(_listed("kind", BINDING_KINDS), name="kind"),)

    definition_id: Mapped[int] = mapped_column(
        ForeignKey("circuit_definition.id"), primary_key=True
    )
    lane: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # The unit of `unit` and `unit_manager`; the role or variable name of `role`, `data_*`.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    value: Mapped[str] = mapped_column(String(64), default="")


class CircuitInstance(Base):
    """One run of a circuit for a mail or a document: its state JSON and optimistic lock.

    Every step updates the row with ``WHERE lock_version = <the version read>``: of two steps
    racing on one instance, the second updates nothing and is refused.
    """

    __tablename__ = "circuit_instance"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'finished')", name="status"),
        CheckConstraint("mail_id IS NOT NULL OR document_id IS NOT NULL", name="subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("circuit_definition.id"), index=True)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    state: Mapped[str] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    next_wakeup_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    end_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class Task(Base):
    """One open or past human step: a ready user task of an instance, or an escalation.

    Inboxes, overdue lists and counts read this table only. Active rows (open: in a pool, nobody
    has taken it; claimed: someone holds it) have partial indexes per way of listing them; on
    PostgreSQL they carry the id, so a list picks its page from the index alone (SQLite's
    index entries end with the rowid, the id, already).
    """

    __tablename__ = "task"
    __table_args__ = (
        UniqueConstraint("instance_id", "engine_task_id", name="uq_task_instance_engine_task"),
        CheckConstraint(_listed("state", TASK_STATES), name="state"),
        CheckConstraint(_listed("kind", TASK_KINDS), name="kind"),
        Index(
            "ix_task_assignee_active",
            "assignee_id",
            "due_at",
            postgresql_where=text(ACTIVE_TASK),
            sqlite_where=text(ACTIVE_TASK),
            postgresql_include=["id"],
        ),
        Index(
            "ix_task_unit_pool",
            "candidate_unit_id",
            "due_at",
            postgresql_where=text(OPEN_TASK),
            sqlite_where=text(OPEN_TASK),
            postgresql_include=["id"],
        ),
        Index(
            "ix_task_role_pool",
            "candidate_role",
            "due_at",
            postgresql_where=text(OPEN_TASK),
            sqlite_where=text(OPEN_TASK),
            postgresql_include=["id"],
        ),
        Index(
            "ix_task_unit_active",
            "unit_id",
            "due_at",
            postgresql_where=text(ACTIVE_TASK),
            sqlite_where=text(ACTIVE_TASK),
            postgresql_include=["id"],
        ),
        Index(
            "ix_task_due_active",
            "due_at",
            postgresql_where=text(ACTIVE_TASK),
            sqlite_where=text(ACTIVE_TASK),
            postgresql_include=["id"],
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("circuit_instance.id"))
    # Copied from the instance so that inboxes never read it.
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="user")
    engine_task_id: Mapped[str | None] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(100))
    # The unit answerable for the task (its pool's, or its holder's): overdue lists by unit.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    candidate_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    candidate_role: Mapped[str | None] = mapped_column(String(16))
    candidate_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalated_task_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("task.id")
    )
    # The values the task's form starts from (its outcomes' required variables, its item).
    form_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="open")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    outcome: Mapped[str | None] = mapped_column(String(63))
    comment: Mapped[str] = mapped_column(Text, default="")
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    # Every ORM update of a row says ``WHERE lock_version = <read>``: two people claiming or
    # completing the same task at once cannot both succeed.
    __mapper_args__ = {"version_id_col": lock_version}


class TaskAttachment(Base):
    """A file given with a task's completion."""

    __tablename__ = "task_attachment"

    task_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("task.id"), primary_key=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id"), primary_key=True, index=True
    )


class OutboxEmail(Base):
    """An e-mail written in the transaction that caused it, sent by a job once that commits."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "next_attempt_at",
            postgresql_where=text(PENDING_EMAIL),
            sqlite_where=text(PENDING_EMAIL),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None]
    # Given up: refused recipient, or `max_attempts` failures.
    failed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")


UNREAD_NOTIFICATION = "read_at IS NULL"


class Notification(Base):
    """A line under the bell: written in the transaction of the event it tells about."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_created", "user_id", "created_at"),
        Index(
            "ix_notification_user_unread",
            "user_id",
            postgresql_where=text(UNREAD_NOTIFICATION),
            sqlite_where=text(UNREAD_NOTIFICATION),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(500))
    # A path inside ged ("/mail/42"), never a full URL: the page renders it as a local link.
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]


# --- Capture ----------------------------------------------------------------------------------

DRAFT_STATES = ("draft", "qualified", "discarded")


class CaptureDraft(Base):
    """A scan waiting in the "à qualifier" basket: a document that is not yet a mail.

    Kept out of ``mail`` on purpose: a draft has no chrono, so the register, its export, the
    mail list and the gapless numbering never see it. Qualifying it registers a mail (which
    takes its chrono then) and attaches the draft's document; discarding it keeps the document.
    """

    __tablename__ = "capture_draft"
    __table_args__ = (
        CheckConstraint(_listed("state", DRAFT_STATES), name="state"),
        Index("ix_capture_draft_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    # The scanned file's name and, for a segment of a batch, its pages in that file.
    source_name: Mapped[str] = mapped_column(String(255), default="")
    first_page: Mapped[int] = mapped_column(Integer, default=1)
    page_count: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"), index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(String(500), default="")
