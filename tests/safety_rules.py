"""Static rules for code that must run on Cloudflare Python Workers.

Pure functions over source text, parsed TOML and file trees; each returns a list of
`Violation`s naming file, line and rule. `tests/test_workers_safety.py` applies them to the
real tree and proves them on bad and good snippets. Nothing here imports Worker code: the
point is to catch what would only fail after a deploy, on a machine that cannot run workerd.

Secrets convention: an ALL-CAPS name read from `env` counts as declared when wrangler.toml
binds it (any binding kind), lists it under `[vars]`, or names it as a secret — either in
wrangler's own `[secrets] required = ["NAME", ...]` (preferred: `wrangler dev` validates it)
or on a comment line starting `# secrets` with the names after a colon (`# secrets: A, B`,
`# Secrets (wrangler secret put): A, B`), for secrets set only with `wrangler secret put`.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

WORKER_NAMES = ("monitoring", "logs", "apm", "infra", "alerting", "security")
ENVIRONMENTS = ("staging", "production")
# pywrangler resolves wheels for Python 3.14 from this compatibility date on.
PYTHON_314_DATE = "2026-09-08"
PYTHON_314_FLAGS = frozenset({"python_workers_314", "python_workers_20260610"})
# Vendored or generated trees: pywrangler and wrangler own them, not us.
SKIPPED_DIRS = frozenset(
    {"python_modules", ".venv-workers", ".venv", "node_modules", "__pycache__", ".wrangler"}
)

Config = dict[str, Any]


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.message}"


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def line_of(text: str, needle: str) -> int:
    """First line containing `needle` (TOML parsers give no positions); 1 when absent."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1


# --- which files the rules cover ---------------------------------------------------------


def checked_sources(root: Path) -> list[Path]:
    """Every Python file deployed to Cloudflare: all Workers and the shared schema package."""
    return [
        *python_files(root / "workers", root),
        *python_files(root / "shared" / "obs_schema", root),
    ]


def python_files(base: Path, root: Path) -> list[Path]:
    """Python files under `base`, minus vendored and generated trees."""
    if not base.is_dir():
        return []
    found = (
        p for p in base.rglob("*.py") if not SKIPPED_DIRS.intersection(p.relative_to(root).parts)
    )
    return sorted(found)


def worker_dirs(root: Path) -> list[Path]:
    """The Worker directories present: the six by name, plus any other with a wrangler.toml."""
    base = root / "workers"
    if not base.is_dir():
        return []
    return sorted(
        d
        for d in base.iterdir()
        if d.is_dir() and (d.name in WORKER_NAMES or (d / "wrangler.toml").is_file())
    )


def is_entry_file(rel_path: str) -> bool:
    """`workers/<name>/src/entry.py`: the one module allowed to touch the Workers runtime."""
    parts = PurePosixPath(rel_path).parts
    return len(parts) == 4 and parts[0] == "workers" and parts[2:] == ("src", "entry.py")


# --- name resolution ---------------------------------------------------------------------


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted name it stands for, from every import in the file (any scope)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    aliases[root] = root
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def qualified_name(node: ast.AST, aliases: Mapping[str, str]) -> str | None:
    """`o.makedirs` -> `os.makedirs` after `import os as o`; None for computed receivers."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = qualified_name(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def _root_is_import(node: ast.AST, aliases: Mapping[str, str]) -> bool:
    """Is this `module.func` (not `some_object.method`)?"""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in aliases


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Nodes under `if TYPE_CHECKING:`: never executed, so their imports load nothing."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            hidden.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return hidden


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


# --- rule 1: modules Python Workers cannot run -------------------------------------------

_THREADS = "no threads or processes in a Worker"
_SOCKETS = "raw sockets exist only on the Python 3.14 runtime; use httpx or workers.fetch"
_STORAGE = "no persistent files in a Worker; use Durable Object SQLite, KV or R2"
_PROCESSES = "a Worker cannot start processes"
_PYODIDE = "missing or non-functional in Pyodide"

BANNED_MODULES: dict[str, str] = {
    "threading": _THREADS,
    "_thread": _THREADS,
    "multiprocessing": _THREADS,
    "concurrent.futures": _THREADS,
    "socket": _SOCKETS,
    "socketserver": _SOCKETS,
    "ssl.wrap_socket": _SOCKETS,
    "ssl.SSLSocket": _SOCKETS,
    "urllib.request": _SOCKETS,
    "http.client": _SOCKETS,
    "http.server": _SOCKETS,
    "ftplib": _SOCKETS,
    "smtplib": _SOCKETS,
    "poplib": _SOCKETS,
    "imaplib": _SOCKETS,
    "telnetlib": _SOCKETS,
    "xmlrpc": _SOCKETS,
    "wsgiref.simple_server": _SOCKETS,
    "subprocess": _PROCESSES,
    "asyncio.subprocess": _PROCESSES,
    "pty": _PROCESSES,
    "sqlite3": _STORAGE,
    "shelve": _STORAGE,
    "dbm": _STORAGE,
    **dict.fromkeys(
        ("signal", "fcntl", "resource", "tty", "termios", "curses", "tkinter", "ctypes"), _PYODIDE
    ),
    **dict.fromkeys(("grp", "pwd", "syslog", "msvcrt", "winreg", "winsound", "turtle"), _PYODIDE),
}
# Plain data from banned modules: the SDK's own `Request.headers` is an `HTTPMessage`.
HARMLESS_NAMES = frozenset({("http.client", "HTTPMessage"), ("http.client", "responses")})
# Present only inside workerd; importing them under CPython raises ModuleNotFoundError.
RUNTIME_ONLY = frozenset({"workers", "js", "pyodide", "pyodide_js"})
DYNAMIC_IMPORTERS = frozenset({"importlib.import_module", "__import__"})


def _loaded_modules(node: ast.AST, aliases: Mapping[str, str]) -> list[str]:
    """Modules an import statement or a literal dynamic import may load."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = [a.name for a in node.names if (node.module, a.name) not in HARMLESS_NAMES]
        # `from http import client` loads http.client: the imported name may be a submodule.
        return [node.module, *(f"{node.module}.{n}" for n in names if n != "*")] if names else []
    if isinstance(node, ast.Call) and qualified_name(node.func, aliases) in DYNAMIC_IMPORTERS:
        target = _string(node.args[0]) if node.args else None
        return [target] if target and not target.startswith(".") else []
    return []


def _banned_key(module: str) -> str | None:
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        if ".".join(parts[:size]) in BANNED_MODULES:
            return ".".join(parts[:size])
    return None


def _module_messages(modules: list[str], in_entry: bool) -> list[str]:
    messages: dict[str, str] = {}  # keyed by rule, so one import reports each rule once
    for module in modules:
        banned = _banned_key(module)
        if banned and banned not in messages:
            reason = BANNED_MODULES[banned]
            messages[banned] = f"imports {module}, which Python Workers cannot run ({reason})"
        root = module.split(".")[0]
        if root in RUNTIME_ONLY and not in_entry and root not in messages:
            messages[root] = (
                f"imports {module}, which exists only inside the Workers runtime; "
                "only workers/<name>/src/entry.py may import it"
            )
    return list(messages.values())


def import_violations(tree: ast.AST, rel_path: str) -> list[Violation]:
    aliases = import_aliases(tree)
    hidden = _type_checking_only(tree)
    in_entry = is_entry_file(rel_path)
    found: list[Violation] = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        for message in _module_messages(_loaded_modules(node, aliases), in_entry):
            found.append(Violation(rel_path, getattr(node, "lineno", 1), message))
    return found


# --- rule 2: file writes, processes, threads ---------------------------------------------

OPENERS = frozenset({"open", "io.open", "codecs.open"})
OS_WRITES = frozenset(
    {"os.remove", "os.unlink", "os.rename", "os.renames", "os.replace", "os.makedirs"}
    | {"os.mkdir", "os.rmdir", "os.removedirs", "os.truncate", "os.symlink", "os.link"}
    | {"os.mkfifo", "os.chmod", "os.chown"}
)
OS_PROCESSES = frozenset({"os.system", "os.popen", "os.fork", "os.forkpty", "os.kill"})
OS_PROCESS_PREFIXES = ("os.spawn", "os.exec", "os.posix_spawn")
OS_WRITE_FLAGS = frozenset({"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"})
SHUTIL_WRITES = frozenset(
    {"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.move"}
    | {"shutil.rmtree", "shutil.make_archive", "shutil.unpack_archive", "shutil.chown"}
    | {"shutil.copymode", "shutil.copystat"}
)
PATH_WRITES = frozenset(
    {"write_text", "write_bytes", "touch", "mkdir", "unlink", "rename", "rmdir"}
    | {"symlink_to", "hardlink_to"}
)
SPECIAL_CALLS: dict[str, str] = {
    "asyncio.create_subprocess_exec": _PROCESSES,
    "asyncio.create_subprocess_shell": _PROCESSES,
    "asyncio.to_thread": _THREADS,
}
SPECIAL_METHODS: dict[str, str] = {"run_in_executor": _THREADS, "wrap_socket": _SOCKETS}
MODE = re.compile(r"[rwxabtU+]{1,4}\Z")


def _mode_problem(mode: ast.AST | None) -> str | None:
    if mode is None:
        return None
    text = _string(mode)
    if text is None:
        return f"opens a file with a computed mode, which may write ({_STORAGE})"
    if any(flag in text for flag in "wax+"):
        return f"opens a file for writing with mode {text!r} ({_STORAGE})"
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _open_problem(call: ast.Call, name: str | None, aliases: Mapping[str, str]) -> str | None:
    if name in OPENERS:  # open(file, mode): any mode we cannot read may write
        return _mode_problem(call.args[1] if len(call.args) > 1 else _keyword(call, "mode"))
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "open":
        # Path.open(mode) on an object; `gzip.open(file, mode)` and `zf.open(name)` take a
        # file first, so only a literal that looks like a mode counts here.
        mode = call.args[0] if call.args else _keyword(call, "mode")
        text = _string(mode)
        if not _root_is_import(func, aliases) and text and MODE.match(text):
            return _mode_problem(mode)
    if name == "os.open" and len(call.args) > 1:
        return _os_open_problem(call.args[1])
    return None


def _os_open_problem(flags: ast.expr) -> str | None:
    names = {getattr(node, "attr", getattr(node, "id", "")) for node in ast.walk(flags)}
    if names & OS_WRITE_FLAGS:
        return f"opens a file for writing with os.open() ({_STORAGE})"
    return None


def _module_call_problem(name: str | None) -> str | None:
    if name is None:
        return None
    if name in OS_WRITES or name in SHUTIL_WRITES:
        return f"calls {name}(), which writes to the filesystem ({_STORAGE})"
    if name.startswith("tempfile."):
        return f"calls {name}(), which needs a writable filesystem ({_STORAGE})"
    if name in OS_PROCESSES or name.startswith(OS_PROCESS_PREFIXES):
        return f"calls {name}() ({_PROCESSES})"
    if name in SPECIAL_CALLS:
        return f"calls {name}() ({SPECIAL_CALLS[name]})"
    return None


def _method_problem(call: ast.Call, name: str | None) -> str | None:
    if not isinstance(call.func, ast.Attribute):
        return None
    attr = call.func.attr
    if attr in SPECIAL_METHODS:
        return f"calls .{attr}() ({SPECIAL_METHODS[attr]})"
    handled = name is not None and name.startswith(("os.", "shutil.", "tempfile."))
    if attr in PATH_WRITES and not handled:
        return f"calls .{attr}(), which writes to the filesystem ({_STORAGE})"
    return None


def forbidden_call(call: ast.Call, aliases: Mapping[str, str]) -> str | None:
    name = qualified_name(call.func, aliases)
    return (
        _open_problem(call, name, aliases)
        or _module_call_problem(name)
        or _method_problem(call, name)
    )


def call_violations(tree: ast.AST, rel_path: str) -> list[Violation]:
    aliases = import_aliases(tree)
    found: list[Violation] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (message := forbidden_call(node, aliases)):
            found.append(Violation(rel_path, node.lineno, message))
    return found


# --- rule 3: randomness while the module is imported -------------------------------------

ENTROPY_PREFIXES = ("random.", "secrets.", "numpy.random.", "tempfile.")
ENTROPY_CALLS = frozenset({"uuid.uuid1", "uuid.uuid4", "os.urandom", "os.getrandom"})
# Calling these runs their body now (an `async def` only builds a coroutine).
CONSTRUCTOR_METHODS = frozenset({"__init__", "__new__", "__post_init__"})


def _entropy_source(call: ast.Call, aliases: Mapping[str, str]) -> str | None:
    name = qualified_name(call.func, aliases)
    if name and (name in ENTROPY_CALLS or name.startswith(ENTROPY_PREFIXES)):
        return name
    return None


def evaluated_at_import(node: ast.AST) -> Iterator[ast.AST]:
    """Nodes evaluated when the module is imported (and so at Cloudflare's deploy snapshot):
    everything except function and lambda bodies; decorators and defaults do run."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        args = node.args
        eager: list[ast.expr | None] = [*args.defaults, *args.kw_defaults]
        if not isinstance(node, ast.Lambda):
            eager.extend(node.decorator_list)
        for expr in eager:
            if expr is not None:
                yield from evaluated_at_import(expr)
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from evaluated_at_import(child)


def _local_callables(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """Module-level names whose call runs code in this file: sync functions, constructors."""
    bodies: dict[str, list[ast.AST]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            bodies[stmt.name] = [stmt]
        elif isinstance(stmt, ast.ClassDef):
            methods = [m for m in stmt.body if isinstance(m, ast.FunctionDef)]
            bodies[stmt.name] = [m for m in methods if m.name in CONSTRUCTOR_METHODS]
    return bodies


def _reached_entropy(
    nodes: Iterable[ast.AST], aliases: Mapping[str, str], known: Mapping[str, str]
) -> str | None:
    for node in (inner for outer in nodes for inner in ast.walk(outer)):
        if not isinstance(node, ast.Call):
            continue
        if source := _entropy_source(node, aliases):
            return source
        if isinstance(node.func, ast.Name) and node.func.id in known:
            return known[node.func.id]
    return None


def entropy_callables(tree: ast.Module, aliases: Mapping[str, str]) -> dict[str, str]:
    """Local function or class name -> the entropy source its call reaches (fixed point)."""
    bodies = _local_callables(tree)
    known: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for name, nodes in bodies.items():
            if name not in known and (source := _reached_entropy(nodes, aliases, known)):
                known[name] = source
                changed = True
    return known


_SNAPSHOT = (
    "Python Workers snapshot modules at deploy and refuse randomness during startup; "
    "call it inside a function"
)


def import_time_entropy_violations(tree: ast.Module, rel_path: str) -> list[Violation]:
    aliases = import_aliases(tree)
    local = entropy_callables(tree, aliases)
    found: list[Violation] = []
    for node in evaluated_at_import(tree):
        if not isinstance(node, ast.Call):
            continue
        if source := _entropy_source(node, aliases):
            message = f"calls {source}() at import time; {_SNAPSHOT}"
        elif isinstance(node.func, ast.Name) and node.func.id in local:
            reached = local[node.func.id]
            message = (
                f"calls {node.func.id}() at import time, which reaches {reached}(); {_SNAPSHOT}"
            )
        else:
            continue
        found.append(Violation(rel_path, node.lineno, message))
    return found


def check_source(text: str, rel_path: str) -> list[Violation]:
    """Rules 1-3 for one deployed Python file."""
    try:
        tree = ast.parse(text, filename=rel_path)
    except SyntaxError as error:
        return [Violation(rel_path, error.lineno or 1, f"does not parse: {error.msg}")]
    found = [
        *import_violations(tree, rel_path),
        *call_violations(tree, rel_path),
        *import_time_entropy_violations(tree, rel_path),
    ]
    return sorted(set(found))


# --- rule 4: the entry module ------------------------------------------------------------

# workerd calls `scheduled` with three positional arguments, so the names and order matter.
HANDLERS: dict[str, tuple[str, ...]] = {
    "fetch": ("self", "request"),
    "scheduled": ("self", "controller", "env", "ctx"),
}


def check_entry(worker_dir: Path, root: Path, config: Config | None) -> list[Violation]:
    path = worker_dir / "src" / "entry.py"
    rel = relative(path, root)
    if not path.is_file():
        return [Violation(rel, 1, "is missing; wrangler.toml's main must be src/entry.py")]
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    except SyntaxError as error:
        return [Violation(rel, error.lineno or 1, f"does not parse: {error.msg}")]
    found = [
        *_entrypoint_import(tree, rel),
        *_default_class(tree, rel),
        *_asgi_bridge(tree, rel),
        *_durable_objects_in_main(tree, rel, config or {}),
    ]
    return sorted(found)


def _entrypoint_import(tree: ast.Module, rel: str) -> list[Violation]:
    for node in ast.walk(tree):
        from_workers = isinstance(node, ast.ImportFrom) and node.module == "workers"
        if from_workers and any(a.name == "WorkerEntrypoint" for a in node.names):
            return []
    return [Violation(rel, 1, "does not `from workers import WorkerEntrypoint`")]


def _default_class(tree: ast.Module, rel: str) -> list[Violation]:
    default = next(
        (s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == "Default"), None
    )
    if default is None:
        return [Violation(rel, 1, "defines no module-level `class Default(WorkerEntrypoint)`")]
    aliases = import_aliases(tree)
    found: list[Violation] = []
    if not any(qualified_name(b, aliases) == "workers.WorkerEntrypoint" for b in default.bases):
        found.append(
            Violation(rel, default.lineno, "class Default does not subclass WorkerEntrypoint")
        )
    for name, params in HANDLERS.items():
        if problem := _handler_problem(default, name, params):
            found.append(Violation(rel, *problem))
    return found


def _handler_problem(
    cls: ast.ClassDef, name: str, params: tuple[str, ...]
) -> tuple[int, str] | None:
    signature = f"async def {name}({', '.join(params)})"
    methods = (s for s in cls.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef))
    method = next((m for m in methods if m.name == name), None)
    if method is None:
        return cls.lineno, f"class Default lacks `{signature}`"
    if not isinstance(method, ast.AsyncFunctionDef):
        return method.lineno, f"Default.{name} is not async; workerd awaits `{signature}`"
    actual = tuple(a.arg for a in (*method.args.posonlyargs, *method.args.args))
    if actual != params:
        return method.lineno, f"Default.{name} takes ({', '.join(actual)}), not `{signature}`"
    return None


def _asgi_bridge(tree: ast.Module, rel: str) -> list[Violation]:
    aliases = import_aliases(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and qualified_name(node.func, aliases) == "workers.asgi.fetch"
        ):
            return []
    return [Violation(rel, 1, "never calls asgi.fetch(app, request, self.env) from workers.asgi")]


def _main_module_names(tree: ast.Module) -> set[str]:
    """Names bound while the main module runs: classes, imports, assignments."""
    names: set[str] = set()
    for node in evaluated_at_import(tree):
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _dunder_all(tree: ast.Module) -> set[str] | None:
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assign) or not isinstance(stmt.value, ast.List | ast.Tuple):
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets):
            return {s for e in stmt.value.elts if (s := _string(e))}
    return None


def _durable_objects_in_main(tree: ast.Module, rel: str, config: Config) -> list[Violation]:
    # The runtime finds entrypoint and Durable Object classes by introspecting the main
    # module's namespace (honouring __all__), so each must be bound there.
    classes = local_durable_objects(config)
    names = _main_module_names(tree)
    found = [
        Violation(rel, 1, f"neither defines nor imports {cls}, the class of {classes[cls]}")
        for cls in sorted(set(classes) - names)
    ]
    exported = _dunder_all(tree)
    if exported is not None:
        hidden = sorted({"Default", *classes} - exported)
        found += [Violation(rel, 1, f"leaves {name} out of __all__") for name in hidden]
    return found


# --- rule 5: wrangler.toml ----------------------------------------------------------------


@dataclass(frozen=True)
class TomlFile:
    rel: str
    text: str
    data: Config

    def violation(self, needle: str, message: str) -> Violation:
        return Violation(self.rel, line_of(self.text, needle), message)


def load_toml(path: Path, root: Path) -> TomlFile | Violation:
    rel = relative(path, root)
    if not path.is_file():
        return Violation(rel, 1, "is missing")
    text = path.read_text(encoding="utf-8")
    try:
        return TomlFile(rel, text, tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        return Violation(rel, 1, f"is not valid TOML: {error}")


BINDING_LISTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("kv_namespaces",), "binding"),
    (("r2_buckets",), "binding"),
    (("d1_databases",), "binding"),
    (("durable_objects", "bindings"), "name"),
    (("services",), "binding"),
    (("queues", "producers"), "binding"),
    (("analytics_engine_datasets",), "binding"),
    (("vectorize",), "binding"),
    (("hyperdrive",), "binding"),
    (("workflows",), "binding"),
    (("send_email",), "name"),
)
SINGLE_BINDINGS = ("ai", "browser", "version_metadata", "images")
# Wrangler inherits these into [env.*] when unset there; a different value is a second pin.
INHERITED_PINS = ("main", "compatibility_date", "compatibility_flags")


def table_list(scope: Config, path: tuple[str, ...]) -> list[Config]:
    node: Any = scope
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return [t for t in node if isinstance(t, dict)] if isinstance(node, list) else []


def env_table(config: Config, env: str) -> Config | None:
    table = config.get("env", {}).get(env) if isinstance(config.get("env"), dict) else None
    return table if isinstance(table, dict) else None


def scopes(config: Config) -> list[tuple[str | None, Config]]:
    """The top level (None) and each named environment present."""
    named = ((env, env_table(config, env)) for env in ENVIRONMENTS)
    return [(None, config), *((env, table) for env, table in named if table is not None)]


def binding_names(scope: Config) -> dict[str, set[str]]:
    """Binding kind -> names declared in one scope (top level or one environment)."""
    names = {
        ".".join(path): {t[key] for t in table_list(scope, path) if isinstance(t.get(key), str)}
        for path, key in BINDING_LISTS
    }
    for kind in SINGLE_BINDINGS:
        table = scope.get(kind)
        if isinstance(table, dict) and isinstance(table.get("binding"), str):
            names[kind] = {table["binding"]}
    variables = scope.get("vars")
    names["vars"] = set(variables) if isinstance(variables, dict) else set()
    secrets = scope.get("secrets")
    required = secrets.get("required") if isinstance(secrets, dict) else None
    names["secrets.required"] = (
        {s for s in required if isinstance(s, str)} if isinstance(required, list) else set()
    )
    return {kind: found for kind, found in names.items() if found}


def local_durable_objects(config: Config) -> dict[str, str]:
    """Class name -> binding name, for Durable Objects this Worker itself defines."""
    bindings = (
        b for _, scope in scopes(config) for b in table_list(scope, ("durable_objects", "bindings"))
    )
    return {
        b["class_name"]: str(b.get("name"))
        for b in bindings
        if isinstance(b.get("class_name"), str) and "script_name" not in b
    }


def deployed_names(configs: Mapping[str, Config | None]) -> dict[str | None, set[str]]:
    """Worker names per scope as wrangler deploys them: `name`, or `<name>-<env>` in an env.
    A Worker not written yet is assumed to be named after its directory."""
    result: dict[str | None, set[str]] = {None: set(), **{env: set() for env in ENVIRONMENTS}}
    for worker in sorted({*WORKER_NAMES, *configs}):
        config = configs.get(worker) or {}
        top = config.get("name") if isinstance(config.get("name"), str) else worker
        result[None].add(top)
        for env in ENVIRONMENTS:
            named = (env_table(config, env) or {}).get("name")
            result[env].add(named if isinstance(named, str) else f"{top}-{env}")
    return result


def check_wrangler(
    worker_dir: Path, root: Path, targets: Mapping[str | None, set[str]]
) -> list[Violation]:
    loaded = load_toml(worker_dir / "wrangler.toml", root)
    if isinstance(loaded, Violation):
        return [loaded]
    found = [
        *_basics(loaded),
        *_environments(loaded),
        *_references(loaded, targets),
        *_migrations(loaded),
    ]
    return sorted(found)


def _date_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f'compatibility_date must be a quoted "YYYY-MM-DD" string, not {value!r}'
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return f"compatibility_date {value!r} is not YYYY-MM-DD"
    if value >= PYTHON_314_DATE:
        return f"compatibility_date {value} selects Python 3.14; pin one before {PYTHON_314_DATE}"
    return None


def _basics(wf: TomlFile) -> list[Violation]:
    config = wf.data
    found: list[Violation] = []
    if config.get("main") != "src/entry.py":
        found.append(
            wf.violation("main", f'sets main = {config.get("main")!r}, not "src/entry.py"')
        )
    flags = config.get("compatibility_flags")
    flags = flags if isinstance(flags, list) else []
    if "python_workers" not in flags:
        found.append(
            wf.violation("compatibility_flags", 'compatibility_flags lacks "python_workers"')
        )
    if opted := sorted(PYTHON_314_FLAGS.intersection(flags)):
        found.append(wf.violation(opted[0], f"compatibility flag {opted[0]} opts into Python 3.14"))
    if problem := _date_problem(config.get("compatibility_date")):
        found.append(wf.violation("compatibility_date", problem))
    if not isinstance(config.get("name"), str) or not config["name"]:
        found.append(wf.violation("name", "sets no Worker name"))
    return found


def _environments(wf: TomlFile) -> list[Violation]:
    found: list[Violation] = []
    top = binding_names(wf.data)
    for env in ENVIRONMENTS:
        table = env_table(wf.data, env)
        header = f"[env.{env}"
        if table is None:
            found.append(wf.violation(header, f"has no [env.{env}]"))
            continue
        for kind, names in sorted(top.items()):
            for name in sorted(names - binding_names(table).get(kind, set())):
                message = f"[env.{env}] lacks {kind} {name}; environments do not inherit it"
                found.append(wf.violation(header, message))
        for key in INHERITED_PINS:
            if key in table and table[key] != wf.data.get(key):
                found.append(
                    wf.violation(header, f"[env.{env}] overrides {key}; keep the top-level value")
                )
    return found


def _references(wf: TomlFile, targets: Mapping[str | None, set[str]]) -> list[Violation]:
    found: list[Violation] = []
    for env, scope in scopes(wf.data):
        where = f"[env.{env}]" if env else "top level"
        refs = [(t, "service", t.get("binding")) for t in table_list(scope, ("services",))]
        refs += [
            (t, "script_name", t.get("name"))
            for t in table_list(scope, ("durable_objects", "bindings"))
        ]
        for table, key, binding in refs:
            if key not in table:
                continue
            # The deprecated `environment = "..."` field pairs a top-level name with an env.
            allowed = targets[None] if "environment" in table else targets[env]
            if table[key] not in allowed:
                message = f"{where}: {binding} has {key} {table[key]!r}, not in {sorted(allowed)}"
                found.append(wf.violation(f'"{table[key]}"', message))
    return found


def sqlite_classes(config: Config) -> set[str]:
    """Durable Object classes created SQLite-backed, following later renames."""
    classes: set[str] = set()
    for migration in table_list(config, ("migrations",)):
        classes.update(c for c in migration.get("new_sqlite_classes", []) if isinstance(c, str))
        for rename in migration.get("renamed_classes", []):
            if isinstance(rename, dict) and rename.get("from") in classes:
                classes.add(str(rename.get("to")))
    return classes


def _migrations(wf: TomlFile) -> list[Violation]:
    sqlite = set().union(*(sqlite_classes(scope) for _, scope in scopes(wf.data)))
    return [
        wf.violation(
            f'"{cls}"',
            f"Durable Object class {cls} ({binding}) is in no [[migrations]] new_sqlite_classes",
        )
        for cls, binding in sorted(local_durable_objects(wf.data).items())
        if cls not in sqlite
    ]


def check_pinned_dates(files: Iterable[TomlFile]) -> list[Violation]:
    """One compatibility date across the Workers: it decides the Python they run."""
    files = list(files)
    counts = Counter(str(wf.data.get("compatibility_date")) for wf in files)
    if len(counts) <= 1:
        return []
    pinned = min(counts, key=lambda date: (-counts[date], date))  # majority, then earliest
    return [
        wf.violation(
            "compatibility_date",
            f"compatibility_date {date} differs from {pinned}, used by the other Workers",
        )
        for wf in files
        if (date := str(wf.data.get("compatibility_date"))) != pinned
    ]


# --- rule 5 (cont.): env names the code reads ---------------------------------------------

ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*\Z")
# `# secrets: A, B` or `# Secrets (wrangler secret put): A, B`: names after the colon.
SECRETS_COMMENT = re.compile(r"^\s*#\s*secrets\b[^:\n]*:(.*)$", re.IGNORECASE | re.MULTILINE)


def _is_env(node: ast.AST) -> bool:
    """`env`, `self.env`, `request.scope["env"]`."""
    if isinstance(node, ast.Name):
        return node.id == "env"
    if isinstance(node, ast.Attribute):
        return node.attr == "env"
    return isinstance(node, ast.Subscript) and _string(node.slice) == "env"


def _env_read(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and _is_env(node.value):
        return node.attr
    if isinstance(node, ast.Subscript) and _is_env(node.value):
        return _string(node.slice)
    is_getattr = (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
    )
    if is_getattr and len(node.args) > 1 and _is_env(node.args[0]):
        return _string(node.args[1])
    return None


def env_reads(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, NAME) for each ALL-CAPS binding read; lower-case names are methods."""
    for node in ast.walk(tree):
        name = _env_read(node)
        if name and ENV_NAME.match(name):
            yield getattr(node, "lineno", 1), name


def declared_names(wf: TomlFile) -> set[str]:
    declared = set().union(*binding_names(wf.data).values())
    for match in SECRETS_COMMENT.finditer(wf.text):
        declared.update(n for n in re.split(r"[,\s]+", match.group(1)) if ENV_NAME.match(n))
    return declared


def check_env_names(worker_dir: Path, root: Path, shared: Iterable[Path] = ()) -> list[Violation]:
    """Every env name a Worker's code (or the shared package it deploys with) reads is declared."""
    loaded = load_toml(worker_dir / "wrangler.toml", root)
    if isinstance(loaded, Violation):
        return [loaded]
    declared = declared_names(loaded)
    found: list[Violation] = []
    for path in [*python_files(worker_dir / "src", root), *shared]:
        rel = relative(path, root)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        except SyntaxError:
            continue  # check_source reports it
        for line, name in env_reads(tree):
            if name not in declared:
                message = f"reads env.{name}, which {loaded.rel} does not declare"
                found.append(Violation(rel, line, message))
    return sorted(found)


# --- rule 6: pyproject.toml -----------------------------------------------------------------


def check_pyproject(worker_dir: Path, root: Path) -> list[Violation]:
    loaded = load_toml(worker_dir / "pyproject.toml", root)
    if isinstance(loaded, Violation):
        return [loaded]
    project = loaded.data.get("project")
    deps = project.get("dependencies") if isinstance(project, dict) else None
    found: list[Violation] = []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        message = (
            "has no [project].dependencies list; pywrangler vendors only those into python_modules/"
        )
        found.append(loaded.violation("dependencies", message))
    legacy = worker_dir / "requirements.txt"
    if legacy.exists():
        message = "is refused by pywrangler; declare dependencies in pyproject.toml"
        found.append(Violation(relative(legacy, root), 1, message))
    return found
