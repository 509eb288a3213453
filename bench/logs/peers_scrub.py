"""Peer scrubbers over the benchmark lines (run by the peers' own interpreter: they pin their
own pydantic, so they live in a separate virtualenv). Reads lines as JSON on stdin, writes
{"name": {"outputs": [...], "seconds": s} | {"error": "..."}} on stdout."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable


def scrubadub_peer() -> Callable[[str], str]:
    import scrubadub  # type: ignore[import-not-found]

    scrubber = scrubadub.Scrubber()
    return scrubber.clean


def presidio_peer() -> Callable[[str], str]:
    from presidio_analyzer import AnalyzerEngine  # type: ignore[import-not-found]

    engine = AnalyzerEngine()  # needs a spaCy model: fails offline without one

    def clean(text: str) -> str:
        results = sorted(engine.analyze(text=text, language="en"), key=lambda r: -r.start)
        for result in results:
            text = text[: result.start] + f"<{result.entity_type}>" + text[result.end :]
        return text

    return clean


def relay_peer() -> Callable[[str], str]:
    import sentry_relay  # type: ignore[import-not-found]

    # Sentry's server-side default data scrubbing ("@common": IPs, emails, cards, SSNs,
    # passwords, bearer tokens...), as its Relay applies it to every string of an event.
    config = {"applications": {"$string": ["@common:filter"]}}

    def clean(text: str) -> str:
        event = {"logentry": {"formatted": text}}
        return str(sentry_relay.pii_strip_event(config, event)["logentry"]["formatted"])

    return clean


def main() -> None:
    lines = json.load(sys.stdin)
    report: dict[str, object] = {}
    for name, make in (
        ("scrubadub", scrubadub_peer),
        ("presidio", presidio_peer),
        ("sentry-relay", relay_peer),
    ):
        try:
            clean = make()
            started = time.perf_counter()
            outputs = [clean(line) for line in lines]
            report[name] = {"outputs": outputs, "seconds": time.perf_counter() - started}
        except Exception as error:  # a peer that cannot run is reported, not fatal
            report[name] = {"error": f"{type(error).__name__}: {str(error)[:200]}"}
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
