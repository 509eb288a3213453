"""HTTP routes of the monitoring Worker, one module per concern."""
