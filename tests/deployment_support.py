"""A deployment built through the real code paths, for the ``paperwire db copy`` tests:
a slice of the Hugging Face archive, accounts, sessions, API tokens, password resets,
votes, comments (a reply, a hidden one, a deleted one), organizations, claims,
subscriptions, outbox rows, suppressions, jobs, sync state and embeddings; and every
row of a database in a form that compares across backends."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Engine, select

from factories import api_token, make_user
from paperwire.accounts import service as accounts
from paperwire.clock import as_utc
from paperwire.community import claims, comments, votes
from paperwire.community.organizations import create_organization, join
from paperwire.config import Settings
from paperwire.digests import subscriptions as digest_subscriptions
from paperwire.digests.outbox import message_id
from paperwire.ingest.pipeline import import_paths
from paperwire.jobs import queue
from paperwire.models import Role
from paperwire.store import outbox as outbox_store
from paperwire.store import search_state, sync_state
from paperwire.store.db import make_engine
from paperwire.store.migrate import upgrade
from paperwire.store.schema import embedding_queue, metadata, papers, site_state

Rows = dict[str, list[tuple[Any, ...]]]

HF_FILES = 12  # days of the archive: a few hundred papers, authors, links, organizations
NOW = datetime(2026, 8, 21, 8, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Deployment:
    settings: Settings
    api_token: str  # alice's, as created


def sqlite_settings(path: Path) -> Settings:
    return Settings(env="test", database_url=f"sqlite:///{path}", semantic=False)


def _community(engine: Engine, settings: Settings, paper_ids: list[str]) -> str:
    """Every kind of row a running community writes; returns alice's API token."""
    admin = make_user(engine, "Ada", Role.ADMIN)
    curator = make_user(engine, "Cyril", Role.CURATOR)
    alice, bob = make_user(engine, "alice"), make_user(engine, "bob")
    token = api_token(engine, alice)
    with engine.begin() as conn:
        accounts.set_display_name(conn, alice, "Alice Ångström 🚀")
        accounts.start_session(conn, alice, days=3)
        accounts.start_session(conn, bob, days=1)
        accounts.request_password_reset(conn, "bob@example.org", minutes=30)
        create_organization(conn, admin, slug="copy-lab", name="Copy Lab")
        join(conn, alice, "copy-lab")
        join(conn, bob, "copy-lab")
    assert accounts.api_token_user(engine, token) is not None  # sets last_used_at
    for user in (alice, bob):
        for paper_id in paper_ids[:5]:
            votes.upvote(engine, user, paper_id)
    first = comments.create(engine, settings, alice, paper_ids[0], "A *first* look", ip="10.0.0.1")
    reply = comments.create(
        engine, settings, bob, paper_ids[0], "Agreed: `code`", parent_id=first.id, ip="10.0.0.2"
    )
    comments.create(engine, settings, bob, paper_ids[1], "Off topic", ip="10.0.0.2")
    comments.set_hidden(engine, curator, reply.id, hidden=True)
    comments.delete(engine, alice, first.id)
    with engine.begin() as conn:
        author = first_author(conn, paper_ids[2])
        verified = claims.claim(conn, alice, paper_ids[2], author)
        claims.verify(conn, curator, verified.id)
        rejected = claims.claim(conn, bob, paper_ids[2], author)
        claims.reject(conn, curator, rejected.id)
        claims.claim(conn, bob, paper_ids[3], first_author(conn, paper_ids[3]))  # pending
    _digests(engine, settings, alice)
    _jobs_and_sync(engine)
    _embeddings(engine, paper_ids[:7])
    return token


def _digests(engine: Engine, settings: Settings, member: Any) -> None:
    made = NOW - timedelta(days=30)
    with engine.begin() as conn:
        active = digest_subscriptions.subscribe(
            conn,
            settings,
            "reader@example.org",
            topics={"categories": ["cs.CL"], "organizations": ["copy-lab"]},
            now=made,
        )
        assert active is not None
        digest_subscriptions.confirm(conn, active.confirm_token, now=made)
        digest_subscriptions.subscribe(
            conn, settings, "pending@example.org", frequency="weekly", user=member, now=made
        )
        sent = digest_subscriptions.subscribe(conn, settings, "bounced@example.org", now=made)
        assert sent is not None
        digest_subscriptions.confirm(conn, sent.confirm_token, now=made)
        for subscription_id, email, period in (
            (active.subscription_id, "reader@example.org", "daily:2026-08-20"),
            (sent.subscription_id, "bounced@example.org", "daily:2026-08-20"),
            (active.subscription_id, "reader@example.org", "daily:2026-08-19"),
        ):
            assert outbox_store.insert_row(
                conn,
                {
                    "subscription_id": subscription_id,
                    "period_key": period,
                    "email": email,
                    "message_id": message_id(settings, subscription_id, period),
                    "subject": f"paperwire digest {period} — ünïcode",
                    "body_text": "text\n",
                    "body_html": "<p>html</p>",
                    "next_attempt_at": NOW,
                    "created_at": NOW,
                },
            )
        first = outbox_store.row_for(conn, active.subscription_id, "daily:2026-08-19")
        assert first is not None
        outbox_store.mark_sent(conn, first.id, NOW + timedelta(minutes=1))
        outbox_store.suppress(conn, "bounced@example.org", "550 5.1.1 no such user", NOW)


def _jobs_and_sync(engine: Engine) -> None:
    with engine.begin() as conn:
        queue.enqueue(conn, "sync_hf", {"days": 2}, unique_key="sync_hf", now=NOW)
        queue.enqueue(conn, "index", {}, now=NOW)
    done = queue.claim(engine, "worker-1", 60, kinds=["index"], now=NOW)
    assert done is not None
    queue.complete(engine, done.id, "worker-1", {"indexed": 3, "ratio": 0.25}, now=NOW)
    with engine.begin() as conn:
        sync_state.run_started(conn, "arxiv", NOW)  # cursor stays SQL NULL
        sync_state.run_finished(conn, "arxiv", NOW, counts={"fetched": 3}, error=None)
        sync_state.save_cursor(conn, "hf", None)  # JSON null, not SQL NULL
        sync_state.save_cursor(conn, "oai", {"token": "abc|1", "from": "2026-08-01"})
        sync_state.run_finished(conn, "oai", NOW, counts={}, error="HTTP 503\nretry later")


def _embeddings(engine: Engine, paper_ids: list[str]) -> None:
    """Stored vectors (float16 bytes), as `paperwire index` writes them."""
    with engine.begin() as conn:
        vectors = {pid: secrets.token_bytes(2 * 384) for pid in paper_ids}
        search_state.save_embeddings(conn, "copy-test-model", vectors)
        search_state.done(conn, embedding_queue, paper_ids)


def first_author(conn: Connection, paper_id: str) -> str:
    authors = conn.execute(select(papers.c.authors).where(papers.c.id == paper_id)).scalar_one()
    return str(authors[0])


def build_deployment(path: Path, data_dir: Path) -> Deployment:
    """A populated SQLite deployment: the HF slice imported, then the community's rows."""
    settings = sqlite_settings(path)
    engine = make_engine(settings)
    upgrade(engine)
    days = sorted((data_dir / "hf-daily-papers").glob("*.json"))[-HF_FILES:]
    assert import_paths(engine, days).errors == []
    with engine.connect() as conn:
        paper_ids = list(conn.execute(select(papers.c.id).order_by(papers.c.id)).scalars())
    token = _community(engine, settings, paper_ids)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return Deployment(settings, token)


def dump(engine: Engine) -> Rows:
    """Every row of every table, sorted by primary key (here, not in SQL: collations
    differ between backends), as comparable values: datetimes as aware UTC (SQLite hands
    back naive ones), and whether each nullable JSON value is SQL NULL (JSON's ``null``
    reads as None too)."""
    found: Rows = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = list(table.columns)
            probes = [c.is_(None) for c in columns if isinstance(c.type, JSON) and c.nullable]
            key = [columns.index(c) for c in table.primary_key.columns]
            rows = [
                tuple(
                    as_utc(value) if isinstance(column.type, DateTime) else value
                    for column, value in zip(columns, row[: len(columns)], strict=True)
                )
                + tuple(bool(flag) for flag in row[len(columns) :])
                for row in conn.execute(select(*columns, *probes))
            ]
            found[table.name] = sorted(rows, key=lambda row: [row[i] for i in key])
    return found


def without_instance_id(rows: Rows) -> Rows:
    """All but the instance id, which the copy leaves to the target (see store/copy.py)."""
    state = [row for row in rows[site_state.name] if row[0] != search_state.INSTANCE_ID]
    return {**rows, site_state.name: state}
