"""Hot statements, compiled once per dialect and run on the transaction's own driver connection.

SQLAlchemy's execution path (cache key, execution context, result metadata, events) costs about
25 µs per statement on this machine; the driver itself 3 µs. An instruction on the hot path runs
five to twelve statements, so that overhead was the largest share of the server's CPU (see the
README's profile). A `Statement` keeps what SQLAlchemy does that matters here and drops the rest:

- the SQL is SQLAlchemy's own compilation for the engine's dialect (so the same text, casts and
  placeholders as `Connection.execute` would send), made once;
- parameters and results go through the column types' own bind and result processors (an instant
  is stored and read back exactly as through the ORM);
- it runs inside the session's transaction: `Session.connection()` begins it as usual (SQLite's
  BEGIN IMMEDIATE comes from that "begin" event), and the driver connection is that one's;
- a driver error is raised as SQLAlchemy's `DBAPIError` subclass, as `Connection.execute` raises it,
  so the pipeline classifies it the same way; a lost connection is invalidated like SQLAlchemy's;
- the engine's `before_cursor_execute` and `after_cursor_execute` listeners are called (with no
  execution context).

PostgreSQL's psycopg prepares a statement on the server after it has run a few times on one
connection, so the same text every time also means prepared statements reused per connection.
Statements that need SQLAlchemy's per-execution rendering (expanding IN, literal binds) are
refused when compiled."""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Dialect, bindparam, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as Db
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: The names of the parameters in the driver's order (positional dialects), else None.
    order: tuple[str, ...] | None
    #: Values the statement binds itself (a LIMIT 1), by compiled name.
    defaults: Mapping[str, Any]
    binders: Mapping[str, Processor]
    row: type[tuple[Any, ...]] | None
    readers: tuple[tuple[int, Processor], ...]

    def arguments(self, params: Mapping[str, Any]) -> Any:
        values = {**self.defaults, **params} if self.defaults else dict(params)
        for name, process in self.binders.items():
            values[name] = process(values[name])
        if self.order is None:
            return values
        return tuple(values[name] for name in self.order)

    def read(self, raw: tuple[Any, ...]) -> Any:
        if self.readers:
            values = list(raw)
            for index, process in self.readers:
                values[index] = process(values[index])
            raw = tuple(values)
        assert self.row is not None
        return self.row(*raw)


def _row_type(fields: list[str]) -> type[tuple[Any, ...]]:
    # Attribute access like SQLAlchemy's rows, at a tuple's cost.
    return namedtuple("Row", fields)


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise TypeError("a Statement cannot render parameters per execution (expanding IN, literal binds)")
    names = compiled.bind_names
    # A parameter the caller names keeps its name; an anonymous one (a LIMIT 1) gets a compiled
    # name and carries its own value.
    defaults = {name: bind.effective_value for bind, name in names.items() if bind.key != name}
    if any(value is None for value in defaults.values()):
        raise TypeError("a parameter was renamed by the compiler: give it a name of its own")
    binders = {}
    for bind, name in names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binders[name] = process
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    columns = list(getattr(statement, "exported_columns", None) or ())
    row: type[tuple[Any, ...]] | None = None
    readers: list[tuple[int, Processor]] = []
    if columns:
        row = _row_type([column.key for column in columns])
        for index, column in enumerate(columns):
            read = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if read is not None:
                readers.append((index, read))
    return _Compiled(compiled.string, order, defaults, binders, row, tuple(readers))


class Statement:
    """A Core statement (select, or DML with RETURNING or without) run on the session's driver
    connection. Parameters are given by their `bindparam` names; rows come back as named tuples
    whose fields are the selected columns' keys."""

    def __init__(self, statement: Executable) -> None:
        if not isinstance(statement, ClauseElement):
            raise TypeError("a Statement wraps a Core statement")
        self.statement = statement
        # Per engine's dialect object (compilation may depend on the server's version); two
        # threads compiling at once both produce the same value, so no lock is needed.
        self._by_dialect: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect)
        if compiled is None:
            compiled = self._by_dialect[dialect] = _compile(self.statement, dialect)
        return compiled

    def _run(self, db: Db, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        connection = db.connection()
        dialect = connection.dialect
        compiled = self._for(dialect)
        driver = connection.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        arguments = compiled.arguments(params)
        # The engine's cursor events still see every statement (tracing, the drills that cut a
        # connection at a given statement); without listeners this costs two truth tests.
        dispatch = connection.dispatch
        try:
            if dispatch.before_cursor_execute:
                dispatch.before_cursor_execute(connection, cursor, compiled.sql, arguments, None, False)
            cursor.execute(compiled.sql, arguments)
            if dispatch.after_cursor_execute:
                dispatch.after_cursor_execute(connection, cursor, compiled.sql, arguments, None, False)
        except dialect.loaded_dbapi.Error as exc:
            lost = dialect.is_disconnect(exc, driver, cursor)
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                compiled.sql,
                None,
                exc,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                connection_invalidated=lost,
                dialect=dialect,
                ismulti=False,
            ) from exc
        return compiled, cursor

    def first(self, db: Db, params: Mapping[str, Any] | None = None) -> Any:
        """The first row, or None."""
        compiled, cursor = self._run(db, params or {})
        raw = cursor.fetchone()
        cursor.close()
        return None if raw is None else compiled.read(raw)

    def all(self, db: Db, params: Mapping[str, Any] | None = None) -> list[Any]:
        compiled, cursor = self._run(db, params or {})
        rows = [compiled.read(raw) for raw in cursor.fetchall()]
        cursor.close()
        return rows

    def scalar(self, db: Db, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = self.first(db, params)
        return None if row is None else row[0]

    def execute(self, db: Db, params: Mapping[str, Any] | None = None) -> int:
        """A statement without rows; the number of rows it changed."""
        _, cursor = self._run(db, params or {})
        count = int(cursor.rowcount)
        cursor.close()
        return count


def insert_values(table: Any, columns: tuple[str, ...] | list[str]) -> Any:
    """INSERT of the named columns, each bound by its own name with its column's type (a
    Statement cannot let the values decide the columns at execution, as Core's insert does)."""
    return insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns})
