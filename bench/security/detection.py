"""Detection rate per attack class and false positives per benign category, ours beside OWASP
CRS (libmodsecurity) and libinjection, on the same requests. Run: `.venv/bin/python
bench/security/detection.py` after `bench/security/setup.sh`. Bounded: one pass per engine."""

from __future__ import annotations

import time

import corpus
import evaluate
import peers
from machine import header

from security.detect.engine import Detector

CHALLENGE = 3  # our action is not "allow" from this score on (default policy)


def main() -> None:
    print(header("security detection accuracy"))
    data = corpus.load()
    engines: dict[str, evaluate.Flag | str] = {
        "ours PL1": evaluate.ours(Detector(paranoia=1), CHALLENGE),
        "ours PL2": evaluate.ours(Detector(paranoia=2), CHALLENGE),
        "CRS 3.3 PL1": peers.crs(1),
        "CRS 3.3 PL2": peers.crs(2),
        "libinjection": peers.libinjection(),
    }
    results, timings = {}, {}
    for name, flag in engines.items():
        if isinstance(flag, str):
            continue
        started = time.perf_counter()
        results[name] = evaluate.rates(data, flag)
        timings[name] = time.perf_counter() - started
    names = list(results)
    print("detected (flagged: not allowed) / flagged as the right class, per attack class")
    print(f"{'class':<20}{'n':>6}  " + "".join(f"{n:>22}" for n in names))
    for kind in data.attacks:
        row = results[names[0]][kind]
        cells = [
            f"{results[n][kind]['detected']:7.1%} / {results[n][kind]['right_class']:6.1%}"
            for n in names
        ]
        if "libinjection" in results and kind not in ("sqli", "xss"):
            cells[names.index("libinjection")] = "n/a (sqli, xss only)"
        print(f"{kind:<20}{int(row['n']):>6}  " + "".join(f"{c:>22}" for c in cells))
    print("\nfalse positives on benign traffic (requests not allowed)")
    total = {n: 0 for n in names}
    count = 0
    for kind in data.benign:
        key = "benign:" + kind
        count += int(results[names[0]][key]["n"])
        for n in names:
            total[n] += int(results[n][key]["count"])
        cells = [
            f"{int(results[n][key]['count']):>6} ({results[n][key]['false_positive']:.2%})"
            for n in names
        ]
        print(
            f"{kind:<20}{int(results[names[0]][key]['n']):>6}  "
            + "".join(f"{c:>22}" for c in cells)
        )
    print(
        f"{'all benign':<20}{count:>6}  "
        + "".join(f"{f'{total[n]:>6} ({total[n] / count:.3%})':>22}" for n in names)
    )
    print("\nseconds for the whole corpus: " + ", ".join(f"{n} {timings[n]:.1f}" for n in names))
    for name, flag in engines.items():
        if isinstance(flag, str):
            print(f"not run: {name}: {flag}")
    if data.missing:
        print("missing sources: " + ", ".join(data.missing))
    excluded = "bare probes (punctuation only, one word or a number after decoding) excluded"
    print(
        f"notes: {excluded}; SSRF payloads generated (no registry package ships a list); "
        "scanner User-Agents are CRS's own scanners-user-agents.data (so CRS scores 100% by "
        "construction); libinjection sees only query and JSON values."
    )


if __name__ == "__main__":
    main()
