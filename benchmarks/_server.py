"""A real ``paperwire serve`` for a benchmark: started on a free port, stopped on exit.

Shared by the benchmarks that drive the web server over HTTP (latency, votes, CSRF
sweep, search fuzz). The server runs in a process group of its own, so that it and its
worker processes (``--workers N``) are stopped as one, by its id.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks._common import PROJECT_ROOT, BenchmarkFailed, tree_cpu_seconds
from benchmarks._databases import sqlite_url
from benchmarks._loadgen import run_load

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(slots=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no log)"


@contextmanager
def serving(
    database: Path | str, workers: int, logdir: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """A real ``paperwire serve`` on a free port of 127.0.0.1, stopped on exit.

    ``database``: a SQLite file, or any database's URL. ``env`` adds settings
    (``PAPERWIRE_*``) on top of this process's environment.
    """
    port = free_port()
    log = logdir / f"server-{workers}w-{port}.log"
    url = sqlite_url(database) if isinstance(database, Path) else database
    env = {**os.environ, "PAPERWIRE_DATABASE_URL": url, **(env or {})}
    command = [sys.executable, "-m", "paperwire", "serve", "--host", HOST, "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, by its id
        )
    server = Server(process, port, log)
    try:
        _wait_ready(server, workers)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: Server, workers: int, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchmarkFailed(f"the server exited at start:\n{server.log_tail()}")
        result = run_load(HOST, server.port, [("health", "/api/health")], None, timeout=2.0)
        if not result.errors_by_kind:
            # With several workers, give each a moment to start and answer.
            if workers > 1:
                time.sleep(2.0)
            return
        time.sleep(0.2)
    raise BenchmarkFailed(f"the server did not answer within {limit:.0f} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn's graceful stop), then SIGKILL to the server's own process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)  # a deadlocked server does not stop by itself
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # and any worker left behind
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
