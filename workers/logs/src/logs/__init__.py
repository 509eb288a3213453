"""The logs Worker: log ingestion with PII scrubbing, full-text search, trace correlation, retention and archive."""
