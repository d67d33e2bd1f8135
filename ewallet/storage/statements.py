"""Hot statements, compiled once per kind of dialect and run on the transaction's own driver connection.

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

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Dialect, bindparam, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as Db
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any]
#: A parameter the caller gives at execution (None is a value a statement may bind itself).
_ASKED = object()


@dataclass
class _Compiled:
    sql: str
    #: Positional dialects (SQLite): the driver takes a tuple in this order, else a dict.
    positional: bool
    #: Per driver parameter: its name, its type's bind processor, and the value the statement
    #: binds itself (an anonymous LIMIT 1) or _ASKED.
    plan: tuple[tuple[str, Processor | None, Any], ...]
    columns: tuple[Any, ...]
    row: type[tuple[Any, ...]] | None
    #: The result processors by column index, made at the first result: some (psycopg's
    #: numeric) depend on the type the driver reports for the column.
    readers: tuple[tuple[int, Processor], ...] | None = None

    def arguments(self, params: Mapping[str, Any]) -> Any:
        values = []
        try:
            for name, process, own in self.plan:
                value = params[name] if own is _ASKED else own
                values.append(value if process is None else process(value))
        except KeyError as missing:
            raise TypeError(f"the statement needs the parameter {missing}") from None
        if self.positional:
            return tuple(values)
        return {name: value for (name, _, _), value in zip(self.plan, values, strict=True)}

    def prepare_reading(self, dialect: Dialect, description: Any) -> None:
        if self.readers is not None:
            return
        readers = []
        for index, column in enumerate(self.columns):
            coltype = description[index][1] if description else None
            read = column.type.dialect_impl(dialect).result_processor(dialect, coltype)
            if read is not None:
                readers.append((index, read))
        self.readers = tuple(readers)

    def read(self, raw: tuple[Any, ...]) -> Any:
        if self.readers:
            values = list(raw)
            for index, process in self.readers:
                values[index] = process(values[index])
            raw = tuple(values)
        assert self.row is not None
        return self.row(*raw)


def _row_type(fields: list[str | None]) -> type[tuple[Any, ...]]:
    # Attribute access like SQLAlchemy's rows, at a tuple's cost. A column without a usable
    # name (an unlabelled count(*), a repeated key) is reachable by index only.
    return namedtuple("Row", [field or "_" for field in fields], rename=True)


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise TypeError("a Statement cannot render parameters per execution (expanding IN, literal binds)")
    names = compiled.bind_names
    # A parameter the caller names keeps its name; an anonymous one (a LIMIT 1) gets a compiled
    # name and carries its own value.
    defaults = {name: bind.effective_value for bind, name in names.items() if bind.key != name}
    if any(bind.required for bind, name in names.items() if bind.key != name):
        raise TypeError("a parameter was renamed by the compiler: give it a name of its own")
    types = {name: bind.type for bind, name in names.items()}
    # positiontup repeats a name used twice; a dict needs each once.
    order = list(compiled.positiontup or ()) if compiled.positional else list(dict.fromkeys(names.values()))
    plan = tuple(
        (name, types[name].dialect_impl(dialect).bind_processor(dialect), defaults.get(name, _ASKED)) for name in order
    )
    columns = tuple(getattr(statement, "exported_columns", None) or ())
    row = _row_type([column.key for column in columns]) if columns else None
    return _Compiled(compiled.string, compiled.positional, plan, columns, row)


#: Keys a session's `info` to the connection of its current transaction.
_PINNED = "ewallet_transaction_connection"


def transaction_connection(db: Db) -> Connection:
    """The connection of the session's innermost transaction, beginning it if need be. Kept in
    the session's `info` for that transaction: `Session.connection()` walks the ORM's transaction
    state on every call, which cost more than the statement itself. It is still called once per
    transaction and savepoint, because it is what emits a `begin_nested()`'s SAVEPOINT: without
    it a savepoint's rollback would undo nothing."""
    pinned: tuple[object, Connection] | None = db.info.get(_PINNED)
    current = db.get_nested_transaction() or db.get_transaction()
    if pinned is not None and pinned[0] is current and current is not None:
        connection = pinned[1]
        if not (connection.closed or connection.invalidated):
            return connection
    connection = db.connection()
    db.info[_PINNED] = (db.get_nested_transaction() or db.get_transaction(), connection)
    return connection


def run_on_driver(connection: Connection, sql: str, arguments: Any = None) -> Any:
    """Execute `sql` on the connection's driver cursor, errors raised as SQLAlchemy raises them.
    The engine's cursor events still see every statement (tracing, the drills that cut a
    connection at a given statement); without listeners they cost two truth tests."""
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    dispatch = connection.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, sql, arguments, None, False)
        if arguments is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, arguments)
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(connection, cursor, sql, arguments, None, False)
    except dialect.loaded_dbapi.Error as exc:
        lost = dialect.is_disconnect(exc, driver, cursor)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=dialect,
            ismulti=False,
        ) from exc
    return cursor


class Statement:
    """A Core statement (select, or DML with RETURNING or without) run on the session's driver
    connection. Parameters are given by their `bindparam` names; rows come back as named tuples
    whose fields are the selected columns' keys."""

    def __init__(self, statement: Executable) -> None:
        if not isinstance(statement, ClauseElement):
            raise TypeError("a Statement wraps a Core statement")
        self.statement = statement
        # Per kind of dialect and server version (what compilation depends on; every engine
        # here is made alike by storage.database), not per engine: engines come and go (tests,
        # tools) and the processors would keep each one's dialect alive. Two threads compiling
        # at once both produce the same value, so no lock is needed.
        self._by_dialect: dict[tuple[type, object], _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (type(dialect), dialect.server_version_info)
        compiled = self._by_dialect.get(key)
        if compiled is None:
            compiled = self._by_dialect[key] = _compile(self.statement, dialect)
        return compiled

    def _run(self, db: Db, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        connection = transaction_connection(db)
        compiled = self._for(connection.dialect)
        cursor = run_on_driver(connection, compiled.sql, compiled.arguments(params))
        if compiled.readers is None and compiled.columns:
            compiled.prepare_reading(connection.dialect, cursor.description)
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


def insert_values(table: Any, columns: tuple[str, ...] | list[str] | None = None) -> Any:
    """INSERT of the named columns (by default every column but the primary key), each bound by
    its own name with its column's type (a Statement cannot let the values decide the columns at
    execution, as Core's insert does)."""
    if columns is None:
        columns = [column.name for column in table.c if not column.primary_key]
    return insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns})
