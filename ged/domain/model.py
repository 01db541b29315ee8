"""Value objects shared by every layer."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    REGISTRAR = "registrar"
    MANAGER = "manager"
    AGENT = "agent"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Administrateur",
    Role.REGISTRAR: "Bureau d'ordre",
    Role.MANAGER: "Responsable d'entité",
    Role.AGENT: "Agent",
    Role.AUDITOR: "Auditeur",
}


class Locale(enum.StrEnum):
    FR = "fr"
    AR = "ar"

    @property
    def is_rtl(self) -> bool:
        return self is Locale.AR


class CorrespondentKind(enum.StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class AuditAction(enum.StrEnum):
    """Every kind of event the hash-chained log records; past tense, dotted by object."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGGED_OUT = "session.ended"
    SESSION_REJECTED = "session.rejected"
    CSRF_REJECTED = "csrf.rejected"
    TOKEN_REJECTED = "token.rejected"  # noqa: S105
    PASSWORD_CHANGED = "password.changed"  # noqa: S105
    PASSWORD_RESET = "password.reset"  # noqa: S105
    TOKEN_CREATED = "token.created"  # noqa: S105
    TOKEN_REVOKED = "token.revoked"  # noqa: S105
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    UNIT_CREATED = "unit.created"
    UNIT_UPDATED = "unit.updated"
    DELEGATION_CREATED = "delegation.created"
    DELEGATION_ENDED = "delegation.ended"
    DOCUMENT_CREATED = "document.created"
    DOCUMENT_UPDATED = "document.updated"
    DOCUMENT_DOWNLOADED = "document.downloaded"
    DOCUMENT_DELETED = "document.deleted"
    DOCUMENT_RESTORED = "document.restored"
    DOCUMENT_HOLD_SET = "document.hold_set"
    DOCUMENT_HOLD_RELEASED = "document.hold_released"
    VERSION_ADDED = "version.added"
    OCR_RETRIED = "version.ocr_retried"
    MAIL_REGISTERED = "mail.registered"
    MAIL_UPDATED = "mail.updated"
    MAIL_VIEWED = "mail.viewed"
    MAIL_COMMENTED = "mail.commented"
    MAIL_LINKED = "mail.linked"
    MAIL_EXPORTED = "register.exported"
    CORRESPONDENT_CREATED = "correspondent.created"
    CLASSIFICATION_CREATED = "classification.created"
    MAIL_TYPE_CREATED = "mail_type.created"
    INSTANCE_INITIALISED = "instance.initialised"
    CIRCUIT_DEPLOYED = "circuit.deployed"
    CIRCUIT_STARTED = "circuit.started"
    CIRCUIT_TIMER_FIRED = "circuit.timer_fired"
    TASK_CLAIMED = "task.claimed"
    TASK_RELEASED = "task.released"
    TASK_COMPLETED = "task.completed"
    TASK_REASSIGNED = "task.reassigned"
    TASK_ESCALATED = "task.escalated"
    HOLIDAY_ADDED = "holiday.added"
    HOLIDAY_REMOVED = "holiday.removed"
    HOLIDAY_UPDATED = "holiday.updated"
    DRAFT_CREATED = "draft.created"
    DRAFT_QUALIFIED = "draft.qualified"
    DRAFT_DISCARDED = "draft.discarded"
    MAIL_SCAN_ATTACHED = "mail.scan_attached"
    SCAN_INGESTED = "scan.ingested"


class Direction(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERNAL = "internal"

    @property
    def prefix(self) -> str:
        return {"incoming": "A", "outgoing": "D", "internal": "I"}[self.value]

    @property
    def label(self) -> str:
        return {"incoming": "Arrivée", "outgoing": "Départ", "internal": "Interne"}[self.value]


class MailStatus(enum.StrEnum):
    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "registered": "Enregistré",
            "in_progress": "En traitement",
            "answered": "Répondu",
            "closed": "Clos",
        }[self.value]


class Priority(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    VERY_URGENT = "very_urgent"

    @property
    def label(self) -> str:
        return {"normal": "Normale", "urgent": "Urgente", "very_urgent": "Très urgente"}[self.value]


class Channel(enum.StrEnum):
    POST = "post"
    HAND = "hand"
    EMAIL = "email"
    PORTAL = "portal"

    @property
    def label(self) -> str:
        return {
            "post": "Courrier postal",
            "hand": "Dépôt en main propre",
            "email": "E-mail",
            "portal": "Portail",
        }[self.value]
