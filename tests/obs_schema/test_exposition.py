"""Exposition: exact text for Prometheus, the same numbers as JSON, and a scrape that lints clean.

The text is read back with the real `prometheus_client` parser, and checked by `promlint`
below, a small re-statement of the `promtool check metrics` rules our output could break.
"""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from obs_schema import exposition
from obs_schema.exposition import CONTENT_TYPE, format_value, render_json, render_text
from obs_schema.metrics import Counter, Gauge, Histogram, MetricFamily, Registry, Sample

INF = math.inf

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def promlint(text: str) -> list[str]:
    """Problems as `promtool check metrics` words them; raises ValueError on a syntax error."""
    parsed = list(text_string_to_metric_families(text))
    problems = [] if text == "" or text.endswith("\n") else ["last line does not end in \\n"]
    helps, types, groups = _scan(text)
    for name in dict.fromkeys(groups):
        if not helps.get(name):
            problems.append(f"{name} no help text")
        if groups.count(name) > 1:
            problems.append(f"{name} is not one contiguous group")
    for name, kind in types.items():
        if (kind == "counter") != name.endswith("_total"):
            problems.append(f'{name} counter metrics (and only they) should have "_total" suffix')
    seen: set[SeriesKey] = set()
    for family in parsed:
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            if key in seen:
                problems.append(f"{family.name} metric not unique")
            seen.add(key)
        if family.type == "histogram":
            problems += _histogram_problems(family.name, family.samples)
    return problems


def _scan(text: str) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """HELP texts, TYPEs, and the family of each run of consecutive lines."""
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    groups: list[str] = []
    for line in text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            name, _, rest = line[7:].partition(" ")
            (helps if line.startswith("# HELP") else types)[name] = rest
        else:
            name = re.match(r"[^{ ]+", line).group()  # type: ignore[union-attr]
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            name = base if types.get(base) == "histogram" else name
        if not groups or groups[-1] != name:
            groups.append(name)
    return helps, types, groups


def _histogram_problems(name: str, samples: list[Any]) -> list[str]:
    problems = []
    series: dict[tuple[tuple[str, str], ...], list[Any]] = {}
    for sample in samples:
        labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
        series.setdefault(labels, []).append(sample)
    for group in series.values():
        buckets = [(float(s.labels["le"]), s.value) for s in group if s.name.endswith("_bucket")]
        (count,) = [s.value for s in group if s.name.endswith("_count")]
        if buckets != sorted(buckets) or not buckets or buckets[-1] != (INF, count):
            problems.append(f"{name} buckets must increase up to le=+Inf equal to _count")
    return problems


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("x_total 1\n", ["x_total no help text"]),
        (
            "# HELP jobs Jobs.\n# TYPE jobs counter\njobs 1\n",
            ['jobs counter metrics (and only they) should have "_total" suffix'],
        ),
        (
            '# HELP q Q.\n# TYPE q gauge\nq{a="1"} 1\nq{a="1"} 2\n',
            ["q metric not unique"],
        ),
        (
            '# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\na{x="1"} 2\n',
            ["a is not one contiguous group"],
        ),
        (
            '# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
            ["h buckets must increase up to le=+Inf equal to _count"],
        ),
        ("# HELP g G.\n# TYPE g gauge\ng 1", ["last line does not end in \\n"]),
    ],
)
def test_the_lint_in_these_tests_catches_what_promtool_catches(
    text: str, problems: list[str]
) -> None:
    assert promlint(text) == problems


def golden_registry() -> Registry:
    registry = Registry()
    requests = Counter(
        "http_requests_total", "HTTP requests served.", ("route", "status"), registry=registry
    )
    requests.labels(route="/logs", status=400).inc(3)
    requests.labels(route="/logs", status=200).inc(1027)
    Gauge("queue_depth", "Items waiting.", registry=registry).set(2.5)
    latency = Histogram(
        "http_request_duration_seconds",
        "Time to serve a request.",
        ("route",),
        registry=registry,
        buckets=(0.05, 0.1, 1),
    )
    for seconds in (0.03125, 0.0625, 0.0625, 0.5, 3):  # exact in binary, so the sum is too
        latency.labels(route="/logs").observe(seconds)
    return registry


GOLDEN_TEXT = """\
# HELP http_requests_total HTTP requests served.
# TYPE http_requests_total counter
http_requests_total{route="/logs",status="200"} 1027
http_requests_total{route="/logs",status="400"} 3
# HELP queue_depth Items waiting.
# TYPE queue_depth gauge
queue_depth 2.5
# HELP http_request_duration_seconds Time to serve a request.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{route="/logs",le="0.05"} 1
http_request_duration_seconds_bucket{route="/logs",le="0.1"} 3
http_request_duration_seconds_bucket{route="/logs",le="1"} 4
http_request_duration_seconds_bucket{route="/logs",le="+Inf"} 5
http_request_duration_seconds_sum{route="/logs"} 3.65625
http_request_duration_seconds_count{route="/logs"} 5
"""


def test_render_text_writes_help_type_and_every_series_in_contiguous_families() -> None:
    assert render_text(golden_registry()) == GOLDEN_TEXT


def test_the_content_type_is_text_format_0_0_4_in_utf_8() -> None:
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_an_empty_registry_renders_as_nothing() -> None:
    assert render_text(Registry()) == ""
    assert render_json(Registry()) == {"metrics": []}


def test_a_labelled_metric_with_no_series_yet_is_still_documented() -> None:
    registry = Registry()
    Counter("jobs_total", "Jobs.", ("queue",), registry=registry)
    assert render_text(registry) == "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\n"


def escaping_registry() -> Registry:
    registry = Registry()
    demo = Gauge(
        "escape_demo", 'Backslash \\ and "quotes"\nsecond line', ("path",), registry=registry
    )
    demo.labels(path='C:\\dir\\"name"\nnext').set(1)
    return registry


def test_label_values_escape_backslash_quote_and_newline_and_help_escapes_two() -> None:
    assert render_text(escaping_registry()) == (
        '# HELP escape_demo Backslash \\\\ and "quotes"\\nsecond line\n'
        "# TYPE escape_demo gauge\n"
        'escape_demo{path="C:\\\\dir\\\\\\"name\\"\\nnext"} 1\n'
    )


def test_escaped_text_reads_back_unchanged_with_the_prometheus_parser() -> None:
    (family,) = text_string_to_metric_families(render_text(escaping_registry()))
    assert family.documentation == 'Backslash \\ and "quotes"\nsecond line'
    assert family.samples[0].labels == {"path": 'C:\\dir\\"name"\nnext'}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.0, "-1"),
        (2.5, "2.5"),
        (10.0, "10"),
        (0.005, "0.005"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (123456.0, "123456"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (1_795_773_600.123, "1.795773600123e+09"),
        (1 / 3, "0.3333333333333333"),
        (1e100, "1e+100"),
        (5e-324, "5e-324"),
        (INF, "+Inf"),
        (-INF, "-Inf"),
        (math.nan, "NaN"),
    ],
)
def test_numbers_are_written_as_go_writes_them(value: float, text: str) -> None:
    assert format_value(value) == text
    assert math.isnan(float(text)) if math.isnan(value) else float(text) == value


def numbers_registry() -> Registry:
    registry = Registry()
    odd = Gauge("odd_values", "Values that are hard to print.", ("case",), registry=registry)
    cases = {"nan": math.nan, "inf": INF, "neg_inf": -INF, "third": 1 / 3, "tiny": 1.5e-7}
    cases |= {"big": 1e21, "million": 1e6 + 1, "negative": -0.0001, "zero": 0.0}
    for case, value in cases.items():
        odd.labels(case=case).set(value)
    jobs = Counter("jobs_total", "Jobs.", ("queue",), registry=registry)
    jobs.labels(queue="a").inc(1_234_567.891)
    jobs.labels(queue="b").inc(2**53)
    sizes = Histogram("body_size_bytes", "Sizes.", registry=registry, buckets=(1e3, 1e6, 1.5e9))
    for size in (10, 999_999, 1e6, 2e9, 1e300):
        sizes.observe(size)
    return registry


def _text_numbers(text: str) -> dict[SeriesKey, str]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): repr(float(s.value))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _json_numbers(document: dict[str, Any]) -> dict[SeriesKey, str]:
    numbers: dict[SeriesKey, str] = {}
    for metric in document["metrics"]:
        for sample in metric["samples"]:
            name, labels = metric["name"], tuple(sorted(sample["labels"].items()))
            if "value" in sample:
                numbers[(name, labels)] = repr(float(sample["value"]))
                continue
            for bucket in sample["buckets"]:
                le = ("le", format_value(float(bucket["le"])))
                numbers[(f"{name}_bucket", tuple(sorted((*labels, le))))] = repr(
                    float(bucket["count"])
                )
            numbers[(f"{name}_sum", labels)] = repr(float(sample["sum"]))
            numbers[(f"{name}_count", labels)] = repr(float(sample["count"]))
    return numbers


def test_every_number_survives_the_prometheus_parser_and_matches_the_json() -> None:
    registry = numbers_registry()
    from_text = _text_numbers(render_text(registry))
    assert from_text == _json_numbers(render_json(registry))
    assert from_text[("odd_values", (("case", "nan"),))] == "nan"
    assert from_text[("odd_values", (("case", "million"),))] == "1000001.0"
    assert from_text[("jobs_total", (("queue", "b"),))] == "9007199254740992.0"
    assert from_text[("body_size_bytes_bucket", (("le", "1.5e+09"),))] == "3.0"
    assert from_text[("body_size_bytes_sum", ())] == "1e+300"


@pytest.mark.parametrize("build", [golden_registry, escaping_registry, numbers_registry])
def test_rendered_scrapes_lint_clean(build: Any) -> None:
    assert promlint(render_text(build())) == []


@pytest.mark.parametrize("build", [golden_registry, escaping_registry, numbers_registry])
def test_real_promtool_checks_rendered_scrapes_clean(build: Any, promtool: str) -> None:
    checked = subprocess.run(
        [promtool, "check", "metrics"],
        input=render_text(build()),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_render_json_gives_the_same_series_as_plain_data() -> None:
    assert render_json(golden_registry()) == {
        "metrics": [
            {
                "name": "http_requests_total",
                "type": "counter",
                "help": "HTTP requests served.",
                "samples": [
                    {"labels": {"route": "/logs", "status": "200"}, "value": 1027.0},
                    {"labels": {"route": "/logs", "status": "400"}, "value": 3.0},
                ],
            },
            {
                "name": "queue_depth",
                "type": "gauge",
                "help": "Items waiting.",
                "samples": [{"labels": {}, "value": 2.5}],
            },
            {
                "name": "http_request_duration_seconds",
                "type": "histogram",
                "help": "Time to serve a request.",
                "samples": [
                    {
                        "labels": {"route": "/logs"},
                        "buckets": [
                            {"le": 0.05, "count": 1},
                            {"le": 0.1, "count": 3},
                            {"le": 1.0, "count": 4},
                            {"le": "+Inf", "count": 5},
                        ],
                        "sum": 3.65625,
                        "count": 5,
                    }
                ],
            },
        ]
    }


def test_render_json_spells_non_finite_values_as_strings_so_it_is_strict_json() -> None:
    document = render_json(numbers_registry())
    json.dumps(document, allow_nan=False)  # raises if a NaN or an infinity slipped through
    odd = {s["labels"]["case"]: s["value"] for s in document["metrics"][0]["samples"]}
    assert (odd["nan"], odd["inf"], odd["neg_inf"]) == ("NaN", "+Inf", "-Inf")


def test_families_computed_at_scrape_time_render_after_the_registered_ones() -> None:
    registry = Registry()
    Gauge("queue_depth", "Items waiting.", registry=registry).set(1)
    extra = MetricFamily("shard_rows", "gauge", "Rows in a shard.", (Sample({"shard": "0"}, 7),))
    assert render_text([*registry.collect(), extra]).endswith(
        '# HELP shard_rows Rows in a shard.\n# TYPE shard_rows gauge\nshard_rows{shard="0"} 7\n'
    )
    assert render_json([extra])["metrics"][0]["samples"] == [{"labels": {"shard": "0"}, "value": 7}]


def test_the_module_imports_only_stdlib_and_its_sibling_so_it_runs_in_bare_pyodide() -> None:
    tree = ast.parse(Path(exposition.__file__).read_text())
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    allowed = {"__future__", "math", "collections.abc", "decimal", "typing", "obs_schema.metrics"}
    assert imported <= allowed
