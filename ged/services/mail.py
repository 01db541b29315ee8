"""The mail registry: register, find, read, comment and link mail; export the legal register."""

from __future__ import annotations

import dataclasses
import datetime as dt
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, UnaryExpression, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ged.adapters.db import escape_like
from ged.adapters.jobs import Jobs
from ged.adapters.orm import (
    AuditEvent,
    ChronoCounter,
    Comment,
    Correspondent,
    Document,
    Holiday,
    Mail,
    MailDocument,
    MailPerson,
    MailType,
    MailUnit,
    Unit,
    User,
    Version,
)
from ged.adapters.storage import StoredFile
from ged.adapters.uow import UnitOfWork
from ged.clock import Clock, now_in, utc_now
from ged.config import RegistrySettings
from ged.domain.calendar import WorkingCalendar
from ged.domain.errors import ConfigurationError, NotFound, PermissionDenied, ValidationError
from ged.domain.model import (
    AuditAction,
    Channel,
    CorrespondentKind,
    Direction,
    MailStatus,
    Priority,
    Role,
)
from ged.jobs import INDEX_MAIL
from ged.services.audit import Actor, record
from ged.services.documents import DocumentData, Documents, IncomingFile
from ged.services.permissions import can_write_registry, unit_subtree, visible_mail
from ged.services.tasks import Tasks
from ged.services.uploads import Upload, check_upload

MAX_SUBJECT = 500
MAX_COMMENT = 5000
CHRONO_FIELDS = {"prefix", "year", "number"}


def check_chrono_format(fmt: str) -> None:
    """Only {prefix}, {year} and {number} with a format spec; no attribute or index access."""
    names = set()
    for _literal, name, _spec, _conv in string.Formatter().parse(fmt):
        if name is None:
            continue
        if name not in CHRONO_FIELDS:
            raise ConfigurationError(
                "registry.chrono_format: unknown field {%(name)s}; use %(fields)s",
                name=name,
                fields=sorted(CHRONO_FIELDS),
            )
        names.add(name)
    if "number" not in names or "year" not in names:
        raise ConfigurationError("registry.chrono_format must contain {year} and {number}")
    try:
        fmt.format(prefix="A", year=2026, number=1)
    except ValueError as exc:  # a bad format spec, e.g. {number:q}
        raise ConfigurationError("registry.chrono_format: %(error)s", error=exc) from None


@dataclass(frozen=True)
class MailInput:
    """What a person may set when registering; chrono, status and owner are never read from input."""

    direction: str
    subject: str
    mail_date: dt.date | None = None
    letter_date: dt.date | None = None
    correspondent_id: int | None = None
    correspondent_name: str = ""
    sender_reference: str = ""
    mail_type_id: int | None = None
    priority: str = Priority.NORMAL.value
    confidential: bool = False
    channel: str = Channel.POST.value
    unit_ids: tuple[int, ...] = ()
    person_ids: tuple[int, ...] = ()
    answer_to_id: int | None = None


class MailFields(Protocol):
    """The fields registration and correction share, checked by the same rules."""

    @property
    def subject(self) -> str: ...
    @property
    def mail_date(self) -> dt.date | None: ...
    @property
    def letter_date(self) -> dt.date | None: ...
    @property
    def correspondent_id(self) -> int | None: ...
    @property
    def correspondent_name(self) -> str: ...
    @property
    def sender_reference(self) -> str: ...
    @property
    def mail_type_id(self) -> int | None: ...
    @property
    def priority(self) -> str: ...
    @property
    def confidential(self) -> bool: ...
    @property
    def channel(self) -> str: ...
    @property
    def unit_ids(self) -> tuple[int, ...]: ...
    @property
    def person_ids(self) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class MailEdit:
    """A correction of a registered mail: every field it has replaces the mail's.

    Chrono, direction, year and number, status and the registering person are not fields, so a
    correction can never change them. ``mail_date`` None keeps the mail's date; a correspondent
    is an existing one (``correspondent_id``) or a name, looked up or created as at registration.
    """

    subject: str
    mail_date: dt.date | None = None
    letter_date: dt.date | None = None
    correspondent_id: int | None = None
    correspondent_name: str = ""
    sender_reference: str = ""
    mail_type_id: int | None = None
    priority: str = Priority.NORMAL.value
    confidential: bool = False
    channel: str = Channel.POST.value
    unit_ids: tuple[int, ...] = ()
    person_ids: tuple[int, ...] = ()

    @classmethod
    def of(cls, view: MailView) -> MailEdit:
        """The mail as it stands: the starting point of a correction."""
        mail = view.mail
        return cls(
            subject=mail.subject,
            mail_date=mail.mail_date,
            letter_date=mail.letter_date,
            correspondent_id=mail.correspondent_id,
            correspondent_name=mail.correspondent.name if mail.correspondent else "",
            sender_reference=mail.sender_reference,
            mail_type_id=mail.mail_type_id,
            priority=mail.priority,
            confidential=mail.confidential,
            channel=mail.channel,
            unit_ids=tuple(u.id for u in view.units),
            person_ids=tuple(p.id for p in view.people),
        )


# Fields a correction may change, as the audit log names them ({field: [before, after]}).
EDITABLE = (
    "subject",
    "correspondent_id",
    "letter_date",
    "mail_date",
    "sender_reference",
    "mail_type_id",
    "priority",
    "confidential",
    "channel",
    "unit_ids",
    "person_ids",
    "due_on",
)


@dataclass(frozen=True)
class Registered:
    id: int
    chrono: str


@dataclass(frozen=True)
class MailFilter:
    direction: str = ""
    status: str = ""
    unit_id: int | None = None
    mail_type_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    overdue: bool = False
    text: str = ""
    sort: str = "-registered"
    page: int = 1
    per_page: int = 25


SORTS: dict[str, tuple[UnaryExpression[Any], ...]] = {
    "registered": (Mail.registered_at.asc(), Mail.id.asc()),
    "-registered": (Mail.registered_at.desc(), Mail.id.desc()),
    "due": (Mail.due_on.asc(), Mail.id.asc()),
    "-due": (Mail.due_on.desc(), Mail.id.desc()),
    "chrono": (Mail.direction.asc(), Mail.year.asc(), Mail.number.asc()),
    "-chrono": (Mail.direction.desc(), Mail.year.desc(), Mail.number.desc()),
}


@dataclass(frozen=True)
class MailPage:
    rows: Sequence[Mail]
    total: int
    page: int
    per_page: int
    units: dict[int, list[str]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    actor_name: str
    action: str
    details: dict[str, object]
    # Where a reassignment gave the task: the unit's (French) name, or the person's name.
    to_unit: str = ""
    to_person: str = ""


@dataclass(frozen=True)
class CommentView:
    id: int
    author: str
    body: str
    created_at: dt.datetime


@dataclass(frozen=True)
class MailView:
    mail: Mail
    units: Sequence[Unit]
    people: Sequence[User]
    documents: Sequence[tuple[Document, Version]]
    comments: Sequence[CommentView]
    timeline: Sequence[TimelineEntry]
    answers: Sequence[Mail]
    answer_to: Mail | None
    registered_by: str
    overdue: bool


class Registry:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        documents: Documents,
        settings: RegistrySettings,
        max_file_bytes: int,
        timezone: str,
        jobs: Jobs,
        circuits: Tasks | None = None,
        clock: Clock = utc_now,
    ) -> None:
        check_chrono_format(settings.chrono_format)
        self._jobs = jobs
        # Starts the circuit of the mail's type in the registration's transaction.
        self._circuits = circuits
        self._writer = writer
        self._reader = reader
        self._documents = documents
        self._settings = settings
        self._max_file_bytes = max_file_bytes
        self._tz = ZoneInfo(timezone)
        self._clock = clock

    def today(self) -> dt.date:
        return self._clock().astimezone(self._tz).date()

    # --- registration -------------------------------------------------------------------------

    def register(self, actor: Actor, data: MailInput, uploads: Sequence[Upload] = ()) -> Registered:
        """Register a mail with its files in one transaction; nothing is kept if anything fails.

        Every check runs before the first byte is stored and before the chrono is taken, so a
        refused registration consumes no number and leaves no file.
        """
        direction = _direction(data.direction)
        self._check_may_register(actor, direction)
        _validate_fields(data)
        if len(uploads) > self._settings.max_files:
            raise ValidationError(
                "%(count)s fichiers au plus.", "files", count=self._settings.max_files
            )
        files = [check_upload(upload, self._max_file_bytes) for upload in uploads]
        today = self.today()
        mail_date = data.mail_date or today
        _check_dates(data.letter_date, mail_date, today)
        with self._reader() as uow:
            # Checked again in the transaction below; checking first keeps a refused
            # registration from leaving its files in the store.
            self._check_references(uow.session, actor, data, direction)
        stored = [self._documents.store_file(file) for file in files]
        with self._writer() as uow:

            def attach(session: Session, mail: Mail) -> list[str]:
                self._attach(session, actor, mail, files, stored, start=0)
                return [f.original_name for f in files]

            registered = self._register_in(uow, actor, data, direction, mail_date, attach)
            uow.commit()
            return registered

    def register_in(
        self,
        uow: UnitOfWork,
        actor: Actor,
        data: MailInput,
        attach: Callable[[Session, Mail], list[str]],
    ) -> Registered:
        """Register a mail in the caller's transaction, ``attach`` giving it its documents.

        For documents already stored (a scan qualified from the capture basket): the same
        checks, chrono, audit and circuit start as ``register``; the caller commits.
        """
        direction = _direction(data.direction)
        self._check_may_register(actor, direction)
        _validate_fields(data)
        today = self.today()
        mail_date = data.mail_date or today
        _check_dates(data.letter_date, mail_date, today)
        return self._register_in(uow, actor, data, direction, mail_date, attach)

    def _register_in(
        self,
        uow: UnitOfWork,
        actor: Actor,
        data: MailInput,
        direction: Direction,
        mail_date: dt.date,
        attach: Callable[[Session, Mail], list[str]],
    ) -> Registered:
        session = uow.session
        self._check_references(session, actor, data, direction)
        # The number first: every registration locks the counter, then the audit head
        # (record, here in _correspondent), never the reverse, or PostgreSQL deadlocks.
        year = self.today().year
        number = _take_number(session, direction, year)
        correspondent_id = self._correspondent(session, actor, data)
        mail_type = session.get(MailType, data.mail_type_id) if data.mail_type_id else None
        due_on = self._due_on(session, direction, mail_type, mail_date)
        chrono = self._settings.chrono_format.format(
            prefix=direction.prefix, year=year, number=number
        )
        mail = Mail(
            chrono=chrono,
            direction=direction.value,
            year=year,
            number=number,
            subject=data.subject.strip(),
            correspondent_id=correspondent_id,
            letter_date=data.letter_date,
            mail_date=mail_date,
            sender_reference=data.sender_reference.strip(),
            mail_type_id=mail_type.id if mail_type else None,
            priority=data.priority,
            confidential=data.confidential,
            channel=data.channel,
            due_on=due_on,
            answer_to_id=data.answer_to_id,
            registered_by_id=actor.user_id,
        )
        session.add(mail)
        session.flush()
        for unit_id in dict.fromkeys(data.unit_ids):
            session.add(MailUnit(mail_id=mail.id, unit_id=unit_id))
        for user_id in dict.fromkeys(data.person_ids):
            session.add(MailPerson(mail_id=mail.id, user_id=user_id))
        session.flush()
        names = attach(session, mail)
        if data.answer_to_id is not None:
            answered = session.get(Mail, data.answer_to_id)
            if answered is not None:
                answered.status = MailStatus.ANSWERED.value
                answered.updated_at = now_in(session)
        record(
            session,
            actor,
            AuditAction.MAIL_REGISTERED,
            "mail",
            mail.id,
            {
                "chrono": chrono,
                "subject": mail.subject,
                "files": names,
                "units": list(data.unit_ids),
                "confidential": mail.confidential,
            },
        )
        if self._circuits is not None and mail_type is not None and mail_type.circuit:
            self._circuits.start_for_mail(uow, actor, mail, mail_type.circuit)
        self._reindex_after_commit(uow, mail.id)
        if data.answer_to_id is not None:
            self._reindex_after_commit(uow, data.answer_to_id)
        return Registered(mail.id, chrono)

    def attach_files(self, actor: Actor, mail_id: int, uploads: Sequence[Upload]) -> None:
        """Add files to a registered mail (after the main one)."""
        if not uploads:
            raise ValidationError("Aucun fichier envoyé.", "files")
        files = [check_upload(upload, self._max_file_bytes) for upload in uploads]
        with self._reader() as uow:
            self._visible(uow.session, actor, mail_id)
        self._check_may_edit(actor)
        stored = [self._documents.store_file(file) for file in files]
        with self._writer() as uow:
            mail = self._visible(uow.session, actor, mail_id)
            last = uow.session.execute(
                select(func.max(MailDocument.position)).where(MailDocument.mail_id == mail.id)
            ).scalar_one()
            self._attach(uow.session, actor, mail, files, stored, start=(last or -1) + 1)
            mail.updated_at = uow.now()
            self._reindex_after_commit(uow, mail.id)
            uow.commit()

    def _reindex_after_commit(self, uow: UnitOfWork, mail_id: int) -> None:
        uow.on_commit(lambda: self._jobs.enqueue(INDEX_MAIL, mail_id))

    def _attach(
        self,
        session: Session,
        actor: Actor,
        mail: Mail,
        files: Sequence[IncomingFile],
        stored: Sequence[StoredFile],
        start: int,
    ) -> None:
        addressed = session.execute(
            select(MailUnit.unit_id).where(MailUnit.mail_id == mail.id).limit(1)
        ).scalar_one_or_none()
        for offset, (file, stored_file) in enumerate(zip(files, stored, strict=True)):
            document = self._documents.create_in(
                session,
                actor,
                DocumentData(title=f"{mail.chrono} — {file.original_name}"[:500]),
                stored_file,
                file,
                unit_id=addressed,
            )
            session.add(
                MailDocument(mail_id=mail.id, document_id=document.id, position=start + offset)
            )
        session.flush()

    def _check_may_register(self, actor: Actor, direction: Direction) -> None:
        if actor.role is Role.AUDITOR:
            raise PermissionDenied("Un auditeur ne peut pas enregistrer de courrier.")
        if direction is not Direction.INTERNAL and not can_write_registry(actor):
            raise PermissionDenied(
                "Seul le bureau d'ordre enregistre le courrier arrivée et départ."
            )

    def _check_may_edit(self, actor: Actor) -> None:
        if actor.role is Role.AUDITOR:
            raise PermissionDenied("Un auditeur ne modifie aucun courrier.")

    def _check_references(
        self, session: Session, actor: Actor, data: MailInput, direction: Direction
    ) -> None:
        _check_field_references(session, data)
        if data.answer_to_id is not None:
            if direction is not Direction.OUTGOING:
                raise ValidationError("Seul un courrier départ peut répondre à un courrier.")
            answered = session.execute(
                select(Mail).where(Mail.id == data.answer_to_id, visible_mail(session, actor))
            ).scalar_one_or_none()
            if answered is None or answered.direction != Direction.INCOMING.value:
                raise ValidationError(
                    "Le courrier auquel celui-ci répond est introuvable.", "answer_to_id"
                )

    def _correspondent(self, session: Session, actor: Actor, data: MailFields) -> int | None:
        if data.correspondent_id is not None:
            return data.correspondent_id
        name = " ".join(data.correspondent_name.split())
        if not name:
            return None
        existing = session.execute(
            select(Correspondent.id).where(func.lower(Correspondent.name) == name.lower())
        ).scalar_one_or_none()
        if existing is not None:
            return existing
        correspondent = Correspondent(name=name[:300], kind=CorrespondentKind.ORGANISATION.value)
        session.add(correspondent)
        session.flush()
        record(
            session,
            actor,
            AuditAction.CORRESPONDENT_CREATED,
            "correspondent",
            correspondent.id,
            {"name": correspondent.name},
        )
        return correspondent.id

    def _due_on(
        self,
        session: Session,
        direction: Direction,
        mail_type: MailType | None,
        mail_date: dt.date,
    ) -> dt.date | None:
        """The mail type's delay in working days from the mail's date; outgoing mail has none."""
        if mail_type is None or direction is Direction.OUTGOING:
            return None
        return self.calendar(session).add_working_days(mail_date, mail_type.delay_days)

    # --- correction ---------------------------------------------------------------------------

    def may_update(self, actor: Actor, mail: Mail) -> bool:
        """The bureau d'ordre corrects any mail it sees; others only the mail they registered."""
        if actor.role is Role.AUDITOR:
            return False
        if can_write_registry(actor):
            return True
        return actor.user_id is not None and mail.registered_by_id == actor.user_id

    def check_may_update(self, actor: Actor, mail: Mail) -> None:
        if actor.role is Role.AUDITOR:
            raise PermissionDenied("Un auditeur ne modifie aucun courrier.")
        if not self.may_update(actor, mail):
            raise PermissionDenied(
                "Seuls le bureau d'ordre et la personne qui l'a enregistré modifient ce courrier."
            )

    def update(self, actor: Actor, mail_id: int, data: MailEdit) -> dict[str, list[object]]:
        """Correct a registered mail in one transaction; returns (and audits) what changed.

        A mail the actor cannot see is not found; one they see but may not correct is
        forbidden. Nothing is written when a check fails, nor when nothing changed.
        """
        with self._writer() as uow:
            session = uow.session
            mail = self._visible(session, actor, mail_id)
            self.check_may_update(actor, mail)
            # The mail row first, then the audit head (in record): the order every writer of a
            # mail follows (see link_answer), or PostgreSQL deadlocks.
            session.execute(select(Mail.id).where(Mail.id == mail.id).with_for_update())
            direction = Direction(mail.direction)
            _check_fields(direction.value, data)
            mail_date = data.mail_date or mail.mail_date
            _check_dates(data.letter_date, mail_date, self.today())
            self._check_new_references(session, mail, data)
            before = _editable_values(session, mail)
            correspondent_id = self._correspondent(session, actor, data)
            mail.subject = data.subject.strip()
            mail.correspondent_id = correspondent_id
            mail.letter_date = data.letter_date
            mail.mail_date = mail_date
            mail.sender_reference = data.sender_reference.strip()
            mail.priority = data.priority
            mail.confidential = data.confidential
            mail.channel = data.channel
            if (data.mail_type_id, mail_date.isoformat()) != (
                before["mail_type_id"],
                before["mail_date"],
            ):
                mail_type = session.get(MailType, data.mail_type_id) if data.mail_type_id else None
                mail.mail_type_id = mail_type.id if mail_type else None
                mail.due_on = self._due_on(session, direction, mail_type, mail_date)
            _replace_links(session, MailUnit, MailUnit.unit_id, mail.id, data.unit_ids)
            _replace_links(session, MailPerson, MailPerson.user_id, mail.id, data.person_ids)
            session.flush()
            after = _editable_values(session, mail)
            changes = {k: [before[k], after[k]] for k in EDITABLE if before[k] != after[k]}
            if not changes:
                return {}
            mail.updated_at = uow.now()
            record(session, actor, AuditAction.MAIL_UPDATED, "mail", mail.id, dict(changes))
            self._reindex_after_commit(uow, mail.id)
            uow.commit()
            return changes

    def _check_new_references(self, session: Session, mail: Mail, data: MailEdit) -> None:
        """As at registration, for what the correction adds; what the mail has may stay.

        A mail type since retired, or a person since gone, stays on the mail it was given to.
        """
        units = set(
            session.execute(select(MailUnit.unit_id).where(MailUnit.mail_id == mail.id)).scalars()
        )
        people = set(
            session.execute(
                select(MailPerson.user_id).where(MailPerson.mail_id == mail.id)
            ).scalars()
        )
        _check_field_references(
            session,
            dataclasses.replace(
                data,
                mail_type_id=None if data.mail_type_id == mail.mail_type_id else data.mail_type_id,
                unit_ids=tuple(i for i in data.unit_ids if i not in units),
                person_ids=tuple(i for i in data.person_ids if i not in people),
                correspondent_id=(
                    None
                    if data.correspondent_id == mail.correspondent_id
                    else data.correspondent_id
                ),
            ),
        )

    def calendar(self, session: Session) -> WorkingCalendar:
        return WorkingCalendar.with_holidays(session.execute(select(Holiday.day)).scalars())

    # --- reading ------------------------------------------------------------------------------

    def get(self, actor: Actor, mail_id: int) -> MailView:
        """A mail the actor may see; viewing confidential mail is audited."""
        with self._reader() as uow:
            session = uow.session
            mail = self._visible(session, actor, mail_id)
            units = (
                session.execute(
                    select(Unit)
                    .join(MailUnit, MailUnit.unit_id == Unit.id)
                    .where(MailUnit.mail_id == mail.id)
                    .order_by(Unit.code)
                )
                .scalars()
                .all()
            )
            people = (
                session.execute(
                    select(User)
                    .join(MailPerson, MailPerson.user_id == User.id)
                    .where(MailPerson.mail_id == mail.id)
                    .order_by(User.full_name)
                )
                .scalars()
                .all()
            )
            documents = _mail_documents(session, [mail.id]).get(mail.id, [])
            comments = [
                CommentView(c.id, name, c.body, c.created_at)
                for c, name in session.execute(
                    select(Comment, User.full_name)
                    .join(User, User.id == Comment.author_id)
                    .where(Comment.mail_id == mail.id)
                    .order_by(Comment.created_at, Comment.id)
                )
            ]
            timeline = self._timeline(session, mail, [d.id for d, _ in documents])
            visible = visible_mail(session, actor)
            answers = (
                session.execute(
                    select(Mail).where(Mail.answer_to_id == mail.id, visible).order_by(Mail.id)
                )
                .scalars()
                .all()
            )
            answer_to = (
                session.execute(
                    select(Mail).where(Mail.id == mail.answer_to_id, visible)
                ).scalar_one_or_none()
                if mail.answer_to_id
                else None
            )
            registered_by = (
                session.execute(
                    select(User.full_name).where(User.id == mail.registered_by_id)
                ).scalar_one_or_none()
                or "système"
            )
        if mail.confidential:
            with self._writer() as uow:
                record(uow.session, actor, AuditAction.MAIL_VIEWED, "mail", mail.id)
                uow.commit()
        return MailView(
            mail=mail,
            units=units,
            people=people,
            documents=documents,
            comments=comments,
            timeline=timeline,
            answers=answers,
            answer_to=answer_to,
            registered_by=registered_by,
            overdue=self._is_overdue(mail),
        )

    def _is_overdue(self, mail: Mail) -> bool:
        open_states = (MailStatus.REGISTERED.value, MailStatus.IN_PROGRESS.value)
        return bool(mail.due_on and mail.status in open_states and mail.due_on < self.today())

    def _timeline(
        self, session: Session, mail: Mail, document_ids: list[int]
    ) -> list[TimelineEntry]:
        conditions = [and_(AuditEvent.object_type == "mail", AuditEvent.object_id == str(mail.id))]
        if document_ids:
            conditions.append(
                and_(
                    AuditEvent.object_type == "document",
                    AuditEvent.object_id.in_([str(i) for i in document_ids]),
                )
            )
        events = (
            session.execute(
                select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id).limit(500)
            )
            .scalars()
            .all()
        )
        names = self._reassignment_names(session, events)
        return [
            TimelineEntry(e.at, e.actor_name, e.action, e.details, *names.get(e.id, ("", "")))
            for e in events
        ]

    @staticmethod
    def _reassignment_names(
        session: Session, events: Sequence[AuditEvent]
    ) -> dict[int, tuple[str, str]]:
        """(unit, person) each reassignment gave its task to, by event: the audit keeps ids,
        the history names them as they are called today."""
        moves = {e.id: e.details for e in events if e.action == AuditAction.TASK_REASSIGNED}
        unit_ids = {d["to_unit"] for d in moves.values() if isinstance(d.get("to_unit"), int)}
        person_ids = {
            d["to"] for d in moves.values() if "to_unit" not in d and isinstance(d.get("to"), int)
        }
        units: dict[object, str] = {}
        people: dict[object, str] = {}
        if unit_ids:
            query = select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))
            units = dict(session.execute(query).all())
        if person_ids:
            query = select(User.id, User.full_name).where(User.id.in_(person_ids))
            people = dict(session.execute(query).all())
        return {
            event_id: (units.get(d.get("to_unit"), ""), "")
            if "to_unit" in d
            else ("", people.get(d.get("to"), ""))
            for event_id, d in moves.items()
        }

    def search(self, actor: Actor, query: MailFilter) -> MailPage:
        """The mail list: filters, sort and pages, counted and fetched under the same permission."""
        with self._reader() as uow:
            session = uow.session
            conditions = self._conditions(session, actor, query)
            total = session.execute(
                select(func.count()).select_from(Mail).where(*conditions)
            ).scalar_one()
            page = max(1, query.page)
            per_page = min(max(1, query.per_page), 200)
            rows = (
                session.execute(
                    select(Mail)
                    .where(*conditions)
                    .order_by(*SORTS.get(query.sort, SORTS["-registered"]))
                    .limit(per_page)
                    .offset((page - 1) * per_page)
                )
                .scalars()
                .all()
            )
            units = _unit_codes(session, [m.id for m in rows])
            return MailPage(rows, total, page, per_page, units)

    def is_overdue(self, mail: Mail) -> bool:
        return self._is_overdue(mail)

    def _conditions(
        self, session: Session, actor: Actor, query: MailFilter
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [visible_mail(session, actor)]
        if query.direction:
            conditions.append(Mail.direction == _direction(query.direction).value)
        if query.status:
            if query.status not in {s.value for s in MailStatus}:
                raise ValidationError("Statut inconnu.", "status")
            conditions.append(Mail.status == query.status)
        if query.unit_id is not None:
            units = unit_subtree(session, query.unit_id)
            conditions.append(
                Mail.id.in_(select(MailUnit.mail_id).where(MailUnit.unit_id.in_(units)))
            )
        if query.mail_type_id is not None:
            conditions.append(Mail.mail_type_id == query.mail_type_id)
        if query.date_from is not None:
            conditions.append(Mail.mail_date >= query.date_from)
        if query.date_to is not None:
            conditions.append(Mail.mail_date <= query.date_to)
        if query.overdue:
            conditions.append(Mail.due_on < self.today())
            conditions.append(
                Mail.status.in_([MailStatus.REGISTERED.value, MailStatus.IN_PROGRESS.value])
            )
        text = query.text.strip()[:200]
        if text:
            pattern = f"%{escape_like(text)}%"
            conditions.append(
                or_(
                    Mail.chrono.ilike(pattern, escape="\\"),
                    Mail.subject.ilike(pattern, escape="\\"),
                    Mail.sender_reference.ilike(pattern, escape="\\"),
                )
            )
        return conditions

    def export(
        self, actor: Actor, direction: str, start: dt.date, end: dt.date
    ) -> list[dict[str, str]]:
        """The legal register for a period: every visible mail of one direction, chrono order."""
        if end < start:
            raise ValidationError("La date de fin précède la date de début.")
        if (end - start).days > 366 * 5:
            raise ValidationError("Exportez au plus cinq ans à la fois.")
        filt = MailFilter(direction=direction, date_from=start, date_to=end, sort="chrono")
        with self._writer() as uow:
            session = uow.session
            stmt = (
                select(Mail)
                .where(*self._conditions(session, actor, filt))
                .order_by(*SORTS["chrono"])
            )
            rows = session.execute(stmt).scalars().all()
            units = _unit_codes(session, [m.id for m in rows])
            record(
                session,
                actor,
                AuditAction.MAIL_EXPORTED,
                "register",
                direction,
                {"from": start.isoformat(), "to": end.isoformat(), "rows": len(rows)},
            )
            uow.commit()
            return [
                {
                    "chrono": m.chrono,
                    "date": m.mail_date.isoformat(),
                    "letter_date": m.letter_date.isoformat() if m.letter_date else "",
                    "correspondent": m.correspondent.name if m.correspondent else "",
                    "subject": m.subject,
                    "reference": m.sender_reference,
                    "type": m.mail_type.name if m.mail_type else "",
                    "units": " ".join(units.get(m.id, [])),
                    "status": MailStatus(m.status).label,
                    "due_on": m.due_on.isoformat() if m.due_on else "",
                }
                for m in rows
            ]

    # --- comments and links -------------------------------------------------------------------

    def comment(self, actor: Actor, mail_id: int, body: str) -> int:
        body = body.strip()
        if not body:
            raise ValidationError("Le commentaire est vide.", "body")
        if len(body) > MAX_COMMENT:
            raise ValidationError("%(count)s caractères au plus.", "body", count=MAX_COMMENT)
        self._check_may_edit(actor)
        if actor.user_id is None:
            raise PermissionDenied("Connectez-vous pour commenter.")
        with self._writer() as uow:
            mail = self._visible(uow.session, actor, mail_id)
            row = Comment(mail_id=mail.id, author_id=actor.user_id, body=body)
            uow.session.add(row)
            uow.session.flush()
            record(
                uow.session, actor, AuditAction.MAIL_COMMENTED, "mail", mail.id, {"comment": row.id}
            )
            uow.commit()
            return row.id

    def link_answer(self, actor: Actor, outgoing_id: int, incoming_id: int) -> None:
        """Record that an outgoing mail answers an incoming one, which then shows as answered."""
        if not can_write_registry(actor):
            raise PermissionDenied("Seul le bureau d'ordre relie les courriers.")
        with self._writer() as uow:
            outgoing = self._visible(uow.session, actor, outgoing_id)
            incoming = self._visible(uow.session, actor, incoming_id)
            if outgoing.direction != Direction.OUTGOING.value:
                raise ValidationError("La réponse doit être un courrier départ.")
            if incoming.direction != Direction.INCOMING.value:
                raise ValidationError("On ne répond qu'à un courrier arrivée.")
            outgoing.answer_to_id = incoming.id
            incoming.status = MailStatus.ANSWERED.value
            incoming.updated_at = outgoing.updated_at = uow.now()
            record(
                uow.session,
                actor,
                AuditAction.MAIL_LINKED,
                "mail",
                incoming.id,
                {"answered_by": outgoing.chrono},
            )
            self._reindex_after_commit(uow, incoming.id)
            uow.commit()

    # --- reference data -----------------------------------------------------------------------

    def mail_types(self) -> Sequence[MailType]:
        with self._reader() as uow:
            return (
                uow.session.execute(
                    select(MailType).where(MailType.active.is_(True)).order_by(MailType.name)
                )
                .scalars()
                .all()
            )

    def create_mail_type(
        self,
        actor: Actor,
        code: str,
        name: str,
        delay_days: int,
        circuit: str = "",
        name_ar: str = "",
    ) -> int:
        if actor.user_id is not None and actor.role is not Role.ADMIN:
            raise PermissionDenied("Seul un administrateur gère les types de courrier.")
        code = code.strip().upper()
        if not code or len(code) > 32 or not name.strip():
            raise ValidationError("Code (32 caractères au plus) et nom obligatoires.")
        if not 0 <= delay_days <= 365:
            raise ValidationError("Le délai doit être compris entre 0 et 365 jours ouvrés.")
        with self._writer() as uow:
            if uow.session.execute(select(MailType.id).where(MailType.code == code)).first():
                raise ValidationError("Le type %(code)s existe déjà.", "code", code=code)
            row = MailType(
                code=code,
                name=name.strip()[:200],
                name_ar=name_ar.strip()[:200],
                delay_days=delay_days,
                circuit=circuit.strip()[:100],
            )
            uow.session.add(row)
            uow.session.flush()
            record(
                uow.session,
                actor,
                AuditAction.MAIL_TYPE_CREATED,
                "mail_type",
                row.id,
                {"code": code, "delay_days": delay_days},
            )
            uow.commit()
            return row.id

    def find_correspondents(self, actor: Actor, text: str, limit: int = 10) -> list[Correspondent]:
        """Autocomplete: names containing the text, best (prefix) matches first."""
        if actor.user_id is not None and actor.role is None:
            raise PermissionDenied("Connectez-vous.")
        text = " ".join(text.split())[:100]
        if len(text) < 2:
            return []
        pattern = f"%{escape_like(text)}%"
        with self._reader() as uow:
            rows = uow.session.execute(
                select(Correspondent)
                .where(Correspondent.name.ilike(pattern, escape="\\"))
                .order_by(
                    (~Correspondent.name.ilike(f"{escape_like(text)}%", escape="\\")),
                    Correspondent.name,
                )
                .limit(limit)
            ).scalars()
            return list(rows)

    def people(self) -> Sequence[User]:
        with self._reader() as uow:
            return (
                uow.session.execute(
                    select(User).where(User.active.is_(True)).order_by(User.full_name)
                )
                .scalars()
                .all()
            )

    def units(self) -> Sequence[Unit]:
        with self._reader() as uow:
            return (
                uow.session.execute(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code))
                .scalars()
                .all()
            )

    # --- rules --------------------------------------------------------------------------------

    def _visible(self, session: Session, actor: Actor, mail_id: int) -> Mail:
        mail = session.execute(
            select(Mail).where(Mail.id == mail_id, visible_mail(session, actor))
        ).scalar_one_or_none()
        if mail is None:
            # Not found and not allowed look the same: no one learns that a mail exists.
            raise NotFound("Courrier introuvable.")
        return mail


def _take_number(session: Session, direction: Direction, year: int) -> int:
    """Next number for (direction, year), inside the caller's transaction.

    The counter row is locked until commit, so concurrent registrations queue here; a rolled
    back registration rolls its number back too: numbers stay unique and gapless.
    """
    insert_fn = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    session.execute(
        insert_fn(ChronoCounter)
        .values(direction=direction.value, year=year, last_value=0)
        .on_conflict_do_nothing(index_elements=["direction", "year"])
    )
    counter = session.execute(
        select(ChronoCounter)
        .where(ChronoCounter.direction == direction.value, ChronoCounter.year == year)
        .with_for_update()
    ).scalar_one()
    counter.last_value += 1
    session.flush()
    return counter.last_value


def _direction(value: str) -> Direction:
    try:
        return Direction(value)
    except ValueError:
        raise ValidationError("Sens du courrier inconnu (arrivée, départ ou interne).") from None


def _validate_fields(data: MailInput) -> None:
    _check_fields(data.direction, data)


def _check_fields(direction: str, data: MailFields) -> None:
    """The rules every registration and every correction follow; the first broken one is told."""
    subject = data.subject.strip()
    if not subject:
        raise ValidationError("L'objet du courrier est obligatoire.", "subject")
    if len(subject) > MAX_SUBJECT:
        raise ValidationError("L'objet dépasse %(count)s caractères.", "subject", count=MAX_SUBJECT)
    if data.priority not in {p.value for p in Priority}:
        raise ValidationError("Priorité inconnue.", "priority")
    if data.channel not in {c.value for c in Channel}:
        raise ValidationError("Canal de réception inconnu.", "channel")
    if len(data.sender_reference) > 100:
        raise ValidationError("La référence dépasse 100 caractères.", "sender_reference")
    if len(data.correspondent_name) > 300:
        raise ValidationError("Le nom du correspondant dépasse 300 caractères.")
    if data.letter_date and data.mail_date and data.letter_date > data.mail_date:
        raise ValidationError(
            "La date de la lettre est postérieure à sa date de réception ou d'envoi.",
            "letter_date",
        )
    if direction == Direction.INCOMING.value and not data.unit_ids:
        raise ValidationError("Choisissez au moins une entité destinataire.", "unit_ids")
    if (
        direction in (Direction.INCOMING.value, Direction.OUTGOING.value)
        and data.correspondent_id is None
        and not data.correspondent_name.strip()
    ):
        raise ValidationError("Indiquez le correspondant.", "correspondent")


def _check_dates(letter_date: dt.date | None, mail_date: dt.date, today: dt.date) -> None:
    """The mail's date is not in the future, and the letter was not written after it."""
    if mail_date > today:
        raise ValidationError("La date de réception ou d'envoi est dans le futur.", "mail_date")
    # _check_fields compares the dates only when both are given; without a mail date, the
    # letter's date must not be after the date the mail then gets.
    if letter_date and letter_date > mail_date:
        raise ValidationError(
            "La date de la lettre est postérieure à sa date de réception ou d'envoi.",
            "letter_date",
        )


def _check_field_references(session: Session, data: MailFields) -> None:
    """Every mail type, unit, person and correspondent named exists (and may be chosen)."""
    if data.mail_type_id is not None:
        mail_type = session.get(MailType, data.mail_type_id)
        if mail_type is None or not mail_type.active:
            raise ValidationError("Ce type de courrier n'existe pas.", "mail_type_id")
    if data.unit_ids:
        found = set(session.execute(select(Unit.id).where(Unit.id.in_(data.unit_ids))).scalars())
        if found != set(data.unit_ids):
            raise ValidationError("Une des entités destinataires n'existe pas.", "unit_ids")
    if data.person_ids:
        found = set(
            session.execute(
                select(User.id).where(User.id.in_(data.person_ids), User.active.is_(True))
            ).scalars()
        )
        if found != set(data.person_ids):
            raise ValidationError("Une des personnes désignées n'existe pas.", "person_ids")
    if data.correspondent_id is not None and not session.get(Correspondent, data.correspondent_id):
        raise ValidationError("Ce correspondant n'existe pas.", "correspondent_id")


def _editable_values(session: Session, mail: Mail) -> dict[str, object]:
    """The mail's correctable fields as the audit log keeps them (JSON: dates as ISO text)."""

    def day(value: dt.date | None) -> str | None:
        return value.isoformat() if value else None

    units = session.execute(
        select(MailUnit.unit_id).where(MailUnit.mail_id == mail.id).order_by(MailUnit.unit_id)
    ).scalars()
    people = session.execute(
        select(MailPerson.user_id).where(MailPerson.mail_id == mail.id).order_by(MailPerson.user_id)
    ).scalars()
    return {
        "subject": mail.subject,
        "correspondent_id": mail.correspondent_id,
        "letter_date": day(mail.letter_date),
        "mail_date": day(mail.mail_date),
        "sender_reference": mail.sender_reference,
        "mail_type_id": mail.mail_type_id,
        "priority": mail.priority,
        "confidential": mail.confidential,
        "channel": mail.channel,
        "unit_ids": list(units),
        "person_ids": list(people),
        "due_on": day(mail.due_on),
    }


def _replace_links(
    session: Session,
    model: type[MailUnit] | type[MailPerson],
    column: Any,
    mail_id: int,
    wanted: Sequence[int],
) -> None:
    """Make the mail's units (or people) exactly ``wanted``: remove the others, add the new."""
    target = set(wanted)
    current = {
        getattr(row, column.key): row
        for row in session.execute(select(model).where(model.mail_id == mail_id)).scalars()
    }
    for key, row in current.items():
        if key not in target:
            session.delete(row)
    for key in dict.fromkeys(wanted):
        if key not in current:
            session.add(model(mail_id=mail_id, **{column.key: key}))


def _unit_codes(session: Session, mail_ids: list[int]) -> dict[int, list[str]]:
    if not mail_ids:
        return {}
    out: dict[int, list[str]] = {}
    for mail_id, code in session.execute(
        select(MailUnit.mail_id, Unit.code)
        .join(Unit, Unit.id == MailUnit.unit_id)
        .where(MailUnit.mail_id.in_(mail_ids))
        .order_by(Unit.code)
    ):
        out.setdefault(mail_id, []).append(code)
    return out


def _mail_documents(
    session: Session, mail_ids: list[int]
) -> dict[int, list[tuple[Document, Version]]]:
    latest = (
        select(Version.document_id, func.max(Version.number).label("number"))
        .group_by(Version.document_id)
        .subquery()
    )
    out: dict[int, list[tuple[Document, Version]]] = {}
    for mail_id, document, version in session.execute(
        select(MailDocument.mail_id, Document, Version)
        .join(Document, Document.id == MailDocument.document_id)
        .join(latest, latest.c.document_id == Document.id)
        .join(
            Version,
            and_(Version.document_id == Document.id, Version.number == latest.c.number),
        )
        .where(MailDocument.mail_id.in_(mail_ids), Document.deleted_at.is_(None))
        .order_by(MailDocument.mail_id, MailDocument.position)
    ):
        out.setdefault(mail_id, []).append((document, version))
    return out
