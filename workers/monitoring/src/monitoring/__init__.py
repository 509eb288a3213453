"""The monitoring Worker: health checks, uptime, incidents and the public status page."""
