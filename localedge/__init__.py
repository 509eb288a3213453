"""localedge: the local edge runtime, our CPython counterpart of miniflare.

It reads each Worker's wrangler.toml, builds the `env` its bindings declare (KV on SQLite, R2 on
the filesystem, Durable Objects with one SQLite file per object, service bindings, cron, vars and
secrets), and serves all Workers over real HTTP on one port. State lives under one data directory.
"""
