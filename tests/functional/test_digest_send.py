"""Sending digests to a real SMTP server (aiosmtpd): headers and parts, stable
Message-IDs, one-click unsubscribe headers, once per period, 4xx retried with backoff,
5xx bounced and suppressed, connection failures, the CLI and the worker job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from paperwire.cli_digest import digest
from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.digests import subscriptions as service
from paperwire.digests.compose import UNSUBSCRIBE_PLACEHOLDER
from paperwire.digests.outbox import fill
from paperwire.digests.periods import period_for
from paperwire.digests.send import fill_and_send, retry_delay, send
from paperwire.jobs import registry, schedule
from paperwire.store import outbox as outbox_store
from paperwire.store.schema import outbox, subscriptions, suppressions
from smtp_server import SmtpServer, free_port

FRIDAY = datetime(2026, 8, 21, 8, 0, tzinfo=UTC)  # daily digest of Thu 20 Aug 2026
MONDAY = datetime(2026, 8, 17, 8, 0, tzinfo=UTC)  # weekly digest of 10-16 Aug 2026
BASE_URL = "https://papers.example.org"


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_settings(hf_settings: Settings, server: SmtpServer) -> Settings:
    return hf_settings.model_copy(
        update={
            **server.settings_update(),
            "base_url": BASE_URL,
            "mail_from": "Paperwire <digest@papers.example.org>",
            "unsubscribe_mailto": "unsubscribe@papers.example.org",
            "digest_papers": 3,
        }
    )


@pytest.fixture
def context(mail_settings: Settings) -> Iterator[Context]:
    context = build_context(mail_settings)
    yield context
    context.close()


def subscribe_active(
    context: Context, email: str, *, frequency: str = "daily", hour_utc: int = 7
) -> int:
    made = FRIDAY - timedelta(days=30)
    with context.engine.begin() as conn:
        pending = service.subscribe(
            conn, context.settings, email, frequency=frequency, hour_utc=hour_utc, now=made
        )
        assert pending is not None
        service.confirm(conn, pending.confirm_token, now=made)
    return pending.subscription_id


def only_row(context: Context) -> outbox_store.OutboxRow:
    with context.engine.connect() as conn:
        (row_id,) = conn.execute(select(outbox.c.id)).scalars().all()
        row = outbox_store.get_row(conn, row_id)
    assert row is not None
    return row


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def test_digest_headers_and_parts(context: Context, server: SmtpServer) -> None:
    subscription_id = subscribe_active(context, "reader@example.org")
    report = fill_and_send(context, ["daily"], FRIDAY)
    assert report.counts()["queued"] == 1
    assert report.sending.sent == 1
    (received,) = server.received
    message = received.message
    assert received.rcpt_tos == ["reader@example.org"]
    assert received.mail_from == "digest@papers.example.org"
    assert message["From"] == "Paperwire <digest@papers.example.org>"
    assert message["To"] == "reader@example.org"
    assert message["Message-ID"] == (
        f"<digest.daily.2026-08-20.{subscription_id}@papers.example.org>"
    )
    assert "Aug 2026" in message["Subject"]
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["List-Id"] == "paperwire digest <digest.papers.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (part.strip() for part in message["List-Unsubscribe"].split(","))
    assert https.startswith(f"<{BASE_URL}/unsubscribe/")
    assert mailto == "<mailto:unsubscribe@papers.example.org?subject=unsubscribe>"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    text, html = parts(message)
    link = https.strip("<>")
    assert link in text
    assert link in html
    assert UNSUBSCRIBE_PLACEHOLDER not in text + html
    # the link's token is the subscription's: it unsubscribes this one
    with context.engine.connect() as conn:
        token = unquote(link.rpartition("/")[2])
        assert service.by_unsubscribe_token(conn, token).id == subscription_id
    row = only_row(context)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None
    assert row.message_id == message["Message-ID"]


def test_sending_again_mails_nobody_twice(context: Context, server: SmtpServer) -> None:
    subscribe_active(context, "weekly@example.org", frequency="weekly")
    for hours in (0, 1, 50):  # the worker looks again and again during the week
        fill_and_send(context, ["weekly"], MONDAY + timedelta(hours=hours))
    (message,) = server.messages
    assert message["Message-ID"].startswith("<digest.weekly.2026-W33.")
    assert only_row(context).status == "sent"


def test_transient_reply_is_retried_with_backoff(context: Context, server: SmtpServer) -> None:
    subscribe_active(context, "slow@example.org")
    fill(context, period_for("daily", FRIDAY), FRIDAY)
    server.fail_with("451 4.3.0 Try again later", times=2)

    first = send(context, FRIDAY)
    assert (first.sent, first.retried) == (0, 1)
    row = only_row(context)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.next_attempt_at == FRIDAY + retry_delay(1) == FRIDAY + timedelta(minutes=5)
    assert row.last_error is not None
    assert row.last_error.startswith("451")

    assert send(context, FRIDAY + timedelta(minutes=4)).retried == 0  # not due yet
    second_at = FRIDAY + timedelta(minutes=5)
    assert send(context, second_at).retried == 1
    row = only_row(context)
    assert row.attempts == 2
    assert row.next_attempt_at == second_at + timedelta(minutes=10)  # doubled

    third = send(context, second_at + timedelta(minutes=10))
    assert (third.sent, third.retried) == (1, 0)
    assert only_row(context).status == "sent"
    assert len(server.messages) == 1


def test_attempts_run_out(hf_settings: Settings, server: SmtpServer) -> None:
    settings = hf_settings.model_copy(
        update={**server.settings_update(), "digest_max_attempts": 2, "digest_papers": 3}
    )
    context = build_context(settings)
    try:
        subscribe_active(context, "never@example.org")
        fill(context, period_for("daily", FRIDAY), FRIDAY)
        server.fail_with("421 4.7.0 Busy")
        assert send(context, FRIDAY, flush=True).retried == 1
        assert send(context, FRIDAY, flush=True).failed == 1
        row = only_row(context)
        assert (row.status, row.attempts) == ("failed", 2)
        assert send(context, FRIDAY + timedelta(days=1), flush=True).failed == 0  # final
    finally:
        context.close()


def test_hard_bounce_suppresses_the_address(context: Context, server: SmtpServer) -> None:
    subscribe_active(context, "gone@example.org")
    other = subscribe_active(context, "gone@example.org", frequency="weekly")
    subscribe_active(context, "fine@example.org")
    fill(context, period_for("daily", FRIDAY), FRIDAY)
    server.fail_with("550 5.1.1 No such user", times=1)

    report = send(context, FRIDAY)
    assert (report.bounced, report.sent) == (1, 1)
    assert [m["To"] for m in server.messages] == ["fine@example.org"]
    with context.engine.connect() as conn:
        reason = conn.execute(
            select(suppressions.c.reason).where(suppressions.c.email == "gone@example.org")
        ).scalar_one()
        statuses = dict(
            conn.execute(
                select(subscriptions.c.id, subscriptions.c.status).where(
                    subscriptions.c.email == "gone@example.org"
                )
            ).all()
        )
        bounced = conn.execute(
            select(outbox.c.status, outbox.c.last_error).where(outbox.c.email == "gone@example.org")
        ).one()
    assert "550 5.1.1 No such user" in reason
    assert set(statuses.values()) == {"suppressed"}
    assert other in statuses
    assert bounced.status == "bounced"
    assert "550" in bounced.last_error

    # never mailed again: not next week, not next day, and subscribing again is a no-op
    next_monday = MONDAY + timedelta(days=7)
    fill_and_send(context, ["daily", "weekly"], next_monday)
    assert all(m["To"] != "gone@example.org" for m in server.messages)
    with context.engine.begin() as conn:
        assert service.subscribe(conn, context.settings, "gone@example.org") is None


def test_unreachable_server_defers_and_stops(hf_settings: Settings) -> None:
    closed = free_port()
    settings = hf_settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": closed, "smtp_security": "none"}
    )
    context = build_context(settings)
    try:
        subscribe_active(context, "a@example.org")
        subscribe_active(context, "b@example.org")
        fill(context, period_for("daily", FRIDAY), FRIDAY)
        report = send(context, FRIDAY)
        assert (report.retried, report.sent) == (1, 0)
        assert report.stopped is not None
        with context.engine.connect() as conn:
            attempts = conn.execute(select(outbox.c.attempts).order_by(outbox.c.id)).all()
        assert [row[0] for row in attempts] == [1, 0]  # the second was not even tried
    finally:
        context.close()


def test_unsubscribed_after_queueing_is_not_sent(context: Context, server: SmtpServer) -> None:
    subscription_id = subscribe_active(context, "changed-mind@example.org")
    fill(context, period_for("daily", FRIDAY), FRIDAY)
    with context.engine.begin() as conn:
        token = service.unsubscribe_token(context.settings, subscription_id)
        service.unsubscribe(conn, token, now=FRIDAY)
    report = send(context, FRIDAY)
    assert (report.sent, report.failed) == (0, 1)
    assert server.messages == []
    assert only_row(context).status == "failed"


def test_crashed_sending_row_is_sent_again_with_the_same_message_id(
    context: Context, server: SmtpServer
) -> None:
    subscribe_active(context, "twice@example.org")
    fill(context, period_for("daily", FRIDAY), FRIDAY)
    row = only_row(context)
    # a sender that claimed the row and died before recording anything
    with context.engine.begin() as conn:
        assert outbox_store.claim(conn, row, FRIDAY + timedelta(minutes=2))
    assert send(context, FRIDAY + timedelta(minutes=1)).sent == 0  # its lease holds
    assert send(context, FRIDAY + timedelta(minutes=2)).sent == 1
    (message,) = server.messages
    assert message["Message-ID"] == row.message_id
    assert only_row(context).attempts == 2


def test_cli_dry_run_then_send_and_preview(mail_settings: Settings, server: SmtpServer) -> None:
    context = build_context(mail_settings)
    try:
        subscribe_active(context, "cli@example.org")
    finally:
        context.close()
    runner = CliRunner()
    obj = {"settings": mail_settings}
    at = ["--now", "2026-08-21T08:00"]

    dry = runner.invoke(digest, ["send", "--period", "daily", "--dry-run", *at], obj=obj)
    assert dry.exit_code == 0, dry.output
    assert "cli@example.org" in dry.output
    assert "would queue 1" in dry.output
    assert server.messages == []

    sent = runner.invoke(digest, ["send", "--period", "daily", *at], obj=obj)
    assert sent.exit_code == 0, sent.output
    assert "daily:2026-08-20: queued 1, sent 1, retried 0, bounced 0, failed 0" in sent.output
    assert len(server.messages) == 1
    again = runner.invoke(digest, ["send", "--period", "daily", *at], obj=obj)
    assert "queued 0, sent 0" in again.output
    assert len(server.messages) == 1

    preview = runner.invoke(digest, ["preview", "--email", "CLI@example.org"], obj=obj)
    assert preview.exit_code == 0, preview.output
    assert "daily subscription" in preview.output
    unknown = runner.invoke(digest, ["preview", "--email", "nobody@example.org"], obj=obj)
    assert unknown.exit_code != 0
    assert "no active or pending subscription" in unknown.output


def test_worker_job_sends_the_outbox_and_is_scheduled(context: Context, server: SmtpServer) -> None:
    assert "send_digests" not in [job.kind for job in schedule.plan(context)]
    subscribe_active(context, "job@example.org")
    assert "send_digests" in [job.kind for job in schedule.plan(context)]
    fill(context, period_for("daily", FRIDAY), FRIDAY)
    result = registry.run(context, "send_digests", {"frequencies": "daily"}, lambda: None)
    assert result["sent"] == 1
    assert len(server.messages) == 1
    with pytest.raises(registry.BadJobArgs, match="not daily or weekly"):
        registry.normalize_args("send_digests", {"frequencies": "hourly"})


def test_a_row_whose_senders_keep_dying_fails_in_the_end(
    context: Context, server: SmtpServer
) -> None:
    subscribe_active(context, "poison@example.org")
    fill(context, period_for("daily", FRIDAY), FRIDAY)
    for _ in range(context.settings.digest_max_attempts):  # each sender died mid-way
        with context.engine.begin() as conn:
            assert outbox_store.claim(conn, only_row(context), FRIDAY)
    report = send(context, FRIDAY, flush=True)
    assert (report.sent, report.failed) == (0, 1)
    assert only_row(context).status == "failed"
    assert server.messages == []
