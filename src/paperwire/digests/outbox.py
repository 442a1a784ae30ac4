"""Filling the outbox: each due subscriber's digest, composed once per period.

:func:`fill` composes the digest of every active subscription that is due (its
frequency's sending day, its ``hour_utc`` reached, its address not suppressed) and has no
message for the period yet, and queues it: one ``outbox`` row per (subscription,
period), inserted with ``ON CONFLICT DO NOTHING``, so two fills at once, or a fill re-run
after a crash, never queue a second copy (a weekly digest is never queued twice for the
same week). Rows are committed in batches: a crash loses at most a batch of composing,
which the next run redoes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.context import Context
from paperwire.digests.compose import Digest, DigestPeriod, compose
from paperwire.digests.periods import is_due
from paperwire.store import outbox as store
from paperwire.store.subscriptions import Subscription, active_subscriptions

BATCH = 100

Composer = Callable[[Context, Subscription, DigestPeriod], Digest | None]


@dataclass(frozen=True, slots=True)
class Planned:
    """A message :func:`fill` queued (or, in a dry run, would queue)."""

    subscription_id: int
    email: str
    message_id: str
    subject: str
    text: str
    html: str
    papers: int


@dataclass(slots=True)
class FillReport:
    period_key: str
    queued: int = 0  # new outbox rows
    already: int = 0  # subscriptions that had their message for the period
    empty: int = 0  # no paper qualified: nothing to send (composed again next run)
    not_due: int = 0  # their hour has not come yet (or not a sending day)
    suppressed: int = 0
    compose_s: float = 0.0
    planned: list[Planned] = field(default_factory=list)


def mail_host(settings: Settings) -> str:
    """The domain of our Message-IDs: the site's host (it is ours, unlike a relay's)."""
    return urlsplit(settings.base_url).hostname or "localhost"


def message_id(settings: Settings, subscription_id: int, period_key: str) -> str:
    """Stable per subscription and period, so a re-sent message (after a crash) carries
    the same id and mail clients show one. ``:`` is not allowed in a Message-ID's left
    part (RFC 5322 dot-atom), hence the dots."""
    local = period_key.replace(":", ".")
    return f"<digest.{local}.{subscription_id}@{mail_host(settings)}>"


def fill(
    context: Context,
    period: DigestPeriod,
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    composer: Composer = compose,
) -> FillReport:
    """Compose and queue every due digest of ``period`` (see the module's note).

    ``dry_run`` composes and reports the messages without writing anything.
    """
    now = now or utcnow()
    report = FillReport(period.key)
    with context.engine.connect() as conn:
        subscriptions = active_subscriptions(conn, period.frequency)
        done = store.subscriptions_with_row(conn, period.key)
        blocked = store.suppressed(conn, [item.email for item in subscriptions])
    todo: list[Subscription] = []
    for subscription in subscriptions:
        if subscription.id in done:
            report.already += 1
        elif subscription.email.lower() in blocked:
            report.suppressed += 1
        elif not is_due(subscription, now, None):
            report.not_due += 1
        else:
            todo.append(subscription)
    for start in range(0, len(todo), BATCH):
        _fill_batch(context, period, now, todo[start : start + BATCH], report, dry_run, composer)
    return report


def _fill_batch(
    context: Context,
    period: DigestPeriod,
    now: datetime,
    batch: list[Subscription],
    report: FillReport,
    dry_run: bool,
    composer: Composer,
) -> None:
    settings = context.settings
    composed: list[Planned] = []
    started = utcnow()
    for subscription in batch:
        digest = composer(context, subscription, period)
        if digest is None:
            report.empty += 1
            continue
        composed.append(
            Planned(
                subscription.id,
                subscription.email,
                message_id(settings, subscription.id, period.key),
                digest.subject,
                digest.text,
                digest.html,
                len(digest.items),
            )
        )
    report.compose_s += (utcnow() - started).total_seconds()
    if dry_run:
        report.planned.extend(composed)
        return
    # Composing reads only; the batch's inserts then take the write lock briefly.
    with context.engine.begin() as conn:
        for item in composed:
            inserted = store.insert_row(
                conn,
                {
                    "subscription_id": item.subscription_id,
                    "period_key": period.key,
                    "email": item.email,
                    "message_id": item.message_id,
                    "subject": item.subject,
                    "body_text": item.text,
                    "body_html": item.html,
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                },
            )
            if inserted:
                report.queued += 1
                report.planned.append(item)
            else:  # another fill queued it meanwhile
                report.already += 1
