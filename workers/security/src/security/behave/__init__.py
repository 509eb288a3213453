"""Behavioural anomaly detection per source IP, per user and per login account."""
