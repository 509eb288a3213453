"""The pure logic imports only the standard library (and other pure modules), so it runs in
bare Pyodide and in unit tests without FastAPI, pydantic or a runtime (DESIGN §2)."""

from __future__ import annotations

import ast
import sys

import pytest

from tests.workers.alerting.support import SOURCE

PURE = [
    "matchers", "problems", "routing", "inhibition", "silences", "grouping", "escalation",
    "oncall", "throttle", "backoff", "links", "message", "config", "rules", "evaluation",
    "report", "signals", "timeintervals", "redaction", "channels/__init__", "channels/base",
    "channels/slack", "channels/pagerduty", "channels/email", "channels/sms", "channels/webhook",
]  # fmt: skip
ALLOWED_OUTSIDE = {"obs_schema.timespec"}  # itself standard-library only


def imported(path: str) -> set[str]:
    tree = ast.parse((SOURCE / "alerting" / f"{path}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            # `from alerting import matchers` imports the module alerting.matchers.
            found |= {
                f"{node.module}.{a.name}" if node.module == "alerting" else node.module
                for a in node.names
            }
    return found


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_only_the_standard_library_and_each_other(module: str) -> None:
    pure = {f"alerting.{m.replace('/', '.').removesuffix('.__init__')}" for m in PURE}
    for name in imported(module):
        root = name.split(".")[0]
        assert root in sys.stdlib_module_names or name in pure or name in ALLOWED_OUTSIDE, name
