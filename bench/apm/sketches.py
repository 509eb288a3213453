"""Quantile sketches side by side: accuracy and cost of obs_schema.sketch against its peers.

    .venv/bin/pip install -r bench/apm/requirements.txt
    .venv/bin/python bench/apm/sketches.py [--values 200000]

For lognormal, bimodal and Pareto latencies (ms): relative error at p50/p90/p95/p99/p99.9
against the exact nearest-rank percentile (numpy `inverted_cdf`), nanoseconds per add (one
Python call per value, as an instrumented request would), time to merge 1,000 sketches of 200
values each, and serialised size of the full sketch. Peers that are not installed are shown as
such. Times are CPU time (best of 3), so other processes on the machine do not inflate
them. Runs in about a minute.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obs_schema.sketch import Sketch

QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)
PARTS, PART_SIZE = 1000, 200


@dataclass
class Peer:
    name: str
    make: Callable[[], Any]
    add: Callable[[Any, float], None]
    quantile: Callable[[Any, float], float]
    merge: Callable[[Any, Any], None]
    size: Callable[[Any], int]


def peers() -> tuple[list[Peer], list[str]]:
    found = [
        Peer(
            "obs_schema.sketch (1%)",
            Sketch,
            Sketch.add,
            lambda s, q: s.quantile(q),
            Sketch.merge,
            lambda s: len(s.to_bytes()),
        )
    ]
    missing = []
    try:
        from ddsketch import DDSketch
        from ddsketch.pb.proto import DDSketchProto

        found.append(
            Peer(
                "ddsketch 3.0.1 (1%)",
                lambda: DDSketch(relative_accuracy=0.01),
                lambda s, v: s.add(v),
                lambda s, q: s.get_quantile_value(q),
                lambda s, o: s.merge(o),
                lambda s: len(DDSketchProto.to_proto(s).SerializeToString()),
            )
        )
    except ImportError as error:
        missing.append(f"ddsketch: {error}")
    try:
        from fastdigest import TDigest

        found.append(
            Peer(
                "fastdigest 0.12 (t-digest)",
                TDigest,
                lambda s, v: s.update(v),
                lambda s, q: s.quantile(q),
                lambda s, o: s.merge_inplace(o),
                lambda s: len(s.to_bytes()),
            )
        )
    except ImportError as error:
        missing.append(f"fastdigest: {error}")
    try:
        from hdrh.histogram import HdrHistogram

        # Integer microseconds, 2 significant digits (1%), 1 us to 1 h.
        found.append(
            Peer(
                "hdrhistogram 0.10 (2 digits)",
                lambda: HdrHistogram(1, 3_600_000_000, 2),
                lambda s, v: s.record_value(max(1, int(v * 1000))),
                lambda s, q: s.get_value_at_percentile(q * 100) / 1000,
                lambda s, o: s.add(o),
                lambda s: len(s.encode()),
            )
        )
    except ImportError as error:
        missing.append(f"hdrhistogram: {error}")
    return found, missing


def distributions(n: int) -> dict[str, list[float]]:
    rng = random.Random(42)
    return {
        "lognormal": [rng.lognormvariate(3.0, 1.0) for _ in range(n)],
        "bimodal": [
            abs(rng.gauss(20, 3)) if rng.random() < 0.8 else abs(rng.gauss(900, 60))
            for _ in range(n)
        ],
        "pareto": [5.0 * rng.paretovariate(1.2) for _ in range(n)],
    }


def exact(values: list[float]) -> tuple[list[float], float, int]:
    try:
        import numpy as np
    except ImportError:
        ordered = sorted(values)
        picks = [ordered[max(0, -int(-q * len(ordered) // 1) - 1)] for q in QUANTILES]
        return picks, float("nan"), 8 * len(values)
    array = np.asarray(values)
    started = time.perf_counter()
    picks = [
        float(v) for v in np.percentile(array, [q * 100 for q in QUANTILES], method="inverted_cdf")
    ]
    return picks, (time.perf_counter() - started) * 1e9 / len(values), array.nbytes


def best_of(runs: int, work: Callable[[], None]) -> float:
    """Least CPU seconds of `runs` runs: CPU time, so other processes do not count."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def measure(peer: Peer, values: list[float], truth: list[float]) -> list[str]:
    sketch = peer.make()
    add = peer.add
    for value in values:
        add(sketch, value)
    errors = [abs(peer.quantile(sketch, q) - t) / t for q, t in zip(QUANTILES, truth, strict=True)]

    def add_all() -> None:
        fresh = peer.make()
        for value in values[:50_000]:
            add(fresh, value)

    ns_per_add = best_of(3, add_all) * 1e9 / min(50_000, len(values))
    parts = []
    for start in range(0, PARTS * PART_SIZE, PART_SIZE):
        part = peer.make()
        for value in values[start % len(values) : start % len(values) + PART_SIZE]:
            add(part, value)
        parts.append(part)

    def merge_all() -> None:
        merged = peer.make()
        for part in parts:
            peer.merge(merged, part)

    merge_ms = best_of(3, merge_all) * 1000
    return [f"{e * 100:.2f}%" for e in errors] + [
        f"{ns_per_add:,.0f}",
        f"{merge_ms:,.1f}",
        f"{peer.size(sketch):,}",
    ]


def header() -> str:
    cpu = "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"machine: {platform.machine()} {cpu}, {platform.system()} {platform.release()}\n"
        f"interpreter: {platform.python_implementation()} {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=200_000)
    args = parser.parse_args()
    found, missing = peers()
    print(header())
    print(f"values per distribution: {args.values:,}; merge: {PARTS} sketches of {PART_SIZE}")
    columns = ["p50", "p90", "p95", "p99", "p99.9", "ns/add", "merge ms", "bytes"]
    print("| distribution | method | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for name, values in distributions(args.values).items():
        truth, exact_ns, exact_bytes = exact(values)
        for peer in found:
            print(f"| {name} | {peer.name} | " + " | ".join(measure(peer, values, truth)) + " |")
        print(
            f"| {name} | exact numpy percentiles | 0 | 0 | 0 | 0 | 0 | "
            f"{exact_ns:,.0f} (sort per query) | n/a | {exact_bytes:,} |"
        )
    for line in missing:
        print(f"not installed: {line}")


if __name__ == "__main__":
    main()
