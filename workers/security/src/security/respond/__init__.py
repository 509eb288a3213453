"""Security events, their correlation into incidents, and the response: blocks and audit."""
