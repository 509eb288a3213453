"""The security Worker: rate limiting, threat and anomaly detection, security events and automated response."""
