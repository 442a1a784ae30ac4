"""Digests composed and sent per second, to a real local SMTP server.

A fresh database is built through the migrations and the real Hugging Face daily-papers
files of the three weeks before Friday 21 Aug 2026 are imported. ``--subscribers``
confirmed subscriptions are made through the library (double opt-in service): most
without topics (the period's trending papers), every third with categories and
organizations to match. Then, as the worker would at Friday 08:00 UTC:

- **compose**: :func:`paperwire.digests.outbox.fill` composes every due digest and
  queues it in the outbox (committed in batches);
- **send**: :func:`paperwire.digests.send.send` sends the outbox to an aiosmtpd server in
  this process (``tests/smtp_server.py``), one SMTP connection for the run, two commits
  per message (``sending`` before, ``sent`` after).

The run fails (exit 1) unless the server received exactly one message per queued row,
each with its own Message-ID.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import HF_DAILY, PROJECT_ROOT, BenchmarkFailed, Table, require_data, say
from paperwire.config import Settings
from paperwire.context import build_context
from paperwire.digests import subscriptions as service
from paperwire.digests.outbox import fill
from paperwire.digests.periods import period_for
from paperwire.digests.send import send
from paperwire.ingest.pipeline import import_paths
from paperwire.store import feed as feed_store
from paperwire.store.db import make_engine
from paperwire.store.migrate import upgrade

NAME = "digest"
HELP = "email digests composed and sent per second to a local SMTP server"
AT = datetime(2026, 8, 21, 8, 0, tzinfo=UTC)  # a Friday: the daily digest of 20 Aug 2026


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subscribers", type=int, default=1000, help="(default 1000)")
    parser.add_argument("--papers", type=int, default=10, help="papers per digest (default 10)")


def _smtp_server() -> Any:
    """``tests/smtp_server.py``: the same server the tests use."""
    tests = str(PROJECT_ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import smtp_server

    return smtp_server.SmtpServer()


def _import(settings: Settings) -> int:
    require_data(HF_DAILY)
    first = AT.date() - timedelta(days=21)
    files = [
        path
        for path in sorted(HF_DAILY.glob("*.json"))
        if first <= date.fromisoformat(path.stem) <= AT.date()
    ]
    engine = make_engine(settings)
    try:
        upgrade(engine)
        summary = import_paths(engine, files)
    finally:
        engine.dispose()
    if summary.errors:
        raise BenchmarkFailed(f"import errors: {summary.errors[:3]}")
    return len(files)


def _topics(settings: Settings) -> list[dict[str, list[str]]]:
    """Topic sets naming organizations featured in the period (HF papers carry no arXiv
    categories), two per set, plus one that matches nothing (an empty digest)."""
    period = period_for("daily", AT)
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            entries = feed_store.entries_between(conn, period.start, period.end)
    finally:
        engine.dispose()
    slugs = sorted({e.organization.slug for e in entries if e.organization is not None})
    if len(slugs) < 2:
        raise BenchmarkFailed(f"too few organizations featured in {period.key}")
    sets = [{"organizations": slugs[i : i + 2]} for i in range(0, len(slugs) - 1, 2)]
    return [*sets, {"organizations": ["no-such-organization"]}]


def _subscribe(settings: Settings, count: int) -> None:
    context = build_context(settings)
    made = AT - timedelta(days=7)
    topic_sets = _topics(settings)
    try:
        with context.engine.begin() as conn:
            for number in range(count):
                # every third subscriber has topics; the others get the trending digest
                topics = topic_sets[number // 3 % len(topic_sets)] if number % 3 == 2 else None
                pending = service.subscribe(
                    conn, settings, f"reader{number}@example.org", topics=topics, now=made
                )
                if pending is None:
                    raise BenchmarkFailed("a fresh address was refused")
                service.confirm(conn, pending.confirm_token, now=made)
    finally:
        context.close()


def run(args: argparse.Namespace) -> list[Table]:
    with tempfile.TemporaryDirectory(prefix="paperwire-digest-") as folder:
        database = Path(folder) / "digest.db"
        base = Settings(
            env="test",
            database_url=f"sqlite:///{database}",
            semantic=False,
            base_url="https://papers.example.org",
            digest_papers=args.papers,
        )
        say(f"importing three weeks of HF daily papers into {database}")
        days = _import(base)
        say(f"subscribing {args.subscribers} addresses")
        _subscribe(base, args.subscribers)
        with _smtp_server() as server:
            settings = base.model_copy(update=server.settings_update())
            context = build_context(settings)
            try:
                period = period_for("daily", AT)
                started = time.perf_counter()
                filled = fill(context, period, AT)
                compose_s = time.perf_counter() - started
                started = time.perf_counter()
                sent = send(context, AT)
                send_s = time.perf_counter() - started
            finally:
                context.close()
            received = [item.message["Message-ID"] for item in server.received]
    if sent.sent != filled.queued or len(received) != filled.queued:
        raise BenchmarkFailed(
            f"queued {filled.queued}, sent {sent.sent}, the server received {len(received)}"
        )
    if len(set(received)) != len(received):
        raise BenchmarkFailed("a Message-ID was received twice")
    table = Table(
        f"Digests: {args.subscribers} subscribers, {args.papers} papers each, "
        f"{period.key} ({days} HF days imported)",
        ["phase", "digests", "seconds", "per second", "ms each"],
    )
    table.add("compose + queue (fill)", filled.queued, compose_s, filled.queued / compose_s,
              1000 * compose_s / max(filled.queued, 1))  # fmt: skip
    table.add("send (SMTP, 1 connection)", sent.sent, send_s, sent.sent / send_s,
              1000 * send_s / max(sent.sent, 1))  # fmt: skip
    total = compose_s + send_s
    table.add("both", sent.sent, total, sent.sent / total, 1000 * total / max(sent.sent, 1))
    table.notes.append(
        f"empty digests (no paper matched the topics): {filled.empty}; "
        "SQLite, aiosmtpd in the same process"
    )
    return [table]
