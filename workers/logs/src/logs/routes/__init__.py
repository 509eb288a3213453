"""HTTP routes of the logs Worker (thin: parsing, auth, answers; the logic is elsewhere)."""
