"""`ctx.storage.sql`: the SQLite API of a Durable Object, with Cloudflare's limits and authorizer.

`exec` is synchronous, as on Cloudflare. SQLite's own errors surface as Cloudflare words them,
`"<sqlite message>: <SQLITE_CODE>"` (for example `"no such table: t: SQLITE_ERROR"`). The
authorizer mirrors workerd's `SqliteDatabase::isAuthorized` (src/workerd/util/sqlite.c++): no
ATTACH, no temp objects, no SQL transactions, a short list of PRAGMAs and functions, and no access
to the runtime's own `_cf_*` tables. The runtime itself bypasses it through `internal`.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from localedge import limits
from localedge.errors import BindingError

SqlValue = None | int | float | str | bytes

TRANSACTION_FORBIDDEN = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)
NO_STATEMENT = "SQL code did not contain a statement."
ONLY_LAST_HAS_PARAMS = (
    "When executing multiple SQL statements in a single call, only the last statement can "
    "have parameters."
)
WRONG_BINDINGS = "Wrong number of parameter bindings for SQL query."
NO_RESULTS = "Expected exactly one result from SQL query, but got no results."
MULTIPLE_RESULTS = "Expected exactly one result from SQL query, but got multiple results."

# Appended to the runtime's own SQL. sqlite3 caches prepared statements by text, and the
# authorizer only runs at prepare time: a user statement must never reuse a trusted one.
_INTERNAL_MARK = " /* localedge */"
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)
_USER_LIMITS = {
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: limits.DO_MAX_SQL_PARAMS,
    sqlite3.SQLITE_LIMIT_LENGTH: limits.DO_MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_COLUMN: limits.DO_MAX_SQL_COLUMNS,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: limits.DO_MAX_LIKE_PATTERN_BYTES,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
}


class SqlCursor:
    """The rows of the last statement, consumed once, as on Cloudflare.

    Results are read eagerly: the statement has fully run (and written) when `exec` returns.
    `rowsRead` counts rows returned by every statement; `rowsWritten` counts rows changed.
    """

    def __init__(
        self, columns: list[str], rows: list[tuple[Any, ...]], *, read: int, written: int
    ) -> None:
        self.columnNames = columns
        self.rowsRead = read
        self.rowsWritten = written
        self._rows = iter(rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        return dict(zip(self.columnNames, next(self._rows), strict=True))

    def next(self) -> dict[str, Any]:
        """The JavaScript iterator protocol: `{"done": False, "value": row}` or `{"done": True}`."""
        row = next(self, None)
        return {"done": True} if row is None else {"done": False, "value": row}

    def toArray(self) -> list[dict[str, Any]]:
        return list(self)

    def one(self) -> dict[str, Any]:
        rows = self.toArray()
        if not rows:
            raise BindingError(NO_RESULTS)
        if len(rows) > 1:
            raise BindingError(MULTIPLE_RESULTS)
        return rows[0]

    def raw(self) -> Iterator[list[Any]]:
        """Remaining rows as lists of values (keeps columns that share a name)."""
        return (list(row) for row in self._rows)


class SqlStorage:
    def __init__(
        self, conn: sqlite3.Connection, before_statement: Callable[[], None] | None = None
    ) -> None:
        self._conn = conn
        # The owner opens its lazy write transaction here (see storage.DurableObjectStorage).
        self._before = before_statement or (lambda: None)
        self._policy = Policy()
        conn.set_authorizer(self._policy)
        for category, value in _USER_LIMITS.items():
            conn.setlimit(category, value)

    def exec(self, query: str, *bindings: Any) -> SqlCursor:
        statements = _statements(query)
        if _PLAIN_TYPES.issuperset(map(type, bindings)):
            params: list[SqlValue] = list(bindings)
        else:
            params = [_binding(value) for value in bindings]
        self._before()
        changes = self._conn.total_changes
        read = 0
        for statement in statements[:-1]:
            read += len(self._run(statement, [], ONLY_LAST_HAS_PARAMS)[1])
        columns, rows = self._run(statements[-1], params, WRONG_BINDINGS)
        written = self._conn.total_changes - changes
        return SqlCursor(columns, rows, read=read + len(rows), written=written)

    @property
    def databaseSize(self) -> int:
        pages = self.internal("PRAGMA page_count").fetchone()[0]
        return int(pages) * int(self.internal("PRAGMA page_size").fetchone()[0])

    def internal(self, query: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run the runtime's own SQL, past the authorizer (never user input)."""
        with self._policy.trusted():
            return self._conn.execute(query + _INTERNAL_MARK, params)

    def internal_many(self, query: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._policy.trusted():
            self._conn.executemany(query + _INTERNAL_MARK, rows)

    def _run(
        self, statement: str, params: list[SqlValue], bindings_message: str
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        self._policy.denied_transaction = False
        try:
            cursor = self._conn.execute(statement, params)
            return [column[0] for column in cursor.description or ()], cursor.fetchall()
        except sqlite3.ProgrammingError as error:
            message = bindings_message if "bindings" in str(error) else str(error)
            raise BindingError(message) from error
        except sqlite3.Error as error:
            raise BindingError(self._message(error)) from error

    def _message(self, error: sqlite3.Error) -> str:
        if self._policy.denied_transaction:
            return TRANSACTION_FORBIDDEN
        name = getattr(error, "sqlite_errorname", None)
        return f"{error}: {name}" if name else str(error)


@functools.lru_cache(maxsize=2048)
def _statements(query: str) -> tuple[str, ...]:
    """The checked statements of one query text; Workers send the same texts again and again."""
    if len(query.encode()) > limits.DO_MAX_SQL_STATEMENT_BYTES:
        raise BindingError(limits.DO_SQL_STATEMENT_TOO_LONG)
    statements = tuple(split_statements(query))
    if not statements:
        raise BindingError(NO_STATEMENT)
    return statements


def split_statements(query: str) -> list[str]:
    """Split on the `;` that end complete statements (so trigger bodies stay whole)."""
    statements: list[str] = []
    start = 0
    for semicolon in re.finditer(";", query):
        if sqlite3.complete_statement(query[start : semicolon.end()]):
            statements.append(query[start : semicolon.end()])
            start = semicolon.end()
    statements.append(query[start:])
    return [statement for statement in statements if not _is_blank(statement)]


def _is_blank(statement: str) -> bool:
    return not _COMMENTS.sub("", statement).strip(" \t\r\n\f\v;")


# Exact types (so bool, a subclass of int, is not among them) that bind as they are.
_PLAIN_TYPES = frozenset({type(None), str, int, float, bytes})


def _binding(value: Any) -> SqlValue:
    # Cloudflare binds strings, numbers, ArrayBuffers and null; a JS boolean would be coerced
    # to the string "true", so booleans are refused here rather than silently stored as 1.
    if value is None or isinstance(value, str | bytes | float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, memoryview):
        return value.tobytes()
    raise BindingError(
        f"SQL bindings must be None, int, float, str or bytes, got {type(value).__name__}."
    )


# --- the authorizer (workerd's allowlists) ------------------------------------------------------
_ALWAYS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE, sqlite3.SQLITE_ANALYZE}
_ONE_NAME = {
    sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_CREATE_VIEW,
    sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE,
    sqlite3.SQLITE_READ, sqlite3.SQLITE_REINDEX,
}  # fmt: skip
_TWO_NAMES = {
    sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_DROP_TRIGGER,
}  # fmt: skip
_VTABLES = {sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE}
_VTABLE_MODULES = {"fts5", "fts5vocab"}
_TRANSACTIONS = {sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT}
_BOOLEAN_PRAGMAS = {
    "case_sensitive_like", "foreign_keys", "defer_foreign_keys", "ignore_check_constraints",
    "legacy_alter_table", "recursive_triggers", "reverse_unordered_selects",
}  # fmt: skip
_NAME_PRAGMAS = {
    "table_info", "table_xinfo", "foreign_key_list", "index_info", "index_list", "index_xinfo",
}  # fmt: skip
_BOOLEANS = {"true", "false", "yes", "no", "on", "off", "1", "0"}
_FUNCTIONS = frozenset({
    "abs", "changes", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "ifnull",
    "iif", "instr", "last_insert_rowid", "length", "like", "likelihood", "likely",
    "load_extension", "lower", "ltrim", "nullif", "octet_length", "printf", "quote", "random",
    "randomblob", "replace", "round", "rtrim", "sign", "soundex", "substr", "substring",
    "total_changes", "trim", "typeof", "unhex", "unicode", "unlikely", "upper", "zeroblob", "date",
    "time", "datetime", "julianday", "unixepoch", "strftime", "timediff", "current_date",
    "current_time", "current_timestamp", "avg", "count", "group_concat", "max", "min",
    "string_agg", "sum", "total", "row_number", "rank", "dense_rank", "percent_rank", "cume_dist",
    "ntile", "lag", "lead", "first_value", "last_value", "nth_value", "acos", "acosh", "asin",
    "asinh", "atan", "atan2", "atanh", "ceil", "cos", "cosh", "degrees", "exp", "floor", "ln",
    "log", "log2", "mod", "pi", "pow", "radians", "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
    "json", "json_array", "json_array_length", "json_extract", "->", "->>", "json_insert",
    "json_object", "json_patch", "json_remove", "json_replace", "json_set", "json_type",
    "json_valid", "json_quote", "json_group_array", "json_group_object", "json_each", "json_tree",
    "match", "highlight", "bm25", "snippet", "sqlite_rename_column", "sqlite_rename_table",
    "sqlite_rename_test", "sqlite_drop_column", "sqlite_rename_quotefix",
})  # fmt: skip


class Policy:
    """The SQLite authorizer callback; `trusted()` lets the runtime's own statements through."""

    def __init__(self) -> None:
        self._trusted = False
        self.denied_transaction = False  # read back to word the error as Cloudflare does

    @contextmanager
    def trusted(self) -> Iterator[None]:
        previous, self._trusted = self._trusted, True
        try:
            yield
        finally:
            self._trusted = previous

    def __call__(
        self, action: int, arg1: str | None, arg2: str | None, db: str | None, _: str | None
    ) -> int:
        allowed = self._trusted or self._allows(action, arg1, arg2, db)
        return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY

    def _allows(self, action: int, arg1: str | None, arg2: str | None, db: str | None) -> bool:
        if action in _TRANSACTIONS:
            self.denied_transaction = True
            return False
        if db not in (None, "main"):
            # Attached databases and temp objects are refused; reads of temp tables are not.
            temp_read = action in (sqlite3.SQLITE_READ, sqlite3.SQLITE_UPDATE)
            return db == "temp" and temp_read and _allowed_name(arg1)
        if action in _ALWAYS:
            return True
        if action in _ONE_NAME:
            return _allowed_name(arg1)
        if action == sqlite3.SQLITE_ALTER_TABLE:  # SQLite passes (database, table) here
            return _allowed_name(arg2)
        if action in _TWO_NAMES:
            return _allowed_name(arg1) and _allowed_name(arg2)
        if action in _VTABLES:
            return (arg2 or "").lower() in _VTABLE_MODULES
        if action == sqlite3.SQLITE_PRAGMA:
            return _allows_pragma((arg1 or "").lower(), arg2)
        if action == sqlite3.SQLITE_FUNCTION:
            return (arg2 or "").lower() in _FUNCTIONS
        return False  # ATTACH, DETACH, temp objects, anything new


def _allows_pragma(name: str, arg: str | None) -> bool:
    if name == "table_list":
        return True
    if name in _NAME_PRAGMAS:
        return arg is not None and _allowed_name(arg)
    if name in _BOOLEAN_PRAGMAS:
        return arg is None or arg.strip("'\"").lower() in _BOOLEANS
    if name == "data_version":  # FTS5 reads it internally
        return arg is None
    if name in ("foreign_key_check", "quick_check"):
        return arg is None or arg.isdigit() or _allowed_name(arg)
    if name == "optimize":
        return arg is None or arg.lstrip("-").isdigit()
    return False


def _allowed_name(name: str | None) -> bool:
    return name is not None and not name.lower().startswith("_cf_")
