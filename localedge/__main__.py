"""`python -m localedge serve`: the whole stack on one port, state under one data directory."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import socket
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import uvicorn

from localedge.gateway import Gateway
from localedge.homethread import HomeThread, ThreadLine
from localedge.httpserver import HttpProtocol
from localedge.isolates import READY, Isolates, IsolateSpec
from localedge.remote import ObjectHost
from localedge.stack import Stack, StackOptions
from obs_schema import auth

REPO_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("localedge")
GC_THRESHOLD = 100_000  # allocations between young collections (CPython's default: 700)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "serve":
        return serve(args)
    if args.command == "isolate":
        return isolate(args)
    return 2


def serve(args: argparse.Namespace) -> int:
    isolates = max(1, args.isolates)
    # Listening before start-up, so "ready" is true when printed: connections made then wait
    # in the backlog until uvicorn accepts them.
    listener = _listen(args.host, args.port, shared=isolates > 1)
    if listener is None:
        return 1
    options = StackOptions(root=args.root, data_dir=args.data_dir, environment=args.env)
    home = HomeThread(options) if args.home_thread else None
    others: Isolates | None = None
    if isolates > 1:
        socket_path = Path(tempfile.gettempdir()) / f"localedge-{os.getpid()}.sock"
        port = int(listener.getsockname()[1])
        spec = IsolateSpec(args.host, port, args.root, args.data_dir, args.env, socket_path)
        others = Isolates(spec, isolates - 1)
    hosting: list[ObjectHost] = []

    async def start(stack: Stack) -> None:
        if others is not None:
            if home is not None:
                await home.serve_objects(others.spec.home)  # closed by the home as it stops
            else:
                hosting.append(await stack.serve_objects(others.spec.home))
            await others.start()
        await announce(stack, isolates, home_thread=home is not None)

    async def stop(stack: Stack) -> None:
        if others is not None:
            await others.stop()  # before the objects they call go away
            for objects in hosting:
                objects.close()
            others.spec.home.unlink(missing_ok=True)

    front = replace(options, home=ThreadLine(home)) if home is not None else options
    gateway = Gateway(
        Stack(front),
        static_dir=args.root / "dashboard",
        on_startup=start,
        on_shutdown=stop,
        isolate=0 if others is not None else None,
    )
    _run(gateway, listener)
    return 0


def isolate(args: argparse.Namespace) -> int:
    """One more isolate process of `serve --isolates N` (started by the home, not by hand)."""
    listener = _listen(args.host, args.port, shared=True)
    if listener is None:
        return 1
    options = StackOptions(
        root=args.root,
        data_dir=args.data_dir,
        environment=args.env,
        home=args.home,
        on_home_lost=lambda: signal.raise_signal(signal.SIGTERM),
    )

    async def ready(stack: Stack) -> None:
        _settle_heap()
        print(READY, flush=True)

    gateway = Gateway(
        Stack(options), static_dir=args.root / "dashboard", on_startup=ready, isolate=args.index
    )
    _run(gateway, listener)
    return 0


def _listen(host: str, port: int, *, shared: bool) -> socket.socket | None:
    try:
        # Shared: every isolate process binds the port too, and the kernel spreads connections.
        return socket.create_server((host, port), reuse_port=shared)
    except OSError as error:
        print(f"cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return None


def _run(gateway: Gateway, listener: socket.socket) -> None:
    # No proxy headers (nothing sits in front of the local stack) and no access log: both cost
    # CPU on every request, and the Workers' own /metrics count requests. Each response leaves
    # in one write (localedge.httpserver). The socket goes in as a socket, not a file
    # descriptor: uvicorn takes a bare descriptor for a Unix socket and would leave Nagle's
    # algorithm on (40 ms stalls per small response).
    config = uvicorn.Config(
        gateway,
        http=HttpProtocol,
        lifespan="on",
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[listener])


async def announce(stack: Stack, isolates: int = 1, *, home_thread: bool = False) -> None:
    """Mint tokens on a first start (printed once, stored hashed) and say where things are."""
    config = next((kv for kv in _config_namespaces(stack)), None)
    if config is not None:
        tokens = await auth.bootstrap_tokens(config, dict(os.environ))
        if tokens:
            print("\nGenerated API tokens (shown once; only their hashes are stored):", flush=True)
            for scope, token in tokens.items():
                print(f"  {auth.SECRET_NAMES[scope]}={token}", flush=True)
            print("Export them (or set your own OBS_*_TOKEN before `make run`).\n", flush=True)
    for worker in stack.workers.values():
        print(f"  {worker.name:<16} {' '.join(worker.config.route_paths)}", flush=True)
    where = "this one, on a thread of their own" if home_thread else "this one"
    if isolates > 1:
        print(f"  {isolates} isolate processes; Durable Objects, crons and alarms in {where}")
    elif home_thread:
        print("  Durable Objects, crons and alarms on a thread of their own")
    _settle_heap()
    print(f"Local stack ready; data in {stack.options.data_dir}", flush=True)


def _settle_heap() -> None:
    """Keep the start-up heap (modules, Workers, bindings: alive until exit) out of every
    collection, and collect less often: one process serves six Workers' traffic, and full
    collections of that heap were a tenth of ingest CPU (bench/apm)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 100)


def _config_namespaces(stack: Stack) -> list[object]:
    return [
        stack.kv[spec.id]
        for worker in stack.workers.values()
        for spec in worker.config.kv_namespaces
        if spec.binding == auth.CONFIG_BINDING
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localedge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve every Worker over HTTP")
    serve_cmd.add_argument("--host", default=os.environ.get("OBS_HOST", "127.0.0.1"))
    serve_cmd.add_argument("--port", type=int, default=int(os.environ.get("OBS_PORT", "8787")))
    serve_cmd.add_argument("--root", type=Path, default=REPO_ROOT)
    serve_cmd.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("OBS_DATA_DIR", REPO_ROOT / ".data"))
    )
    serve_cmd.add_argument("--env", default=None, help="wrangler environment (staging, production)")
    serve_cmd.add_argument(
        "--isolates",
        type=int,
        default=int(os.environ.get("OBS_ISOLATES", "1")),
        help="processes serving HTTP, each with its own Worker isolates (Durable Objects, "
        "crons and alarms stay in the first); more than one uses more cores",
    )
    serve_cmd.add_argument(
        "--home-thread",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("OBS_HOME_THREAD", "false").lower() in ("1", "true", "yes"),
        help="run the Durable Objects (and crons, alarms) on a thread of their own: their "
        "SQLite work then overlaps the Workers' Python on a second core, at the cost of a "
        "thread hop per object call (pays for SQLite-heavy objects such as log shards)",
    )
    isolate_cmd = commands.add_parser("isolate", help=argparse.SUPPRESS)
    for name, kind in (("--host", str), ("--port", int), ("--root", Path), ("--data-dir", Path)):
        isolate_cmd.add_argument(name, type=kind, required=True)
    isolate_cmd.add_argument("--home", type=Path, required=True)
    isolate_cmd.add_argument("--index", type=int, required=True)
    isolate_cmd.add_argument("--env", default=None)
    return parser


if __name__ == "__main__":
    sys.exit(main())
