"""The README's promises: its two set-up commands exist and work, its CLI and API exist."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time

import httpx
import pytest
from click.testing import CliRunner

from databases import NewDatabase, database_environment
from paperwire.cli import main
from paperwire.config import Settings
from paperwire.store.db import make_engine
from paperwire.store.migrate import is_up_to_date
from paperwire.web.app import create_app
from repo_paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_set_up_is_exactly_make_run_and_make_test() -> None:
    setup = README.split("## Set up", 1)[1]
    first_block = re.search(r"```sh\n(.*?)```", setup, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block[1].splitlines()]
    assert [c for c in commands if c] == ["make run", "make test"]
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


@pytest.mark.parametrize("target", ["run", "test"])
def test_make_targets_exist(target: str) -> None:
    result = subprocess.run(
        ["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_make_run_serves_paperwire(new_database: NewDatabase) -> None:
    port = free_port()
    database = new_database()
    env = {**os.environ, **database_environment(database), "PAPERWIRE_PORT": str(port)}
    server = subprocess.Popen(
        ["make", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
            assert server.poll() is None, "make run exited before serving"
        else:
            pytest.fail("make run did not serve /api/health within 180 s")
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert home.status_code == 200
        assert "<h1>" in home.text
        engine = make_engine(database)
        assert is_up_to_date(engine)  # `make run` migrated the database it was given
        engine.dispose()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_every_cli_command_in_the_readme_exists() -> None:
    commands = re.findall(r"^\| `paperwire ([a-z ]+?)(?: [A-Z\[-].*?)?` \|", README, re.M)
    assert len(commands) >= 5
    for command in commands:
        result = CliRunner().invoke(main, [*command.split(), "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_every_api_route_in_the_readme_exists(settings: Settings) -> None:
    app = create_app(settings)
    patterns = [
        re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")
        for path in app.openapi()["paths"]
    ]
    documented = re.findall(r"`GET (/[^ ?`]+)", README)
    assert len(documented) >= 6
    for path in documented:
        concrete = re.sub(r"\{\w+\}", "x", path)
        assert any(p.match(concrete) for p in patterns), path
