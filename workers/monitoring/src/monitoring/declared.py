"""Checks declared in `checks.toml`, shipped with the Worker and applied at deploy.

The file is read once, when the module is imported (a read, never a write: Workers allow it,
and the parsed result is part of the deploy snapshot). Every entry is validated with the same
models as `POST /monitoring/checks`, so a bad file fails the deploy instead of a check failing
later. An entry may carry `environments = ["production", ...]` to apply only there. Declared
checks are read-only through the API: edit the file and deploy.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from pydantic import TypeAdapter

from monitoring.schemas import CheckIn, slugify

FILE = "checks.toml"


def parse(text: str) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """`(spec, environments)` for every `[[check]]` of a declared-checks file."""
    adapter: TypeAdapter[Any] = TypeAdapter(CheckIn)
    entries = tomllib.loads(text).get("check", [])
    parsed = []
    for entry in entries:
        environments = tuple(entry.pop("environments", ()))
        model = adapter.validate_python(entry)
        spec = model.model_dump(mode="json")
        spec["id"] = spec["id"] or slugify(spec["name"])
        parsed.append((spec, environments))
    ids = [spec["id"] for spec, _ in parsed]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{FILE}: check ids must be unique")
    return parsed


def _load() -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    text = resources.files("monitoring").joinpath(FILE).read_text(encoding="utf-8")
    return parse(text)


DECLARED = _load()


def for_environment(environment: str) -> list[dict[str, Any]]:
    """The declared checks that apply in `environment` (all, when an entry names none)."""
    return [spec for spec, envs in DECLARED if not envs or environment in envs]
