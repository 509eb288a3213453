"""The `env` a Worker sees: bindings, vars and secrets by attribute (and item) access."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class Env(Mapping[str, Any]):
    """Read-only, like Cloudflare's: a missing name raises AttributeError / KeyError."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__["_values"] = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("env is read-only")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        # Never print values: secrets live here.
        return f"Env({sorted(self._values)})"
