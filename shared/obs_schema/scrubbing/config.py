"""What a deployment may change about scrubbing: its key, extra patterns, keys and IP handling.

Plain dataclass (no pydantic): the scrubber runs in the logs Worker's hot path and inside
Pyodide, and the security Worker imports it for evidence too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

IpMode = Literal["hash", "truncate", "redact", "keep"]
IP_MODES: tuple[IpMode, ...] = ("hash", "truncate", "redact", "keep")

# Every class the scrubber knows; a deployment may switch some off with `disabled`.
CLASSES = (
    "email",
    "card",
    "phone",
    "ipv4",
    "ipv6",
    "iban",
    "ssn",
    "jwt",
    "token",
    "credentials",
    "secret",
    "private_key",
)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class ScrubConfigError(ValueError):
    """A deployment's scrubbing configuration is unusable (bad pattern, unknown class...)."""


@dataclass(frozen=True)
class ScrubConfig:
    """How to scrub.

    - `key`: the per-deployment secret behind the keyed hash in markers, so the same email
      gives the same `[email:3f9a1c2e]` within a deployment and a different one elsewhere
      (nobody can confirm a guess without the key).
    - `extra_patterns`: name -> regular expression; matches become `[name:hash]`.
    - `allow_keys`: keys whose values are never treated as secrets (`token_budget`).
    - `sensitive_keys`: more keys whose values are always secrets (`x-pitchey-session`).
    - `ip_mode`: `hash` (marker), `truncate` (keep the network: 203.0.113.0/24, 2001:db8::/48),
      `redact` (`[ipv4]` without hash) or `keep` (IPs are not scrubbed).
    - `disabled`: classes not to scrub at all.
    """

    key: bytes = b""
    extra_patterns: Mapping[str, str] = field(default_factory=dict)
    allow_keys: frozenset[str] = frozenset()
    sensitive_keys: frozenset[str] = frozenset()
    ip_mode: IpMode = "hash"
    disabled: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.ip_mode not in IP_MODES:
            raise ScrubConfigError(f"ip_mode must be one of {', '.join(IP_MODES)}")
        unknown = set(self.disabled) - set(CLASSES)
        if unknown:
            raise ScrubConfigError(f"unknown classes to disable: {', '.join(sorted(unknown))}")
        for name, pattern in self.extra_patterns.items():
            check_extra_pattern(name, pattern)

    @property
    def ip_enabled(self) -> bool:
        return self.ip_mode != "keep"


def check_extra_pattern(name: str, pattern: str) -> None:
    """Refuse names that could not be a marker and patterns that do not compile."""
    if not _NAME.fullmatch(name):
        raise ScrubConfigError(
            f"pattern name {name[:40]!r} must be lower-case letters, digits or _ (max 32)"
        )
    if name in CLASSES:
        raise ScrubConfigError(f"pattern name {name!r} is a built-in class")
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ScrubConfigError(f"pattern {name!r} does not compile: {error}") from None
    if compiled.match(""):
        raise ScrubConfigError(f"pattern {name!r} matches the empty string")
