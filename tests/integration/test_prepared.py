"""Prepared statements write and read exactly what SQLAlchemy would, on SQLite and PostgreSQL.

Each case runs a statement twice in one transaction: once on the DB-API cursor (the fast path)
and once through SQLAlchemy (the path taken while a cursor listener is attached), then compares
what the database holds and what comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ged.adapters import prepared
from ged.adapters.orm import UTCDateTime
from ged.adapters.prepared import Prepared
from ged.bootstrap import Container

PROBES = MetaData()
PROBE = Table(
    "prepared_probe",
    PROBES,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime),
    Column("data", JSON),
    Column("flag", Boolean),
    Column("name", String(200)),
    Column("version", Integer, nullable=False, default=1),
)
ADD = Prepared(
    insert(PROBE)
    .values(
        at=bindparam("b_at"),
        data=bindparam("b_data"),
        flag=bindparam("b_flag"),
        name=bindparam("b_name"),
        version=1,
    )
    .returning(PROBE.c.id)
)
READ = Prepared(
    select(PROBE.c.id, PROBE.c.at, PROBE.c.data, PROBE.c.flag, PROBE.c.name, PROBE.c.version)
    .where(PROBE.c.name == bindparam("b_name"))
    .order_by(PROBE.c.id)
)
BUMP = Prepared(
    update(PROBE)
    .where(PROBE.c.id == bindparam("b_id"), PROBE.c.version == bindparam("b_version"))
    .values(version=PROBE.c.version + 1, at=bindparam("b_at"))
)

MOMENT = dt.datetime(2026, 12, 7, 23, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
VALUES: dict[str, Any] = {
    "b_at": MOMENT,
    "b_data": {"objet": "Demande d'autorisation", "موضوع": "طلب رخصة", "n": [1, 2.5, None]},
    "b_flag": True,
    "b_name": "probe",
}


@pytest.fixture
def engine(container: Container) -> Iterator[Engine]:
    engine = container.engine
    PROBES.create_all(engine)
    yield engine
    PROBES.drop_all(engine)


@contextmanager
def through_sqlalchemy(engine: Engine) -> Iterator[list[str]]:
    """Attach a cursor listener: prepared statements then take SQLAlchemy's path."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_both_paths_store_and_read_the_same_values(engine: Engine) -> None:
    with Session(engine) as session:
        fast_id = ADD.run(session, VALUES).scalar_one()
        with through_sqlalchemy(engine) as seen:
            slow_id = ADD.run(session, VALUES).scalar_one()
        assert any("INSERT INTO prepared_probe" in sql for sql in seen)
        assert fast_id != slow_id

        stored = session.execute(
            text("SELECT at, data, flag, name FROM prepared_probe ORDER BY id")
        ).all()
        assert len(stored) == 2
        # Byte for byte the same in the database: naive UTC time, the same JSON text.
        assert tuple(stored[0]) == tuple(stored[1])

        fast_rows = READ.run(session, {"b_name": "probe"}).rows
        with through_sqlalchemy(engine):
            slow_rows = READ.run(session, {"b_name": "probe"}).rows
        assert [tuple(row) for row in fast_rows] == [tuple(row) for row in slow_rows]
        first = fast_rows[0]
        assert first.at == MOMENT
        assert first.at.tzinfo is not None
        assert first.data == VALUES["b_data"]
        assert first.flag is True
        assert (first.name, first.version) == ("probe", 1)


def test_rowcount_tells_whether_the_optimistic_update_matched(engine: Engine) -> None:
    later = MOMENT + dt.timedelta(days=1)
    with Session(engine) as session:
        row_id = ADD.run(session, VALUES).scalar_one()
        assert BUMP.run(session, {"b_id": row_id, "b_version": 1, "b_at": later}).rowcount == 1
        assert BUMP.run(session, {"b_id": row_id, "b_version": 1, "b_at": later}).rowcount == 0
        with through_sqlalchemy(engine):
            stale = BUMP.run(session, {"b_id": row_id, "b_version": 1, "b_at": later})
            fresh = BUMP.run(session, {"b_id": row_id, "b_version": 2, "b_at": later})
        assert (stale.rowcount, fresh.rowcount) == (0, 1)
        row = READ.run(session, {"b_name": "probe"}).one()
        assert (row.version, row.at) == (3, later)


def test_the_fast_path_runs_in_the_sessions_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        ADD.run(session, VALUES)
        session.rollback()
    with Session(engine) as session:
        assert READ.run(session, {"b_name": "probe"}).rows == []


def test_without_a_listener_the_statement_goes_to_the_driver(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[str] = []
    plan = prepared._Plan

    def counting_plan(statement: Any, dialect: Any) -> Any:
        compiled.append(dialect.name)
        return plan(statement, dialect)

    monkeypatch.setattr(prepared, "_Plan", counting_plan)
    probe = Prepared(select(PROBE.c.id).where(PROBE.c.name == bindparam("b_name")))
    compiled.clear()  # the check made when the statement is built
    with Session(engine) as session:
        for _ in range(3):
            assert probe.run(session, {"b_name": "nobody"}).rows == []
    assert compiled == [engine.dialect.name]  # compiled once, then reused


def test_a_missing_value_is_refused_before_running(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(KeyError, match="b_name"):
        READ.run(session, {})


def test_what_cannot_be_prepared_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="POSTCOMPILE"):
        Prepared(select(PROBE.c.id).where(PROBE.c.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="named alike"):
        Prepared(select(PROBE.c.id, PROBE.c.id.label("id")))


def test_a_refused_statement_raises_what_sqlalchemy_raises(engine: Engine) -> None:
    """Callers catch the same exceptions on both paths (an `IntegrityError` here)."""
    duplicate = Prepared(
        insert(PROBE).values(id=bindparam("b_id"), name=bindparam("b_name"), version=1)
    )
    with Session(engine) as session:
        duplicate.run(session, {"b_id": 7, "b_name": "first"})
        with pytest.raises(IntegrityError) as fast:
            duplicate.run(session, {"b_id": 7, "b_name": "again"})
        session.rollback()
        duplicate.run(session, {"b_id": 7, "b_name": "first"})
        with through_sqlalchemy(engine), pytest.raises(IntegrityError) as slow:
            duplicate.run(session, {"b_id": 7, "b_name": "again"})
    assert type(fast.value.orig) is type(slow.value.orig)
