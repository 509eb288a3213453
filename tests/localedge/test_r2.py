"""The R2 binding: what a Worker observes through put/get/head/list/delete, and what survives."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localedge import limits
from localedge.clock import ManualClock
from localedge.errors import BindingError, RpcError
from localedge.r2 import R2Bucket

pytestmark = pytest.mark.anyio

START = datetime(2026, 1, 1, tzinfo=UTC)  # ManualClock's default start
BODY = b"0123456789"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "bucket"


@pytest.fixture
async def bucket(root: Path, clock: ManualClock) -> AsyncIterator[R2Bucket]:
    opened = R2Bucket(root, clock)
    yield opened
    opened.close()


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


async def keys_of(bucket: R2Bucket, **options: Any) -> list[str]:
    page = await bucket.list(**options)
    return [obj.key for obj in page["objects"]]


# --- bodies and keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reader", "expected"),
    [
        ("hello, world", "text", "hello, world"),
        ("naïve ☕", "text", "naïve ☕"),
        (b"\x00\xff\x10", "bytes", b"\x00\xff\x10"),
        (memoryview(b"view"), "bytes", b"view"),
        ('{"pitch": [1, 2], "ok": true}', "json", {"pitch": [1, 2], "ok": True}),
        (None, "text", ""),
    ],
)
async def test_a_body_reads_back_as_it_was_put(
    bucket: R2Bucket, value: Any, reader: str, expected: Any
) -> None:
    await bucket.put("object", value)
    obj = await bucket.get("object")
    assert obj is not None
    assert await getattr(obj, reader)() == expected


async def test_array_buffer_is_a_memoryview_of_the_body(bucket: R2Bucket) -> None:
    await bucket.put("object", b"abc")
    obj = await bucket.get("object")
    assert obj is not None
    view = await obj.arrayBuffer()
    assert isinstance(view, memoryview)
    assert view.tobytes() == b"abc"


async def test_a_body_can_be_read_only_once(bucket: R2Bucket) -> None:
    await bucket.put("object", "once")
    obj = await bucket.get("object")
    assert obj is not None
    assert obj.bodyUsed is False
    assert await obj.text() == "once"
    assert obj.bodyUsed is True
    with pytest.raises(BindingError, match=r"^Body has already been used\."):
        await obj.text()


async def test_body_attribute_hands_over_the_bytes_for_a_response(bucket: R2Bucket) -> None:
    await bucket.put("object", "streamed")
    obj = await bucket.get("object")
    assert obj is not None
    assert obj.body == b"streamed"
    assert obj.bodyUsed is True


async def test_a_bytearray_body_is_refused_as_the_sdk_refuses_it(bucket: R2Bucket) -> None:
    with pytest.raises(RpcError, match="bytearray"):
        await bucket.put("object", bytearray(b"x"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key", ["日本語/ファイル.txt", "🎬/pitch deck.pdf", "a?b&c=d#e", "trailing/", " spaced "]
)
async def test_unicode_and_punctuation_keys_round_trip(bucket: R2Bucket, key: str) -> None:
    await bucket.put(key, key)
    obj = await bucket.get(key)
    assert obj is not None
    assert obj.key == key
    assert await obj.text() == key
    assert await keys_of(bucket) == [key]


@pytest.mark.parametrize(
    "key", ["../escape.txt", "../../escape.txt", "/etc/escape.txt", "a/../../escape.txt", ".."]
)
async def test_keys_with_dot_dot_never_leave_the_bucket_root(
    bucket: R2Bucket, root: Path, tmp_path: Path, key: str
) -> None:
    await bucket.put(key, "inside")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.is_relative_to(root) for p in files)
    assert not any(p.name == "escape.txt" for p in files)
    obj = await bucket.get(key)
    assert obj is not None
    assert await obj.text() == "inside"


async def test_a_missing_key_gets_and_heads_as_none(bucket: R2Bucket) -> None:
    assert await bucket.get("absent") is None
    assert await bucket.head("absent") is None


# --- metadata -----------------------------------------------------------------------------------


async def test_head_reports_size_etag_upload_time_and_metadata(
    bucket: R2Bucket, clock: ManualClock
) -> None:
    clock.advance(90.25)
    await bucket.put(
        "logs/2026/01/01/00/batch.ndjson.gz",
        b"\x1f\x8b payload",
        httpMetadata={"contentType": "application/x-ndjson", "contentEncoding": "gzip"},
        customMetadata={"service": "logs", "records": "2"},
    )
    head = await bucket.head("logs/2026/01/01/00/batch.ndjson.gz")
    assert head is not None
    md5 = md5_hex(b"\x1f\x8b payload")
    assert (head.size, head.etag, head.httpEtag) == (10, md5, f'"{md5}"')
    assert head.checksums == {"md5": md5}
    assert head.uploaded == datetime(2026, 1, 1, 0, 1, 30, 250000, tzinfo=UTC)
    assert head.httpMetadata == {"contentType": "application/x-ndjson", "contentEncoding": "gzip"}
    assert head.customMetadata == {"service": "logs", "records": "2"}
    assert head.range == {"offset": 0, "length": 10}
    assert len(head.version) == 32
    assert int(head.version, 16) >= 0


async def test_objects_answer_item_access_like_the_sdks_js_dicts(bucket: R2Bucket) -> None:
    put = await bucket.put("k", "v", customMetadata={"a": "b"})
    assert put["key"] == put.key == "k"
    assert put["size"] == 1
    assert put["customMetadata"]["a"] == "b"
    assert put["uploaded"] == START
    with pytest.raises(KeyError):
        put["nope"]


async def test_put_returns_the_object_head_then_reports(bucket: R2Bucket) -> None:
    put = await bucket.put("k", "value", httpMetadata={"cacheControl": "no-store"})
    head = await bucket.head("k")
    assert head is not None
    assert (put.version, put.etag, put.uploaded, put.httpMetadata) == (
        head.version,
        head.etag,
        head.uploaded,
        head.httpMetadata,
    )


async def test_options_object_and_keywords_are_the_same_call(bucket: R2Bucket) -> None:
    await bucket.put("k", "v", {"httpMetadata": {"contentType": "text/plain"}, "md5": None})
    got = await bucket.get("k", {"range": {"offset": 0, "length": 1}})
    listed = await bucket.list({"prefix": "k", "include": ["httpMetadata"]})
    assert got is not None
    assert got.httpMetadata == {"contentType": "text/plain"}
    assert got.range == {"offset": 0, "length": 1}
    assert listed["objects"][0].httpMetadata == {"contentType": "text/plain"}


async def test_an_option_localedge_does_not_emulate_is_refused(bucket: R2Bucket) -> None:
    with pytest.raises(BindingError, match=r"^put: localedge does not support .*'onlyIf'"):
        await bucket.put("k", "v", {"onlyIf": {"etagMatches": "x"}})


async def test_write_http_metadata_fills_response_headers(bucket: R2Bucket) -> None:
    await bucket.put(
        "k",
        "v",
        httpMetadata={
            "contentType": "text/html",
            "contentLanguage": "en",
            "contentDisposition": "attachment",
            "contentEncoding": "br",
            "cacheControl": "max-age=60",
            "cacheExpiry": datetime(2026, 2, 1, 12, tzinfo=UTC),
            "notAField": "dropped",
        },
    )
    head = await bucket.head("k")
    assert head is not None
    headers: dict[str, str] = {}
    head.writeHttpMetadata(headers)
    assert headers == {
        "content-type": "text/html",
        "content-language": "en",
        "content-disposition": "attachment",
        "content-encoding": "br",
        "cache-control": "max-age=60",
        "expires": "Sun, 01 Feb 2026 12:00:00 GMT",
    }
    assert head.httpMetadata["cacheExpiry"] == datetime(2026, 2, 1, 12, tzinfo=UTC)


async def test_an_overwrite_replaces_body_metadata_version_and_upload_time(
    bucket: R2Bucket, root: Path, clock: ManualClock
) -> None:
    first = await bucket.put("k", "first", customMetadata={"v": "1"})
    clock.advance(5)
    await bucket.put("k", "second, longer", httpMetadata={"contentType": "text/plain"})
    obj = await bucket.get("k")
    assert obj is not None
    assert await obj.text() == "second, longer"
    assert (obj.size, obj.customMetadata, obj.httpMetadata) == (
        14,
        {},
        {"contentType": "text/plain"},
    )
    assert obj.version != first.version
    assert obj.uploaded == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert [p.name for p in (root / "blobs").iterdir()] == [obj.version]


# --- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("range_", "body", "served"),
    [
        ({"offset": 2, "length": 3}, b"234", {"offset": 2, "length": 3}),
        ({"offset": 7}, b"789", {"offset": 7, "length": 3}),
        ({"length": 4}, b"0123", {"offset": 0, "length": 4}),
        ({"suffix": 3}, b"789", {"offset": 7, "length": 3}),
        ({"suffix": 50}, BODY, {"offset": 0, "length": 10}),
        ({"offset": 8, "length": 50}, b"89", {"offset": 8, "length": 2}),
        ({"offset": 0, "length": 10}, BODY, {"offset": 0, "length": 10}),
    ],
)
async def test_a_range_serves_that_slice_and_echoes_it(
    bucket: R2Bucket, range_: dict[str, int], body: bytes, served: dict[str, int]
) -> None:
    await bucket.put("digits", BODY)
    obj = await bucket.get("digits", range=range_)
    assert obj is not None
    assert await obj.bytes() == body
    assert obj.range == served
    assert obj.size == 10


async def test_a_get_without_range_reports_the_whole_object(bucket: R2Bucket) -> None:
    await bucket.put("digits", BODY)
    obj = await bucket.get("digits")
    assert obj is not None
    assert obj.range == {"offset": 0, "length": 10}


@pytest.mark.parametrize(
    "range_",
    [
        {"offset": 11},
        {"offset": 20, "length": 1},
        {"offset": 10},
        {"length": 0},
        {"suffix": 0},
        {"offset": -1},
        {"suffix": 2, "offset": 1},
        {"start": 1},
        {"offset": "1"},
    ],
)
async def test_an_unsatisfiable_range_is_refused(bucket: R2Bucket, range_: dict[str, Any]) -> None:
    await bucket.put("digits", BODY)
    with pytest.raises(BindingError) as raised:
        await bucket.get("digits", range=range_)
    assert str(raised.value) == "get: The requested range is not satisfiable (10039)"


# --- list ---------------------------------------------------------------------------------------


async def test_list_returns_keys_under_a_prefix_in_lexicographic_order(bucket: R2Bucket) -> None:
    for key in ["b/2", "a/1", "b/10", "b/1", "c", "b"]:
        await bucket.put(key, key)
    assert await keys_of(bucket, prefix="b/") == ["b/1", "b/10", "b/2"]
    assert await keys_of(bucket) == ["a/1", "b", "b/1", "b/10", "b/2", "c"]


async def test_pages_followed_by_cursor_yield_every_key_exactly_once(bucket: R2Bucket) -> None:
    keys = [f"spans/{i:02d}" for i in range(7)]
    for key in [*keys, "spam", "spans", "zzz"]:
        await bucket.put(key, "x")
    seen: list[str] = []
    shapes: list[tuple[int, bool]] = []
    cursor = None
    while True:
        page = await bucket.list(prefix="spans/", limit=3, cursor=cursor)
        seen += [obj.key for obj in page["objects"]]
        shapes.append((len(page["objects"]), page["truncated"]))
        if not page["truncated"]:
            assert "cursor" not in page
            break
        cursor = page["cursor"]
    assert seen == keys
    assert shapes == [(3, True), (3, True), (1, False)]


async def test_a_cursor_resumes_after_its_key_so_new_later_keys_appear(bucket: R2Bucket) -> None:
    for key in ["a", "b", "d"]:
        await bucket.put(key, "x")
    first = await bucket.list(limit=2)
    await bucket.put("c", "x")
    assert await keys_of(bucket, cursor=first["cursor"]) == ["c", "d"]


async def test_start_after_skips_up_to_and_including_that_key(bucket: R2Bucket) -> None:
    for key in ["a", "b", "c", "d"]:
        await bucket.put(key, "x")
    assert await keys_of(bucket, startAfter="b") == ["c", "d"]
    assert await keys_of(bucket, startAfter="bb") == ["c", "d"]


async def test_a_garbled_cursor_is_refused(bucket: R2Bucket) -> None:
    with pytest.raises(BindingError, match=r"^list: The specified cursor is not valid\."):
        await bucket.list(cursor="not base64!")


LOG_KEYS = [
    "logs/2026/01/01/00/a.ndjson.gz",
    "logs/2026/01/01/00/b.ndjson.gz",
    "logs/2026/01/01/01/b.ndjson.gz",
    "logs/2026/01/01/index.json",
    "logs/2026/01/02/00/c.ndjson.gz",
]


async def test_a_delimiter_groups_deeper_keys_into_delimited_prefixes(bucket: R2Bucket) -> None:
    for key in LOG_KEYS:
        await bucket.put(key, "x")
    page = await bucket.list(prefix="logs/2026/01/01/", delimiter="/")
    assert [obj.key for obj in page["objects"]] == ["logs/2026/01/01/index.json"]
    assert page["delimitedPrefixes"] == ["logs/2026/01/01/00/", "logs/2026/01/01/01/"]
    assert page["truncated"] is False


async def test_delimited_prefixes_count_towards_limit_and_appear_once_across_pages(
    bucket: R2Bucket,
) -> None:
    for key in LOG_KEYS:
        await bucket.put(key, "x")
    pages: list[tuple[list[str], list[str]]] = []
    cursor = None
    while True:
        page = await bucket.list(prefix="logs/2026/01/", delimiter="/", limit=1, cursor=cursor)
        pages.append(([o.key for o in page["objects"]], page["delimitedPrefixes"]))
        if not page["truncated"]:
            break
        cursor = page["cursor"]
    assert pages == [([], ["logs/2026/01/01/"]), ([], ["logs/2026/01/02/"])]


async def test_without_a_prefix_a_delimiter_groups_top_level_folders(bucket: R2Bucket) -> None:
    for key in [*LOG_KEYS, "readme.txt", "traces/x"]:
        await bucket.put(key, "x")
    page = await bucket.list(delimiter="/")
    assert [obj.key for obj in page["objects"]] == ["readme.txt"]
    assert page["delimitedPrefixes"] == ["logs/", "traces/"]


@pytest.mark.parametrize(
    ("include", "http", "custom"),
    [
        (None, {}, {}),
        (["httpMetadata"], {"contentType": "text/plain"}, {}),
        (["customMetadata"], {}, {"svc": "apm"}),
        (["httpMetadata", "customMetadata"], {"contentType": "text/plain"}, {"svc": "apm"}),
    ],
)
async def test_list_fills_in_metadata_only_when_included(
    bucket: R2Bucket, include: list[str] | None, http: dict[str, str], custom: dict[str, str]
) -> None:
    await bucket.put(
        "k", "v", httpMetadata={"contentType": "text/plain"}, customMetadata={"svc": "apm"}
    )
    (obj,) = (await bucket.list(include=include))["objects"]
    assert (obj.httpMetadata, obj.customMetadata) == (http, custom)
    assert (obj.size, obj.etag, obj.uploaded) == (1, md5_hex(b"v"), START)


async def test_a_listing_that_includes_metadata_returns_at_most_100_objects(
    bucket: R2Bucket,
) -> None:
    for i in range(101):
        await bucket.put(f"k{i:03d}", "v")
    plain = await bucket.list()
    rich = await bucket.list(include=["customMetadata"])
    assert (len(plain["objects"]), plain["truncated"]) == (101, False)
    assert (len(rich["objects"]), rich["truncated"]) == (100, True)


@pytest.mark.parametrize("limit", [0, -1, 1001, True, "10"])
async def test_a_limit_outside_1_to_1000_is_refused(bucket: R2Bucket, limit: Any) -> None:
    with pytest.raises(BindingError) as raised:
        await bucket.list(limit=limit)
    assert str(raised.value) == "list: MaxKeys params must be positive integer <= 1000. (10022)"


async def test_an_unknown_include_is_refused(bucket: R2Bucket) -> None:
    with pytest.raises(BindingError, match=r"^list: include accepts only"):
        await bucket.list(include=["checksums"])


# --- delete -------------------------------------------------------------------------------------


async def test_delete_removes_one_key_and_its_body(bucket: R2Bucket, root: Path) -> None:
    await bucket.put("gone", "x")
    await bucket.put("kept", "y")
    await bucket.delete("gone")
    assert await bucket.get("gone") is None
    assert await keys_of(bucket) == ["kept"]
    assert len(list((root / "blobs").iterdir())) == 1


async def test_delete_removes_many_keys_and_ignores_missing_ones(bucket: R2Bucket) -> None:
    for key in ["a", "b", "c", "d"]:
        await bucket.put(key, "x")
    await bucket.delete(["a", "c", "never-existed"])
    await bucket.delete("never-existed-either")
    assert await keys_of(bucket) == ["b", "d"]


async def test_delete_accepts_1000_keys_and_refuses_1001(bucket: R2Bucket) -> None:
    await bucket.delete([f"k{i}" for i in range(1000)])
    with pytest.raises(BindingError) as raised:
        await bucket.delete([f"k{i}" for i in range(1001)])
    assert str(raised.value) == limits.R2_TOO_MANY_DELETES


# --- limits -------------------------------------------------------------------------------------


async def test_a_key_of_1024_utf8_bytes_is_accepted(bucket: R2Bucket) -> None:
    key = "é" * 512  # two bytes each
    await bucket.put(key, "x")
    assert await keys_of(bucket) == [key]


@pytest.mark.parametrize(
    ("op", "call"),
    [
        ("put", lambda b, k: b.put(k, "x")),
        ("get", lambda b, k: b.get(k)),
        ("head", lambda b, k: b.head(k)),
        ("delete", lambda b, k: b.delete(k)),
    ],
)
@pytest.mark.parametrize("key", ["x" * 1025, "é" * 513, "", "\ud800"])
async def test_an_empty_or_over_long_key_is_not_a_valid_name(
    bucket: R2Bucket, op: str, call: Any, key: str
) -> None:
    with pytest.raises(BindingError) as raised:
        await call(bucket, key)
    assert str(raised.value) == f"{op}: The specified object name is not valid. (10020)"


@pytest.mark.parametrize(
    ("metadata", "accepted"),
    [
        ({"k": "v" * 8191}, True),
        ({"k": "v" * 8192}, False),
        ({"a" * 4096: "b" * 4096}, True),
        ({"a": "€" * 4096}, False),  # beyond Latin-1, R2 counts two bytes per UTF-16 unit
        ({"a": "é" * 8191}, True),  # within Latin-1, one byte per character
    ],
)
async def test_custom_metadata_is_limited_to_8192_bytes(
    bucket: R2Bucket, metadata: dict[str, str], accepted: bool
) -> None:
    if accepted:
        await bucket.put("k", "v", customMetadata=metadata)
        head = await bucket.head("k")
        assert head is not None
        assert head.customMetadata == metadata
        return
    with pytest.raises(BindingError) as raised:
        await bucket.put("k", "v", customMetadata=metadata)
    assert str(raised.value) == (
        "put: Your metadata headers exceed the maximum allowed metadata size. (10012)"
    )
    assert await bucket.head("k") is None


async def test_a_body_over_the_single_put_limit_is_refused(
    bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "R2_MAX_PUT_BYTES", 4)
    await bucket.put("fits", b"1234")
    with pytest.raises(BindingError) as raised:
        await bucket.put("too-big", b"12345")
    assert str(raised.value) == (
        "put: Your proposed upload exceeds the maximum allowed object size. (100100)"
    )


async def test_a_matching_md5_is_accepted_in_hex_or_bytes(bucket: R2Bucket) -> None:
    digest = hashlib.md5(b"body", usedforsecurity=False)
    await bucket.put("hex", b"body", md5=digest.hexdigest().upper())
    await bucket.put("raw", b"body", md5=digest.digest())
    assert await keys_of(bucket) == ["hex", "raw"]


async def test_a_mismatched_md5_is_refused_and_nothing_is_stored(
    bucket: R2Bucket, root: Path
) -> None:
    wrong = "0" * 32
    with pytest.raises(BindingError) as raised:
        await bucket.put("k", b"body", md5=wrong)
    actual = md5_hex(b"body")
    assert str(raised.value) == (
        "put: The MD5 checksum you specified did not match what we received.\n"
        f"You provided a MD5 checksum with value: {wrong}\n"
        f"Actual MD5 was: {actual} (10037)"
    )
    assert await bucket.head("k") is None
    assert list((root / "blobs").iterdir()) == []


# --- persistence --------------------------------------------------------------------------------


async def test_objects_survive_close_and_reopen(
    bucket: R2Bucket, root: Path, clock: ManualClock
) -> None:
    clock.advance(1.5)
    put = await bucket.put("k", "durable", customMetadata={"a": "b"})
    bucket.close()
    reopened = R2Bucket(root, clock)
    try:
        obj = await reopened.get("k")
        assert obj is not None
        assert await obj.text() == "durable"
        assert (obj.version, obj.uploaded, obj.customMetadata) == (
            put.version,
            datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=UTC),
            {"a": "b"},
        )
    finally:
        reopened.close()


async def test_reopening_sweeps_blobs_left_by_an_interrupted_put(
    bucket: R2Bucket, root: Path, clock: ManualClock
) -> None:
    put = await bucket.put("k", "v")
    bucket.close()
    (root / "blobs" / ".tmp-interrupted").write_bytes(b"half")
    (root / "blobs" / "renamed-but-never-committed").write_bytes(b"orphan")
    reopened = R2Bucket(root, clock)
    try:
        assert [p.name for p in (root / "blobs").iterdir()] == [put.version]
        assert await keys_of(reopened) == ["k"]
    finally:
        reopened.close()
