"""Scrubber recall and false positives on Faker-made labelled lines, ours and peers side by side.

    .venv/bin/python bench/logs/scrub_bench.py [per_class] [benign] [seed]

Peers (scrubadub, Presidio, sentry-relay) pin their own dependencies (Presidio needs a newer
pydantic than the Workers pin), so they run in their own virtualenv: set PEERS_PYTHON to its
interpreter (see README.md); a peer that does not install or run is reported as such.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "shared")]

from machine import header  # noqa: E402
from scrub_corpus import Line, corpus  # noqa: E402

from obs_schema.scrubbing import Scrubber, ScrubConfig  # noqa: E402

PEERS_PYTHON = os.environ.get("PEERS_PYTHON", "/tmp/logs-peers/bin/python")  # noqa: S108


def leaked(output: str, value: str) -> bool:
    if value in output:
        return True
    digits = re.sub(r"\D", "", value)  # "4111 1111 ..." must not survive as digits either
    return len(digits) >= 7 and digits in re.sub(r"\D", "", output)


def score(lines: list[Line], outputs: list[str]) -> dict[str, float]:
    missed: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for line, output in zip(lines, outputs, strict=True):
        total[line.cls] += 1
        if line.cls == "benign":
            missed[line.cls] += output != line.text
        else:
            missed[line.cls] += leaked(output, line.value)
    return {
        cls: 100.0 * (missed[cls] / total[cls] if cls == "benign" else 1 - missed[cls] / total[cls])
        for cls in total
    }


def ours(lines: list[Line]) -> tuple[list[str], float]:
    scrubber = Scrubber(ScrubConfig(key=b"bench"))
    started = time.perf_counter()
    outputs = [scrubber.scrub_text(line.text) for line in lines]
    return outputs, time.perf_counter() - started


def peers(lines: list[Line]) -> dict[str, dict[str, object]]:
    if not Path(PEERS_PYTHON).exists():
        reason = f"not installed (no {PEERS_PYTHON}; see README)"
        return {name: {"error": reason} for name in ("scrubadub", "presidio", "sentry-relay")}
    done = subprocess.run(
        [PEERS_PYTHON, str(HERE / "peers_scrub.py")],
        input=json.dumps([line.text for line in lines]),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        return {"peers": {"error": done.stderr.strip().splitlines()[-1][:200]}}
    return dict(json.loads(done.stdout))


def main() -> None:
    per_class = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    benign = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    lines = corpus(per_class, benign, seed)
    print(header("PII scrubbing: recall per class and benign lines altered (Faker corpus)"))
    print(
        f"corpus: {per_class} labelled lines per class, {benign} tricky benign lines, seed {seed}"
    )
    results: dict[str, dict[str, object]] = {}
    outputs, seconds = ours(lines)
    results["obs_schema.scrubbing"] = {"outputs": outputs, "seconds": seconds}
    results.update(peers(lines))
    classes = sorted({line.cls for line in lines} - {"benign"})
    names = list(results)
    print(f"\n| class | {' | '.join(names)} |")
    print(f"|---|{'---|' * len(names)}")
    scores = {n: score(lines, r["outputs"]) for n, r in results.items() if "outputs" in r}  # type: ignore[arg-type]
    for cls in [*classes, "benign"]:
        label = "benign lines altered (%)" if cls == "benign" else f"{cls} recall (%)"
        cells = [f"{scores[n][cls]:.2f}" if n in scores else "-" for n in names]
        print(f"| {label} | {' | '.join(cells)} |")
    speed = [
        f"{len(lines) / float(r['seconds']):,.0f}" if "seconds" in r else "-"  # type: ignore[arg-type]
        for r in results.values()
    ]
    print(f"| lines/s | {' | '.join(speed)} |")
    for name, result in results.items():
        if "error" in result:
            print(f"\n{name}: did not run - {result['error']}")


if __name__ == "__main__":
    main()
