"""The Cloudflare plan limits capacity is measured against (checked Sep 2026; they change).

Sources: developers.cloudflare.com /workers/platform/limits/, /workers/platform/pricing/,
/kv/platform/limits/, /kv/platform/pricing/, /r2/pricing/, /durable-objects/platform/limits/,
/durable-objects/platform/pricing/. A `daily` limit resets at 00:00 UTC and is a hard limit on
the Free plan (requests fail past it); a `monthly` one is the allowance included in the Paid
plan, past which usage is billed; `storage` is a level, not a flow (per object for Durable
Objects, where 10 GB is the most one SQLite-backed object may hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Period = Literal["daily", "monthly", "storage"]


@dataclass(frozen=True)
class Limit:
    resource: str  # a stable id: "workers_requests", "kv_reads", ...
    title: str
    period: Period
    limit: float
    unit: str  # "requests", "operations", "bytes"
    hard: bool  # past it, calls fail (rather than being billed)


GB = 1_000_000_000

PLANS: dict[str, tuple[Limit, ...]] = {
    "free": (
        Limit("workers_requests", "Worker requests per day", "daily", 100_000, "requests", True),
        Limit("kv_reads", "KV reads per day", "daily", 100_000, "operations", True),
        Limit(
            "kv_writes", "KV writes, deletes and lists per day", "daily", 1_000, "operations", True
        ),
        Limit("do_requests", "Durable Object requests per day", "daily", 100_000, "requests", True),
        Limit(
            "r2_class_a",
            "R2 Class A operations per month (free tier)",
            "monthly",
            1_000_000,
            "operations",
            False,
        ),
        Limit(
            "r2_class_b",
            "R2 Class B operations per month (free tier)",
            "monthly",
            10_000_000,
            "operations",
            False,
        ),
        Limit("r2_storage", "R2 storage (free tier)", "storage", 10 * GB, "bytes", False),
        Limit(
            "do_storage_per_object",
            "Durable Object storage per object",
            "storage",
            10 * GB,
            "bytes",
            True,
        ),
    ),
    "paid": (
        Limit(
            "workers_requests",
            "Worker requests per month (included)",
            "monthly",
            10_000_000,
            "requests",
            False,
        ),
        Limit(
            "kv_reads", "KV reads per month (included)", "monthly", 10_000_000, "operations", False
        ),
        Limit(
            "kv_writes",
            "KV writes, deletes and lists per month (included)",
            "monthly",
            1_000_000,
            "operations",
            False,
        ),
        Limit(
            "do_requests",
            "Durable Object requests per month (included)",
            "monthly",
            1_000_000,
            "requests",
            False,
        ),
        Limit(
            "r2_class_a",
            "R2 Class A operations per month (included)",
            "monthly",
            1_000_000,
            "operations",
            False,
        ),
        Limit(
            "r2_class_b",
            "R2 Class B operations per month (included)",
            "monthly",
            10_000_000,
            "operations",
            False,
        ),
        Limit("r2_storage", "R2 storage (included)", "storage", 10 * GB, "bytes", False),
        Limit(
            "do_storage_per_object",
            "Durable Object storage per object",
            "storage",
            10 * GB,
            "bytes",
            True,
        ),
    ),
}

# R2 operation classes (developers.cloudflare.com/r2/pricing/#class-a-operations).
R2_CLASS_A = frozenset({
    "ListBuckets", "PutBucket", "ListObjects", "PutObject", "CopyObject",
    "CompleteMultipartUpload", "CreateMultipartUpload", "LifecycleStorageTierTransition",
    "ListMultipartUploads", "UploadPart", "UploadPartCopy", "ListParts", "PutBucketEncryption",
    "PutBucketCors", "PutBucketLifecycleConfiguration",
})  # fmt: skip
# Binding calls of our own telemetry, by class (used when Cloudflare's analytics are absent).
R2_BINDING_CLASS_A = frozenset({"put", "list", "createMultipartUpload"})
KV_READ_OPS = frozenset({"get", "getWithMetadata"})
KV_WRITE_OPS = frozenset({"put", "delete", "list"})


def plan_limits(plan: str) -> tuple[Limit, ...]:
    return PLANS.get(plan.strip().lower(), PLANS["paid"])
