"""Reading a Worker's wrangler.toml (and .dev.vars) into what the runtime needs.

Wrangler does not inherit bindings into `[env.<name>]` sections (vars, kv_namespaces,
r2_buckets, durable_objects, services must be repeated); name, main, compatibility settings,
routes and triggers are inherited. This module applies the same rules.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localedge.errors import ConfigError


@dataclass(frozen=True)
class KVSpec:
    binding: str
    id: str


@dataclass(frozen=True)
class R2Spec:
    binding: str
    bucket_name: str


@dataclass(frozen=True)
class DurableObjectSpec:
    binding: str
    class_name: str
    script_name: str | None = None


@dataclass(frozen=True)
class ServiceSpec:
    binding: str
    service: str
    entrypoint: str | None = None


@dataclass(frozen=True)
class WorkerConfig:
    name: str
    root: Path
    main: Path
    compatibility_date: str
    compatibility_flags: tuple[str, ...]
    vars: dict[str, Any] = field(default_factory=dict)
    kv_namespaces: tuple[KVSpec, ...] = ()
    r2_buckets: tuple[R2Spec, ...] = ()
    durable_objects: tuple[DurableObjectSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    crons: tuple[str, ...] = ()
    route_paths: tuple[str, ...] = ()
    sqlite_classes: tuple[str, ...] = ()


def load_worker_config(path: Path, environment: str | None = None) -> WorkerConfig:
    try:
        top = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    section = _environment_section(top, environment, path)
    name = section.get("name") or _default_name(top, environment, path)
    return WorkerConfig(
        name=name,
        root=path.parent,
        main=path.parent / _required(top, "main", path),
        compatibility_date=_required(top, "compatibility_date", path),
        compatibility_flags=tuple(top.get("compatibility_flags", ())),
        vars=dict(section.get("vars", {})),
        kv_namespaces=tuple(
            KVSpec(k["binding"], k["id"]) for k in section.get("kv_namespaces", [])
        ),
        r2_buckets=tuple(
            R2Spec(r["binding"], r["bucket_name"]) for r in section.get("r2_buckets", [])
        ),
        durable_objects=tuple(
            DurableObjectSpec(d["name"], d["class_name"], d.get("script_name"))
            for d in section.get("durable_objects", {}).get("bindings", [])
        ),
        services=tuple(
            ServiceSpec(s["binding"], s["service"], s.get("entrypoint"))
            for s in section.get("services", [])
        ),
        crons=tuple(section.get("triggers", top.get("triggers", {})).get("crons", ())),
        route_paths=tuple(_route_path(r) for r in section.get("routes", top.get("routes", []))),
        sqlite_classes=tuple(
            c for m in top.get("migrations", []) for c in m.get("new_sqlite_classes", [])
        ),
    )


def load_dev_vars(path: Path) -> dict[str, str]:
    """Parse a `.dev.vars` file (dotenv syntax: KEY=VALUE, optional quotes, # comments)."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = _unquote(value.strip())
    return values


def _environment_section(
    top: dict[str, Any], environment: str | None, path: Path
) -> dict[str, Any]:
    if environment is None:
        return top
    section = top.get("env", {}).get(environment)
    if section is None:
        raise ConfigError(f"{path}: no [env.{environment}] section")
    return dict(section)


def _default_name(top: dict[str, Any], environment: str | None, path: Path) -> str:
    base: str = _required(top, "name", path)
    return base if environment is None else f"{base}-{environment}"


def _required(table: dict[str, Any], key: str, path: Path) -> Any:
    if key not in table:
        raise ConfigError(f"{path}: missing required field '{key}'")
    return table[key]


def _route_path(route: str | dict[str, Any]) -> str:
    # "obs.example.com/logs*" -> "/logs*": locally one host serves every Worker.
    pattern = route if isinstance(route, str) else route["pattern"]
    slash = pattern.find("/")
    return "/" if slash < 0 else pattern[slash:]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.encode().decode("unicode_escape") if value[0] == '"' else inner
    return value
