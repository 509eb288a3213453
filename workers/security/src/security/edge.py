"""What every isolate keeps at hand to decide fast: policy, compiled rules, lists, intel.

All of it lives in the CONFIG KV namespace (read-mostly, replicated to the edge) and is cached
per isolate for a few seconds, as KV reads are themselves eventually consistent. Writes made
through this isolate refresh its cache at once. The cache is keyed by the KV binding, so two
local stacks in one process (tests; modules stay warm across them) never share state.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from obs_schema import host
from obs_schema.scrubbing import Scrubber, ScrubConfig
from security import policy as policies
from security.detect.engine import Detector
from security.respond.prefixes import PrefixSet

POLICY_TTL_S = 10.0
LISTS_TTL_S = 10.0
INTEL_TTL_S = 60.0
BLOCKS_TTL_S = 5.0
MAX_CACHED_BLOCKS = 50_000
LISTS_KEY = "security:lists"
INTEL_KEY = "security:intel"
BLOCK_PREFIX = "security:block:"
# The logs Worker's scrubbing key: the same personal value gets the same marker in logs and
# in security evidence, so an operator can follow it across both without seeing it.
SCRUB_KEY_KV = "logs:scrub-key"
log = logging.getLogger("security.edge")


@dataclass
class Lists:
    """Allows and CIDR/manual blocks from the ledger; labels are entry ids."""

    allow: PrefixSet = field(default_factory=PrefixSet)
    block: PrefixSet = field(default_factory=PrefixSet)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def active(self, label: str, now_ms: int) -> dict[str, Any] | None:
        entry = self.entries.get(label)
        if entry is None:
            return None
        expires = entry.get("expires_ms")
        return entry if expires is None or expires > now_ms else None


@dataclass
class _Cached:
    kv: Any
    policy: tuple[float, policies.Policy, Detector] | None = None
    lists: tuple[float, Lists] | None = None
    intel: tuple[float, PrefixSet, dict[str, Any]] | None = None
    blocks: dict[str, tuple[float, dict[str, Any] | None]] = field(default_factory=dict)


_by_kv: dict[int, _Cached] = {}


def _slot(env: Any) -> _Cached:
    kv = _unwrapped(env.CONFIG)
    slot = _by_kv.get(id(kv))
    if slot is None or slot.kv is not kv:
        slot = _by_kv[id(kv)] = _Cached(kv)
    return slot


def _unwrapped(binding: Any) -> Any:
    # obs_schema.telemetry times bindings through a fresh proxy per request, holding the real
    # binding as `_target`; the proxy's identity changes, the binding's does not.
    return getattr(binding, "_target", binding)


async def current(env: Any) -> tuple[policies.Policy, Detector]:
    slot = _slot(env)
    if slot.policy is None or host.now() - slot.policy[0] > POLICY_TTL_S:
        raw = await env.CONFIG.get(policies.KV_KEY)
        policy = policies.from_dict(json.loads(raw)) if raw else policies.Policy()
        if slot.policy is not None and slot.policy[1] == policy:
            slot.policy = (host.now(), policy, slot.policy[2])
        else:
            slot.policy = (host.now(), policy, await _detector(env, policy))
    return slot.policy[1], slot.policy[2]


async def save_policy(env: Any, policy: policies.Policy) -> policies.Policy:
    await env.CONFIG.put(policies.KV_KEY, policies.dumps(policy))
    _slot(env).policy = (host.now(), policy, await _detector(env, policy))
    return policy


async def _detector(env: Any, policy: policies.Policy) -> Detector:
    detection = policy.detection
    scrubber = Scrubber(ScrubConfig(key=await _scrub_key(env), ip_mode="keep"))
    # IPs stay: in evidence they are attack targets (SSRF), and the source is a field anyway.
    return Detector(
        paranoia=detection.paranoia, disabled=detection.disabled_rules, scrub=scrubber.scrub_text
    )


async def _scrub_key(env: Any) -> bytes:
    secret = getattr(env, "OBS_SCRUB_KEY", None)
    if isinstance(secret, str) and secret:
        return secret.encode()
    stored = await env.CONFIG.get(SCRUB_KEY_KV)
    if stored:
        return str(stored).encode()
    try:  # none minted yet: the logs Worker mints it (its catalog object keeps the first)
        return str(await env.LOGS.scrub_key()).encode()
    except Exception as error:  # evidence is still scrubbed; its markers are just not keyed
        log.warning("no scrubbing key from the logs Worker yet (%s)", error)
        return b""


async def lists(env: Any) -> Lists:
    slot = _slot(env)
    if slot.lists is None or host.now() - slot.lists[0] > LISTS_TTL_S:
        raw = await env.CONFIG.get(LISTS_KEY)
        slot.lists = (host.now(), compile_lists(json.loads(raw) if raw else {}))
    return slot.lists[1]


def compile_lists(doc: dict[str, Any]) -> Lists:
    made = Lists()
    for entry in doc.get("entries", []):
        target = made.allow if entry["kind"] == "allow" else made.block
        target.add(entry["target"], entry["id"])
        made.entries[entry["id"]] = entry
    return made


async def publish_lists(env: Any, entries: list[dict[str, Any]]) -> bool:
    """The ledger's active allows and prefix blocks, as the edge reads them. Written only when
    they changed (KV writes are billed and limited to one a second per key). True if written."""
    listed = [
        {k: e[k] for k in ("id", "target", "kind", "reason", "expires_ms", "source")}
        for e in entries
        if e["kind"] == "allow" or "/" in e["target"]
    ]
    current = await lists(env)
    if sorted(current.entries) == sorted(e["id"] for e in listed):
        return False
    doc = {"version": host.now_ms(), "entries": listed}
    await env.CONFIG.put(LISTS_KEY, json.dumps(doc, separators=(",", ":")))
    _slot(env).lists = (host.now(), compile_lists(doc))
    return True


async def intel(env: Any) -> tuple[PrefixSet, dict[str, Any]]:
    slot = _slot(env)
    if slot.intel is None or host.now() - slot.intel[0] > INTEL_TTL_S:
        raw = await env.CONFIG.get(INTEL_KEY)
        doc = json.loads(raw) if raw else {}
        slot.intel = (host.now(), PrefixSet.from_json(doc.get("set", {})), doc)
    return slot.intel[1], slot.intel[2]


async def publish_intel(env: Any, compiled: PrefixSet, summary: list[dict[str, Any]]) -> None:
    doc = {"version": host.now_ms(), "lists": summary, "set": compiled.to_json()}
    await env.CONFIG.put(INTEL_KEY, json.dumps(doc, separators=(",", ":")))
    _slot(env).intel = (host.now(), compiled, doc)


async def ip_block(env: Any, ip: str, now_ms: int) -> dict[str, Any] | None:
    """An exact-address block (automated or manual) still in force, from KV.

    Read once per BLOCKS_TTL_S per address and isolate: KV is itself eventually consistent
    (a write reaches other locations within about a minute), and blocks written through this
    isolate update its copy at once (`project_block`)."""
    slot = _slot(env)
    cached = slot.blocks.get(ip)
    if cached is None or host.now() - cached[0] > BLOCKS_TTL_S:
        raw = await env.CONFIG.get(BLOCK_PREFIX + ip)
        cached = (host.now(), json.loads(raw) if raw else None)
        _remember_block(slot, ip, cached)
    entry = cached[1]
    if entry is None:
        return None
    expires = entry.get("expires_ms")
    return entry if expires is None or expires > now_ms else None


def _remember_block(slot: _Cached, ip: str, cached: tuple[float, dict[str, Any] | None]) -> None:
    if len(slot.blocks) >= MAX_CACHED_BLOCKS and ip not in slot.blocks:
        slot.blocks.clear()
    slot.blocks[ip] = cached


async def project_block(env: Any, block: dict[str, Any], now_ms: int) -> None:
    """Mirror one ledger entry's effect into KV (only exact-address blocks have a key)."""
    if block["kind"] != "block" or "/" in block["target"]:
        return
    key = BLOCK_PREFIX + block["target"]
    slot = _slot(env)
    if not block["active"]:
        await env.CONFIG.delete(key)
        _remember_block(slot, block["target"], (host.now(), None))
        return
    entry = {k: block[k] for k in ("id", "reason", "source", "expires_ms", "incident")}
    _remember_block(slot, block["target"], (host.now(), entry))
    value = json.dumps(entry)
    expires = block.get("expires_ms")
    if expires is None:
        await env.CONFIG.put(key, value)
    else:  # KV's floor is 60 s; the stored expiry keeps shorter blocks exact
        await env.CONFIG.put(key, value, expirationTtl=max(60, -(-(expires - now_ms) // 1000)))
