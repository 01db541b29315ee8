"""The e-mail outbox: notifications are rows written with the step that causes them, sent later.

Writing the e-mail in the step's own transaction means it exists exactly when the step does: a
rolled-back completion leaves no e-mail, a committed one always has its e-mail. A job sends the
rows after the commit (and the periodic sweep again, for jobs lost in between). Sending is at
least once: a worker that dies between the relay's acceptance and marking the row sent sends it
again after the lease.
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, text, update

from ged.adapters.jobs import Jobs
from ged.adapters.mailer import Email, RecipientRefused, SendFailed, SmtpMailer
from ged.adapters.orm import PENDING_EMAIL, OutboxEmail, utcnow
from ged.adapters.uow import UnitOfWork
from ged.config import MailSettings
from ged.jobs import SEND_OUTBOX

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
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._mailer = mailer
        self._settings = settings
        self._jobs = jobs
        # Units of work that already send the outbox after their commit (one job per commit).
        self._armed: weakref.WeakSet[UnitOfWork] = weakref.WeakSet()

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
