"""Typed markers with a keyed hash: `alice@example.com` -> `[email:3f9a1c2e]`.

The hash is BLAKE2s keyed with the deployment's secret, over the class and a canonical form of
the value (emails lower-cased, card and phone numbers as digits), cut to 32 bits: enough to
follow one user's trail through the logs, too little (and keyed) to recover or confirm a value.
"""

from __future__ import annotations

import hashlib
import re

MARKER = re.compile(r"\[[a-z][a-z0-9_]{0,31}(?::[0-9a-f]{8})?\]")
_CACHE_LIMIT = 8192


def derive_key(secret: bytes | str) -> bytes:
    """A 32-byte BLAKE2s key from a secret of any length (an empty secret is allowed: tests)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(b"obs-scrub-v1\0" + raw).digest()


class Marker:
    def __init__(self, secret: bytes | str) -> None:
        self._key = derive_key(secret)
        self._cache: dict[tuple[str, str], str] = {}

    def __call__(self, kind: str, canonical: str) -> str:
        """`[kind:hash]` for a canonical value; the same input always gives the same marker."""
        cached = self._cache.get((kind, canonical))
        if cached is not None:
            return cached
        data = f"{kind}\0{canonical}".encode("utf-8", "surrogatepass")
        digest = hashlib.blake2s(data, key=self._key, digest_size=4).hexdigest()
        marker = f"[{kind}:{digest}]"
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()  # values are mostly unique: a bounded cache, not an LRU
        self._cache[(kind, canonical)] = marker
        return marker

    @staticmethod
    def plain(kind: str) -> str:
        """A marker without a hash, for `ip_mode="redact"`."""
        return f"[{kind}]"


def is_marker(text: str) -> bool:
    return MARKER.fullmatch(text) is not None
