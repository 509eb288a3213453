"""Prometheus text exposition 0.0.4, and the same numbers as JSON.

Pure functions, as in client_python's `exposition.py`: they return a string or a dict and a
thin route serves it with `CONTENT_TYPE`. Both accept a `Registry` or any iterable of
`MetricFamily`, so a route can add families it computes at scrape time (say, from a Durable
Object) without registering them.

Numbers are written the way Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes them, as
client_golang and Prometheus itself do: `1`, `0.005`, `1.5e+06`, `+Inf`, `-Inf`, `NaN`. So a
bucket bound reads `le="1"` here exactly as it does in a Go exporter, and one series does not
become two (`le="1"` and `le="1.0"`) when exporters are mixed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from obs_schema.metrics import HistogramSample, MetricFamily, Registry, Sample

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Families = Registry | Iterable[MetricFamily]


def format_value(value: float) -> str:
    """`value` as Go writes a float64 in the text format (shortest round-trip digits)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"  # client_golang writes -0.0 as 0 too
    sign, digit_tuple, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    exp = len(digits) + int(exponent) - 1  # decimal exponent of the first digit
    prefix = "-" if sign else ""
    # Go's 'g' with shortest precision switches to exponent form at 1e-5 and at 1e+06.
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{exp:+03d}"
    if exp < 0:
        return f"{prefix}0.{'0' * (-exp - 1)}{digits}"
    whole, fraction = digits[: exp + 1].ljust(exp + 1, "0"), digits[exp + 1 :]
    return f"{prefix}{whole}.{fraction}" if fraction else f"{prefix}{whole}"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str], le: float | None = None) -> str:
    pairs = [f'{name}="{_escape_label_value(value)}"' for name, value in labels.items()]
    if le is not None:
        pairs.append(f'le="{format_value(le)}"')
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _histogram_lines(name: str, sample: HistogramSample) -> Iterator[str]:
    for bound, count in sample.buckets:
        yield f"{name}_bucket{_labels(sample.labels, bound)} {format_value(count)}"
    yield f"{name}_sum{_labels(sample.labels)} {format_value(sample.sum)}"
    yield f"{name}_count{_labels(sample.labels)} {format_value(sample.count)}"


def _family_lines(family: MetricFamily) -> Iterator[str]:
    # HELP and TYPE always come first and every series of the family follows them, which
    # makes each family one contiguous group as the format requires.
    yield f"# HELP {family.name} {_escape_help(family.help)}"
    yield f"# TYPE {family.name} {family.type}"
    for sample in family.samples:
        if isinstance(sample, HistogramSample):
            yield from _histogram_lines(family.name, sample)
        else:
            yield f"{family.name}{_labels(sample.labels)} {format_value(sample.value)}"


def _families(source: Families) -> Iterable[MetricFamily]:
    return source.collect() if isinstance(source, Registry) else source


def render_text(source: Families) -> str:
    """The text exposition of every family; each line, the last included, ends in `\\n`."""
    return "".join(f"{line}\n" for family in _families(source) for line in _family_lines(family))


def _json_number(value: float) -> float | str:
    # JSON has no NaN or infinities; Prometheus' HTTP API spells them as these strings.
    return value if math.isfinite(value) else format_value(value)


def _sample_json(sample: Sample | HistogramSample) -> dict[str, Any]:
    if isinstance(sample, HistogramSample):
        buckets = [{"le": _json_number(le), "count": count} for le, count in sample.buckets]
        return {
            "labels": dict(sample.labels),
            "buckets": buckets,
            "sum": _json_number(sample.sum),
            "count": sample.count,
        }
    return {"labels": dict(sample.labels), "value": _json_number(sample.value)}


def render_json(source: Families) -> dict[str, Any]:
    """The same numbers as `render_text`, for `?format=json`.

    Shape: `{"metrics": [{"name", "type", "help", "samples": [...]}]}`. A counter or gauge
    sample is `{"labels", "value"}`; a histogram sample is `{"labels", "buckets": [{"le",
    "count"}], "sum", "count"}` with cumulative counts ending at `le: "+Inf"`.
    """
    return {
        "metrics": [
            {
                "name": family.name,
                "type": family.type,
                "help": family.help,
                "samples": [_sample_json(sample) for sample in family.samples],
            }
            for family in _families(source)
        ]
    }
