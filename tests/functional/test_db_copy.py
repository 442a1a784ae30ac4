"""``paperwire db copy`` over a deployment built through the real code paths: a slice of
the Hugging Face archive, accounts, sessions, tokens, votes, comments, organizations,
claims, subscriptions, outbox, suppressions, jobs, sync state and embeddings in a SQLite
file, copied into the test's own database (SQLite, or PostgreSQL when the suite runs
with ``PAPERWIRE_TEST_DATABASE_URL``) and compared row by row."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from account_support import log_in, me
from deployment_support import (
    Deployment,
    build_deployment,
    dump,
    first_author,
    sqlite_settings,
    without_instance_id,
)
from factories import make_user
from paperwire.cli import main
from paperwire.community import claims, comments, votes
from paperwire.config import Settings
from paperwire.jobs import queue
from paperwire.store import search_state
from paperwire.store import users as user_store
from paperwire.store.copy import (
    CopyError,
    CopyReport,
    check_urls,
    copy_between,
    copy_database,
    data_counts,
)
from paperwire.store.db import make_engine
from paperwire.store.migrate import upgrade
from paperwire.store.schema import comments as comments_table
from paperwire.store.schema import papers, site_state, users
from paperwire.web.app import create_app


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Deployment:
    """Built once per module: the tests only read it."""
    return build_deployment(tmp_path_factory.mktemp("copy-source") / "deployment.db", data_dir)


def instance_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return search_state.instance_id(conn)


def copy_into(source: Deployment, target: Settings, **options: Any) -> CopyReport:
    return copy_between(target, source.settings.database_url, target.database_url, **options)


def test_every_table_is_populated_by_the_source(source: Deployment) -> None:
    engine = make_engine(source.settings)
    try:
        rows = dump(engine)
    finally:
        engine.dispose()
    assert [name for name, found in rows.items() if not found] == []
    # sync_sources: name, cursor, ..., then "cursor IS NULL", "last_counts IS NULL"
    cursors = {row[0]: (row[1], row[-2]) for row in rows["sync_sources"]}
    assert cursors["arxiv"] == (None, True)  # SQL NULL
    assert cursors["hf"] == (None, False)  # JSON null
    assert cursors["oai"] == ({"token": "abc|1", "from": "2026-08-01"}, False)


def test_every_row_arrives_exactly(source: Deployment, settings: Settings, engine: Engine) -> None:
    own_instance = instance_id(engine)
    report = copy_into(source, settings)
    assert report.ok, report
    source_engine = make_engine(source.settings)
    try:
        expected = dump(source_engine)
    finally:
        source_engine.dispose()
    copied = dump(engine)
    assert without_instance_id(copied) == without_instance_id(expected)
    # the copy keeps its own identity, so the source's search index files are not reused
    assert instance_id(engine) == own_instance
    assert [(c.table, c.source) for c in report.tables] == [
        (name, len(rows)) for name, rows in expected.items()
    ]
    assert all(c.target == c.source for c in report.tables)
    assert report.rows == sum(len(rows) for rows in expected.values())


def test_the_app_runs_on_the_copy(source: Deployment, settings: Settings, engine: Engine) -> None:
    assert copy_into(source, settings).ok
    with TestClient(create_app(settings)) as client:
        assert log_in(client, "alice").status_code == 303
        assert me(client) == "alice"
        api = client.get("/api/me", headers={"Authorization": f"Bearer {source.api_token}"})
        assert api.status_code == 200
        assert api.json()["username"] == "alice"
    with engine.connect() as conn:
        largest_user = conn.execute(select(func.max(users.c.id))).scalar_one()
        largest_comment = conn.execute(select(func.max(comments_table.c.id))).scalar_one()
        alice = user_store.get_user_by_name(conn, "alice")
        paper_id = conn.execute(select(func.min(papers.c.id))).scalar_one()
    assert alice is not None
    # new rows take ids after the copied ones (PostgreSQL: the sequences were moved on)
    assert make_user(engine, "newcomer").id == largest_user + 1
    posted = comments.create(engine, settings, alice, paper_id, "After the move")
    assert posted.id == largest_comment + 1
    with engine.begin() as conn:
        job = queue.enqueue(conn, "index", {})
        claims_made = claims.claim(conn, alice, paper_id, first_author(conn, paper_id))
    assert job.id > 1
    assert claims_made.id > 1
    assert votes.upvote(engine, alice, paper_id).voted


def test_a_target_with_data_is_refused_and_left_alone(
    source: Deployment, settings: Settings, engine: Engine
) -> None:
    make_user(engine, "squatter")
    before = dump(engine)
    with pytest.raises(CopyError, match=r"already holds data: users \(1 rows\)"):
        copy_into(source, settings)
    assert dump(engine) == before


def test_a_source_behind_the_schema_is_refused(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    old = sqlite_settings(tmp_path / "old.db")
    old_engine = make_engine(old)
    upgrade(old_engine, "0005")
    old_engine.dispose()
    before = dump(engine)
    with pytest.raises(CopyError, match=r"at schema revision 0005.*run `paperwire db upgrade`"):
        copy_between(settings, old.database_url, settings.database_url)
    assert dump(engine) == before


def test_a_new_database_is_migrated_and_filled(
    source: Deployment, new_database: Callable[..., Settings]
) -> None:
    """An empty database (no tables yet) on the backend under test."""
    target = new_database()
    assert copy_into(source, target).ok
    engine, source_engine = make_engine(target), make_engine(source.settings)
    try:
        assert without_instance_id(dump(engine)) == without_instance_id(dump(source_engine))
    finally:
        engine.dispose()
        source_engine.dispose()


def data_counts_of(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return data_counts(conn)


def test_a_freshly_migrated_database_counts_as_empty(engine: Engine) -> None:
    """Only the tables the copy knows to be seeded hold rows after the migrations (a
    migration that seeds another table must teach the copy about it)."""
    assert data_counts_of(engine) == {}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(site_state)).scalar_one() > 0


def _install_trigger(engine: Engine, table: str, *, skip_rows: bool) -> None:
    """A trigger on the target that fails (or silently drops) every insert into ``table``."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            action = "RAISE(IGNORE)" if skip_rows else "RAISE(ABORT, 'refused by the test')"
            conn.exec_driver_sql(
                f"CREATE TRIGGER copy_test BEFORE INSERT ON {table} BEGIN SELECT {action}; END"
            )
            return
        body = "RETURN NULL;" if skip_rows else "RAISE EXCEPTION 'refused by the test';"
        conn.exec_driver_sql(
            "CREATE FUNCTION copy_test() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body} END $$"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER copy_test BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION copy_test()"
        )


def _drop_trigger(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER copy_test")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER copy_test ON {table}")
            conn.exec_driver_sql("DROP FUNCTION copy_test()")


def test_a_failure_midway_leaves_the_target_empty_and_a_rerun_succeeds(
    source: Deployment, settings: Settings, engine: Engine
) -> None:
    before = dump(engine)
    _install_trigger(engine, "comments", skip_rows=False)  # copied after papers and users
    with pytest.raises(CopyError, match=r"copying table comments failed.*refused by the test"):
        copy_into(source, settings)
    assert dump(engine) == before
    _drop_trigger(engine, "comments")
    assert copy_into(source, settings).ok
    assert len(dump(engine)[comments_table.name]) == 3


def test_an_interrupted_copy_leaves_the_target_empty(
    source: Deployment, settings: Settings, engine: Engine
) -> None:
    before = dump(engine)

    def start(table: str, _rows: int) -> Callable[[int], None]:
        def advance(_n: int) -> None:
            if table == "paper_authors":  # well into the copy: papers are in by now
                raise KeyboardInterrupt

        return advance

    with pytest.raises(KeyboardInterrupt):
        copy_into(source, settings, start=start, batch_rows=50)
    assert dump(engine) == before
    assert copy_into(source, settings).ok


def test_counts_that_differ_roll_back_and_fail_the_command(
    source: Deployment, settings: Settings, engine: Engine
) -> None:
    before = dump(engine)
    _install_trigger(engine, "suppressions", skip_rows=True)  # rows vanish silently
    result = CliRunner().invoke(
        main,
        ["db", "copy", "--from", source.settings.database_url, "--to", settings.database_url],
    )
    assert result.exit_code == 1, result.output
    assert "DIFFERS" in result.output
    assert "rolled back" in result.output
    assert dump(engine) == before


def test_the_source_is_read_as_one_snapshot_while_it_keeps_writing(
    source: Deployment, tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    live = sqlite_settings(tmp_path / "live.db")
    Path(make_url(live.database_url).database or "").write_bytes(
        Path(make_url(source.settings.database_url).database or "").read_bytes()
    )
    live_engine = make_engine(live)
    expected = dump(live_engine)
    writes = 0

    def start(table: str, _rows: int) -> Callable[[int], None]:
        nonlocal writes
        if table == "papers":  # the site goes on: a new member and a new vote
            writes += 1
            newcomer = make_user(live_engine, f"reader{writes}")
            votes.upvote(live_engine, newcomer, expected[papers.name][0][0])
        return lambda _n: None

    try:
        report = copy_database(live_engine, engine, start=start)
        assert writes == 1
        assert report.ok
        assert without_instance_id(dump(engine)) == without_instance_id(expected)
        assert len(dump(live_engine)[users.name]) == len(expected[users.name]) + 1
    finally:
        live_engine.dispose()


def test_copies_back_to_sqlite_with_every_value_intact(
    source: Deployment, tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    """Source -> the backend under test -> a new SQLite file. On PostgreSQL the copy's
    sessions run in a time zone that is not UTC: no stored instant may depend on it."""
    source_engine = make_engine(source.settings)
    try:
        expected = without_instance_id(dump(source_engine))
    finally:
        source_engine.dispose()
    target_url = settings.database_url
    if engine.dialect.name == "postgresql":
        not_utc = make_url(target_url).update_query_dict({"options": "-c timezone=Asia/Kolkata"})
        target_url = not_utc.render_as_string(hide_password=False)
    assert copy_between(settings, source.settings.database_url, target_url).ok
    assert without_instance_id(dump(engine)) == expected
    back = sqlite_settings(tmp_path / "back.db")
    assert copy_between(settings, target_url, back.database_url).ok
    back_engine = make_engine(back)
    try:
        assert without_instance_id(dump(back_engine)) == expected
    finally:
        back_engine.dispose()


def test_the_command_prints_the_count_by_table(
    source: Deployment, settings: Settings, engine: Engine
) -> None:
    result = CliRunner().invoke(
        main,
        ["db", "copy", "--from", source.settings.database_url, "--to", settings.database_url],
    )
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(papers)).scalar_one()
    assert count > 100
    lines = result.output.splitlines()
    assert any(line.split()[:4] == ["│", "papers", "│", str(count)] for line in lines), lines
    assert "rows/s" in result.output
    assert "paperwire index" in result.output


def test_search_works_on_the_copy_once_indexed(source: Deployment, settings: Settings) -> None:
    """The search indexes are derived, not copied: `paperwire index` builds the target's
    own (files beside a SQLite target, tables in PostgreSQL) from the copied store."""
    assert copy_into(source, settings).ok
    env = {"PAPERWIRE_DATABASE_URL": settings.database_url, "PAPERWIRE_SEMANTIC": "false"}
    if settings.index_dir is not None:
        env["PAPERWIRE_INDEX_DIR"] = str(settings.index_dir)
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            paper_id, title = conn.execute(
                select(papers.c.id, papers.c.title).order_by(papers.c.id).limit(1)
            ).one()
    finally:
        engine.dispose()
    indexed = CliRunner().invoke(main, ["index", "--keyword-only"], env=env)
    assert indexed.exit_code == 0, indexed.output
    assert f"keyword index: {stored} papers indexed" in indexed.output
    found = CliRunner().invoke(
        main, ["search", "--mode", "keyword", "--json", f'"{title}"'], env=env
    )
    assert found.exit_code == 0, found.output
    assert paper_id in found.output


def failing_copy(source_url: str, target_url: str) -> str:
    """Run the command expecting a refusal: exit status 1, a message, no traceback."""
    result = CliRunner().invoke(main, ["db", "copy", "--from", source_url, "--to", target_url])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


def test_clear_errors_without_tracebacks(source: Deployment, tmp_path: Path) -> None:
    database = make_url(source.settings.database_url).database
    assert database is not None
    relative = os.path.relpath(database)
    out = tmp_path / "out.db"
    assert "same database" in failing_copy(source.settings.database_url, f"sqlite:///{relative}")
    assert "not a supported database" in failing_copy(
        "mysql://root@localhost/paperwire", f"sqlite:///{out}"
    )
    assert "not a database URL" in failing_copy("paperwire.db", f"sqlite:///{out}")
    assert "psycopg" in failing_copy(source.settings.database_url, "postgresql+psycopg2://u@h/db")
    unreachable = f"postgresql+psycopg://paperwire@/paperwire?host={tmp_path / 'no-server'}"
    assert "cannot connect to the target database" in failing_copy(
        source.settings.database_url, unreachable
    )
    assert "there is no SQLite database" in failing_copy(
        f"sqlite:///{tmp_path / 'missing.db'}", f"sqlite:///{out}"
    )
    assert not (tmp_path / "missing.db").exists()


def test_urls_name_the_same_database_whatever_their_spelling(tmp_path: Path) -> None:
    (tmp_path / "a.db").write_bytes(b"")
    with pytest.raises(CopyError, match="same database"):
        check_urls(
            "postgresql+psycopg://u:secret@db.example.org/paperwire",
            "postgresql+psycopg://u@db.example.org:5432/paperwire",
        )
    assert check_urls(f"sqlite:///{tmp_path / 'a.db'}", "postgresql+psycopg://u@h/db")
