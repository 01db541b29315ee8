"""Engines and sessions, with SQLite set up to behave under concurrent writers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from ged.adapters.prepared import observed

WRITE_OPTION = "ged_write"


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own BEGIN handling is turned off so that we emit BEGIN ourselves below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writing transaction takes the write lock up front: two deferred transactions that read
        # then write would otherwise deadlock (SQLITE_BUSY) instead of waiting for each other.
        begin = "BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN"
        if observed(conn):
            conn.exec_driver_sql(begin)
        else:
            # Straight to the driver, as prepared statements run (`ged.adapters.prepared`):
            # through SQLAlchemy, a BEGIN costs 50 µs of CPU, more than a step's UPDATE.
            conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]


def make_sessionmakers(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """Return (writer, reader) session factories over one pool."""
    writer = sessionmaker(
        bind=engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
    )
    reader = sessionmaker(bind=engine, expire_on_commit=False)
    return writer, reader


def escape_like(text: str) -> str:
    """Make user text literal inside a LIKE pattern (used with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
