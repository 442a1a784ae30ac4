"""The CLI, run as a user runs it: a real process over a real database (SQLite or
PostgreSQL, tests/databases.py)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from databases import NewDatabase, database_environment
from paperwire.cli import main
from paperwire.config import Settings


def run_cli(db: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **database_environment(db)}
    return subprocess.run(
        [sys.executable, "-m", "paperwire", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["import"],
        ["papers"],
        ["papers", "show"],
        ["feed"],
        ["index"],
        ["search"],
        ["user"],
        ["user", "create"],
        ["user", "set-role"],
        ["sync"],
        ["sync", "arxiv"],
        ["sync", "oai"],
        ["sync", "hf"],
        ["worker"],
        ["jobs"],
        ["jobs", "list"],
        ["jobs", "enqueue"],
        ["digest"],
        ["digest", "send"],
        ["digest", "preview"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_import_is_idempotent_and_reports_counts(
    tmp_path: Path, data_dir: Path, new_database: NewDatabase
) -> None:
    db = new_database()
    days = tmp_path / "days"
    days.mkdir()
    for day in ("2025-10-06.json", "2025-10-07.json"):
        (days / day).write_bytes((data_dir / "hf-daily-papers" / day).read_bytes())
    expected = sum(len(json.loads((days / d).read_text())) for d in os.listdir(days))
    first = run_cli(db, "import", str(days))
    assert first.returncode == 0, first.stderr
    assert f"feed entries {expected} new" in first.stderr
    second = run_cli(db, "import", str(days))
    assert second.returncode == 0, second.stderr
    assert "papers 0 new, 0 updated" in second.stderr
    assert f"feed entries 0 new, 0 updated, {expected} unchanged" in second.stderr

    shown = run_cli(db, "papers", "show", "arXiv:2510.00515v1")
    assert shown.returncode == 0, shown.stderr
    assert "Efficient Multi-modal Large Language Models" in shown.stdout
    listed = run_cli(db, "feed", "--date", "2025-10-06", "--json")
    assert len(json.loads(listed.stdout)) == len(json.loads((days / "2025-10-06.json").read_text()))


def test_a_broken_line_is_named_and_the_rest_imported(
    tmp_path: Path, data_dir: Path, new_database: NewDatabase
) -> None:
    source = data_dir / "arxiv-daily-listings" / "2025-10-06.jsonl.gz"
    lines = gzip.decompress(source.read_bytes()).decode().splitlines()
    lines[4] = lines[4][:50]  # truncate the 5th record
    broken = tmp_path / "2025-10-06.jsonl.gz"
    broken.write_bytes(gzip.compress("\n".join(lines).encode()))
    db = new_database()
    result = run_cli(db, "import", str(broken))
    assert result.returncode == 1
    assert f"{broken}:5:" in result.stderr
    ids = {json.loads(line)["id"] for n, line in enumerate(lines) if n != 4}
    assert f"papers {len(ids)} new" in result.stderr
    assert "1 skipped" in result.stderr


def test_cli_errors_are_clear(tmp_path: Path, new_database: NewDatabase) -> None:
    db = new_database()
    assert "run `paperwire db upgrade` first" in run_cli(db, "papers", "show", "1").stderr
    assert run_cli(db, "db", "upgrade").returncode == 0
    assert "no paper with id" in run_cli(db, "papers", "show", "2501.00001").stderr
    bad = run_cli(db, "feed", "--week", "2025-W99")
    assert bad.returncode == 2
    assert "not a week" in bad.stderr
    missing = run_cli(db, "import", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
