"""Kill -9 a real ``paperwire digest send`` over and over while it sends 2,000 digests.

A real SMTP server (aiosmtpd, a thread of this process) answers 3% of the messages with
a transient ``451``. Each sender process is killed at a random point: most of the time
a few messages after it began sending (so kills land between the server's reply to
``DATA`` and the ``sent`` commit, the window that makes duplicates), otherwise at a random
moment (while starting or composing). Then senders run to completion with ``--flush``
(deferred retries and crashed senders' rows at once). Every subscriber must have their
digest (by Message-ID): 0 lost; and duplicates are at most one per kill.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from databases import database_environment
from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.context import build_context
from paperwire.digests import subscriptions as service
from paperwire.digests.outbox import message_id
from paperwire.store import outbox as outbox_store
from paperwire.store.schema import outbox
from repo_paths import REPO_ROOT
from smtp_server import SmtpServer

SUBSCRIBERS = 2000
KILLS = 16
TRANSIENT_SHARE = 0.03
AT = "2026-08-21T08:00"  # Friday: the daily digest of Thu 20 Aug 2026 (in the archive)
PERIOD_KEY = "daily:2026-08-20"
BASE_URL = "https://papers.example.org"


class FlakyServer(SmtpServer):
    """Answers a random 3% of messages with a transient failure."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.random = random.Random(seed)
        self.transient = 0

    def _data(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> str:
        if self.random.random() < TRANSIENT_SHARE:
            self.transient += 1
            return "451 4.3.0 Try again later"
        return super()._data(mail_from, rcpt_tos, content)


def _subscribe_all(settings: Settings) -> list[int]:
    context = build_context(settings)
    made = utcnow() - timedelta(days=1)
    ids: list[int] = []
    try:
        with context.engine.begin() as conn:
            for number in range(SUBSCRIBERS):
                pending = service.subscribe(
                    conn, settings, f"reader{number}@example.org", hour_utc=7, now=made
                )
                assert pending is not None
                service.confirm(conn, pending.confirm_token, now=made)
                ids.append(pending.subscription_id)
    finally:
        context.close()
    return ids


def _env(settings: Settings, server: SmtpServer) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERWIRE_ENV": "test",
        **database_environment(settings),
        "PAPERWIRE_SEMANTIC": "false",
        "PAPERWIRE_BASE_URL": BASE_URL,
        "PAPERWIRE_SMTP_HOST": server.host,
        "PAPERWIRE_SMTP_PORT": str(server.port),
        "PAPERWIRE_SMTP_SECURITY": "none",
        "PAPERWIRE_SMTP_TIMEOUT_S": "5",
        "PAPERWIRE_DIGEST_PAPERS": "3",
        "PAPERWIRE_DIGEST_MAX_ATTEMPTS": "10",  # 3% failures never use up attempts
    }


def _start(env: dict[str, str], *flags: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "paperwire", "digest", "send", "--period", "daily"]
    return subprocess.Popen(
        [*command, "--now", AT, *flags],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _kill_at_random(
    process: subprocess.Popen[bytes], server: SmtpServer, rng: random.Random
) -> bool:
    """SIGKILL ``process`` at a random point; False if it finished first."""
    deadline = time.monotonic() + rng.uniform(0.3, 4.0)
    by_time = rng.random() < 0.3
    target = len(server.received) + rng.randint(1, 120)
    while process.poll() is None:
        if (by_time and time.monotonic() >= deadline) or (
            not by_time and len(server.received) >= target
        ):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.002)
    return False


def test_sender_killed_at_random_loses_nothing(hf_settings: Settings) -> None:
    rng = random.Random(20261126)
    ids = _subscribe_all(hf_settings)
    started = time.monotonic()
    with FlakyServer(seed=rng.randrange(1 << 30)) as server:
        env = _env(hf_settings, server)
        kills = runs = 0
        while kills < KILLS:
            runs += 1
            assert runs < KILLS * 3, "the sender kept finishing before it could be killed"
            if _kill_at_random(_start(env, "--flush"), server, rng):
                kills += 1
        # Run to completion: deferred retries and killed senders' rows, at once.
        settings = hf_settings.model_copy(update={"base_url": BASE_URL})
        context = build_context(settings)
        try:
            for _ in range(20):
                finished = _start(env, "--flush")
                output, _ = finished.communicate(timeout=120)
                assert finished.returncode == 0, output.decode()
                with context.engine.connect() as conn:
                    counts = outbox_store.status_counts(conn, PERIOD_KEY)
                if set(counts) == {"sent"}:
                    break
            with context.engine.connect() as conn:
                rows = conn.execute(select(outbox.c.message_id, outbox.c.status)).all()
        finally:
            context.close()
        received = [item.message["Message-ID"] for item in server.received]
        transient = server.transient

    expected = {message_id(settings, sid, PERIOD_KEY) for sid in ids}
    per_id = Counter(received)
    lost = expected - set(per_id)
    duplicates = sum(count - 1 for count in per_id.values())
    summary: dict[str, Any] = {
        "kills": kills,
        "runs": runs,
        "transient_replies": transient,
        "duplicates": duplicates,
        "seconds": round(time.monotonic() - started, 1),
    }
    assert len(rows) == SUBSCRIBERS
    assert {status for _, status in rows} == {"sent"}, summary
    assert lost == set(), summary
    assert set(per_id) == expected  # nothing sent that should not have been
    assert duplicates <= kills, summary
    assert transient > 0, summary  # the retries really happened
    print(summary)
