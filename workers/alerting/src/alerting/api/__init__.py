"""HTTP routes of the alerting Worker, one router per concern; `app.py` assembles them."""
