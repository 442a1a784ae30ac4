"""Filling the digest outbox over the real Hugging Face archive: who is due, once per
period (a weekly digest never twice for the same week), stable Message-IDs, suppressed
addresses skipped, and a dry run that writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.digests import subscriptions as service
from paperwire.digests.compose import UNSUBSCRIBE_PLACEHOLDER
from paperwire.digests.outbox import fill, message_id
from paperwire.digests.periods import period_for
from paperwire.store import outbox as outbox_store
from paperwire.store.schema import outbox

# Friday 21 Aug 2026, 08:00 UTC: the daily digest covers Thursday 20 Aug (in the archive).
FRIDAY = datetime(2026, 8, 21, 8, 0, tzinfo=UTC)
# Monday 17 Aug 2026: the weekly digest covers 10-16 Aug.
MONDAY = datetime(2026, 8, 17, 8, 0, tzinfo=UTC)


@pytest.fixture
def context(hf_settings: Settings) -> Iterator[Context]:
    context = build_context(hf_settings.model_copy(update={"digest_papers": 3}))
    yield context
    context.close()


def subscribe_active(
    context: Context,
    email: str,
    *,
    frequency: str = "daily",
    hour_utc: int = 7,
    topics: dict[str, list[str]] | None = None,
) -> int:
    """A confirmed subscription, made through the double opt-in service."""
    made = FRIDAY - timedelta(days=30)
    with context.engine.begin() as conn:
        pending = service.subscribe(
            conn,
            context.settings,
            email,
            frequency=frequency,
            hour_utc=hour_utc,
            topics=topics,
            now=made,
        )
        assert pending is not None
        service.confirm(conn, pending.confirm_token, now=made)
    return pending.subscription_id


def rows(context: Context) -> list[outbox_store.OutboxRow]:
    with context.engine.connect() as conn:
        ids = conn.execute(select(outbox.c.id).order_by(outbox.c.id)).scalars().all()
        found = [outbox_store.get_row(conn, row_id) for row_id in ids]
    return [row for row in found if row is not None]


def test_fill_queues_each_due_subscriber_once(context: Context) -> None:
    early = subscribe_active(context, "early@example.org", hour_utc=6)
    late = subscribe_active(context, "late@example.org", hour_utc=20)
    weekly = subscribe_active(context, "weekly@example.org", frequency="weekly")
    period = period_for("daily", FRIDAY)
    assert period.key == "daily:2026-08-20"

    report = fill(context, period, FRIDAY)
    assert (report.queued, report.not_due, report.already) == (1, 1, 0)
    (row,) = rows(context)
    assert (row.subscription_id, row.email, row.status) == (early, "early@example.org", "queued")
    assert row.message_id == f"<digest.daily.2026-08-20.{early}@127.0.0.1>"
    assert row.message_id == message_id(context.settings, early, period.key)
    assert row.next_attempt_at == FRIDAY
    assert "Aug 2026" in row.subject
    # the unsubscribe link is filled in at send time (its token is derived then)
    assert UNSUBSCRIBE_PLACEHOLDER in row.body_text
    assert "<html" in row.body_html.lower()

    # Again, and at 20:00 when the late subscriber is due too: one more row, not three.
    again = fill(context, period, FRIDAY.replace(hour=20))
    assert (again.queued, again.already) == (1, 1)
    assert sorted(row.subscription_id for row in rows(context)) == [early, late]
    assert weekly not in {row.subscription_id for row in rows(context)}


def test_weekly_digest_is_queued_once_per_week(context: Context) -> None:
    weekly = subscribe_active(context, "weekly@example.org", frequency="weekly", hour_utc=7)
    period = period_for("weekly", MONDAY)
    assert period.key == "weekly:2026-W33"
    assert fill(context, period, MONDAY).queued == 1
    # Every later run of the week (the worker looks every few minutes) queues nothing.
    for hours in (1, 30, 100, 150):
        later = MONDAY + timedelta(hours=hours)
        assert period_for("weekly", later).key == period.key
        assert fill(context, period_for("weekly", later), later).queued == 0
    with context.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outbox)).scalar_one() == 1
    # The next week is a new period.
    next_week = MONDAY + timedelta(days=7)
    assert fill(context, period_for("weekly", next_week), next_week).queued == 1
    keys = sorted(row.period_key for row in rows(context) if row.subscription_id == weekly)
    assert keys == ["weekly:2026-W33", "weekly:2026-W34"]


def test_suppressed_and_inactive_addresses_are_skipped(context: Context) -> None:
    subscribe_active(context, "ok@example.org")
    subscribe_active(context, "gone@example.org")
    with context.engine.begin() as conn:
        pending = service.subscribe(conn, context.settings, "pending@example.org", now=FRIDAY)
        assert pending is not None
        outbox_store.suppress(conn, "gone@example.org", "test bounce", FRIDAY)
    report = fill(context, period_for("daily", FRIDAY), FRIDAY)
    assert report.queued == 1
    assert [row.email for row in rows(context)] == ["ok@example.org"]


def test_topics_without_a_match_queue_nothing(context: Context) -> None:
    subscribe_active(context, "niche@example.org", topics={"keywords": ["zzqx unmatched phrase"]})
    report = fill(context, period_for("daily", FRIDAY), FRIDAY)
    assert (report.queued, report.empty) == (0, 1)
    assert rows(context) == []


def test_weekend_queues_no_daily_digest(context: Context) -> None:
    subscribe_active(context, "someone@example.org", hour_utc=0)
    saturday = FRIDAY + timedelta(days=1)
    report = fill(context, period_for("daily", saturday), saturday)
    assert (report.queued, report.not_due) == (0, 1)


def test_dry_run_composes_but_writes_nothing(context: Context) -> None:
    first = subscribe_active(context, "a@example.org")
    second = subscribe_active(context, "b@example.org")
    report = fill(context, period_for("daily", FRIDAY), FRIDAY, dry_run=True)
    assert report.queued == 0
    assert [item.subscription_id for item in report.planned] == [first, second]
    assert all(1 <= item.papers <= 3 for item in report.planned)
    assert rows(context) == []
