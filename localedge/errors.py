"""One exception tree for the local edge runtime."""

from __future__ import annotations


class LocalEdgeError(Exception):
    """Base class of every error the runtime raises."""


class ConfigError(LocalEdgeError):
    """A wrangler.toml, .dev.vars or runtime option is invalid."""


class BindingError(LocalEdgeError):
    """A binding call failed the way it would on Cloudflare.

    On Cloudflare these reach Python as a `JsException` carrying the same message; Worker code
    handles both by catching `Exception` and reading `str(error)`.
    """


class RpcError(BindingError):
    """An RPC argument or return value cannot cross the boundary (tuples, bytearray, objects)."""
