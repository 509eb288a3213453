"""Service bindings: `fetch` and RPC into another Worker of the same stack, in-process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from localedge.errors import RpcError
from localedge.rpc import to_wire
from localedge.sdk import Body, HeadersInit, Request, Response
from localedge.worker import LoadedWorker


class ServiceBinding:
    def __init__(self, target: Callable[[], LoadedWorker], entrypoint: str | None = None) -> None:
        self._target = target
        self._entrypoint = entrypoint

    async def fetch(
        self,
        url_or_request: str | Request,
        *,
        method: str = "GET",
        headers: HeadersInit = None,
        body: Body = None,
    ) -> Response:
        request = (
            url_or_request
            if isinstance(url_or_request, Request)
            else Request(url_or_request, method=method, headers=headers, body=body)
        )
        response: Response = await self._target().entrypoint(self._entrypoint).fetch(request)
        return response

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name.startswith("_"):
            raise AttributeError(name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            entry = self._target().entrypoint(self._entrypoint)
            method = getattr(entry, name, None)
            if name == "fetch" or not callable(method):
                raise RpcError(f'The RPC receiver does not implement the method "{name}".')
            return to_wire(await method(*to_wire(list(args)), **to_wire(kwargs)))

        return call
