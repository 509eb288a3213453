"""Rate-limiting effectiveness from the security Worker's exposition and stored series."""

from __future__ import annotations

from infra.ratelimits import add_metrics, summarize
from infra.samples import Batch
from tests.workers.infra.helpers import T0


def test_the_families_we_use_are_taken_from_a_json_exposition() -> None:
    exposition = {
        "metrics": [
            {"name": "security_checks_total", "type": "counter", "help": "",
             "samples": [{"labels": {"action": "allow"}, "value": 90},
                         {"labels": {"action": "rate_limited"}, "value": 10}]},
            {"name": "security_top_source_score", "type": "gauge", "help": "",
             "samples": [{"labels": {"ip": "203.0.113.9"}, "value": 42}]},
            {"name": "http_requests_total", "type": "counter", "help": "",
             "samples": [{"labels": {"route": "/x"}, "value": 3}]},
        ]
    }  # fmt: skip
    batch = Batch()
    add_metrics(batch, exposition, T0)
    assert {(e["n"], e["l"], e["c"]) for e in batch.entries.values()} == {
        ("security_checks_total", '{"action":"allow"}', True),
        ("security_checks_total", '{"action":"rate_limited"}', True),
        ("security_top_source_score", '{"ip":"203.0.113.9"}', False),
    }


def test_effectiveness_counts_checks_rules_and_repeat_offenders() -> None:
    checks = [
        {"labels": {"action": "allow"}, "values": [900.0]},
        {"labels": {"action": "rate_limited"}, "values": [100.0]},
    ]
    hits = [{"labels": {"rule": "login"}, "values": [80.0]},
            {"labels": {"rule": "api"}, "values": [20.0]},
            {"labels": {"rule": "quiet"}, "values": [0.0]}]  # fmt: skip
    sources = [
        {"labels": {"ip": "198.51.100.7"}, "values": [5.0, 9.0, None, 7.0, 3.0]},
        {"labels": {"ip": "192.0.2.1"}, "values": [50.0, None, None, None, None]},
    ]
    assert summarize(checks, hits, sources) == {
        "checks": 1000,
        "allowed": 900,
        "rate_limited": 100,
        "limited_share": 0.1,
        "by_action": {"allow": 900, "rate_limited": 100},
        "busiest_rules": [{"rule": "login", "hits": 80.0}, {"rule": "api", "hits": 20.0}],
        "repeat_offenders": [{"ip": "198.51.100.7", "hours_in_top": 4, "peak_score": 9.0}],
    }
