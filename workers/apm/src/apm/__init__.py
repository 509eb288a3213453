"""The apm Worker: distributed traces, latency percentiles, database and dependency timings."""
