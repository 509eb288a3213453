"""Anomaly detection precision and recall on synthetic labelled series, beside two baselines.

Run: `.venv-bench/bin/python bench/infra/anomaly_bench.py` (about a minute).

Scored per event: a labelled anomaly counts as found when an alarm falls inside its window
(recall); an alarm run (consecutive alarmed steps) counts as right when it overlaps a labelled
window (precision). Detectors see only the past at each step.

- ours: `infra.detector` (seasonal robust baseline with trend, point + sustained scores)
- static threshold: mean ± 3 standard deviations of the first 7 days
- plain z-score: mean and standard deviation of the last 24 hours, |z| > 3
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workers" / "infra" / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import EVAL_FROM, KINDS, PERIOD, Series, corpus  # noqa: E402

from infra import detector  # noqa: E402

Detector = Callable[[Series], set[int]]


def ours(series: Series) -> set[int]:
    history = dict(enumerate(series.values))
    training = series.values[:EVAL_FROM]
    typical = (_quantile(training, 0.02), _quantile(training, 0.98))
    alarms = set()
    for i in range(EVAL_FROM, len(series.values)):
        verdict = detector.evaluate(history, i, typical=typical)
        if verdict is not None and verdict.anomalous:
            alarms.add(i)
    return alarms


def static_threshold(series: Series) -> set[int]:
    training = series.values[:EVAL_FROM]
    mean, std = statistics.fmean(training), statistics.pstdev(training)
    return {
        i for i in range(EVAL_FROM, len(series.values)) if abs(series.values[i] - mean) > 3 * std
    }


def plain_zscore(series: Series) -> set[int]:
    alarms = set()
    for i in range(EVAL_FROM, len(series.values)):
        window = series.values[i - PERIOD : i]
        mean, std = statistics.fmean(window), statistics.pstdev(window) or 1e-9
        if abs(series.values[i] - mean) / std > 3:
            alarms.add(i)
    return alarms


def runs(alarms: set[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for i in sorted(alarms):
        if out and i <= out[-1][1] + 2:  # a one-step gap does not start a new alarm
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def score(series: list[Series], detect: Detector) -> dict[str, float]:
    found: dict[str, list[bool]] = {kind: [] for kind in KINDS}
    right = total_runs = 0
    delays: list[int] = []
    for s in series:
        alarms = detect(s)
        for lo, hi in s.windows:
            hits = sorted(i for i in alarms if lo <= i <= hi)
            found[s.kind].append(bool(hits))
            if hits:
                delays.append(hits[0] - lo)
        for lo, hi in runs(alarms):
            total_runs += 1
            right += any(lo <= whi and hi >= wlo for wlo, whi in s.windows)
    events = [hit for hits in found.values() for hit in hits]
    result = {
        "precision": right / total_runs if total_runs else 1.0,
        "recall": sum(events) / len(events),
        "false alarms/series-day": (total_runs - right) / (len(series) * 3),
        "median delay (min)": statistics.median(delays) * 5 if delays else float("nan"),
    }
    result.update({f"recall {kind}": sum(h) / len(h) for kind, h in found.items()})
    return result


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    print(f"# anomaly detection — {platform.python_implementation()} {platform.python_version()}")
    print(f"# {platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")  # fmt: skip
    for seed, what in ((7, "the corpus the thresholds were tuned on"), (11, "a held-out corpus")):
        table(corpus(seed=seed), f"seed {seed}, {what}")


def table(series: list[Series], title: str) -> None:
    print(f"\n## {title}")
    print(f"# {len(series)} series x 10 days at 5-minute steps; scored on the last 3 days")
    print(f"# {sum(len(s.windows) for s in series)} labelled anomalies: {', '.join(KINDS)}\n")
    detectors = {"ours": ours, "static threshold": static_threshold, "plain z-score": plain_zscore}
    results, timings = {}, {}
    for name, detect in detectors.items():
        started = time.perf_counter()
        results[name] = score(series, detect)
        timings[name] = time.perf_counter() - started
    metrics = list(next(iter(results.values())))
    print("| metric | " + " | ".join(detectors) + " |")
    print("|---|" + "---|" * len(detectors))
    for metric in metrics:
        cells = [f"{results[name][metric]:.2f}" for name in detectors]
        print(f"| {metric} | " + " | ".join(cells) + " |")
    cells = [f"{timings[name]:.1f}" for name in detectors]
    print("| run time (s) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
