"""The alerting Worker: alert rules, routing, deduplication, silences, escalation and incidents."""
