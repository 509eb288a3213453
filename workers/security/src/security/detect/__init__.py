"""Threat detection: normalise request values, match per-class rules, score like OWASP CRS."""
