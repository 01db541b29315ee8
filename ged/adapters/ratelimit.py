"""A `limits` storage kept in our own database, so every web process shares the counters.

Flask-Limiter's memory storage is per process: with several workers an attacker gets N times the
attempts. Redis is used instead when configured; this one needs no server (the embedded default).
"""

from __future__ import annotations

import random
import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ged.adapters.db import WRITE_OPTION, make_engine
from ged.adapters.orm import RateLimit

SCHEME = "gedsql"
# Expired counters of other keys are swept now and then, not on every hit.
SWEEP_PROBABILITY = 0.01


class SqlRateLimitStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        engine = options.pop("engine", None)
        database_url = options.pop("database_url", None)
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        if engine is None:
            if not database_url:
                raise ValueError("gedsql:// needs an engine or a database_url option")
            engine = make_engine(str(database_url))
        self._engine: Engine = engine.execution_options(**{WRITE_OPTION: True})

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        dialect = self._engine.dialect.name
        insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert_fn(RateLimit).values(key=key, count=amount, expires_at=now + expiry)
        stmt = stmt.on_conflict_do_update(
            index_elements=[RateLimit.key], set_={"count": RateLimit.count + amount}
        )
        with self._engine.begin() as conn:
            sweep = random.random() < SWEEP_PROBABILITY  # noqa: S311 (not security relevant)
            condition = RateLimit.expires_at <= now
            if not sweep:
                condition = condition & (RateLimit.key == key)
            conn.execute(delete(RateLimit).where(condition))
            conn.execute(stmt)
            return int(
                conn.execute(select(RateLimit.count).where(RateLimit.key == key)).scalar_one()
            )

    def get(self, key: str) -> int:
        with self._engine.connect() as conn:
            value = conn.execute(
                select(RateLimit.count).where(
                    RateLimit.key == key, RateLimit.expires_at > time.time()
                )
            ).scalar_one_or_none()
        return int(value or 0)

    def get_expiry(self, key: str) -> float:
        with self._engine.connect() as conn:
            value = conn.execute(
                select(RateLimit.expires_at).where(RateLimit.key == key)
            ).scalar_one_or_none()
        return float(value) if value is not None else time.time()

    def check(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self._engine.begin() as conn:
            count = conn.execute(select(func.count()).select_from(RateLimit)).scalar_one()
            conn.execute(delete(RateLimit))
        return int(count)

    def clear(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(RateLimit).where(RateLimit.key == key))
