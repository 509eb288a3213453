"""Shared schema package of the Pitchey observability Workers.

Pure Python (pydantic, FastAPI, stdlib): no `workers`, `js` or `pyodide` imports, so it runs
unchanged on Cloudflare's Python Workers, on CPython under the local edge runtime, and in tests.
"""

__version__ = "0.1.0"
