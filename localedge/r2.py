"""R2 buckets: object bodies as files, their index in SQLite, Cloudflare's limits and messages.

Bodies live in `<root>/blobs/`, each named by its object's version (a random uuid), so no key,
however many `../` or odd characters it holds, ever becomes part of a path. `<root>/index.sqlite`
maps keys to versions and metadata. A put writes a temp file, renames it into place and only
then commits the row: a crash in between leaves an unreferenced blob, which the next open sweeps.

Behaviour follows R2 as miniflare reproduces it: ranges are clamped to the object, a delimited
prefix counts towards `limit` and is reported once across pages, and a listing that includes
metadata returns at most 100 objects (R2 may return fewer than `limit` when metadata is included).
Not emulated: conditional requests (`onlyIf`), SHA checksums, multipart uploads, storage classes.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from localedge import limits
from localedge.clock import Clock
from localedge.errors import BindingError, RpcError

Value = str | bytes | memoryview | None

HTTP_HEADERS = {
    "contentType": "content-type",
    "contentLanguage": "content-language",
    "contentDisposition": "content-disposition",
    "contentEncoding": "content-encoding",
    "cacheControl": "cache-control",
}
INCLUDABLE = frozenset({"httpMetadata", "customMetadata"})
INCLUDE_CAP = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Messages limits.py has no wording for: workerd's and R2's own, or local-only rejections.
BODY_USED = (
    "Body has already been used. It can only be used once. Use tee() first if you need to read "
    "it twice."
)
BAD_CURSOR = "list: The specified cursor is not valid. (10029)"
BAD_DIGEST = (
    "put: The MD5 checksum you specified did not match what we received.\n"
    "You provided a MD5 checksum with value: {provided}\nActual MD5 was: {actual} (10037)"
)

# TEXT keys compare with SQLite's BINARY collation, i.e. memcmp over UTF-8: R2's list order.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY, version TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    uploaded INTEGER NOT NULL, http_metadata TEXT NOT NULL, custom_metadata TEXT NOT NULL,
    blob TEXT NOT NULL
) WITHOUT ROWID
"""
_UPSERT = (
    "INSERT OR REPLACE INTO objects VALUES (:key, :version, :size, :etag, :uploaded,"
    " :http_metadata, :custom_metadata, :blob)"
)


@dataclass
class R2Object:
    key: str
    version: str
    size: int
    etag: str
    httpEtag: str
    uploaded: datetime
    httpMetadata: dict[str, Any]
    customMetadata: dict[str, str]
    range: dict[str, int] | None
    checksums: dict[str, str]

    def __getitem__(self, name: str) -> Any:
        # Item access as on the SDK's JsDict-wrapped objects, limited to the public fields.
        if name.startswith("_") or name not in {f.name for f in fields(self)}:
            raise KeyError(name)
        return getattr(self, name)

    def writeHttpMetadata(self, headers: MutableMapping[str, str]) -> None:
        for name, header in HTTP_HEADERS.items():
            if name in self.httpMetadata:
                headers[header] = self.httpMetadata[name]
        if isinstance(expiry := self.httpMetadata.get("cacheExpiry"), datetime):
            headers["expires"] = format_datetime(expiry, usegmt=True)


@dataclass
class R2ObjectBody(R2Object):
    _content: builtins.bytes = field(repr=False)
    bodyUsed: bool = False

    @property
    def body(self) -> builtins.bytes:
        """The body for `Response(obj.body)`; a stream on Cloudflare, bytes here."""
        return self._consume()

    async def text(self) -> str:
        return self._consume().decode("utf-8", errors="replace")  # TextDecoder's default

    async def json(self) -> Any:
        return json.loads(self._consume())

    async def arrayBuffer(self) -> memoryview:
        return memoryview(self._consume())

    async def bytes(self) -> builtins.bytes:
        return self._consume()

    def _consume(self) -> builtins.bytes:
        # A body is a stream on Cloudflare: it can be read once.
        if self.bodyUsed:
            raise BindingError(BODY_USED)
        self.bodyUsed = True
        return self._content


@dataclass
class _Entry:
    row: dict[str, Any]
    group: str | None  # the delimited prefix this entry stands for, or None for an object
    last: str  # the last key it covers: where the next page starts after


class R2Bucket:
    def __init__(self, root: Path, clock: Clock) -> None:
        self._clock = clock
        self._blobs = root / "blobs"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(root / "index.sqlite")
        self._db.row_factory = _dict_row
        with self._db:
            self._db.execute(_SCHEMA)
        self._sweep()

    def close(self) -> None:
        self._db.close()

    async def put(
        self,
        key: str,
        value: Value,
        options: Mapping[str, Any] | None = None,
        *,
        httpMetadata: Mapping[str, Any] | None = None,
        customMetadata: Mapping[str, str] | None = None,
        md5: str | builtins.bytes | None = None,
    ) -> R2Object:
        opts = _options(
            "put", options, httpMetadata=httpMetadata, customMetadata=customMetadata, md5=md5
        )
        _check_key("put", key)
        data = _to_bytes(value)
        if len(data) > limits.R2_MAX_PUT_BYTES:
            raise BindingError(limits.R2_ENTITY_TOO_LARGE.format(op="put"))
        custom = _check_custom(opts.get("customMetadata") or {})
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        _check_md5(opts.get("md5"), etag)
        version = uuid.uuid4().hex
        row = {
            "key": key,
            "version": version,
            "size": len(data),
            "etag": etag,
            "uploaded": round(self._clock.now() * 1000),
            "http_metadata": _http_to_json(opts.get("httpMetadata") or {}),
            "custom_metadata": json.dumps(custom),
            "blob": version,
        }
        self._write(row, data)
        return R2Object(**_fields(row))

    async def get(
        self,
        key: str,
        options: Mapping[str, Any] | None = None,
        *,
        range: Mapping[str, Any] | None = None,
    ) -> R2ObjectBody | None:
        opts = _options("get", options, range=range)
        _check_key("get", key)
        row = self._row(key)
        if row is None:
            return None
        offset, length = _resolve_range(opts.get("range"), row["size"])
        with (self._blobs / row["blob"]).open("rb") as blob:
            blob.seek(offset)
            data = blob.read(length)
        served = {"offset": offset, "length": length}
        return R2ObjectBody(**{**_fields(row), "range": served}, _content=data)

    async def head(self, key: str) -> R2Object | None:
        _check_key("head", key)
        row = self._row(key)
        if row is None:
            return None
        return R2Object(**{**_fields(row), "range": {"offset": 0, "length": row["size"]}})

    async def delete(self, keys: str | Sequence[str]) -> None:
        batch = [keys] if isinstance(keys, str) else list(keys)
        if len(batch) > limits.R2_MAX_DELETE_KEYS:
            raise BindingError(limits.R2_TOO_MANY_DELETES)
        for key in batch:
            _check_key("delete", key)
        with self._db:
            rows = [self._row(key) for key in batch]
            self._db.executemany("DELETE FROM objects WHERE key = ?", [(key,) for key in batch])
        for row in rows:
            if row is not None:
                (self._blobs / row["blob"]).unlink(missing_ok=True)

    async def list(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        prefix: str | None = None,
        cursor: str | None = None,
        delimiter: str | None = None,
        limit: int | None = None,  # None means R2's default of 1000
        include: Sequence[str] | None = None,
        startAfter: str | None = None,
    ) -> dict[str, Any]:
        opts = _options(
            "list", options, prefix=prefix, cursor=cursor, delimiter=delimiter, limit=limit,
            include=include, startAfter=startAfter,
        )  # fmt: skip
        count = _check_limit(opts.get("limit", limits.R2_MAX_LIST_KEYS))
        included = set(opts.get("include") or ())
        if not included <= INCLUDABLE:
            raise BindingError(f"list: include accepts only {sorted(INCLUDABLE)}.")
        if included:
            count = min(count, INCLUDE_CAP)
        after = max(opts.get("startAfter") or "", _decode_cursor(opts.get("cursor")))
        entries, truncated = self._walk(
            opts.get("prefix") or "", opts.get("delimiter"), after, count
        )
        show = {"http": "httpMetadata" in included, "custom": "customMetadata" in included}
        page: dict[str, Any] = {
            "objects": [R2Object(**_fields(e.row, **show)) for e in entries if e.group is None],
            "truncated": truncated,
            "delimitedPrefixes": [e.group for e in entries if e.group is not None],
        }
        if truncated:
            page["cursor"] = base64.urlsafe_b64encode(entries[-1].last.encode()).decode()
        return page

    def _row(self, key: str) -> dict[str, Any] | None:
        row: dict[str, Any] | None = self._db.execute(
            "SELECT * FROM objects WHERE key = ?", (key,)
        ).fetchone()
        return row

    def _write(self, row: dict[str, Any], data: builtins.bytes) -> None:
        temp = self._blobs / f".tmp-{row['blob']}"
        temp.write_bytes(data)
        temp.replace(self._blobs / row["blob"])  # atomic: a blob is whole or absent
        try:
            with self._db:
                old = self._row(row["key"])
                self._db.execute(_UPSERT, row)
        except BaseException:
            (self._blobs / row["blob"]).unlink(missing_ok=True)
            raise
        if old is not None:
            (self._blobs / old["blob"]).unlink(missing_ok=True)

    def _walk(
        self, prefix: str, delimiter: str | None, after: str, count: int
    ) -> tuple[builtins.list[_Entry], bool]:
        """Up to `count` entries after `after`, each delimited prefix folded into one entry."""
        entries: builtins.list[_Entry] = []
        query = "SELECT * FROM objects WHERE key > ? AND key >= ? ORDER BY key"
        with closing(self._db.execute(query, (after, prefix))) as rows:
            for row in rows:
                key = row["key"]
                if not key.startswith(prefix):
                    break  # keys are sorted: every later key is past the prefix too
                group = _group(key, prefix, delimiter)
                if group is not None and entries and entries[-1].group == group:
                    entries[-1].last = key
                    continue
                if len(entries) == count:
                    return entries, True
                entries.append(_Entry(row, group, key))
        return entries, False

    def _sweep(self) -> None:
        # Blobs no row names are leftovers of a crash mid-put or mid-delete. Assumes one process
        # per data directory, as miniflare does: another writer's in-flight blob would go too.
        live = {row["blob"] for row in self._db.execute("SELECT blob FROM objects")}
        for path in self._blobs.iterdir():
            if path.name not in live:
                path.unlink(missing_ok=True)


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


def _options(op: str, options: Mapping[str, Any] | None, **given: Any) -> dict[str, Any]:
    """The JS options object merged with keyword options (keywords win); unknown names refused."""
    merged = {k: v for k, v in (options or {}).items() if v is not None}
    merged.update((k, v) for k, v in given.items() if v is not None)
    if unknown := sorted(merged.keys() - given.keys()):
        raise BindingError(f"{op}: localedge does not support the option(s) {unknown}.")
    return merged


def _check_key(op: str, key: str) -> None:
    try:
        size = len(key.encode())
    except UnicodeEncodeError:  # lone surrogates have no UTF-8 form, so no R2 name either
        size = 0
    if not 0 < size <= limits.R2_MAX_KEY_BYTES:
        raise BindingError(limits.R2_INVALID_KEY.format(op=op))


def _to_bytes(value: Value) -> builtins.bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, builtins.bytes | memoryview):
        return builtins.bytes(value)
    raise RpcError(f"put: cannot send a {type(value).__name__} body; use str, bytes or memoryview.")


def _check_custom(meta: Mapping[str, str]) -> dict[str, str]:
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise BindingError("put: customMetadata keys and values must be strings.")
    size = sum(_gateway_length(k) + _gateway_length(v) for k, v in meta.items())
    if size > limits.R2_MAX_METADATA_BYTES:
        raise BindingError(limits.R2_METADATA_TOO_LARGE.format(op="put"))
    return dict(meta)


def _gateway_length(text: str) -> int:
    # R2's gateway counts one byte per character for Latin-1 text, else two per UTF-16 unit.
    if max(map(ord, text), default=0) < 256:
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass"))


def _check_md5(given: str | builtins.bytes | None, actual: str) -> None:
    if given is None:
        return
    provided = given.hex() if isinstance(given, builtins.bytes) else given.lower()
    if provided != actual:
        raise BindingError(BAD_DIGEST.format(provided=provided, actual=actual))


def _http_to_json(meta: Mapping[str, Any]) -> str:
    # JS coerces these fields to strings and drops unknown ones; cacheExpiry is a Date (kept in ms).
    out: dict[str, Any] = {k: str(meta[k]) for k in HTTP_HEADERS if meta.get(k) is not None}
    if isinstance(expiry := meta.get("cacheExpiry"), datetime):
        out["cacheExpiry"] = round(expiry.timestamp() * 1000)
    return json.dumps(out)


def _fields(row: Mapping[str, Any], *, http: bool = True, custom: bool = True) -> dict[str, Any]:
    """R2Object fields from an index row; list() leaves out metadata that was not included."""
    meta = json.loads(row["http_metadata"]) if http else {}
    if "cacheExpiry" in meta:
        meta["cacheExpiry"] = _EPOCH + timedelta(milliseconds=meta["cacheExpiry"])
    return {
        "key": row["key"],
        "version": row["version"],
        "size": row["size"],
        "etag": row["etag"],
        "httpEtag": f'"{row["etag"]}"',
        "uploaded": _EPOCH + timedelta(milliseconds=row["uploaded"]),  # exact, unlike floats
        "httpMetadata": meta,
        "customMetadata": json.loads(row["custom_metadata"]) if custom else {},
        "range": None,
        "checksums": {"md5": row["etag"]},
    }


def _resolve_range(spec: Mapping[str, Any] | None, size: int) -> tuple[int, int]:
    """The (offset, length) R2 serves for an R2Range: clamped to the object, or refused."""
    if spec is None:
        return 0, size
    given = {k: v for k, v in spec.items() if v is not None}
    counts = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in given.values())
    if not counts or not given.keys() <= {"offset", "length", "suffix"}:
        raise BindingError(limits.R2_INVALID_RANGE)
    if "suffix" in given:
        if given.keys() != {"suffix"} or given["suffix"] == 0:
            raise BindingError(limits.R2_INVALID_RANGE)
        length = min(given["suffix"], size)
        offset = size - length
    else:
        offset = given.get("offset", 0)
        length = given.get("length", size - offset)
    if offset > size or length <= 0:
        raise BindingError(limits.R2_INVALID_RANGE)
    return offset, min(length, size - offset)


def _check_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise BindingError(limits.R2_INVALID_LIMIT)
    if not 1 <= limit <= limits.R2_MAX_LIST_KEYS:
        raise BindingError(limits.R2_INVALID_LIMIT)
    return limit


def _decode_cursor(cursor: Any) -> str:
    if cursor is None:
        return ""
    try:
        return base64.urlsafe_b64decode(str(cursor).encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise BindingError(BAD_CURSOR) from None


def _group(key: str, prefix: str, delimiter: str | None) -> str | None:
    """The delimited prefix `key` falls under: up to the first delimiter after `prefix`."""
    if not delimiter:
        return None
    cut = key.find(delimiter, len(prefix))
    return None if cut < 0 else key[: cut + len(delimiter)]
