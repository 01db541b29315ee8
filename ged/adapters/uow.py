"""Unit of work: the service layer owns the transaction; nothing is kept unless it commits."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, Session, sessionmaker

from ged.adapters.orm import utcnow
from ged.clock import SESSION_KEY, TIMEZONE_KEY, Clock, utc_now

logger = logging.getLogger(__name__)
_UOW_KEY = "ged.unit_of_work"


class UnitOfWork:
    """``with uow: ...; uow.commit()``: leaving the block without committing rolls back."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock = utc_now,
        timezone: dt.tzinfo = dt.UTC,
    ) -> None:
        self._factory = factory
        self.clock = clock
        self.timezone = timezone
        self._session: Session | None = None
        self._on_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        self._session = self._factory()
        self._session.info[_UOW_KEY] = self
        self._session.info[SESSION_KEY] = self.clock
        self._session.info[TIMEZONE_KEY] = self.timezone
        return self

    @staticmethod
    def of(session: Session) -> UnitOfWork:
        """The unit of work that opened ``session``: services given only a session (the caller's
        transaction) register their after-commit actions on it."""
        uow = session.info.get(_UOW_KEY)
        if not isinstance(uow, UnitOfWork):
            raise RuntimeError("session not opened by a unit of work")
        return uow

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        self._on_commit = []
        try:
            # Rolling back expires loaded objects; a clean read-only block just closes, so the
            # objects it returns stay readable after the block.
            if exc_type is not None or session.new or session.dirty or session.deleted:
                session.rollback()
        finally:
            session.close()
            self._session = None

    def commit(self) -> None:
        self.session.commit()
        callbacks, self._on_commit = self._on_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                # The data is committed; what failed is a follow-up (e.g. enqueueing a job).
                # The periodic sweeps find such work again, so it is logged, not raised.
                logger.exception("after-commit action failed")

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` only once this transaction has committed (jobs, e-mails)."""
        self._on_commit.append(callback)

    def flush(self) -> None:
        self.session.flush()

    def now(self) -> dt.datetime:
        return self.clock()


def _stamped_columns(mapper: Mapper[Any]) -> tuple[str, ...]:
    """The attributes whose default is the time of the insert (``default=utcnow``)."""
    keys = []
    for prop in mapper.column_attrs:
        default = prop.columns[0].default
        if (
            default is not None
            and getattr(getattr(default, "arg", None), "__wrapped__", None) is utcnow
        ):
            keys.append(prop.key)
    return tuple(keys)


_STAMPED: dict[Mapper[Any], tuple[str, ...]] = {}


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    # Column defaults cannot see the session: a unit of work on another clock (the demo's
    # story, a test) fills those timestamps itself, so the rows agree with its audit events.
    clock = session.info.get(SESSION_KEY)
    if clock is None or clock is utc_now:
        return
    moment = None
    for obj in session.new:
        mapper = inspect(obj).mapper
        keys = _STAMPED.get(mapper)
        if keys is None:
            keys = _STAMPED[mapper] = _stamped_columns(mapper)
        for key in keys:
            if getattr(obj, key) is None:
                moment = moment or clock()
                setattr(obj, key, moment)
