"""Test-wide fixtures: async tests run on asyncio through anyio's pytest plugin."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def promtool() -> str:
    """Prometheus' own linter; `make setup` installs it next to the virtualenv's python."""
    found = shutil.which("promtool") or shutil.which(
        "promtool", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.fail("promtool is missing: run `make setup` (tools/install-promtool.sh)")
    return found
