"""IP/CIDR sets matched by prefix: one hash lookup per distinct prefix length.

A blocklist of 100,000 networks typically uses a handful of prefix lengths, so matching an
address masks it once per length and probes a dict - microseconds, whatever the list size.
Serialises to plain JSON so the compiled set travels through KV to every isolate.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_COMMENT = re.compile(r"\s*[#;].*$")


@dataclass
class PrefixSet:
    # version -> prefix length -> network number -> label (which list or entry matched)
    tables: dict[int, dict[int, dict[int, str]]] = field(default_factory=lambda: {4: {}, 6: {}})

    def add(self, network: str, label: str) -> None:
        net = ipaddress.ip_network(network, strict=False)
        table = self.tables[net.version].setdefault(net.prefixlen, {})
        table.setdefault(int(net.network_address), label)

    def match(self, ip: str) -> tuple[str, str] | None:
        """(matching network, its label), the most specific first, or None."""
        if not any(self.tables.values()):  # nothing listed: no need to parse the address
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        bits = 32 if address.version == 4 else 128
        number = int(address)
        tables = self.tables[address.version]
        for length in sorted(tables, reverse=True):
            masked = number >> (bits - length) << (bits - length) if length else 0
            label = tables[length].get(masked)
            if label is not None:
                network = ipaddress.ip_network((masked, length)) if length else None
                return (str(network) if network else "0.0.0.0/0"), label
        return None

    def __len__(self) -> int:
        return sum(len(t) for v in self.tables.values() for t in v.values())

    def to_json(self) -> dict[str, Any]:
        return {
            str(v): {str(n): {str(k): lab for k, lab in t.items()} for n, t in lens.items()}
            for v, lens in self.tables.items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PrefixSet:
        made = cls()
        for version, lens in data.items():
            made.tables[int(version)] = {
                int(n): {int(k): str(lab) for k, lab in t.items()} for n, t in lens.items()
            }
        return made


@dataclass(frozen=True, slots=True)
class ParsedList:
    networks: list[str]
    rejected: int


def parse_list(text: str) -> ParsedList:
    """One IP or CIDR per line; `#` and `;` start comments (Spamhaus DROP, FireHOL, plain)."""
    networks, rejected = [], 0
    for line in text.splitlines():
        entry = _COMMENT.sub("", line).strip()
        if not entry:
            continue
        token = entry.split()[0]
        try:
            networks.append(str(ipaddress.ip_network(token, strict=False)))
        except ValueError:
            rejected += 1
    return ParsedList(networks, rejected)


def compile_lists(lists: Iterable[tuple[str, str]]) -> tuple[PrefixSet, list[dict[str, Any]]]:
    """(name, text) pairs into one set, and what each list contributed."""
    merged, summary = PrefixSet(), []
    for name, text in lists:
        parsed = parse_list(text)
        for network in parsed.networks:
            merged.add(network, name)
        summary.append(
            {"name": name, "entries": len(parsed.networks), "rejected_lines": parsed.rejected}
        )
    return merged, summary
