"""Background jobs with Huey: SQLite in the instance folder by default, Redis when configured.

Payloads are signed with the instance's secret key: whoever can write to the queue still cannot
make a worker run a forged job. Jobs carry ids, never rows, and are idempotent: running one twice
(a retry, or the sweep re-enqueueing work a crash lost) gives the same result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.serializer import SignedSerializer
from huey.storage import SqliteStorage

from ged.config import Settings


class _SqliteStorage(SqliteStorage):  # type: ignore[misc]
    """Huey's SQLite queue, synced as the database is (`ged.adapters.db`): WAL, `NORMAL`.

    Huey leaves SQLite's default, `FULL`, which syncs the log at every enqueue: 0.36 ms of the
    0.09 ms an enqueue otherwise costs, paid after each step that changes the search index.
    `NORMAL` can lose the last jobs on a power cut (never on a crash of the process), as the
    database can lose its last transactions: every job's work is found again by a periodic sweep
    from what the database says (`ged.jobs`), so a lost job is late, not lost.
    """

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("pragma synchronous = NORMAL")
        return connection


class _SqliteHuey(SqliteHuey):  # type: ignore[misc]
    storage_class = _SqliteStorage


def make_huey(settings: Settings, immediate: bool = False, name: str = "ged") -> Huey:
    """The queue; ``name`` is its Redis namespace (tests give each their own)."""
    serializer = SignedSerializer(secret=settings.secret_key, salt="ged-jobs")
    if settings.redis_url:
        return RedisHuey(name, url=settings.redis_url, serializer=serializer, immediate=immediate)
    return _SqliteHuey(
        name,
        filename=str(settings.instance / "jobs.sqlite3"),
        serializer=serializer,
        immediate=immediate,
    )


class Jobs:
    """Named jobs on a Huey queue; services enqueue by name after their transaction commits."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._tasks: dict[str, Any] = {}

    def define(
        self, name: str, fn: Callable[..., Any], retries: int = 5, retry_delay: int = 10
    ) -> None:
        """Register ``fn``; failures are retried with a doubling delay (10 s, 20 s, 40 s…)."""
        self._tasks[name] = self.huey.task(
            retries=retries, retry_delay=retry_delay, retry_backoff=2, name=name
        )(fn)

    def every(self, name: str, minutes: int, fn: Callable[[], Any]) -> None:
        self._tasks[name] = self.huey.periodic_task(crontab(minute=f"*/{minutes}"), name=name)(fn)

    def enqueue(self, name: str, *args: Any, delay: dt.timedelta | None = None) -> None:
        task = self._tasks[name]
        if delay is not None:
            task.schedule(args=args, delay=delay.total_seconds())
        else:
            task(*args)

    def run_now(self, name: str, *args: Any) -> Any:
        """Call the job's function in this process (CLI, tests), bypassing the queue."""
        return self._tasks[name].call_local(*args)

    def names(self) -> list[str]:
        return sorted(self._tasks)
