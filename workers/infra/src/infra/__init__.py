"""The infra Worker: runtime and storage metrics, edge locations, anomalies and capacity planning."""
