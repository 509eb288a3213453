"""The isolate processes of `serve --isolates N`: started, awaited until ready, stopped.

The home process (the one the operator started) serves HTTP as isolate 0 and hosts every
Durable Object, cron and alarm. It starts isolates 1..N-1 as `python -m localedge isolate`,
each listening on the same port (SO_REUSEPORT: the kernel spreads connections across them)
and reaching the objects through the home's socket (localedge.remote). An isolate prints
READY once it serves; the home announces the stack only when every isolate has. When the home
stops it stops the isolates first; an isolate whose home has gone stops itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

READY = "isolate ready"
START_TIMEOUT_S = 120.0  # a bound on start-up (loading six Workers), not a performance target
STOP_TIMEOUT_S = 15.0


@dataclass
class IsolateSpec:
    host: str
    port: int
    root: Path
    data_dir: Path
    environment: str | None
    home: Path  # the home's Durable Object socket


@dataclass
class Isolates:
    spec: IsolateSpec
    count: int  # besides the home
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)
    _echoes: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Start every isolate and wait until each serves (or raise, having stopped them)."""
        try:
            for index in range(1, self.count + 1):
                process = await asyncio.create_subprocess_exec(
                    *self._command(index), stdout=asyncio.subprocess.PIPE
                )
                self.processes.append(process)
            await asyncio.wait_for(
                asyncio.gather(*(self._ready(p) for p in self.processes)), START_TIMEOUT_S
            )
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.terminate()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        for echo in self._echoes:
            echo.cancel()
        await asyncio.gather(*self._echoes, return_exceptions=True)
        self.processes.clear()

    def _command(self, index: int) -> list[str]:
        spec = self.spec
        command = [sys.executable, "-m", "localedge", "isolate", "--index", str(index)]
        command += ["--host", spec.host, "--port", str(spec.port), "--root", str(spec.root)]
        command += ["--data-dir", str(spec.data_dir), "--home", str(spec.home)]
        return command + (["--env", spec.environment] if spec.environment else [])

    async def _ready(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            if line.decode(errors="replace").strip() == READY:
                # What it prints from now on goes to the home's output, as the home's own.
                self._echoes.append(asyncio.create_task(_echo(process.stdout)))
                return
        raise RuntimeError(f"isolate process exited during start-up ({process.returncode})")


async def _echo(stream: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError):
        while line := await stream.readline():
            sys.stdout.write(line.decode(errors="replace"))
            sys.stdout.flush()
