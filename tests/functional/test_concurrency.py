"""A burst of concurrent requests against a real server must all be answered."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from databases import database_environment
from paperwire.config import Settings


def test_a_burst_of_uncached_requests_is_answered_in_full(
    hf_settings: Settings, tmp_path: Path
) -> None:
    """More requests in flight than the thread pool has threads (fastapi#3205 deadlock)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, **database_environment(hf_settings)}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "paperwire", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail((tmp_path / "server.log").read_text())
                time.sleep(0.2)
        days = [f"2025-{m:02d}-{d:02d}" for m in (9, 10, 11) for d in range(1, 29)]
        urls = [f"{base}/papers/date/{day}" for day in days[:84] * 3]
        with ThreadPoolExecutor(max_workers=250) as pool:
            statuses = list(pool.map(lambda url: httpx.get(url, timeout=60).status_code, urls))
        assert len(statuses) == 252
        assert all(status in (200, 404) for status in statuses), statuses
        assert statuses.count(200) > 120
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
