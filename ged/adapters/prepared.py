"""Hot statements compiled once per dialect and run on the session's own DB-API connection.

A task completion runs a dozen small statements. Through `Session.execute`, each costs 50 to
80 µs of CPU in SQLAlchemy's execution context, result set-up and parameter handling; the same
statement on the DB-API cursor costs 3 to 5 µs (SQLite, docs/circuits-performance.md). A
`Prepared` statement is compiled by SQLAlchemy for the connection's dialect the first time it
runs there, with its parameters converted by the column types' own bind and result processors,
so values go in and come out exactly as through the ORM (UTC datetimes, JSON, booleans). It
runs in the session's transaction, on the same connection.

What is not prepared (an expanding `IN`, escaped parameter names, statements SQLAlchemy
completes at run time) is refused when it is built. While anyone listens to the engine's
cursor events (a statement counter in a test, tracing), statements go through SQLAlchemy, so
that every statement is seen.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Delete, Insert, Select, Update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

_Processor = Callable[[Any], Any] | None
_Statement = Select[Any] | Insert | Update | Delete


class _Plan:
    """One statement compiled for one dialect."""

    def __init__(self, statement: _Statement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.escaped_bind_names or compiled.post_compile_params:
            raise ValueError(f"cannot prepare this statement: {compiled.string}")
        binds = compiled.binds
        if any(bind.expanding or bind.literal_execute for bind in binds.values()):
            raise ValueError(f"cannot prepare a statement with an expanding IN: {compiled.string}")
        self.sql: str = compiled.string
        self.positional: bool = compiled.positional
        self.names: tuple[str, ...] = (
            tuple(compiled.positiontup or ()) if self.positional else tuple(binds)
        )
        # Values written in the statement itself (`.values(state="done")`).
        self.constants: dict[str, Any] = {
            name: bind.effective_value for name, bind in binds.items() if not bind.required
        }
        self.required: frozenset[str] = frozenset(
            name for name, bind in binds.items() if bind.required
        )
        converters = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in binds.items()
        }
        # Each value's name, converter and, when the statement has one, its written value.
        self.steps: tuple[tuple[str, _Processor, bool, Any], ...] = tuple(
            (name, converters[name], name in self.required, self.constants.get(name))
            for name in self.names
        )
        self.row_type: type[tuple[Any, ...]] | None = None
        self.result_processors: tuple[_Processor, ...] = ()
        columns = _result_columns(statement)
        if not columns:
            return
        keys = [str(column.key) for column in columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"two result columns are named alike: {keys}")
        self.row_type = namedtuple("Row", keys)  # type: ignore[misc]
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        self.result_processors = processors if any(processors) else ()

    def parameters(self, given: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        try:
            values = [
                (given[name] if required else given.get(name, constant))
                if processor is None
                else processor(given[name] if required else given.get(name, constant))
                for name, processor, required, constant in self.steps
            ]
        except KeyError:
            missing = sorted(self.required - given.keys())
            raise KeyError(f"no value given for {', '.join(missing)}") from None
        if self.positional:
            return values
        return dict(zip(self.names, values, strict=True))

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        make = self.row_type
        if make is None:
            raise TypeError("this statement returns no rows")
        processors = self.result_processors
        if not processors:
            return [make(*row) for row in raw]
        return [
            make(
                *(
                    processor(value) if processor is not None else value
                    for processor, value in zip(processors, row, strict=True)
                )
            )
            for row in raw
        ]


class Ran:
    """What a prepared statement gave: its rows (named tuples) and the rows it changed."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def one(self) -> Any:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def one_or_none(self) -> Any:
        if len(self.rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self.rows)}")
        return self.rows[0] if self.rows else None

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalar_one(self) -> Any:
        return self.one()[0]


class Prepared:
    """A Core statement with bound parameters, run in a session's transaction at DB-API cost."""

    def __init__(self, statement: _Statement) -> None:
        self.statement: Final = statement
        self._plans: dict[tuple[str, str], _Plan] = {}
        self._returns_rows = bool(_result_columns(statement))
        # Refuse what cannot be prepared now, when the module is imported, not mid-step.
        from sqlalchemy.dialects import sqlite

        _Plan(statement, sqlite.dialect())

    def run(self, session: Session, parameters: Mapping[str, Any] | None = None) -> Ran:
        connection = session.connection()
        given = parameters or {}
        if observed(connection):
            result = connection.execute(self.statement, dict(given))
            rows = list(result) if self._returns_rows else []
            return Ran(rows, result.rowcount if not self._returns_rows else len(rows))
        plan = self._plan(connection.dialect)
        raw = connection.connection.driver_connection
        if raw is None:
            raise RuntimeError("the session's connection is closed")
        values = plan.parameters(given)
        cursor = raw.cursor()
        try:
            cursor.execute(plan.sql, values)
            if self._returns_rows:
                rows = plan.rows(cursor.fetchall())
                return Ran(rows, len(rows))
            return Ran([], cursor.rowcount)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, plan.sql, values, error, cursor) from error
        finally:
            cursor.close()

    def _plan(self, dialect: Dialect) -> _Plan:
        key = (dialect.name, dialect.driver)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(self.statement, dialect)
        return plan


def _wrapped(
    connection: Connection, sql: str, values: Any, error: Exception, cursor: Any
) -> StatementError:
    """The driver's error as SQLAlchemy raises it (`IntegrityError`, `OperationalError`…), so
    callers catch the same exceptions on both paths; a lost connection is invalidated, as
    SQLAlchemy does, so that the pool does not hand it out again."""
    dialect = connection.dialect
    raw = connection.connection.driver_connection
    lost = dialect.is_disconnect(error, raw, cursor)  # type: ignore[arg-type]
    if lost:
        connection.invalidate(error)
    return DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )


def observed(connection: Connection) -> bool:
    """True while someone listens to the connection's statements: they must all be seen."""
    dispatch = connection.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


def _result_columns(statement: _Statement) -> list[Any]:
    """What a row of the statement holds: a SELECT's columns, or those of RETURNING."""
    if isinstance(statement, Select):
        return list(statement.selected_columns)
    return list(statement.exported_columns)
