"""Everything deployed to Cloudflare must be something Python Workers can run.

The rules live in `tests/safety_rules.py`; each failure names file, line and rule. Covered:
everything under `workers/` (minus vendored `python_modules/`) and `shared/obs_schema/`;
`localedge/` is the local runtime and never deployed, so it is exempt.

1. No imports of modules a Worker cannot run (threads, processes, raw sockets and raw-socket
   clients, sqlite3/shelve/dbm, signal/fcntl/ctypes/...), wherever the import sits, including
   `importlib.import_module("x")` and `__import__("x")` with a literal. `workers`, `js` and
   `pyodide` only in `workers/<name>/src/entry.py`. Imports under `if TYPE_CHECKING:` never
   run and are exempt.
2. No filesystem writes, process spawning or thread offload (`open(.., "w")`, `Path.write_text`,
   `os.remove`, `shutil.rmtree`, `tempfile.*`, `os.system`, `asyncio.to_thread`, ...).
3. No randomness while a module is imported (top level, class bodies, decorators, default
   values), directly or through a function of the same module called at import time.
4. `src/entry.py` exports `class Default(WorkerEntrypoint)` with `async def fetch(self, request)`
   bridging through `asgi.fetch(...)` and `async def scheduled(self, controller, env, ctx)`,
   and binds every Durable Object class the Worker defines.
5. `wrangler.toml`: `main = "src/entry.py"`, the `python_workers` flag, one compatibility date
   before 2026-09-08 (Python 3.13) shared by all six Workers, `[env.staging]` and
   `[env.production]` repeating every binding, var and required secret, service bindings and
   external Durable Objects naming one of the six Workers as deployed in that environment,
   local Durable Object classes in a `[[migrations]]` `new_sqlite_classes`.
   Every ALL-CAPS name read from `env` (`env.NAME`, `self.env.NAME`, `env["NAME"]`,
   `getattr(env, "NAME")`, `request.scope["env"].NAME`) must be declared. Convention: a name
   is declared when wrangler.toml binds it, lists it under `[vars]`, or names it as a secret,
   in `[secrets] required = ["NAME"]` (wrangler's own field; repeat it per environment) or on
   a comment line starting `# secrets` with the names after a colon (`# secrets: A, B` or
   `# Secrets (wrangler secret put): A, B`). Names the shared package reads must be declared by
   every Worker, since every Worker deploys it.
6. `pyproject.toml` has a `[project].dependencies` list (pywrangler vendors only that) and
   there is no `requirements.txt` (pywrangler refuses it).

The second half proves each rule on small bad and good inputs written to `tmp_path`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from tests import safety_rules as rules
from tests.safety_rules import Violation

ROOT = Path(__file__).resolve().parents[1]
SOURCES = rules.checked_sources(ROOT)
WORKERS = rules.worker_dirs(ROOT)
SHARED = rules.python_files(ROOT / "shared" / "obs_schema", ROOT)


def report(violations: Iterable[Violation]) -> str:
    return "\n".join(str(v) for v in violations)


def check_file(path: Path, root: Path) -> list[Violation]:
    """Rules 1-3 for one file: what the real-tree test and the snippet tests both run."""
    return rules.check_source(path.read_text(encoding="utf-8"), rules.relative(path, root))


def wrangler_data(worker: Path, root: Path) -> rules.Config | None:
    loaded = rules.load_toml(worker / "wrangler.toml", root)
    return loaded.data if isinstance(loaded, rules.TomlFile) else None


def deploy_targets(root: Path) -> dict[str | None, set[str]]:
    configs = {w.name: wrangler_data(w, root) for w in rules.worker_dirs(root)}
    return rules.deployed_names(configs)


def by_path(paths: Iterable[Path]) -> list[str]:
    return [rules.relative(p, ROOT) for p in paths]


# --- the real tree -------------------------------------------------------------------------


def test_all_six_workers_exist() -> None:
    missing = [
        n for n in rules.WORKER_NAMES if not (ROOT / "workers" / n / "wrangler.toml").is_file()
    ]
    assert not missing, f"workers without a wrangler.toml: {', '.join(missing)}"


@pytest.mark.parametrize("path", SOURCES, ids=by_path(SOURCES))
def test_deployed_module_runs_on_python_workers(path: Path) -> None:
    violations = check_file(path, ROOT)
    assert not violations, report(violations)


@pytest.mark.parametrize("worker", WORKERS, ids=by_path(WORKERS))
def test_entry_module_exports_the_handlers(worker: Path) -> None:
    violations = rules.check_entry(worker, ROOT, wrangler_data(worker, ROOT))
    assert not violations, report(violations)


@pytest.mark.parametrize("worker", WORKERS, ids=by_path(WORKERS))
def test_wrangler_config_deploys_a_python_worker(worker: Path) -> None:
    violations = rules.check_wrangler(worker, ROOT, deploy_targets(ROOT))
    assert not violations, report(violations)


@pytest.mark.parametrize("worker", WORKERS, ids=by_path(WORKERS))
def test_every_env_name_the_code_reads_is_declared(worker: Path) -> None:
    violations = rules.check_env_names(worker, ROOT, SHARED)
    assert not violations, report(violations)


@pytest.mark.parametrize("worker", WORKERS, ids=by_path(WORKERS))
def test_pyproject_declares_the_vendored_dependencies(worker: Path) -> None:
    violations = rules.check_pyproject(worker, ROOT)
    assert not violations, report(violations)


def test_one_compatibility_date_is_pinned_across_workers() -> None:
    loaded = [rules.load_toml(w / "wrangler.toml", ROOT) for w in WORKERS]
    violations = rules.check_pinned_dates(f for f in loaded if isinstance(f, rules.TomlFile))
    assert not violations, report(violations)


# --- rules 1-3 on snippets -----------------------------------------------------------------

APP = "workers/logs/src/logs/app.py"
ENTRY = "workers/logs/src/entry.py"
SCHEMA = "shared/obs_schema/auth.py"

UNAVAILABLE = ("signal", "fcntl", "resource", "pty", "tty", "termios", "curses", "tkinter")
PATH_WRITES = ("write_text", "write_bytes", "touch", "mkdir", "unlink", "rename")
OS_CALLS = ("remove", "unlink", "rename", "makedirs", "mkdir", "system", "popen", "fork")
OS_CALLS_MORE = ("spawnl", "execv")
SHUTIL_CALLS = ("rmtree", "copy", "copytree", "move")
TEMPFILE_CALLS = ("mkstemp", "NamedTemporaryFile", "TemporaryDirectory")
ENTROPY_AT_IMPORT = (
    ("random.random()", "random.random"),
    ("random.seed()", "random.seed"),
    ("random.Random()", "random.Random"),
    ("uuid.uuid4().hex", "uuid.uuid4"),
    ("uuid.uuid1()", "uuid.uuid1"),
    ("secrets.token_hex(8)", "secrets.token_hex"),
    ("os.urandom(16)", "os.urandom"),
)


def snippet(source: str, line: int, fragment: str, rel: str = APP, *, id: str) -> object:
    """A bad source: the rules must report `fragment` on `line` of file `rel`."""
    return pytest.param(rel, textwrap.dedent(source), line, fragment, id=id)


def good(source: str, rel: str = APP, *, id: str) -> object:
    """A source Python Workers run fine: the rules must report nothing."""
    return pytest.param(rel, textwrap.dedent(source), id=id)


BAD_SOURCES = [
    # rule 1: modules
    snippet("import threading\n", 1, "imports threading", id="threading"),
    snippet("import _thread\n", 1, "imports _thread", id="_thread"),
    snippet("from multiprocessing import Pool\n", 1, "imports multiprocessing", id="multiproc"),
    snippet(
        "from concurrent.futures import ThreadPoolExecutor\n",
        1,
        "imports concurrent.futures",
        id="concurrent-futures",
    ),
    snippet("from concurrent import futures\n", 1, "imports concurrent.futures", id="futures"),
    snippet("import socket\n", 1, "imports socket", id="socket"),
    snippet("from ssl import wrap_socket\n", 1, "imports ssl.wrap_socket", id="ssl-import"),
    snippet(
        """\
        import ssl


        def connect(sock):
            return ssl.create_default_context().wrap_socket(sock)
        """,
        5,
        "calls .wrap_socket()",
        id="ssl-wrap-call",
    ),
    snippet("def run():\n    import subprocess\n", 2, "imports subprocess", id="subprocess-in-def"),
    snippet("def open_db():\n    import sqlite3\n", 2, "imports sqlite3", id="sqlite3-in-def"),
    snippet("import shelve\n", 1, "imports shelve", id="shelve"),
    snippet("import dbm.dumb\n", 1, "imports dbm.dumb", id="dbm"),
    snippet("import asyncio.subprocess\n", 1, "imports asyncio.subprocess", id="asyncio-subproc"),
    snippet("from asyncio import subprocess\n", 1, "imports asyncio.subprocess", id="from-asyncio"),
    snippet(
        """\
        import asyncio


        async def run():
            await asyncio.create_subprocess_exec("ls")
        """,
        5,
        "asyncio.create_subprocess_exec()",
        id="create-subprocess",
    ),
    snippet(
        "import asyncio\n\n\nasync def f(g):\n    await asyncio.to_thread(g)\n",
        5,
        "asyncio.to_thread()",
        id="to-thread",
    ),
    snippet(
        "async def f(loop, g):\n    await loop.run_in_executor(None, g)\n",
        2,
        "run_in_executor",
        id="executor",
    ),
    snippet("import ctypes\n", 1, "imports ctypes", id="ctypes"),
    *(snippet(f"import {m}\n", 1, f"imports {m},", id=m) for m in UNAVAILABLE),
    snippet("import urllib.request\n", 1, "imports urllib.request", id="urllib-request"),
    snippet("from urllib import request\n", 1, "imports urllib.request", id="from-urllib"),
    snippet("from urllib.request import urlopen\n", 1, "imports urllib.request", id="urlopen"),
    snippet("import http.client\n", 1, "imports http.client", id="http-client"),
    snippet("from http import client\n", 1, "imports http.client", id="from-http"),
    snippet("from http.client import HTTPSConnection\n", 1, "imports http.client", id="https-conn"),
    snippet(
        "import importlib\n\nsqlite = importlib.import_module('sqlite3')\n",
        3,
        "imports sqlite3",
        id="import-module",
    ),
    snippet(
        "from importlib import import_module\n\n\ndef f():\n    return import_module('_thread')\n",
        5,
        "imports _thread",
        id="from-importlib",
    ),
    snippet("sock = __import__('socket')\n", 1, "imports socket", id="dunder-import"),
    # rule 1: the Workers runtime modules outside entry.py
    snippet(
        "from workers import Response\n", 1, "only workers/<name>/src/entry.py", id="workers-app"
    ),
    snippet("import js\n", 1, "imports js", id="js-app"),
    snippet("from pyodide.ffi import to_js\n", 1, "imports pyodide.ffi", id="pyodide-app"),
    snippet("def f():\n    from workers import fetch\n", 2, "imports workers", id="workers-lazy"),
    snippet("from workers import env\n", 1, "imports workers", SCHEMA, id="workers-in-schema"),
    snippet(
        "from workers import WorkerEntrypoint\n",
        1,
        "imports workers",
        "workers/logs/src/logs/entry.py",
        id="workers-in-nested-entry",
    ),
    snippet("import js\n", 1, "imports js", "workers/logs/entry.py", id="js-beside-src"),
    # rule 2: writes, processes
    snippet("def save(p):\n    open(p, 'w').write('x')\n", 2, "mode 'w'", id="open-w"),
    snippet("def save(p):\n    return open(p, mode='a')\n", 2, "mode 'a'", id="open-mode-kw"),
    snippet("def save(p):\n    return open(p, 'rb+')\n", 2, "mode 'rb+'", id="open-plus"),
    snippet("def save(p):\n    return open(p, 'x')\n", 2, "mode 'x'", id="open-x"),
    snippet("def save(p, m):\n    return open(p, m)\n", 2, "computed mode", id="open-computed"),
    snippet(
        "import io\n\n\ndef save(p):\n    return io.open(p, 'wb')\n", 5, "mode 'wb'", id="io-open"
    ),
    snippet("def save(p):\n    return p.open('w')\n", 2, "mode 'w'", id="path-open-w"),
    snippet(
        "from pathlib import Path\n\n\ndef save():\n    Path('out.txt').write_text('x')\n",
        5,
        "calls .write_text()",
        id="path-write-text",
    ),
    *(
        snippet(f"def f(p):\n    p.{m}()\n", 2, f"calls .{m}()", id=f"path-{m}")
        for m in PATH_WRITES
    ),
    *(
        snippet(f"import os\n\n\ndef f():\n    os.{fn}()\n", 5, f"os.{fn}()", id=f"os-{fn}")
        for fn in (*OS_CALLS, *OS_CALLS_MORE)
    ),
    snippet(
        "import os as o\n\n\ndef f():\n    o.makedirs('d')\n", 5, "os.makedirs()", id="os-alias"
    ),
    snippet(
        "from os import remove\n\n\ndef f(p):\n    remove(p)\n", 5, "os.remove()", id="os-from"
    ),
    snippet(
        "import os\n\n\ndef f(p):\n    return os.open(p, os.O_WRONLY | os.O_CREAT)\n",
        5,
        "os.open()",
        id="os-open-write",
    ),
    *(
        snippet(
            f"import shutil\n\n\ndef f(a, b):\n    shutil.{fn}(a, b)\n",
            5,
            f"shutil.{fn}()",
            id=f"shutil-{fn}",
        )
        for fn in SHUTIL_CALLS
    ),
    *(
        snippet(
            f"import tempfile\n\n\ndef f():\n    return tempfile.{fn}()\n",
            5,
            f"tempfile.{fn}()",
            id=f"tempfile-{fn}",
        )
        for fn in TEMPFILE_CALLS
    ),
    snippet(
        "from tempfile import TemporaryDirectory\n\n\ndef f():\n    return TemporaryDirectory()\n",
        5,
        "tempfile.TemporaryDirectory()",
        id="tempfile-from",
    ),
    # rule 3: randomness while importing
    *(
        snippet(
            f"import os\nimport random\nimport secrets\nimport uuid\n\nX = {call}\n",
            6,
            f"calls {name}() at import time",
            id=f"top-{name}",
        )
        for call, name in ENTROPY_AT_IMPORT
    ),
    snippet(
        "from random import randint\n\nDIE = randint(1, 6)\n",
        3,
        "random.randint()",
        id="from-random",
    ),
    snippet(
        "import uuid\n\n\nclass Config:\n    instance = uuid.uuid4()\n",
        5,
        "uuid.uuid4()",
        id="class-body",
    ),
    snippet(
        "import random\n\n\ndef pick(seed=random.random()):\n    return seed\n",
        4,
        "random.random()",
        id="default-arg",
    ),
    snippet(
        "import random\n\n\ndef pick(*, seed=random.random()):\n    return seed\n",
        4,
        "random.random()",
        id="kw-default-arg",
    ),
    snippet(
        """\
        import functools
        import random


        @functools.lru_cache(maxsize=random.randint(1, 9))
        def f():
            return 1
        """,
        5,
        "random.randint()",
        id="decorator",
    ),
    snippet(
        "import random\n\npick = lambda x=random.random(): x\n",
        3,
        "random.random()",
        id="lambda-default",
    ),
    snippet(
        "import random\n\nif True:\n    X = random.random()\n", 4, "random.random()", id="under-if"
    ),
    snippet(
        "import random\n\nXS = [random.random() for _ in range(3)]\n",
        3,
        "random.random()",
        id="comprehension",
    ),
    snippet(
        """\
        import uuid


        def new_id():
            return uuid.uuid4().hex


        ID = new_id()
        """,
        8,
        "new_id() at import time, which reaches uuid.uuid4()",
        id="via-local-function",
    ),
    snippet(
        """\
        import secrets


        def token():
            return secrets.token_hex(8)


        def key():
            return "k-" + token()


        KEY = key()
        """,
        12,
        "key() at import time, which reaches secrets.token_hex()",
        id="via-two-functions",
    ),
    snippet(
        """\
        import secrets


        class Key:
            def __init__(self):
                self.value = secrets.token_hex(8)


        DEFAULT = Key()
        """,
        9,
        "Key() at import time, which reaches secrets.token_hex()",
        id="via-constructor",
    ),
]

GOOD_SOURCES = [
    good("import random\n\n\ndef jitter():\n    return random.random()\n", id="random-in-def"),
    good(
        "import uuid\n\n\nclass Span:\n    def new_id(self):\n        return uuid.uuid4().hex\n",
        id="uuid-in-method",
    ),
    good(
        "import secrets\n\n\nasync def token():\n    return secrets.token_hex(8)\n",
        id="async-def",
    ),
    good(
        """\
        import uuid
        from dataclasses import dataclass, field


        @dataclass
        class Event:
            id: str = field(default_factory=lambda: uuid.uuid4().hex)
            other: uuid.UUID = field(default_factory=uuid.uuid4)
        """,
        id="default-factory",
    ),
    good("import uuid\n\nNAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, 'pitchey')\n", id="uuid5"),
    good("import time\n\nSTARTED = time.time()\n", id="time-at-import"),
    good(
        "from workers import WorkerEntrypoint, asgi\nimport js\nfrom pyodide.ffi import to_js\n",
        ENTRY,
        id="runtime-modules-in-entry",
    ),
    good(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from workers import Request\n",
        id="type-checking-import",
    ),
    good("def load(p):\n    with open(p) as f:\n        return f.read()\n", id="open-read"),
    good(
        "def load(p):\n    return open(p, 'rb'), open(p, mode='rt', encoding='utf-8')\n",
        id="open-rb",
    ),
    good("def load(p):\n    return p.open(), p.open('rb'), p.read_text()\n", id="path-read"),
    good(
        """\
        import gzip
        import io


        def pack(data):
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb") as out:
                out.write(data)
            with gzip.open(io.BytesIO(), "wb") as other:
                other.write(data)
            return buf.getvalue()
        """,
        id="gzip-in-memory",
    ),
    good(
        """\
        import asyncio
        import hashlib
        import ssl
        import urllib.parse
        from http import HTTPStatus
        from http.client import HTTPMessage

        import httpx
        import requests
        """,
        id="allowed-modules",
    ),
    good(
        "def f(s, d):\n    d.update(a=1)\n    return s.replace('a', 'b')\n",
        id="lookalike-methods",
    ),
    good(
        "import importlib\n\n\ndef load(name):\n    return importlib.import_module(name)\n",
        id="dynamic-import",
    ),
    good("from . import threading_helpers\nfrom .socket import frame\n", id="relative-imports"),
    good("from security.detectors import signal\n", id="own-package"),
    good(
        """\
        import os

        HERE = os.path.dirname(__file__)


        def f(p):
            return os.open(p, os.O_RDONLY)
        """,
        id="os-reads",
    ),
]


@pytest.mark.parametrize(("rel", "source", "line", "fragment"), BAD_SOURCES)
def test_source_rule_reports_the_violation(
    tmp_path: Path, rel: str, source: str, line: int, fragment: str
) -> None:
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    violations = check_file(path, tmp_path)
    assert any(v.line == line and fragment in v.message for v in violations), report(violations)
    assert all(str(v).startswith(f"{rel}:") for v in violations)


@pytest.mark.parametrize(("rel", "source"), GOOD_SOURCES)
def test_source_rule_accepts_workers_safe_code(tmp_path: Path, rel: str, source: str) -> None:
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    assert check_file(path, tmp_path) == []


def test_a_violation_reads_as_file_line_and_rule(tmp_path: Path) -> None:
    path = tmp_path / APP
    path.parent.mkdir(parents=True)
    path.write_text('"""Logs."""\n\nimport sqlite3\n', encoding="utf-8")
    [violation] = check_file(path, tmp_path)
    assert str(violation) == (
        "workers/logs/src/logs/app.py:3 imports sqlite3, which Python Workers cannot run "
        "(no persistent files in a Worker; use Durable Object SQLite, KV or R2)"
    )


def test_only_deployed_python_files_are_checked(tmp_path: Path) -> None:
    for rel in (
        "workers/logs/src/entry.py",
        "workers/logs/src/logs/app.py",
        "workers/logs/python_modules/fastapi/__init__.py",
        "workers/logs/.venv-workers/lib/x.py",
        "shared/obs_schema/auth.py",
        "localedge/kv.py",
        "tests/test_x.py",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    found = [rules.relative(p, tmp_path) for p in rules.checked_sources(tmp_path)]
    assert found == [
        "workers/logs/src/entry.py",
        "workers/logs/src/logs/app.py",
        "shared/obs_schema/auth.py",
    ]


# --- rules 4-6 on a fixture Worker ---------------------------------------------------------

ENTRY_SOURCE = '''\
"""Cloudflare entry point for the monitoring Worker."""

from workers import WorkerEntrypoint, asgi

from monitoring.app import app
from monitoring.durable import Monitor

__all__ = ["Default", "Monitor"]


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)

    async def scheduled(self, controller, env, ctx):
        await self.env.MONITOR.getByName("all").run(controller.cron)
'''

APP_SOURCE = '''\
"""Routes read bindings from the ASGI scope."""


def bindings(request, env):
    config = request.scope["env"].CONFIG
    token = getattr(env, "OBS_ADMIN_TOKEN", None)
    return config, token, env["LOG_LEVEL"], env.OBS_INGEST_TOKEN, env.ARCHIVE, env.LOGS


def helper(env):
    return env.get_binding("lower-case names are methods, not bindings")
'''

WRANGLER_TOP = """\
name = "monitoring"
main = "src/entry.py"
compatibility_date = "2026-08-01"
compatibility_flags = ["python_workers"]
# secrets: OBS_ADMIN_TOKEN

[vars]
LOG_LEVEL = "info"

[secrets]
required = ["OBS_INGEST_TOKEN"]

[[kv_namespaces]]
binding = "CONFIG"
id = "config-local"

[[r2_buckets]]
binding = "ARCHIVE"
bucket_name = "archive"

[[durable_objects.bindings]]
name = "MONITOR"
class_name = "Monitor"

[[durable_objects.bindings]]
name = "LOG_SHARD"
class_name = "LogShard"
script_name = "logs"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Monitor"]

[[services]]
binding = "LOGS"
service = "logs"

[triggers]
crons = ["* * * * *"]
"""

WRANGLER_ENV = """
[env.{env}]
vars = {{ LOG_LEVEL = "info-{env}" }}
secrets = {{ required = ["OBS_INGEST_TOKEN"] }}
kv_namespaces = [{{ binding = "CONFIG", id = "config-{env}" }}]
r2_buckets = [{{ binding = "ARCHIVE", bucket_name = "archive-{env}" }}]
durable_objects.bindings = [
  {{ name = "MONITOR", class_name = "Monitor" }},
  {{ name = "LOG_SHARD", class_name = "LogShard", script_name = "logs-{env}" }},
]
services = [{{ binding = "LOGS", service = "logs-{env}" }}]
"""

WRANGLER = WRANGLER_TOP + "".join(WRANGLER_ENV.format(env=env) for env in rules.ENVIRONMENTS)

PYPROJECT = """\
[project]
name = "monitoring"
version = "0.1.0"
dependencies = ["fastapi==0.165.0", "pydantic==2.10.6", "obs-schema"]
"""


def make_worker(
    root: Path,
    *,
    wrangler: str = WRANGLER,
    entry: str | None = ENTRY_SOURCE,
    pyproject: str = PYPROJECT,
    modules: Mapping[str, str] | None = None,
) -> Path:
    """A monitoring Worker under `root/workers/monitoring`, good unless told otherwise."""
    worker = root / "workers" / "monitoring"
    files = {
        "wrangler.toml": wrangler,
        "pyproject.toml": pyproject,
        "src/monitoring/app.py": APP_SOURCE,
    }
    if entry is not None:
        files["src/entry.py"] = entry
    files.update(modules or {})
    for rel, text in files.items():
        (worker / rel).parent.mkdir(parents=True, exist_ok=True)
        (worker / rel).write_text(text, encoding="utf-8")
    return worker


def edited(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert old in text, f"fixture no longer contains {old!r}"
        text = text.replace(old, new, 1)
    return text


def worker_violations(root: Path, worker: Path) -> list[Violation]:
    """Rules 4-6 for one Worker, as the real-tree tests run them."""
    shared = rules.python_files(root / "shared" / "obs_schema", root)
    return [
        *rules.check_entry(worker, root, wrangler_data(worker, root)),
        *rules.check_wrangler(worker, root, deploy_targets(root)),
        *rules.check_env_names(worker, root, shared),
        *rules.check_pyproject(worker, root),
    ]


def assert_reported(violations: list[Violation], fragment: str, path: str) -> None:
    matching = [v for v in violations if fragment in v.message]
    assert matching, f"nothing says {fragment!r}:\n{report(violations)}"
    assert all(v.path == path and v.line >= 1 for v in matching), report(matching)


def test_a_well_formed_worker_passes_every_rule(tmp_path: Path) -> None:
    worker = make_worker(tmp_path)
    assert worker_violations(tmp_path, worker) == []


ENTRY_PATH = "workers/monitoring/src/entry.py"
BAD_ENTRIES = [
    pytest.param(
        [("class Default(WorkerEntrypoint):", "class Worker(WorkerEntrypoint):")],
        "no module-level `class Default(WorkerEntrypoint)`",
        id="no-default-class",
    ),
    pytest.param(
        [("class Default(WorkerEntrypoint):", "class Default:")],
        "does not subclass WorkerEntrypoint",
        id="not-an-entrypoint",
    ),
    pytest.param(
        [("async def fetch(self, request):", "def fetch(self, request):")],
        "Default.fetch is not async",
        id="sync-fetch",
    ),
    pytest.param(
        [("async def fetch(self, request):", "async def fetch(self, req):")],
        "Default.fetch takes (self, req)",
        id="fetch-params",
    ),
    pytest.param(
        [("scheduled(self, controller, env, ctx)", "scheduled(self, controller)")],
        "takes (self, controller), not `async def scheduled(self, controller, env, ctx)`",
        id="scheduled-two-params",
    ),
    pytest.param(
        [("scheduled(self, controller, env, ctx)", "scheduled(self, event, env, ctx)")],
        "Default.scheduled takes (self, event, env, ctx)",
        id="scheduled-renamed-param",
    ),
    pytest.param(
        [
            (
                "async def scheduled(self, controller, env, ctx):",
                "async def cron(self, controller, env, ctx):",
            )
        ],
        "lacks `async def scheduled(self, controller, env, ctx)`",
        id="no-scheduled",
    ),
    pytest.param(
        [
            (
                "from workers import WorkerEntrypoint, asgi",
                "import workers\nfrom workers import asgi",
            ),
            ("class Default(WorkerEntrypoint):", "class Default(workers.WorkerEntrypoint):"),
        ],
        "does not `from workers import WorkerEntrypoint`",
        id="entrypoint-not-imported",
    ),
    pytest.param(
        [("return await asgi.fetch(app, request, self.env)", "return await app(request)")],
        "never calls asgi.fetch",
        id="no-asgi-bridge",
    ),
    pytest.param(
        [("from monitoring.durable import Monitor\n", "")],
        "neither defines nor imports Monitor, the class of MONITOR",
        id="durable-object-not-in-main",
    ),
    pytest.param(
        [('__all__ = ["Default", "Monitor"]', '__all__ = ["Default"]')],
        "leaves Monitor out of __all__",
        id="durable-object-not-exported",
    ),
]


@pytest.mark.parametrize(("edits", "fragment"), BAD_ENTRIES)
def test_entry_rule_reports_the_violation(
    tmp_path: Path, edits: list[tuple[str, str]], fragment: str
) -> None:
    worker = make_worker(tmp_path, entry=edited(ENTRY_SOURCE, *edits))
    violations = rules.check_entry(worker, tmp_path, wrangler_data(worker, tmp_path))
    assert_reported(violations, fragment, ENTRY_PATH)


def test_a_missing_entry_module_is_reported(tmp_path: Path) -> None:
    worker = make_worker(tmp_path, entry=None)
    violations = rules.check_entry(worker, tmp_path, wrangler_data(worker, tmp_path))
    assert_reported(violations, "is missing", ENTRY_PATH)


def test_durable_objects_of_other_workers_need_no_class_here(tmp_path: Path) -> None:
    worker = make_worker(tmp_path)
    assert "LogShard" in WRANGLER
    assert "LogShard" not in ENTRY_SOURCE
    assert rules.check_entry(worker, tmp_path, wrangler_data(worker, tmp_path)) == []


WRANGLER_PATH = "workers/monitoring/wrangler.toml"
STAGING = WRANGLER_ENV.format(env="staging")
BAD_WRANGLERS = [
    pytest.param(
        [('main = "src/entry.py"', 'main = "src/worker.py"')], 'not "src/entry.py"', id="main"
    ),
    pytest.param(
        [('["python_workers"]', '["nodejs_compat"]')], 'lacks "python_workers"', id="no-flag"
    ),
    pytest.param(
        [('["python_workers"]', '["python_workers", "python_workers_314"]')],
        "python_workers_314 opts into Python 3.14",
        id="python-314-flag",
    ),
    pytest.param(
        [('"2026-08-01"', '"2026-09-08"')],
        "compatibility_date 2026-09-08 selects Python 3.14",
        id="date-too-late",
    ),
    pytest.param(
        [('compatibility_date = "2026-08-01"', "compatibility_date = 2026-08-01")],
        'must be a quoted "YYYY-MM-DD" string',
        id="date-not-a-string",
    ),
    pytest.param([('name = "monitoring"\n', "")], "sets no Worker name", id="no-name"),
    pytest.param([(STAGING, "")], "has no [env.staging]", id="no-staging"),
    pytest.param(
        [
            (
                'kv_namespaces = [{ binding = "CONFIG", id = "config-production" }]',
                "kv_namespaces = []",
            )
        ],
        "[env.production] lacks kv_namespaces CONFIG",
        id="env-kv",
    ),
    pytest.param(
        [('r2_buckets = [{ binding = "ARCHIVE", bucket_name = "archive-staging" }]\n', "")],
        "[env.staging] lacks r2_buckets ARCHIVE",
        id="env-r2",
    ),
    pytest.param(
        [('vars = { LOG_LEVEL = "info-production" }', "vars = {}")],
        "[env.production] lacks vars LOG_LEVEL",
        id="env-vars",
    ),
    pytest.param(
        [('  { name = "MONITOR", class_name = "Monitor" },\n', "")],
        "[env.staging] lacks durable_objects.bindings MONITOR",
        id="env-durable-object",
    ),
    pytest.param(
        [('services = [{ binding = "LOGS", service = "logs-staging" }]\n', "")],
        "[env.staging] lacks services LOGS",
        id="env-service",
    ),
    pytest.param(
        [('secrets = { required = ["OBS_INGEST_TOKEN"] }\n', "")],
        "[env.staging] lacks secrets.required OBS_INGEST_TOKEN",
        id="env-secrets",
    ),
    pytest.param(
        [("[env.staging]\n", '[env.staging]\ncompatibility_date = "2026-07-01"\n')],
        "[env.staging] overrides compatibility_date",
        id="env-date-override",
    ),
    pytest.param(
        [('service = "logs"\n', 'service = "billing"\n')],
        "top level: LOGS has service 'billing'",
        id="unknown-service",
    ),
    pytest.param(
        [('service = "logs-staging"', 'service = "logs"')],
        "[env.staging]: LOGS has service 'logs'",
        id="staging-calls-top-level",
    ),
    pytest.param(
        [('script_name = "logs"\n', 'script_name = "ingest"\n')],
        "LOG_SHARD has script_name 'ingest'",
        id="unknown-durable-object-script",
    ),
    pytest.param(
        [('new_sqlite_classes = ["Monitor"]', 'new_classes = ["Monitor"]')],
        "Durable Object class Monitor (MONITOR) is in no [[migrations]] new_sqlite_classes",
        id="not-sqlite-backed",
    ),
    pytest.param([("[vars]", "[vars")], "is not valid TOML", id="broken-toml"),
]


@pytest.mark.parametrize(("edits", "fragment"), BAD_WRANGLERS)
def test_wrangler_rule_reports_the_violation(
    tmp_path: Path, edits: list[tuple[str, str]], fragment: str
) -> None:
    worker = make_worker(tmp_path, wrangler=edited(WRANGLER, *edits))
    violations = rules.check_wrangler(worker, tmp_path, deploy_targets(tmp_path))
    assert_reported(violations, fragment, WRANGLER_PATH)


def test_a_renamed_sqlite_durable_object_stays_sqlite_backed(tmp_path: Path) -> None:
    renamed = """
[[migrations]]
tag = "v2"
renamed_classes = [{ from = "Monitor", to = "Uptime" }]
"""
    wrangler = edited(WRANGLER, ('class_name = "Monitor"', 'class_name = "Uptime"')) + renamed
    worker = make_worker(tmp_path, wrangler=wrangler)
    violations = rules.check_wrangler(worker, tmp_path, deploy_targets(tmp_path))
    assert not [v for v in violations if "new_sqlite_classes" in v.message], report(violations)


def test_a_wrangler_violation_points_at_its_line(tmp_path: Path) -> None:
    worker = make_worker(tmp_path, wrangler=edited(WRANGLER, ('"2026-08-01"', '"2027-01-01"')))
    [violation] = rules.check_wrangler(worker, tmp_path, deploy_targets(tmp_path))
    assert violation.line == 3


def test_service_targets_follow_each_workers_environment_name(tmp_path: Path) -> None:
    logs = {"name": "logs", "env": {"staging": {"name": "logs-stage"}}}
    targets = rules.deployed_names({"logs": logs, "monitoring": None})
    assert {"logs", "monitoring", "security"} <= targets[None]
    assert {"logs-stage", "monitoring-staging"} <= targets["staging"]
    assert "logs-staging" not in targets["staging"]
    assert "logs-production" in targets["production"]


def test_compatibility_dates_must_match_across_workers(tmp_path: Path) -> None:
    for name, date in (("monitoring", "2026-08-01"), ("logs", "2026-08-01"), ("apm", "2026-07-15")):
        path = tmp_path / "workers" / name / "wrangler.toml"
        path.parent.mkdir(parents=True)
        path.write_text(f'name = "{name}"\ncompatibility_date = "{date}"\n', encoding="utf-8")
    loaded = [rules.load_toml(w / "wrangler.toml", tmp_path) for w in rules.worker_dirs(tmp_path)]
    violations = rules.check_pinned_dates(f for f in loaded if isinstance(f, rules.TomlFile))
    assert [str(v) for v in violations] == [
        "workers/apm/wrangler.toml:2 compatibility_date 2026-07-15 differs from 2026-08-01, "
        "used by the other Workers"
    ]


APP_PATH = "workers/monitoring/src/monitoring/app.py"
BAD_ENV_READS = [
    pytest.param(
        "def f(env):\n    return env.PAGERDUTY_KEY\n", 2, "env.PAGERDUTY_KEY", id="attribute"
    ),
    pytest.param("def f(env):\n    return env['SLACK_URL']\n", 2, "env.SLACK_URL", id="subscript"),
    pytest.param(
        "def f(env):\n    return getattr(env, 'ALERTS', None)\n", 2, "env.ALERTS", id="getattr"
    ),
    pytest.param("def f(self):\n    return self.env.TRACES\n", 2, "env.TRACES", id="self-env"),
    pytest.param(
        "def f(request):\n    return request.scope['env'].BUCKET\n", 2, "env.BUCKET", id="scope-env"
    ),
]


@pytest.mark.parametrize(("source", "line", "fragment"), BAD_ENV_READS)
def test_env_rule_reports_undeclared_names(
    tmp_path: Path, source: str, line: int, fragment: str
) -> None:
    worker = make_worker(tmp_path, modules={"src/monitoring/extra.py": source})
    violations = rules.check_env_names(worker, tmp_path)
    expected = f"workers/monitoring/src/monitoring/extra.py:{line} reads {fragment}, which "
    assert [str(v) for v in violations] == [
        expected + "workers/monitoring/wrangler.toml does not declare"
    ]


def test_env_rule_checks_the_entry_module(tmp_path: Path) -> None:
    entry = edited(ENTRY_SOURCE, ("self.env.MONITOR", "self.env.MONITORS"))
    worker = make_worker(tmp_path, entry=entry)
    assert_reported(rules.check_env_names(worker, tmp_path), "env.MONITORS", ENTRY_PATH)


def test_env_names_the_shared_package_reads_must_be_declared_by_every_worker(
    tmp_path: Path,
) -> None:
    worker = make_worker(tmp_path)
    shared = tmp_path / "shared" / "obs_schema" / "auth.py"
    shared.parent.mkdir(parents=True)
    shared.write_text("def pepper(env):\n    return env.OBS_TOKEN_PEPPER\n", encoding="utf-8")
    violations = rules.check_env_names(worker, tmp_path, [shared])
    assert_reported(violations, "env.OBS_TOKEN_PEPPER", "shared/obs_schema/auth.py")


def test_secrets_may_be_declared_in_a_comment_or_in_secrets_required(tmp_path: Path) -> None:
    assert "# secrets: OBS_ADMIN_TOKEN" in WRANGLER
    assert 'required = ["OBS_INGEST_TOKEN"]' in WRANGLER
    loaded = rules.load_toml(make_worker(tmp_path) / "wrangler.toml", tmp_path)
    assert isinstance(loaded, rules.TomlFile)
    declared = rules.declared_names(loaded)
    assert {"OBS_ADMIN_TOKEN", "OBS_INGEST_TOKEN", "LOG_LEVEL", "CONFIG", "LOGS"} <= declared


PYPROJECT_PATH = "workers/monitoring/pyproject.toml"


@pytest.mark.parametrize(
    "pyproject",
    [
        pytest.param('[project]\nname = "monitoring"\n', id="no-dependencies"),
        pytest.param('[project]\ndependencies = "fastapi"\n', id="not-a-list"),
        pytest.param('[tool.uv]\ndev-dependencies = ["pytest"]\n', id="no-project"),
    ],
)
def test_pyproject_rule_requires_a_dependency_list(tmp_path: Path, pyproject: str) -> None:
    worker = make_worker(tmp_path, pyproject=pyproject)
    violations = rules.check_pyproject(worker, tmp_path)
    assert_reported(violations, "has no [project].dependencies list", PYPROJECT_PATH)


def test_pyproject_rule_rejects_requirements_txt(tmp_path: Path) -> None:
    worker = make_worker(tmp_path)
    (worker / "requirements.txt").write_text("fastapi\n", encoding="utf-8")
    violations = rules.check_pyproject(worker, tmp_path)
    assert_reported(violations, "refused by pywrangler", "workers/monitoring/requirements.txt")


def test_missing_config_files_are_reported(tmp_path: Path) -> None:
    worker = make_worker(tmp_path)
    (worker / "pyproject.toml").unlink()
    (worker / "wrangler.toml").unlink()
    assert_reported(rules.check_pyproject(worker, tmp_path), "is missing", PYPROJECT_PATH)
    assert_reported(rules.check_wrangler(worker, tmp_path, {}), "is missing", WRANGLER_PATH)
