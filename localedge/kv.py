"""Workers KV on SQLite: one file per namespace, the SDK's calls, Cloudflare's limits.

Consistency: Cloudflare KV is eventually consistent (a write can take 60 s or more to be seen
from other locations). Locally there is a single location, so every read sees the latest write,
as in miniflare. Code that needs read-after-write consistency works here and fails in production:
keep such state in a Durable Object.

Not enforced: the 1 write/s per key limit (Cloudflare does not reliably reject it either), the
1,000 operations per invocation, and `cacheTtl`, which is validated but has no cache to steer.
Expiration is kept in whole epoch seconds, as Cloudflare keeps it, and judged against the
runtime clock: a key written with `expirationTtl=60` reads at +59 s and is gone at +60 s.
Expired rows are hidden from every read at once and deleted on the next write.
"""

from __future__ import annotations

import base64
import json
import math
import pathlib
import sqlite3
from collections.abc import Mapping
from typing import Any

from localedge import limits
from localedge.clock import Clock
from localedge.errors import BindingError

Options = Mapping[str, Any]
Keys = list[str]  # spelled here: inside the class, `list` is the KV method
Row = tuple[bytes, str | None]  # value, metadata JSON

# TEXT keys compare with SQLite's BINARY collation, i.e. memcmp over UTF-8: Cloudflare's order.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expiration INTEGER,
    metadata TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiration ON kv (expiration) WHERE expiration IS NOT NULL;
"""
_GET = "SELECT value, metadata FROM kv WHERE key = ? AND (expiration IS NULL OR expiration > ?)"
_LIST = (
    "SELECT key, expiration, metadata FROM kv WHERE key > ? AND substr(key, 1, ?) = ?"
    " AND (expiration IS NULL OR expiration > ?) ORDER BY key LIMIT ?"
)
_TYPES = ("text", "json", "arrayBuffer")
_BULK_TYPES = ("text", "json")

# Messages for cases limits.py has no wording for (local-only or SDK-side rejections).
_STREAM_UNSUPPORTED = 'KV GET failed: type "stream" is not supported locally; use "arrayBuffer".'
_BULK_BAD_TYPE = 'KV GET_BULK failed: 400 Bulk get supports only the types "text" and "json".'
_BAD_VALUE = "KV PUT failed: values must be str, bytes, bytearray or memoryview, not {}."


class KVNamespace:
    def __init__(self, path: pathlib.Path, clock: Clock) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        # Autocommit: each write is durable when its call returns, so a restart loses nothing.
        # Calls never overlap (one event loop), but the loop may run in another thread than the
        # one that built the runtime (e.g. a test client's portal), hence check_same_thread.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    async def get(
        self, key: str | Keys, type: str | Options = "text", *, cacheTtl: int | None = None
    ) -> Any:
        kind = _read_kind(type, cacheTtl, bulk=isinstance(key, list))
        if isinstance(key, list):
            rows = self._bulk(key)
            return {k: None if r is None else _decode(k, r[0], kind) for k, r in rows.items()}
        row = self._row(key)
        return None if row is None else _decode(key, row[0], kind)

    async def getWithMetadata(
        self, key: str | Keys, type: str | Options = "text", *, cacheTtl: int | None = None
    ) -> dict[str, Any]:
        kind = _read_kind(type, cacheTtl, bulk=isinstance(key, list))
        if isinstance(key, list):
            return {k: _with_metadata(k, row, kind) for k, row in self._bulk(key).items()}
        return {**_with_metadata(key, self._row(key), kind), "cacheStatus": None}

    async def put(
        self,
        key: str,
        value: str | bytes | bytearray | memoryview,
        options: Options | None = None,
        *,
        expirationTtl: float | None = None,
        expiration: float | None = None,
        metadata: Any = None,
    ) -> None:
        given = {"expirationTtl": expirationTtl, "expiration": expiration, "metadata": metadata}
        opts = _merge(options, **given)
        _check_key("PUT", key)
        now = self._now()
        row = (key, _to_bytes(value), _expiration(opts, now), _dump_metadata(opts.get("metadata")))
        self._purge(now)
        self._db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?, ?)", row)

    async def delete(self, key: str) -> None:
        _check_key("DELETE", key)
        self._purge(self._now())
        self._db.execute("DELETE FROM kv WHERE key = ?", (key,))

    async def list(
        self,
        options: Options | None = None,
        *,
        prefix: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        opts = _merge(options, prefix=prefix, limit=limit, cursor=cursor)
        count = opts.get("limit", limits.KV_MAX_LIST_KEYS)
        if not _is_int(count) or not 0 < count <= limits.KV_MAX_LIST_KEYS:
            raise BindingError(limits.kv_list_limit_invalid(count))
        start, wanted = _after(opts.get("cursor")), opts.get("prefix") or ""
        # One row beyond the page tells whether another page follows.
        params = (start, len(wanted), wanted, self._now(), count + 1)
        rows = self._db.execute(_LIST, params).fetchall()
        page: dict[str, Any] = {"keys": [_list_entry(*row) for row in rows[:count]]}
        page["list_complete"] = len(rows) <= count
        if not page["list_complete"]:
            page["cursor"] = base64.urlsafe_b64encode(rows[count - 1][0].encode()).decode()
        return page

    def close(self) -> None:
        self._db.close()

    def _now(self) -> int:
        return math.floor(self._clock.now())

    def _purge(self, now: int) -> None:
        self._db.execute("DELETE FROM kv WHERE expiration <= ?", (now,))

    def _row(self, key: str) -> Row | None:
        _check_key("GET", key)
        row: Row | None = self._db.execute(_GET, (key, self._now())).fetchone()
        return row

    def _bulk(self, keys: Keys) -> dict[str, Row | None]:
        if len(keys) > limits.KV_MAX_BULK_GET_KEYS:
            raise BindingError(
                f"KV GET_BULK failed: 400 Too many keys: {len(keys)} requested, "
                f"at most {limits.KV_MAX_BULK_GET_KEYS} allowed."
            )
        return {key: self._row(key) for key in keys}


def _merge(options: Options | None, **given: Any) -> dict[str, Any]:
    """Keyword options win over the dict form; both reach Cloudflare as one JS options object."""
    return {**(options or {}), **{name: v for name, v in given.items() if v is not None}}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _check_key(op: str, key: object) -> None:
    if not isinstance(key, str):
        raise BindingError(f"KV {op} failed: keys must be str, not {type(key).__name__}.")
    if key in ("", ".", ".."):
        raise BindingError(limits.kv_key_illegal(op, key))
    length = len(key.encode())
    if length > limits.KV_MAX_KEY_BYTES:
        raise BindingError(limits.kv_key_too_long(op, length))


def _read_kind(kind: str | Options | None, cache_ttl: Any, *, bulk: bool) -> str:
    if isinstance(kind, Mapping):
        return _read_kind(kind.get("type"), kind.get("cacheTtl", cache_ttl), bulk=bulk)
    kind = kind or "text"
    if kind == "stream":
        raise BindingError(_STREAM_UNSUPPORTED)
    if kind not in _TYPES:
        raise BindingError(limits.KV_BAD_TYPE)
    if bulk and kind not in _BULK_TYPES:
        raise BindingError(_BULK_BAD_TYPE)
    if cache_ttl is not None and not (
        _is_number(cache_ttl) and cache_ttl >= limits.KV_MIN_TTL_SECONDS
    ):
        raise BindingError(limits.kv_cache_ttl_invalid(cache_ttl))
    return kind


def _decode(key: str, data: bytes, kind: str) -> Any:
    if kind == "arrayBuffer":
        return memoryview(bytearray(data))  # a fresh, writable buffer, like a JS ArrayBuffer
    text = data.decode("utf-8", errors="replace")  # TextDecoder's behaviour on invalid bytes
    if kind == "text":
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BindingError(f'KV GET failed: value of "{key}" is not valid JSON: {error}') from None


def _with_metadata(key: str, row: Row | None, kind: str) -> dict[str, Any]:
    if row is None:
        return {"value": None, "metadata": None}
    return {"value": _decode(key, row[0], kind), "metadata": _load_metadata(row[1])}


def _to_bytes(value: object) -> bytes:
    if isinstance(value, str):
        data = value.encode()
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    else:
        raise BindingError(_BAD_VALUE.format(type(value).__name__))
    if len(data) > limits.KV_MAX_VALUE_BYTES:
        raise BindingError(limits.kv_value_too_large(len(data)))
    return data


def _expiration(options: Options, now: int) -> int | None:
    ttl, at = options.get("expirationTtl"), options.get("expiration")
    if ttl is not None:  # Cloudflare prefers the TTL when both are given
        if not (_is_number(ttl) and ttl >= limits.KV_MIN_TTL_SECONDS):
            raise BindingError(limits.kv_ttl_too_small(ttl))
        return now + int(ttl)
    if at is not None:
        if not (_is_number(at) and at >= now + limits.KV_MIN_TTL_SECONDS):
            raise BindingError(limits.kv_expiration_too_soon(at))
        return int(at)
    return None


def _dump_metadata(metadata: Any) -> str | None:
    if metadata is None:
        return None
    try:  # compact and unescaped, so the size matches JSON.stringify's
        text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise BindingError(f"KV PUT failed: metadata is not JSON-serialisable: {error}") from None
    length = len(text.encode())
    if length > limits.KV_MAX_METADATA_BYTES:
        raise BindingError(limits.kv_metadata_too_large(length))
    return text


def _load_metadata(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _after(cursor: object) -> str:
    """The last key of the previous page; "" (before every key) when there is no cursor."""
    if cursor is None or cursor == "":
        return ""
    if not isinstance(cursor, str):
        raise BindingError(limits.KV_BAD_CURSOR)
    try:
        return base64.b64decode(cursor, altchars=b"-_", validate=True).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError and non-ASCII input all are
        raise BindingError(limits.KV_BAD_CURSOR) from None


def _list_entry(key: str, expiration: int | None, metadata: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": key}
    if expiration is not None:
        entry["expiration"] = expiration
    if metadata is not None:
        entry["metadata"] = _load_metadata(metadata)
    return entry
