"""What may cross an RPC boundary (Durable Object stubs, service bindings), and how it crosses.

On Cloudflare every RPC argument and return value is serialised into the callee's isolate, so
the two sides never share a mutable object. The Python SDK (`workers/rpc.py::python_to_rpc`)
converts dicts, lists, None, datetimes and bytes, and rejects tuples, bytearrays and un-awaited
awaitables; arbitrary objects (pydantic models, dataclasses) cannot be serialised at all.
`to_wire` applies the same rules and returns a deep copy, so code that works here works there.
"""

from __future__ import annotations

import base64
import inspect
import json
from datetime import date, datetime
from typing import Any

from localedge.errors import RpcError
from localedge.sdk import Request, Response

# Immutable scalars cross as they are (normalised to the base type, as JS would).
_SCALARS: tuple[type, ...] = (bool, int, float, str, bytes)
# Values that cross as they are: datetimes are immutable, and the SDK hands Request/Response
# over as objects of their own (their bodies are immutable bytes here).
_PASSTHROUGH: tuple[type, ...] = (datetime, Request, Response)
# Types the SDK refuses by name, with its message.
_REFUSED: tuple[type, ...] = (tuple, bytearray, set, frozenset)


def to_wire(value: Any) -> Any:
    """Deep-copy `value` as the callee receives it, or raise `RpcError` if it cannot cross."""
    return _copy(value, {})


# Exact types that cross unchanged: checked first, since batches are mostly these.
_PLAIN = frozenset({type(None), bool, int, float, str, bytes})


def _copy(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict or kind is list:
        if id(value) in memo:
            # Structured clone keeps shared references and cycles; so does the copy.
            return memo[id(value)]
        return _copy_dict(value, memo) if kind is dict else _copy_list(value, memo)
    return _copy_other(value, memo)


def _copy_other(value: Any, memo: dict[int, Any]) -> Any:
    """Subclasses of the plain types, and the few other types that may cross."""
    if isinstance(value, _PASSTHROUGH):
        return value
    if isinstance(value, bool | int | float | str | bytes):
        return _scalar(value)
    if isinstance(value, memoryview):
        return value.tobytes()
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, list):
        return _copy_list(value, memo)
    if isinstance(value, dict):
        return _copy_dict(value, memo)
    raise RpcError(refusal(value))


def _scalar(value: bool | int | float | str | bytes) -> bool | int | float | str | bytes:
    # Enum members and other subclasses arrive as plain values on the far side.
    for kind in _SCALARS:
        if isinstance(value, kind):
            return value if type(value) is kind else kind(value)
    raise AssertionError("unreachable")  # pragma: no cover


def _copy_list(value: list[Any], memo: dict[int, Any]) -> list[Any]:
    copied: list[Any] = []
    memo[id(value)] = copied
    copied.extend([item if type(item) in _PLAIN else _copy(item, memo) for item in value])
    return copied


def _copy_dict(value: dict[Any, Any], memo: dict[int, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = {}
    memo[id(value)] = copied
    for key, item in value.items():
        if type(key) is not str:
            if not isinstance(key, str):
                # JS objects only have string keys; refusing beats silently turning 1 into "1".
                raise RpcError(f"Dict keys must be str to be sent over RPC, got {type(key)}.")
            key = str(key)
        copied[key] = item if type(item) in _PLAIN else _copy(item, memo)
    return copied


def refusal(value: object) -> str:
    """The error message for a value that cannot cross, worded as Cloudflare words it."""
    if isinstance(value, _REFUSED):
        return f"{type(value)} cannot be sent over RPC."
    if inspect.isawaitable(value):
        return f"Awaitable {type(value)} cannot be sent over RPC."
    if isinstance(value, date):
        return f"{type(value)} cannot be sent over RPC; send a datetime or an ISO string."
    return (
        f'Could not serialize object of type "{type(value).__name__}". '
        "This type does not support serialization."
    )


def encode_value(value: Any) -> str:
    """The serialised form of an RPC value, as Durable Object storage keeps it.

    JSON, with bytes, datetimes and dicts whose only key starts with `$` tagged so that every
    value round-trips exactly through `decode_value`.
    """
    return encode_crossed(to_wire(value))


# In JSON text an object whose first key starts with "$" reads `{"$` (a quote inside a string
# is escaped): without one, the value holds no tag and no dict that needs escaping.
_TAGGED = '{"$'


def encode_crossed(value: Any) -> str:
    """`encode_value` of a value that has already crossed (`to_wire`'s result): most values
    hold no bytes, datetimes or `$` keys, and json encodes those in C without our walk."""
    try:
        text = json.dumps(value, separators=(",", ":"), default=_tag_leaf)
        if _TAGGED not in text:
            return text
        return json.dumps(_tag(value, set()), separators=(",", ":"))
    except ValueError as error:  # json's own check found a value that contains itself
        raise RpcError("Values that contain themselves cannot be serialised here.") from error


def decode_value(text: str) -> Any:
    if _TAGGED not in text:
        return json.loads(text)
    return json.loads(text, object_hook=_untag)


def _tag_leaf(value: Any) -> Any:
    if isinstance(value, bytes | datetime):
        return _tag(value, set())
    raise RpcError(refusal(value))  # Request/Response may cross RPC but not be stored


def _tag(value: Any, ancestors: set[int]) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, datetime):
        return {"$date": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if not isinstance(value, list | dict):
        raise RpcError(refusal(value))  # Request/Response may cross RPC but not be stored
    if id(value) in ancestors:
        raise RpcError("Values that contain themselves cannot be serialised here.")
    ancestors.add(id(value))
    try:
        if isinstance(value, list):
            return [_tag(item, ancestors) for item in value]
        tagged = {key: _tag(item, ancestors) for key, item in value.items()}
        if len(tagged) == 1 and next(iter(tagged)).startswith("$"):
            return {"$dict": next(iter(tagged.items()))}  # never mistaken for a tag
        return tagged
    finally:
        ancestors.discard(id(value))


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((tag, payload),) = obj.items()
        if tag == "$bytes":
            return base64.b64decode(payload)
        if tag == "$date":
            return datetime.fromisoformat(payload)
        if tag == "$dict":
            return {payload[0]: payload[1]}
    return obj
