"""Timing wrappers around a Worker's bindings: KV, R2, Durable Objects and service bindings.

`InstrumentedEnv` stands in for `env`: attribute and item access return the same values, with
storage bindings wrapped so that each call is timed and recorded (operation, latency, bytes,
hit/miss/error) and counted as a subrequest of the current invocation. Wrapped calls return
exactly what the binding returned and raise exactly what it raised; recording happens after
the call, in memory, and its own failures are swallowed and counted.

Which binding is which is read from its class where possible (works for the local runtime and
for the Workers SDK's wrapper classes) and otherwise from the methods it answers to; the
Worker's declared probes (`Probe("CONFIG", "kv")`) take precedence.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from obs_schema import host

KV_OPS = frozenset({"get", "getWithMetadata", "put", "delete", "list"})
R2_OPS = frozenset({"get", "head", "put", "delete", "list", "createMultipartUpload"})
KINDS = {"kv": "kv", "r2": "r2", "durable_object": "do", "service": "service"}
_PLAIN = (str, bytes, int, float, bool)


class Sink(Protocol):
    def op(
        self, kind: str, binding: str, op: str, outcome: str, seconds: float, nbytes: int
    ) -> None:
        """Record one timed call."""


def unwrap(value: Any) -> Any:
    """The binding behind a timing proxy (proxies are made per request; bindings are not)."""
    return (
        value.__dict__.get("_target", value)
        if isinstance(value, (Timed, DurableObjectNamespaceProxy))
        else value
    )


def kind_of(value: Any) -> str | None:
    """ "kv", "r2", "do", "service" or None (vars, secrets, bindings we do not time)."""
    if value is None or isinstance(value, _PLAIN):
        return None
    cls = type(value)
    if callable(getattr(cls, "fetch", None)):
        return "service"  # checked first: an RPC stub answers to any method name
    if callable(getattr(cls, "getByName", None)) or callable(getattr(cls, "idFromName", None)):
        return "do"
    if _answers(value, "getWithMetadata"):
        return "kv"
    if _answers(value, "createMultipartUpload") or (
        _answers(value, "head") and _answers(value, "put")
    ):
        return "r2"
    return None


def _answers(value: Any, name: str) -> bool:
    try:
        return callable(getattr(value, name, None))
    except Exception:
        return False


def wrap(name: str, value: Any, sink: Sink, kind: str | None = None) -> Any:
    kind = kind or kind_of(value)
    if kind == "kv":
        return Timed(value, "kv", name, sink, KV_OPS, _kv_outcome)
    if kind == "r2":
        return Timed(value, "r2", name, sink, R2_OPS, _r2_outcome)
    if kind == "do":
        return DurableObjectNamespaceProxy(value, name, sink)
    if kind == "service":
        return Timed(value, "service", name, sink, None, _plain_outcome)
    return value


Outcome = Callable[[str, tuple[Any, ...], dict[str, Any], Any], tuple[str, int]]


class Timed:
    """A binding whose listed methods (all public methods when `ops` is None) are timed."""

    def __init__(
        self,
        target: Any,
        kind: str,
        name: str,
        sink: Sink,
        ops: frozenset[str] | None,
        outcome: Outcome,
    ) -> None:
        self._target, self._kind, self._name, self._sink = target, kind, name, sink
        self._ops, self._outcome = ops, outcome

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._target, attr)
        if attr.startswith("_") or not callable(value):
            return value
        if self._ops is not None and attr not in self._ops:
            return value
        timed = self._timed(attr, value)
        if self._ops is not None:
            self.__dict__[attr] = timed  # later lookups skip __getattr__
        return timed

    def _timed(self, op: str, method: Callable[..., Any]) -> Callable[..., Any]:
        sink, kind, name, outcome, target = (
            self._sink, self._kind, self._name, self._outcome, self._target,
        )  # fmt: skip

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                # Looked up per call: what the binding answers now, not when first wrapped.
                result = await getattr(target, op)(*args, **kwargs)
            except BaseException:
                sink.op(kind, name, op, "error", clock() - started, 0)
                raise
            elapsed = clock() - started
            try:
                verdict, nbytes = outcome(op, args, kwargs, result)
            except Exception:
                verdict, nbytes = "ok", 0
            sink.op(kind, name, op, verdict, elapsed, nbytes)
            return result

        return call


class DurableObjectNamespaceProxy:
    """Ids pass through (no I/O); stubs come back timed, one op per RPC method or fetch."""

    def __init__(self, target: Any, name: str, sink: Sink) -> None:
        self._target, self._name, self._sink = target, name, sink

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._target, attr)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return Timed(self._target.get(*args, **kwargs), "do", self._name, self._sink, None,
                     _plain_outcome)  # fmt: skip

    def getByName(self, *args: Any, **kwargs: Any) -> Any:
        return Timed(self._target.getByName(*args, **kwargs), "do", self._name, self._sink, None,
                     _plain_outcome)  # fmt: skip


class InstrumentedEnv(Mapping[str, Any]):
    """`env` with its storage bindings wrapped; everything else is the original value."""

    def __init__(self, env: Any, sink: Sink, kinds: Mapping[str, str]) -> None:
        self.__dict__.update(_env=env, _sink=sink, _kinds=kinds)

    def __getattr__(self, name: str) -> Any:
        # Called only for names not yet in the instance: each is wrapped once and kept there,
        # so later reads are plain attribute reads (Workers read env on every request).
        value = getattr(self.__dict__["_env"], name)
        wrapped = wrap(name, value, self.__dict__["_sink"], self.__dict__["_kinds"].get(name))
        self.__dict__[name] = wrapped
        return wrapped

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("env is read-only")

    def __getitem__(self, name: str) -> Any:
        if name in self.__dict__:
            return self.__dict__[name]
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__["_env"])

    def __len__(self) -> int:
        return len(self.__dict__["_env"])

    def __repr__(self) -> str:
        return f"InstrumentedEnv({self.__dict__['_env']!r})"


# --- what a call's result says -----------------------------------------------------------------
def _kv_outcome(
    op: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any
) -> tuple[str, int]:
    if op == "get":
        return ("miss", 0) if result is None else ("hit", size_of(result))
    if op == "getWithMetadata":
        value = result.get("value") if isinstance(result, Mapping) else None
        return ("miss", 0) if value is None else ("hit", size_of(value))
    if op == "put":
        value = args[1] if len(args) > 1 else kwargs.get("value")
        return "ok", size_of(value)
    return "ok", 0


def _r2_outcome(
    op: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any
) -> tuple[str, int]:
    if op in ("get", "head"):
        if result is None:
            return "miss", 0
        return "hit", int(getattr(result, "size", 0) or 0) if op == "get" else 0
    if op == "put":
        value = args[1] if len(args) > 1 else kwargs.get("value")
        return "ok", size_of(value)
    return "ok", 0


def _plain_outcome(
    op: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any
) -> tuple[str, int]:
    status = getattr(result, "status", None) if op == "fetch" else None
    return ("error" if isinstance(status, int) and status >= 500 else "ok"), 0


def size_of(value: Any) -> int:
    """Bytes of a value when knowable cheaply (strings, bytes); 0 otherwise."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode())
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    return 0


def clock() -> float:
    # Through the host seam, so a test's manual clock times the calls (and Cloudflare's clock,
    # which only moves across I/O, still measures them: every timed call is I/O).
    return host.now()
