"""The one place notifications leave the Worker: an HTTP POST through httpx.

On Cloudflare, httpx's async client goes through the runtime's `fetch`; locally it is plain
httpx. Errors are translated at this edge into `TransportError`s whose text names only the
failure's kind (never the URL, which may be a secret such as a Slack webhook).
"""

from __future__ import annotations

import logging

import httpx

from alerting.channels.base import HttpRequest, HttpResponse, TransportError

_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.TimeoutException, "timed out"),
    (httpx.ConnectError, "could not connect"),
    (httpx.RemoteProtocolError, "the server broke the HTTP protocol"),
    (httpx.TooManyRedirects, "too many redirects"),
    (httpx.InvalidURL, "the URL is invalid"),
    (httpx.UnsupportedProtocol, "the URL scheme is not supported"),
    (httpx.HTTPError, "network error"),
)
MAX_RESPONSE_BYTES = 64 * 1024


class HttpxTransport:
    """Sends with one shared client; `close()` when the batch of deliveries is done."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        # httpx logs every request's full URL at INFO; a Slack or webhook URL is a secret.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._client = client or httpx.AsyncClient(follow_redirects=False)

    async def send(self, request: HttpRequest, timeout_s: float) -> HttpResponse:
        try:
            reply = await self._client.request(
                request.method,
                request.url,
                headers=request.headers,
                content=request.body,
                timeout=timeout_s,
            )
        except Exception as error:
            raise TransportError(describe(error)) from None
        headers = {k.lower(): v for k, v in reply.headers.items()}
        return HttpResponse(reply.status_code, headers, reply.content[:MAX_RESPONSE_BYTES])

    async def close(self) -> None:
        await self._client.aclose()


def describe(error: Exception) -> str:
    for kind, text in _KINDS:
        if isinstance(error, kind):
            return f"{text} ({type(error).__name__})"
    return f"request failed ({type(error).__name__})"
