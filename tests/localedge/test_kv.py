"""Workers KV on SQLite: the SDK's calls, expiry on the runtime clock, and Cloudflare's limits."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from localedge.clock import DEFAULT_START, ManualClock
from localedge.errors import BindingError
from localedge.kv import KVNamespace

NOW = int(DEFAULT_START)  # 1_767_225_600, 2026-01-01T00:00:00Z
MiB = 1024 * 1024


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "kv" / "CONFIG.sqlite3"  # the kv/ directory does not exist yet


@pytest.fixture
async def kv(path: pathlib.Path, clock: ManualClock) -> AsyncIterator[KVNamespace]:
    namespace = KVNamespace(path, clock)
    yield namespace
    namespace.close()


async def all_names(kv: KVNamespace, **options: Any) -> list[str]:
    """Every key name, page by page, following cursors until the listing is complete."""
    names: list[str] = []
    cursor = None
    while True:
        page = await kv.list(cursor=cursor, **options)
        names += [key["name"] for key in page["keys"]]
        if page["list_complete"]:
            return names
        cursor = page["cursor"]


# --- reading and writing ------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("text", '{"service": "api", "ports": [80, 443]}'),
        ("json", {"service": "api", "ports": [80, 443]}),
    ],
)
async def test_a_stored_string_reads_back_as_the_requested_type(
    kv: KVNamespace, kind: str, expected: Any
) -> None:
    await kv.put("config", '{"service": "api", "ports": [80, 443]}')

    assert await kv.get("config", kind) == expected
    assert await kv.get("config", type=kind) == expected
    assert await kv.get("config", {"type": kind, "cacheTtl": 60}) == expected


@pytest.mark.anyio
async def test_get_defaults_to_text(kv: KVNamespace) -> None:
    await kv.put("greeting", "hello")

    assert await kv.get("greeting") == "hello"


@pytest.mark.anyio
async def test_array_buffer_reads_return_a_memoryview_of_the_stored_bytes(kv: KVNamespace) -> None:
    await kv.put("greeting", "hello")

    value = await kv.get("greeting", "arrayBuffer")

    assert isinstance(value, memoryview)
    assert value.tobytes() == b"hello"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "value",
    [bytes(range(256)), bytearray(range(256)), memoryview(bytes(range(256)))],
    ids=["bytes", "bytearray", "memoryview"],
)
async def test_binary_values_round_trip_byte_for_byte(kv: KVNamespace, value: Any) -> None:
    await kv.put("blob", value)

    stored = await kv.get("blob", "arrayBuffer")

    assert stored.tobytes() == bytes(range(256))


@pytest.mark.anyio
async def test_unicode_keys_and_values_round_trip(kv: KVNamespace) -> None:
    await kv.put("статус/😀", "зелёный ✓")

    assert await kv.get("статус/😀") == "зелёный ✓"
    assert (await kv.get("статус/😀", "arrayBuffer")).tobytes() == "зелёный ✓".encode()


@pytest.mark.anyio
async def test_a_missing_key_reads_as_none(kv: KVNamespace) -> None:
    assert await kv.get("absent") is None
    assert await kv.get("absent", "json") is None


@pytest.mark.anyio
async def test_a_put_replaces_the_value_expiration_and_metadata(kv: KVNamespace) -> None:
    await kv.put("k", "old", expirationTtl=60, metadata={"v": 1})
    await kv.put("k", "new")

    assert await kv.getWithMetadata("k") == {"value": "new", "metadata": None, "cacheStatus": None}
    assert await kv.list() == {"keys": [{"name": "k"}], "list_complete": True}


@pytest.mark.anyio
async def test_a_value_that_is_not_json_fails_a_json_read(kv: KVNamespace) -> None:
    await kv.put("k", "not json")

    with pytest.raises(BindingError) as error:
        await kv.get("k", "json")

    assert str(error.value) == (
        'KV GET failed: value of "k" is not valid JSON: Expecting value: line 1 column 1 (char 0)'
    )


@pytest.mark.anyio
async def test_delete_removes_a_key_and_ignores_a_missing_one(kv: KVNamespace) -> None:
    await kv.put("a", "1")
    await kv.put("b", "2")

    await kv.delete("a")
    await kv.delete("never-written")

    assert await kv.get("a") is None
    assert await kv.get("b") == "2"


# --- bulk get and metadata ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_bulk_get_maps_every_key_to_its_value_or_none(kv: KVNamespace) -> None:
    await kv.put("a", '{"n": 1}')
    await kv.put("b", '{"n": 2}')

    assert await kv.get(["a", "b", "c"]) == {"a": '{"n": 1}', "b": '{"n": 2}', "c": None}
    assert await kv.get(["a", "c"], "json") == {"a": {"n": 1}, "c": None}


@pytest.mark.anyio
async def test_get_with_metadata_returns_value_metadata_and_cache_status(kv: KVNamespace) -> None:
    await kv.put("with", "1", metadata={"author": "ops", "tags": ["a"]})
    await kv.put("without", "2")

    assert await kv.getWithMetadata("with") == {
        "value": "1",
        "metadata": {"author": "ops", "tags": ["a"]},
        "cacheStatus": None,
    }
    assert await kv.getWithMetadata("without") == {
        "value": "2",
        "metadata": None,
        "cacheStatus": None,
    }
    assert await kv.getWithMetadata("absent") == {
        "value": None,
        "metadata": None,
        "cacheStatus": None,
    }


@pytest.mark.anyio
async def test_get_with_metadata_of_several_keys_maps_each_key(kv: KVNamespace) -> None:
    await kv.put("a", "[1]", {"metadata": "first"})

    assert await kv.getWithMetadata(["a", "b"], "json") == {
        "a": {"value": [1], "metadata": "first"},
        "b": {"value": None, "metadata": None},
    }


# --- expiry -------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "options",
    [{"expirationTtl": 60}, {"expiration": NOW + 60}],
    ids=["expirationTtl", "expiration"],
)
async def test_a_key_is_readable_until_the_second_it_expires(
    kv: KVNamespace, clock: ManualClock, options: dict[str, int]
) -> None:
    await kv.put("session", "s1", options)

    clock.advance(59)
    assert await kv.get("session") == "s1"
    assert await all_names(kv) == ["session"]

    clock.advance(1)
    assert await kv.get("session") is None
    assert await kv.get(["session"]) == {"session": None}
    assert await kv.getWithMetadata("session") == {
        "value": None,
        "metadata": None,
        "cacheStatus": None,
    }
    assert await kv.list() == {"keys": [], "list_complete": True}


@pytest.mark.anyio
async def test_an_expired_key_can_be_written_again(kv: KVNamespace, clock: ManualClock) -> None:
    await kv.put("k", "first", expirationTtl=60)
    clock.advance(60)

    await kv.put("k", "second")

    assert await kv.get("k") == "second"


# --- list ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_list_returns_keys_in_utf8_byte_order(kv: KVNamespace) -> None:
    for name in ["😀", "é", "z", "Z", "a", "a:b"]:
        await kv.put(name, "v")

    assert await all_names(kv) == ["Z", "a", "a:b", "z", "é", "😀"]


@pytest.mark.anyio
async def test_list_shows_expiration_and_metadata_only_where_set(kv: KVNamespace) -> None:
    await kv.put("plain", "v")
    await kv.put("ttl", "v", expirationTtl=300)
    await kv.put("both", "v", expiration=NOW + 3600, metadata={"owner": "sre"})

    assert await kv.list() == {
        "keys": [
            {"name": "both", "expiration": NOW + 3600, "metadata": {"owner": "sre"}},
            {"name": "plain"},
            {"name": "ttl", "expiration": NOW + 300},
        ],
        "list_complete": True,
    }


@pytest.mark.anyio
async def test_list_filters_by_prefix(kv: KVNamespace) -> None:
    for name in ["svc:api", "svc:web", "svcx", "tok:1", "sv"]:
        await kv.put(name, "v")

    assert await all_names(kv, prefix="svc:") == ["svc:api", "svc:web"]
    assert await kv.list({"prefix": "tok:"}) == {"keys": [{"name": "tok:1"}], "list_complete": True}


@pytest.mark.anyio
async def test_list_pages_through_every_key_exactly_once(kv: KVNamespace) -> None:
    names = [f"svc:{n:02d}" for n in range(7)]
    for name in reversed(names):
        await kv.put(name, "v")
    await kv.put("other", "v")

    first = await kv.list(prefix="svc:", limit=3)
    second = await kv.list({"prefix": "svc:", "limit": 3, "cursor": first["cursor"]})
    third = await kv.list(prefix="svc:", limit=3, cursor=second["cursor"])

    assert [key["name"] for key in first["keys"]] == names[0:3]
    assert [key["name"] for key in second["keys"]] == names[3:6]
    assert third == {"keys": [{"name": "svc:06"}], "list_complete": True}
    assert first["list_complete"] is False
    assert second["list_complete"] is False


@pytest.mark.anyio
async def test_a_page_that_ends_at_the_last_key_is_complete(kv: KVNamespace) -> None:
    await kv.put("a", "v")
    await kv.put("b", "v")

    first = await kv.list(limit=1)
    second = await kv.list(limit=1, cursor=first["cursor"])

    assert second == {"keys": [{"name": "b"}], "list_complete": True}


@pytest.mark.anyio
async def test_expired_keys_are_never_listed(kv: KVNamespace, clock: ManualClock) -> None:
    await kv.put("short", "v", expirationTtl=60)
    await kv.put("long", "v", expirationTtl=120)
    await kv.put("forever", "v")

    clock.advance(90)

    assert await all_names(kv, limit=1) == ["forever", "long"]


# --- persistence --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_everything_survives_closing_and_reopening_the_file(
    path: pathlib.Path, clock: ManualClock
) -> None:
    before = KVNamespace(path, clock)
    await before.put("k", b"\x00\xff", expirationTtl=600, metadata={"m": 1})
    await before.put("gone", "v")
    await before.delete("gone")
    before.close()

    after = KVNamespace(path, clock)
    try:
        assert (await after.get("k", "arrayBuffer")).tobytes() == b"\x00\xff"
        assert await after.list() == {
            "keys": [{"name": "k", "expiration": NOW + 600, "metadata": {"m": 1}}],
            "list_complete": True,
        }
        clock.advance(600)
        assert await after.get("k") is None
    finally:
        after.close()


@pytest.mark.anyio
async def test_namespaces_in_different_files_are_independent(
    tmp_path: pathlib.Path, clock: ManualClock
) -> None:
    first, second = KVNamespace(tmp_path / "a.db", clock), KVNamespace(tmp_path / "b.db", clock)
    try:
        await first.put("k", "in first")

        assert await second.get("k") is None
    finally:
        first.close()
        second.close()


# --- limits -------------------------------------------------------------------------------------

Call = Callable[[KVNamespace], Awaitable[Any]]
KEY_513 = "é" * 256 + "k"  # 256 two-byte characters and one ASCII one: 513 UTF-8 bytes

REJECTIONS: list[Any] = [
    pytest.param(
        lambda kv: kv.put(KEY_513, "v"),
        "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
        id="put key of 513 bytes",
    ),
    pytest.param(
        lambda kv: kv.get(KEY_513),
        "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
        id="get key of 513 bytes",
    ),
    pytest.param(
        lambda kv: kv.delete(KEY_513),
        "KV DELETE failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
        id="delete key of 513 bytes",
    ),
    pytest.param(
        lambda kv: kv.put("", "v"),
        "KV PUT failed: 400 Invalid key name: keys must not be empty.",
        id="empty key",
    ),
    pytest.param(
        lambda kv: kv.put(".", "v"),
        'KV PUT failed: 400 Illegal key name ".". Please use a different name.',
        id="key '.'",
    ),
    pytest.param(
        lambda kv: kv.get(".."),
        'KV GET failed: 400 Illegal key name "..". Please use a different name.',
        id="key '..'",
    ),
    pytest.param(
        lambda kv: kv.put("k", "v", metadata={"x": "a" * 1017}),
        "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024.",
        id="metadata of 1025 bytes",
    ),
    pytest.param(
        lambda kv: kv.put("k", "v", metadata={"x": "é" * 509}),
        "KV PUT failed: 413 Metadata length of 1026 exceeds limit of 1024.",
        id="metadata of 1026 bytes in 518 characters",
    ),
    pytest.param(
        lambda kv: kv.put("k", "v", metadata={"x": {1, 2}}),
        "KV PUT failed: metadata is not JSON-serialisable: "
        "Object of type set is not JSON serializable",
        id="metadata not JSON",
    ),
    pytest.param(
        lambda kv: kv.put("k", "v", expirationTtl=59),
        "KV PUT failed: 400 Invalid expiration_ttl of 59. Expiration TTL must be at least 60.",
        id="ttl 59",
    ),
    pytest.param(
        lambda kv: kv.put("k", "v", {"expirationTtl": 0}),
        "KV PUT failed: 400 Invalid expiration_ttl of 0. Expiration TTL must be at least 60.",
        id="ttl 0 in options",
    ),
    pytest.param(
        lambda kv: kv.put("k", "v", expiration=NOW + 59),
        "KV PUT failed: 400 Invalid expiration of 1767225659. "
        "Expiration times must be at least 60 seconds in the future.",
        id="expiration 59 s ahead",
    ),
    pytest.param(
        lambda kv: kv.put("k", 42),
        "KV PUT failed: values must be str, bytes, bytearray or memoryview, not int.",
        id="int value",
    ),
    pytest.param(
        lambda kv: kv.list(limit=0),
        "KV GET failed: 400 Invalid key_count_limit of 0. "
        "Please specify an integer greater than 0 and at most 1000.",
        id="list limit 0",
    ),
    pytest.param(
        lambda kv: kv.list({"limit": 1001}),
        "KV GET failed: 400 Invalid key_count_limit of 1001. "
        "Please specify an integer greater than 0 and at most 1000.",
        id="list limit 1001",
    ),
    pytest.param(
        lambda kv: kv.list(cursor="not a cursor!"),
        "KV GET failed: 400 Invalid cursor.",
        id="list cursor not base64",
    ),
    pytest.param(
        lambda kv: kv.list(cursor="_w=="),  # base64 of b"\xff", which is not UTF-8
        "KV GET failed: 400 Invalid cursor.",
        id="list cursor not a key",
    ),
    pytest.param(
        lambda kv: kv.get("k", "xml"),
        'KV GET failed: 400 Unknown response type. Possible types are "text", "arrayBuffer", '
        '"json", and "stream".',
        id="type xml",
    ),
    pytest.param(
        lambda kv: kv.get("k", "stream"),
        'KV GET failed: type "stream" is not supported locally; use "arrayBuffer".',
        id="type stream",
    ),
    pytest.param(
        lambda kv: kv.get("k", cacheTtl=59),
        "KV GET failed: 400 Invalid cache_ttl of 59. Cache TTL must be at least 60.",
        id="cacheTtl 59",
    ),
    pytest.param(
        lambda kv: kv.get(["a", "b"], "arrayBuffer"),
        'KV GET_BULK failed: 400 Bulk get supports only the types "text" and "json".',
        id="bulk arrayBuffer",
    ),
    pytest.param(
        lambda kv: kv.get([f"k{n}" for n in range(101)]),
        "KV GET_BULK failed: 400 Too many keys: 101 requested, at most 100 allowed.",
        id="bulk of 101 keys",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("call", "message"), REJECTIONS)
async def test_cloudflare_limits_reject_the_call_and_store_nothing(
    kv: KVNamespace, call: Call, message: str
) -> None:
    with pytest.raises(BindingError) as error:
        await call(kv)

    assert str(error.value) == message
    assert await kv.list() == {"keys": [], "list_complete": True}


@pytest.mark.anyio
async def test_values_at_each_limit_are_accepted(kv: KVNamespace) -> None:
    key_512 = "é" * 256
    metadata_1024 = {"x": "a" * 1016}  # {"x":"…"} adds 8 bytes

    await kv.put(key_512, "v", expirationTtl=60, metadata=metadata_1024)
    await kv.put("at", "v", expiration=NOW + 60)

    assert await kv.getWithMetadata(key_512) == {
        "value": "v",
        "metadata": metadata_1024,
        "cacheStatus": None,
    }
    assert await kv.get([f"k{n}" for n in range(100)]) == {f"k{n}": None for n in range(100)}
    assert len((await kv.list(limit=1))["keys"]) == 1
    assert await all_names(kv, limit=1000) == ["at", key_512]


@pytest.mark.anyio
async def test_a_value_of_25_mib_is_stored_and_one_byte_more_is_rejected(kv: KVNamespace) -> None:
    await kv.put("largest", b"x" * (25 * MiB))

    with pytest.raises(BindingError) as error:
        await kv.put("too-large", b"x" * (25 * MiB + 1))

    assert (
        str(error.value) == "KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400."
    )
    assert len((await kv.get("largest", "arrayBuffer")).tobytes()) == 25 * MiB
    assert await kv.get("too-large") is None
