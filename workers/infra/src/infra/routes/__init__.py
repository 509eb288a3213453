"""The infra Worker's HTTP routes, one module per concern."""
