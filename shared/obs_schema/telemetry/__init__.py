"""Binding-layer telemetry: every KV, R2, Durable Object and service call timed, in memory.

See `hub.Telemetry` (per Worker), `bindings` (the wrappers) and `recorder` (the aggregation).
"""

from obs_schema.telemetry.hub import Invocation, Telemetry, colo_of
from obs_schema.telemetry.recorder import Recorder, bucket_of

__all__ = ["Invocation", "Recorder", "Telemetry", "bucket_of", "colo_of"]
