"""Run one detector over the corpus: per-class detection and per-category false positives."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [
    str(ROOT / "workers/security/src"),
    str(ROOT / "shared"),
    str(Path(__file__).parent),
]

from corpus import Corpus, Sample  # noqa: E402

from security.detect.engine import Detector  # noqa: E402
from security.detect.request import HttpRequest  # noqa: E402

BROWSER = (
    (
        "user-agent",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/124.0 Safari/537.36",
    ),
    ("accept", "text/html,*/*"),
    ("host", "pitchey.com"),
)

Flag = Callable[[Sample], tuple[bool, set[str]]]


def request_for(sample: Sample) -> HttpRequest:
    """Where the sample travels: a query parameter unless the corpus says otherwise."""
    p = sample.placement
    if p == "query":
        return HttpRequest("GET", "/api/search", "q=" + quote(sample.text, safe=""), BROWSER)
    if p == "json":
        return HttpRequest(
            "POST",
            "/api/pitches",
            "",
            (*BROWSER, ("content-type", "application/json")),
            sample.text,
        )
    if p == "header.user-agent":
        return HttpRequest(
            "GET",
            "/api/pitches",
            "",
            (("user-agent", sample.text), ("accept", "*/*"), ("host", "pitchey.com")),
        )
    if p == "method":
        return HttpRequest(sample.text.strip().upper()[:32], "/api/pitches", "", BROWSER)
    if p == "smuggle":
        return HttpRequest(
            "POST",
            "/api/pitches",
            "",
            (*BROWSER, ("transfer-encoding", "chunked"), ("content-length", "4")),
        )
    if p == "header-name":
        return HttpRequest("GET", "/", "", (*BROWSER, (sample.text, "1")))
    name = p.removeprefix("header.")
    return HttpRequest("GET", "/api/pitches", "", (*BROWSER, (name, sample.text)))


def ours(detector: Detector, threshold: int) -> Flag:
    def flag(sample: Sample) -> tuple[bool, set[str]]:
        verdict = detector.inspect(request_for(sample))
        return verdict.score >= threshold, {t.type for t in verdict.threats}

    return flag


def rates(
    corpus: Corpus, flag: Flag, classes: list[str] | None = None
) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for kind, samples in corpus.attacks.items():
        if classes is not None and kind not in classes:
            continue
        hits = right = 0
        for s in samples:
            flagged, types = flag(s)
            hits += flagged
            right += flagged and kind in types
        table[kind] = {
            "n": len(samples),
            "detected": hits / max(1, len(samples)),
            "right_class": right / max(1, len(samples)),
        }
    for kind, samples in corpus.benign.items():
        fps = sum(flag(s)[0] for s in samples)
        table["benign:" + kind] = {
            "n": len(samples),
            "false_positive": fps / max(1, len(samples)),
            "count": fps,
        }
    return table


def misses(corpus: Corpus, flag: Flag, kind: str, limit: int = 30) -> list[str]:
    return [s.text for s in corpus.attacks[kind] if not flag(s)[0]][:limit]


def false_positives(corpus: Corpus, flag: Flag, kind: str, limit: int = 30) -> list[str]:
    return [s.text for s in corpus.benign[kind] if flag(s)[0]][:limit]
