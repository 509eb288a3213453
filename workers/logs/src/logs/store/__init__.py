"""The hot store: LogShard Durable Objects (SQLite + FTS5) and the Worker's view of them."""
