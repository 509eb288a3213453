"""OTLP/HTTP receiving (traces, logs, metrics): one shared layer, one module per signal."""
