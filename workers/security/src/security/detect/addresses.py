"""Host names and IP literals as a URL parser or resolver would read them.

`inet_aton` accepts far more than dotted quads - `2130706433`, `0x7f000001`, `0177.0.0.1`,
`127.1` and `0x7f.1` are all 127.0.0.1 - and IPv6 literals may carry an IPv4 address
(`::ffff:127.0.0.1`, `::ffff:7f00:1`, `64:ff9b::7f00:1`). SSRF filters that compare strings
miss these; this module turns each form into the address it names and says whether that
address is internal. Hostnames that resolve to internal addresses by design (metadata
services, `localhost`, wildcard-DNS services that embed an IP) are recognised by name.
"""

from __future__ import annotations

import ipaddress
import re

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_PART = re.compile(r"^(?:0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")
_EMBEDDED_V4 = re.compile(r"(?:^|[.-])(\d{1,3}(?:[.-]\d{1,3}){3})\.(?:nip\.io|sslip\.io|xip\.io)$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CLOUD_METADATA = (
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("192.0.0.192"),  # Oracle Cloud (classic)
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
)
INTERNAL_NAMES = (
    "localhost",
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "kubernetes.default",
    "kubernetes.default.svc",
    "localtest.me",
    "lvh.me",
    "vcap.me",
)
INTERNAL_SUFFIXES = (
    ".localhost",
    ".internal",
    ".local",
    ".localdomain",
    ".svc.cluster.local",
    ".localtest.me",
    ".lvh.me",
)


def parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """The address `inet_aton` would make of `host`: 1 to 4 parts, each decimal, octal or hex."""
    parts = host.lower().split(".")
    if parts and parts[-1] == "":
        parts.pop()  # a trailing dot is a fully qualified name: still the same address
    if not 1 <= len(parts) <= 4 or not all(_PART.match(p) for p in parts):
        return None
    try:
        values = [_number(p) for p in parts]
    except ValueError:
        return None
    *leading, last = values
    if any(v > 0xFF for v in leading) or last >= 1 << (8 * (5 - len(values))):
        return None
    number = 0
    for value in leading:
        number = number << 8 | value
    number = number << (8 * (5 - len(values))) | last
    return ipaddress.IPv4Address(number)


def parse_host(host: str) -> Address | None:
    """An IP literal in any form a client accepts, or None for a name."""
    text = host.strip().strip("[]").lower()
    text = text.split("%", 1)[0]  # IPv6 zone id: fe80::1%eth0
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return parse_ipv4_loose(text)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv6 one: mapped, compatible, NAT64 or 6to4."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_internal_address(address: Address) -> bool:
    """Loopback, private, link-local (metadata), CGNAT, unspecified or reserved."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return is_internal_address(inner)
    return (
        address in _CLOUD_METADATA
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
        or address.is_reserved
        or address.is_multicast
        or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
    )


def is_metadata_address(address: Address) -> bool:
    inner = embedded_ipv4(address)
    return (inner or address) in _CLOUD_METADATA


def internal_name(host: str) -> bool:
    """Names that resolve inside the network: localhost, metadata services, `*.internal`,
    and wildcard-DNS names that embed an internal IPv4 (`10.0.0.1.nip.io`)."""
    name = host.strip().rstrip(".").lower()
    if name in INTERNAL_NAMES or name.endswith(INTERNAL_SUFFIXES):
        return True
    embedded = _EMBEDDED_V4.search(name)
    if embedded is None:
        return False
    address = parse_ipv4_loose(embedded.group(1).replace("-", "."))
    return address is not None and is_internal_address(address)


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def _number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)
