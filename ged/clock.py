"""The time the services read: the real UTC time, unless a caller hands them another clock.

One clock is wired through the container: the services and their units of work read it, the
audit log and the rows' timestamps follow it. The demo replays eight weeks on a
``ManualClock`` it moves forward (see docs/demo.md); tests can do the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Clock = Callable[[], dt.datetime]

# Where a unit of work leaves its clock in ``Session.info``, for code given only a session.
SESSION_KEY = "ged.clock"
# And the agency's time zone: its days (delegations, deadlines) are not UTC days.
TIMEZONE_KEY = "ged.timezone"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ManualClock:
    """A clock that says ``at`` until someone moves it."""

    at: dt.datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("a clock gives aware datetimes")

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock gives aware datetimes")
        self.at = at


class _HasInfo(Protocol):
    @property
    def info(self) -> Mapping[str, Any]: ...


def session_clock(session: _HasInfo) -> Clock:
    """The clock of the unit of work that opened ``session``; real time for any other."""
    clock = session.info.get(SESSION_KEY)
    return clock if callable(clock) else utc_now


def now_in(session: _HasInfo) -> dt.datetime:
    return session_clock(session)()


def today_in(session: _HasInfo) -> dt.date:
    """The agency's current day for the unit of work that opened ``session`` (UTC for any other).

    Around midnight the agency's day and the UTC day differ; a delegation "from the 7th" must
    start when the 7th starts in the agency."""
    zone = session.info.get(TIMEZONE_KEY)
    now = now_in(session)
    return (now.astimezone(zone) if isinstance(zone, dt.tzinfo) else now).date()
