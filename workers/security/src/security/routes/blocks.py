"""Blocks, allows, their audit trail with undo, and threat-intelligence lists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from obs_schema import host
from obs_schema.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from security import edge, intel, paging, shards
from security.routes.access import Admin, Read
from security.schemas import (
    AuditPage,
    BlockChange,
    BlockIn,
    BlockList,
    BlocklistChange,
    BlocklistsOut,
)
from security.telemetry import Telemetry

router = APIRouter(prefix="/security", tags=["response"])


def block_out(block: dict[str, Any]) -> dict[str, Any]:
    return {
        **{
            k: block[k]
            for k in ("id", "target", "kind", "source", "reason", "incident", "actor", "active")
        },
        "created_at": paging.rfc3339_ms(block["created_ms"]),
        "expires_at": paging.rfc3339_ms(block.get("expires_ms")),
    }


def audit_out(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        **{
            k: entry[k]
            for k in ("id", "actor", "action", "target", "reason", "block", "detail", "undone_by")
        },
        "time": paging.rfc3339_ms(entry["time_ms"]),
    }


async def refresh(env: Any, telemetry: Telemetry, now_ms: int) -> list[dict[str, Any]]:
    """Republish the edge's allow/prefix lists from the ledger and update the gauges."""
    ledger = shards.ledger(env)
    active = await ledger.list(now_ms, {"active": True, "limit": 5000})
    await edge.publish_lists(env, active)
    counts = await ledger.count_active(now_ms)
    for kind in ("block", "allow"):
        telemetry.blocks_active.labels(kind=kind).set(counts.get(kind, 0))
    return list(active)


async def _ledger_call(call: Any) -> dict[str, Any]:
    result: dict[str, Any] = await call
    if "error" in result:
        error = result["error"]
        raise (NotFound if error.get("missing") else Conflict)(str(error["message"]))
    return result


@router.get("/blocks", response_model=BlockList, summary="Blocks and allows (active by default)")
async def get_blocks(
    request: Request,
    _: Read,
    kind: str | None = Query(default=None, pattern="^(block|allow)$"),
    include_inactive: bool = False,
    limit: int = Query(default=500, ge=1, le=5000),
) -> dict[str, Any]:
    ledger = shards.ledger(request.scope["env"])
    rows = await ledger.list(
        host.now_ms(), {"kind": kind, "active": not include_inactive, "limit": limit}
    )
    return {"blocks": [block_out(b) for b in rows]}


@router.post(
    "/blocks",
    response_model=BlockChange,
    status_code=201,
    summary="Block or allow an IP or CIDR (admin)",
    description="`{target, kind: block|allow, reason, ttl_s?}`. Audited; undo with "
    "`POST /security/audit/{id}/undo` or remove with `DELETE /security/blocks/{id}`.",
)
async def post_block(request: Request, body: BlockIn, _: Admin) -> dict[str, Any]:
    env, now = request.scope["env"], host.now_ms()
    entry = {**body.model_dump(), "source": "manual", "actor": "admin"}
    result = await _ledger_call(shards.ledger(env).add(entry, now))
    await edge.project_block(env, result["block"], now)
    await refresh(env, request.app.state.telemetry, now)
    request.app.state.telemetry.blocks_created.labels(source="manual").inc()
    return {"block": block_out(result["block"]), "audit": audit_out(result["audit"])}


@router.delete(
    "/blocks/{block_id}", response_model=BlockChange, summary="Remove a block or allow (admin)"
)
async def delete_block(
    request: Request,
    _: Admin,
    block_id: str,
    reason: str = Query(default="", max_length=500),
) -> dict[str, Any]:
    env, now = request.scope["env"], host.now_ms()
    result = await _ledger_call(
        shards.ledger(env).remove(block_id[:64], "admin", reason or "removed", now)
    )
    await edge.project_block(env, result["block"], now)
    await refresh(env, request.app.state.telemetry, now)
    return {"block": block_out(result["block"]), "audit": audit_out(result["audit"])}


@router.get(
    "/audit", response_model=AuditPage, summary="Audit trail of every block change, newest first"
)
async def get_audit(
    request: Request,
    _: Read,
    limit: int = Query(default=100, ge=1, le=1000),
    cursor: str | None = None,
) -> dict[str, Any]:
    rows = await shards.ledger(request.scope["env"]).audit(limit, paging.decode(cursor))
    next_cursor = paging.encode(rows[-1]["time_ms"], rows[-1]["id"]) if len(rows) == limit else None
    return {"entries": [audit_out(r) for r in rows], "cursor": next_cursor}


@router.post(
    "/audit/{audit_id}/undo",
    response_model=BlockChange,
    summary="Undo an audited action (admin)",
    description="Undoing a block removes it, undoing an unblock restores it; the undo "
    "is itself audited.",
)
async def undo(request: Request, audit_id: str, _: Admin) -> dict[str, Any]:
    env, now = request.scope["env"], host.now_ms()
    result = await _ledger_call(shards.ledger(env).undo(audit_id[:64], "admin", now))
    await edge.project_block(env, result["block"], now)
    await refresh(env, request.app.state.telemetry, now)
    return {"block": block_out(result["block"]), "audit": audit_out(result["audit"])}


@router.get(
    "/blocklists",
    response_model=BlocklistsOut,
    summary="Threat-intelligence lists loaded at the edge",
)
async def get_blocklists(request: Request, _: Read) -> dict[str, Any]:
    compiled, doc = await edge.intel(request.scope["env"])
    return {
        "lists": doc.get("lists", []),
        "networks": len(compiled),
        "loaded_at": paging.rfc3339_ms(doc.get("version")),
    }


@router.put(
    "/blocklists/{name}",
    response_model=BlocklistChange,
    summary="Store a blocklist in R2 and reload (admin)",
    description="Body: one IP or CIDR per line, `#`/`;` comments. The cron reloads every "
    "list in the bucket every 15 minutes; this reloads at once.",
)
async def put_blocklist(request: Request, name: str, _: Admin) -> dict[str, Any]:
    if not intel.NAME.match(name):
        raise BadRequest("list names are 1-128 of A-Z a-z 0-9 _ . - (not starting with . - _)")
    body = await request.body()
    if len(body) > intel.MAX_LIST_BYTES:
        raise PayloadTooLarge(f"a blocklist is at most {intel.MAX_LIST_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("a blocklist is UTF-8 text") from None
    env = request.scope["env"]
    await env.INTEL.put(intel.PREFIX + name, text, httpMetadata={"contentType": "text/plain"})
    summary = await intel.reload(env, request.app.state.telemetry)
    return {"lists": summary}


@router.delete(
    "/blocklists/{name}",
    response_model=BlocklistChange,
    summary="Delete a blocklist and reload (admin)",
)
async def delete_blocklist(request: Request, name: str, _: Admin) -> dict[str, Any]:
    env = request.scope["env"]
    if not intel.NAME.match(name) or await env.INTEL.head(intel.PREFIX + name) is None:
        raise NotFound(f"no blocklist {name[:128]!r}")
    await env.INTEL.delete(intel.PREFIX + name)
    return {"lists": await intel.reload(env, request.app.state.telemetry)}
