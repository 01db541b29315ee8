"""Notifications: the e-mail outbox, the in-app notifications under the bell, the daily digest.

The e-mail outbox: notifications are rows written with the step that causes them, sent later.

Writing the e-mail in the step's own transaction means it exists exactly when the step does: a
rolled-back completion leaves no e-mail, a committed one always has its e-mail. A job sends the
rows after the commit (and the periodic sweep again, for jobs lost in between). Sending is at
least once: a worker that dies between the relay's acceptance and marking the row sent sends it
again after the lease.

In-app notifications are written the same way, in the transaction of the event they tell about
(`notify`), and read by their owner only. The digest is a periodic job that e-mails each person
who asked for it their overdue tasks and those due soon, once per agency day.

E-mails are written in their recipient's language (``users.locale``): the builders of
`ged.services.emails` take the `Language` the outbox gives for it (`Outbox.language`).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from ged.adapters.catalogues import Catalogues, Language, default_catalogues
from ged.adapters.jobs import Jobs
from ged.adapters.mailer import Email, RecipientRefused, SendFailed, SmtpMailer
from ged.adapters.orm import (
    PENDING_EMAIL,
    UNREAD_NOTIFICATION,
    Mail,
    Notification,
    OutboxEmail,
    Task,
    User,
    utcnow,
)
from ged.adapters.prepared import Prepared
from ged.adapters.uow import UnitOfWork
from ged.clock import now_in
from ged.config import MailSettings, NotificationSettings
from ged.domain.errors import NotFound, PermissionDenied
from ged.domain.model import AuditAction
from ged.jobs import SEND_OUTBOX
from ged.services import emails
from ged.services.audit import Actor, record
from ged.services.circuits import working_calendar

logger = logging.getLogger(__name__)

FIRST_RETRY = dt.timedelta(minutes=1)
MAX_BODY = 20_000


@dataclass(frozen=True)
class OutboxReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    sent: int
    failed: int


class Outbox:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        mailer: SmtpMailer,
        settings: MailSettings,
        jobs: Jobs,
        catalogues: Catalogues | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._mailer = mailer
        self._settings = settings
        self._jobs = jobs
        self._catalogues = catalogues or default_catalogues()
        # Units of work that already send the outbox after their commit (one job per commit).
        self._armed: weakref.WeakSet[UnitOfWork] = weakref.WeakSet()

    def language(self, locale: str | None) -> Language:
        """The language to write to a person whose ``users.locale`` is ``locale``."""
        return self._catalogues.language(locale)

    def add(self, uow: UnitOfWork, to: str, subject: str, body: str) -> bool:
        """Queue an e-mail in the caller's transaction; False (nothing queued) without address."""
        address = to.strip()
        if not address:
            return False
        uow.session.add(
            OutboxEmail(
                to_address=address[:254],
                subject=" ".join(subject.split())[:300],
                body=body[:MAX_BODY],
                next_attempt_at=utcnow(),
            )
        )
        if uow not in self._armed:
            self._armed.add(uow)
            uow.on_commit(self._after_commit)
        return True

    def _after_commit(self) -> None:
        if self._mailer.enabled:
            self._jobs.enqueue(SEND_OUTBOX)

    def send_pending(self, now: dt.datetime | None = None, limit: int = 200) -> OutboxReport:
        """Send what is due; each e-mail is leased before sending so two workers never share it."""
        if not self._mailer.enabled:
            return OutboxReport()
        now = now or utcnow()
        with self._reader() as uow:
            due = uow.session.execute(
                select(OutboxEmail.id, OutboxEmail.attempts)
                .where(text(PENDING_EMAIL), OutboxEmail.next_attempt_at <= now)
                .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
                .limit(limit)
            ).all()
        sent = retried = failed = 0
        for email_id, attempts in due:
            email = self._lease(email_id, attempts, now)
            if email is None:
                continue  # another worker has it
            error = ""
            permanent = False
            try:
                self._mailer.send(email)
            except RecipientRefused as refused:
                error, permanent = str(refused), True
            except SendFailed as failure:
                error = str(failure)
            gave_up = permanent or (bool(error) and attempts + 1 >= self._settings.max_attempts)
            self._finish(email_id, error, gave_up)
            if not error:
                sent += 1
            elif gave_up:
                failed += 1
                logger.warning("e-mail %s given up: %s", email_id, error)
            else:
                retried += 1
        return OutboxReport(sent, retried, failed)

    def _lease(self, email_id: int, attempts: int, now: dt.datetime) -> Email | None:
        retry_in = FIRST_RETRY * (2**attempts)
        with self._writer() as uow:
            claimed = uow.session.execute(
                update(OutboxEmail)
                .where(
                    OutboxEmail.id == email_id,
                    OutboxEmail.attempts == attempts,
                    text(PENDING_EMAIL),
                )
                .values(attempts=attempts + 1, next_attempt_at=now + retry_in)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = uow.session.get_one(OutboxEmail, email_id)
            email = Email(row.to_address, row.subject, row.body)
            uow.commit()
            return email

    def _finish(self, email_id: int, error: str, gave_up: bool) -> None:
        with self._writer() as uow:
            values: dict[str, object] = {"last_error": error[:500]}
            if not error:
                values["sent_at"] = utcnow()
            elif gave_up:
                values["failed_at"] = utcnow()
            uow.session.execute(
                update(OutboxEmail).where(OutboxEmail.id == email_id).values(**values)
            )
            uow.commit()

    def stats(self) -> OutboxStats:
        with self._reader() as uow:
            pending, sent, failed = uow.session.execute(
                select(
                    func.count().filter(
                        OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None)
                    ),
                    func.count().filter(OutboxEmail.sent_at.is_not(None)),
                    func.count().filter(OutboxEmail.failed_at.is_not(None)),
                )
            ).one()
        return OutboxStats(pending, sent, failed)


# -- In-app notifications --------------------------------------------------------------------------

NOTIFICATIONS: Final = Notification.metadata.tables["notification"]
# Written by most circuit steps, so prepared once (`ged.adapters.prepared`).
_ADD_NOTIFICATION: Final = Prepared(
    insert(NOTIFICATIONS).values(
        user_id=bindparam("b_user_id"),
        kind=bindparam("b_kind"),
        text=bindparam("b_text"),
        link=bindparam("b_link"),
        created_at=bindparam("b_created_at"),
        read_at=None,
    )
)
# Counting stops here: the bell shows "99+", and a count never scans a whole history.
UNREAD_CAP = 99
MAX_TEXT = 500  # the length of `notification.text`
NOTICE_FORMAT = 1  # the "v" of a notice's JSON: a later shape gets a new number
MAX_TASK_NAME = 300
MAX_CHRONO = 40
# The names a notice may keep, at most `MAX_NAME` characters each (a person's, a unit's).
_NAME_KEYS: Final = ("by", "to", "unit")
MAX_NAME = 120
MAX_NOTIFICATIONS_PER_PAGE = 100
_LOCAL_PATH: Final = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~%?=&-]*")


class NotificationKind(enum.StrEnum):
    NEW_TASK = "new_task"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    ASSIGNMENT = "assignment"
    POOL = "pool"  # a manager put the task in the reader's unit's pool
    WITHDRAWN = "withdrawn"  # a manager took the reader's task to give it elsewhere

    @property
    def label(self) -> str:
        return {
            "new_task": "Nouvelle tâche",
            "reminder": "Rappel d'échéance",
            "escalation": "Délai dépassé",
            "assignment": "Tâche réattribuée",
            "pool": "Tâche remise dans le panier",
            "withdrawn": "Tâche retirée",
        }[self.value]


def object_link(mail_id: int | None, document_id: int | None) -> str:
    """The page a task's notification points to: its mail, else its document."""
    if mail_id is not None:
        return f"/mail/{mail_id}"
    if document_id is not None:
        return f"/documents/{document_id}"
    return ""


@dataclass(frozen=True)
class TaskNotice:
    """What a task's notification tells, as values: each reader's page words it in their language.

    Stored as JSON in `notification.text` (no column of its own: see `loads`); the kind of the
    notification chooses the sentence. The step's name is kept as the circuit names it and
    translated when shown, the chrono as registered (never a subject: it may be confidential).
    A move by a manager also keeps who made it (`by`) and where the task went: a person (`to`)
    or a unit's pool (`unit_id`, and its French `unit` name for a page without the unit).
    People's names are kept as they were then, like the name written in the audit trail.
    """

    task: str
    chrono: str | None = None
    due_at: dt.datetime | None = None
    by: str | None = None
    to: str | None = None
    unit_id: int | None = None
    unit: str | None = None

    def dumps(self) -> str:
        """The JSON kept in the row, within the column's length (the step's name gives way)."""
        values: dict[str, object] = {"v": NOTICE_FORMAT, "task": self.task[:MAX_TASK_NAME]}
        if self.chrono:
            values["chrono"] = self.chrono[:MAX_CHRONO]
        if self.due_at is not None:
            values["due"] = self.due_at.astimezone(dt.UTC).isoformat(timespec="seconds")
        for key in _NAME_KEYS:
            name = getattr(self, key)
            if name:
                values[key] = name[:MAX_NAME]
        if self.unit_id is not None:
            values["unit_id"] = self.unit_id
        stored = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
        # Escaped characters (quotes, controls) take more than one place each: the step's name
        # gives way first, then the names, which a page can do without ("—", the unit by id).
        for key in ("task", *reversed(_NAME_KEYS)):
            while len(stored) > MAX_TEXT and values.get(key):
                text = str(values[key])
                values[key] = text[: max(0, len(text) - (len(stored) - MAX_TEXT))]
                stored = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
        return stored

    @classmethod
    def loads(cls, stored: str) -> TaskNotice | None:
        """The notice in a row's text; None for a text written out in French before notices.

        Old rows hold the finished French sentence; a sentence never starts with "{".
        """
        if not stored.startswith("{"):
            return None
        try:
            values = json.loads(stored)
        except ValueError:
            return None
        if not isinstance(values, dict) or values.get("v") != NOTICE_FORMAT:
            return None
        task, chrono, due = values.get("task"), values.get("chrono"), values.get("due")
        if not isinstance(task, str) or not isinstance(chrono, str | None):
            return None
        names = {key: values.get(key) for key in _NAME_KEYS}
        if not all(isinstance(name, str | None) for name in names.values()):
            return None
        unit_id = values.get("unit_id")
        if unit_id is not None and (not isinstance(unit_id, int) or isinstance(unit_id, bool)):
            return None
        due_at: dt.datetime | None = None
        if isinstance(due, str):
            try:
                due_at = dt.datetime.fromisoformat(due)
            except ValueError:
                return None
            if due_at.tzinfo is None:
                return None
        return cls(
            task,
            chrono or None,
            due_at,
            by=names["by"] or None,
            to=names["to"] or None,
            unit_id=unit_id,
            unit=names["unit"] or None,
        )


def notify(
    session: Session,
    user_ids: Iterable[int | None],
    kind: NotificationKind,
    notice: TaskNotice,
    link: str = "",
    now: dt.datetime | None = None,
) -> int:
    """Write one notification per person in the caller's transaction; returns how many."""
    people = sorted({user_id for user_id in user_ids if user_id is not None})
    if not people:
        return 0
    # Only local paths: a link is rendered as an href, and must never lead out of ged
    # (browsers read "//host", and a backslash after the first slash, as another site).
    safe_link = link if _LOCAL_PATH.fullmatch(link) else ""
    moment = now or now_in(session)
    values = {
        "b_kind": kind.value,
        "b_text": notice.dumps(),
        "b_link": safe_link[:300],
        "b_created_at": moment,
    }
    for user_id in people:
        _ADD_NOTIFICATION.run(session, {**values, "b_user_id": user_id})
    return len(people)


# What the notifications written before notices said (finished French sentences), read back
# into notices so that they too follow the reader's language; anything else is shown as written.
_NAMED = r"« (?P<task>.*) »(?: — (?P<chrono>[^\s«»]+))?"
_DUE = (
    r"(?:le (?P<day>\d{2}/\d{2}/\d{4})(?: \(fin de journée\)| à (?P<time>\d{2}:\d{2}))"
    r"|sans échéance|—)"
)
_LEGACY: Final = {
    NotificationKind.NEW_TASK: re.compile(rf"Nouvelle tâche : {_NAMED}\."),
    NotificationKind.ASSIGNMENT: re.compile(rf"La tâche {_NAMED} vous a été réattribuée\."),
    NotificationKind.REMINDER: re.compile(rf"Rappel : {_NAMED} arrive à échéance {_DUE}\."),
    NotificationKind.ESCALATION: re.compile(rf"Délai dépassé : {_NAMED} \(échéance {_DUE}\)\."),
}


def legacy_notice(kind: NotificationKind, text: str, zone: ZoneInfo) -> TaskNotice | None:
    """The notice an old French sentence was written from, when it is one of ged's own."""
    pattern = _LEGACY.get(kind)  # kinds born with notices never had a sentence
    found = pattern.fullmatch(text) if pattern else None
    if found is None:
        return None
    values = found.groupdict()
    due_at: dt.datetime | None = None
    if values.get("day"):
        try:
            day = dt.datetime.strptime(values["day"], "%d/%m/%Y").date()
        except ValueError:
            return None
        if values.get("time"):
            hour, minute = (int(part) for part in values["time"].split(":"))
            if hour > 23 or minute > 59:
                return None
            due_at = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
        else:
            # An end-of-day deadline is the midnight that ends its day (`tasks.deadline_at`).
            due_at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return TaskNotice(values["task"], values["chrono"], due_at)


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: NotificationKind
    text: str  # as stored: a notice's JSON, or an old row's French sentence
    notice: TaskNotice | None  # None: show `text` as it is
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True)
class NotificationPage:
    rows: tuple[NotificationView, ...]
    total: int
    unread: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Preferences:
    digest_enabled: bool
    digest_available: bool  # false when the agency switched digests off for everyone


@dataclass(frozen=True)
class DigestReport:
    sent: int = 0
    empty: int = 0  # people with nothing overdue or due soon: marked, no e-mail
    skipped: bool = False  # before the digest hour, or digests switched off


# Qualified and written out, as in the task service: SQLite then uses the partial index.
_ACTIVE_TASK: Final[ColumnElement[bool]] = literal_column("task.state IN ('open', 'claimed')")
DIGEST_BATCH = 500
DIGEST_LINES = 50


class Notifications:
    """The bell, the notifications page, the preferences, and the daily digest."""

    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        outbox: Outbox,
        settings: NotificationSettings,
        timezone: str,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._outbox = outbox
        self._settings = settings
        self._tz = ZoneInfo(timezone)
        self._clock = clock or utcnow

    @staticmethod
    def _person(actor: Actor) -> int:
        if actor.user_id is None:
            raise PermissionDenied("Les notifications appartiennent à une personne connectée.")
        return actor.user_id

    def unread_count(self, actor: Actor) -> int:
        """Unread notifications, counted no further than `UNREAD_CAP + 1` (shown as "99+")."""
        if actor.user_id is None:
            return 0
        with self._reader() as uow:
            return self._unread(uow.session, actor.user_id)

    @staticmethod
    def _unread(session: Session, user_id: int) -> int:
        limited = (
            select(Notification.id)
            .where(Notification.user_id == user_id, text(f"notification.{UNREAD_NOTIFICATION}"))
            .limit(UNREAD_CAP + 1)
            .subquery("unread")
        )
        count: int = session.execute(select(func.count()).select_from(limited)).scalar_one()
        return count

    def page(
        self, actor: Actor, page: int = 1, per_page: int = 25, unread_only: bool = False
    ) -> NotificationPage:
        """The actor's own notifications, newest first."""
        user_id = self._person(actor)
        page = max(1, page)
        per_page = min(max(1, per_page), MAX_NOTIFICATIONS_PER_PAGE)
        conditions: list[ColumnElement[bool]] = [Notification.user_id == user_id]
        if unread_only:
            conditions.append(Notification.read_at.is_(None))
        with self._reader() as uow:
            session = uow.session
            total = session.execute(
                select(func.count()).select_from(Notification).where(*conditions)
            ).scalar_one()
            rows = session.execute(
                select(
                    Notification.id,
                    Notification.kind,
                    Notification.text,
                    Notification.link,
                    Notification.created_at,
                    Notification.read_at,
                )
                .where(*conditions)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
            unread = self._unread(session, user_id)
        return NotificationPage(
            tuple(self._view(r.id, NotificationKind(r.kind), r.text, *r[3:]) for r in rows),
            total,
            unread,
            page,
            per_page,
        )

    def _view(
        self,
        notification_id: int,
        kind: NotificationKind,
        text: str,
        link: str,
        created_at: dt.datetime,
        read_at: dt.datetime | None,
    ) -> NotificationView:
        notice = TaskNotice.loads(text) or legacy_notice(kind, text, self._tz)
        return NotificationView(notification_id, kind, text, notice, link, created_at, read_at)

    def mark_read(self, actor: Actor, notification_id: int) -> None:
        """Mark one of the actor's notifications read; someone else's is not found."""
        user_id = self._person(actor)
        with self._writer() as uow:
            session = uow.session
            owner = session.execute(
                select(Notification.user_id).where(Notification.id == notification_id)
            ).scalar_one_or_none()
            if owner != user_id:
                raise NotFound("Notification introuvable.")
            session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.read_at.is_(None))
                .values(read_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            uow.commit()

    def mark_all_read(self, actor: Actor) -> int:
        user_id = self._person(actor)
        with self._writer() as uow:
            result = uow.session.execute(
                update(Notification)
                .where(Notification.user_id == user_id, Notification.read_at.is_(None))
                .values(read_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            uow.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

    # -- Preferences ------------------------------------------------------------------------------

    def preferences(self, actor: Actor) -> Preferences:
        user_id = self._person(actor)
        with self._reader() as uow:
            enabled = uow.session.execute(
                select(User.digest_enabled).where(User.id == user_id)
            ).scalar_one_or_none()
        if enabled is None:
            raise NotFound("Compte introuvable.")
        return Preferences(bool(enabled), self._settings.digest)

    def set_digest(self, actor: Actor, enabled: bool) -> None:
        """Switch the actor's own daily digest on or off (recorded in the history)."""
        user_id = self._person(actor)
        with self._writer() as uow:
            session = uow.session
            current = session.execute(
                select(User.digest_enabled).where(User.id == user_id)
            ).scalar_one_or_none()
            if current is None:
                raise NotFound("Compte introuvable.")
            if bool(current) == enabled:
                return
            session.execute(
                update(User)
                .where(User.id == user_id)
                .values(digest_enabled=enabled)
                .execution_options(synchronize_session=False)
            )
            record(session, actor, AuditAction.USER_UPDATED, "user", user_id, {"digest": enabled})
            uow.commit()

    # -- The daily digest ---------------------------------------------------------------------------

    def send_digests(self, now: dt.datetime | None = None) -> DigestReport:
        """The periodic job: from the digest hour on, one e-mail per person and agency day.

        Each person is handled in a transaction of their own that first moves their
        `last_digest_on` to today (only if it was earlier): a second run, or a second worker,
        finds nothing left to do. The e-mail goes through the outbox, after that commit.
        """
        now = now or self._clock()
        local = now.astimezone(self._tz)
        if not self._settings.digest or local.hour < self._settings.digest_hour:
            return DigestReport(skipped=True)
        today = local.date()
        with self._reader() as uow:
            people = (
                uow.session.execute(
                    select(User.id)
                    .where(
                        User.active.is_(True),
                        User.digest_enabled.is_(True),
                        User.email != "",
                        or_(User.last_digest_on.is_(None), User.last_digest_on < today),
                    )
                    .order_by(User.id)
                    .limit(DIGEST_BATCH)
                )
                .scalars()
                .all()
            )
        sent = empty = 0
        for user_id in people:
            outcome = self._digest_one(user_id, today, now)
            if outcome is True:
                sent += 1
            elif outcome is False:
                empty += 1
        return DigestReport(sent, empty)

    def _digest_one(self, user_id: int, today: dt.date, now: dt.datetime) -> bool | None:
        """True: e-mail queued; False: nothing to say; None: done already, or switched off."""
        with self._writer() as uow:
            session = uow.session
            marked = session.execute(
                update(User)
                .where(
                    User.id == user_id,
                    User.active.is_(True),
                    User.digest_enabled.is_(True),
                    or_(User.last_digest_on.is_(None), User.last_digest_on < today),
                )
                .values(last_digest_on=today)
                .execution_options(synchronize_session=False)
            )
            if marked.rowcount != 1:  # type: ignore[attr-defined]
                return None
            person = session.execute(
                select(User.full_name, User.email, User.locale).where(User.id == user_id)
            ).one()
            calendar = working_calendar(session)
            horizon_day = calendar.add_working_days(today, self._settings.digest_due_working_days)
            # The same end-of-day moment as task deadlines (`tasks.deadline_at`).
            horizon = dt.datetime.combine(
                horizon_day + dt.timedelta(days=1), dt.time(0), tzinfo=self._tz
            )
            overdue = self._digest_tasks(session, user_id, Task.due_at < now)
            soon = self._digest_tasks(session, user_id, Task.due_at >= now, Task.due_at < horizon)
            if not overdue[0] and not soon[0]:
                uow.commit()
                return False
            message = emails.digest(
                self._outbox.language(person.locale),
                person.full_name,
                today,
                overdue,
                soon,
                self._settings.digest_due_working_days,
                self._tz,
            )
            self._outbox.add(uow, person.email, message.subject, message.body)
            uow.commit()
            return True

    def _digest_tasks(
        self, session: Session, user_id: int, *conditions: ColumnElement[bool]
    ) -> tuple[list[emails.DigestLine], int]:
        """The first lines of a section, and how many tasks it has in all."""
        where = [_ACTIVE_TASK, Task.assignee_id == user_id, Task.kind == "user", *conditions]
        total = session.execute(select(func.count()).select_from(Task).where(*where)).scalar_one()
        rows = session.execute(
            select(Task.name, Task.due_at, Mail.chrono)
            .outerjoin(Mail, Mail.id == Task.mail_id)
            .where(*where)
            .order_by(Task.due_at, Task.id)
            .limit(DIGEST_LINES)
        ).all()
        # The chrono names the mail; its subject stays in ged (it may be confidential).
        lines = [emails.DigestLine(name, chrono, due_at) for name, due_at, chrono in rows]
        return lines, int(total)
