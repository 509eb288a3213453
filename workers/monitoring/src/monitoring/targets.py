"""Which targets a check may point at.

A monitoring service that fetches any URL it is given is a server-side request forgery tool:
it would probe the deployment's own private network. Targets on private, loopback, link-local
(cloud metadata) and other non-public addresses are refused unless the deployment allows them
(`MONITORING_ALLOW_PRIVATE_TARGETS = "true"`; the local stack does, for its own demo).

Only literal addresses and reserved names can be judged here: Workers cannot resolve DNS
themselves, so a public name that resolves to a private address is caught by the platform
(Cloudflare's fetch does not reach private networks), not by this module.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

ALLOW_VAR = "MONITORING_ALLOW_PRIVATE_TARGETS"
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


def allowed_by(env: object) -> bool:
    """Does this deployment allow private targets?"""
    value = getattr(env, ALLOW_VAR, "false") if env is not None else "false"
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def host_refusal(host: str) -> str | None:
    """Why `host` (a name or a literal address) is not a public target, or None if it is."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if not name:
        return "the target has no host"
    if name == "localhost" or name.endswith(_LOCAL_SUFFIXES):
        return f"{name} is a local name"
    address = _literal_address(name)
    if isinstance(address, str):
        return address
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        return f"{address} is not a public address"
    return None


def url_refusal(url: str) -> str | None:
    """Why the host of `url` is not a public target, or None."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return "the URL is malformed"
    return host_refusal(host or "")


def _literal_address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | str | None:
    """The address a literal host denotes; a refusal for numeric forms that browsers and
    resolvers read differently (`2130706433`, `0x7f.1`, `0177.0.0.1`); None for names."""
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    last = name.rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.fullmatch(last):
        return f"{name} is an ambiguous numeric address; write it as a.b.c.d"
    return None
