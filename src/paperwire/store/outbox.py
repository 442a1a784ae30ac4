"""The digest outbox: one row per subscription and period, and suppressed addresses.

A row moves ``queued`` -> ``sending`` (committed before the SMTP conversation) ->
``sent``; or back to ``queued`` with a later ``next_attempt_at`` after a transient
failure; or to ``failed`` (attempts used up) or ``bounced`` (a 5xx reply). A ``sending``
row whose ``next_attempt_at`` (its lease) has passed was left by a crashed sender and is
taken again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, update

from paperwire.clock import as_utc
from paperwire.store.schema import outbox, subscriptions, suppressions
from paperwire.store.sql import chunks, insert_ignoring_conflicts

PENDING = ("queued", "sending")  # not final: the sender still has work to do
FINAL = ("sent", "failed", "bounced")


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    subscription_id: int
    period_key: str
    email: str
    message_id: str
    subject: str
    body_text: str
    body_html: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _row(mapping: RowMapping) -> OutboxRow:
    values = {name: mapping[name] for name in OutboxRow.__slots__}
    for name in ("next_attempt_at", "created_at", "sent_at"):
        values[name] = as_utc(values[name])
    return OutboxRow(**values)


def insert_row(conn: Connection, values: dict[str, Any]) -> bool:
    """Queue one message; False when (subscription, period) already has one (it is
    composed once per period, so a re-run never queues a second copy)."""
    result = conn.execute(insert_ignoring_conflicts(conn, outbox).values(**values))
    return result.rowcount == 1


def subscriptions_with_row(conn: Connection, period_key: str) -> set[int]:
    """Subscriptions that already have their message for ``period_key`` (any status)."""
    rows = conn.execute(select(outbox.c.subscription_id).where(outbox.c.period_key == period_key))
    return {int(row[0]) for row in rows}


def get_row(conn: Connection, row_id: int) -> OutboxRow | None:
    found = conn.execute(select(outbox).where(outbox.c.id == row_id)).mappings().first()
    return _row(found) if found else None


def row_for(conn: Connection, subscription_id: int, period_key: str) -> OutboxRow | None:
    found = (
        conn.execute(
            select(outbox).where(
                outbox.c.subscription_id == subscription_id, outbox.c.period_key == period_key
            )
        )
        .mappings()
        .first()
    )
    return _row(found) if found else None


def due_rows(
    conn: Connection, now: datetime, *, limit: int, flush: bool = False, after_id: int = 0
) -> list[OutboxRow]:
    """Rows to send now, oldest due first; ``flush`` takes every pending row at once
    (deferred retries and crashed senders' leases alike)."""
    query = select(outbox).where(outbox.c.status.in_(PENDING), outbox.c.id > after_id)
    if not flush:
        query = query.where(outbox.c.next_attempt_at <= now)
    rows = conn.execute(query.order_by(outbox.c.id).limit(limit)).mappings()
    return [_row(row) for row in rows]


def claim(conn: Connection, row: OutboxRow, lease_until: datetime) -> bool:
    """Mark ``row`` ``sending`` (one more attempt) if nobody changed it since it was read.

    The conditions on status and attempts make two senders running at once (the worker
    and a hand-run ``paperwire digest send``) take a row one at a time, never both.
    """
    result = conn.execute(
        update(outbox)
        .where(
            outbox.c.id == row.id,
            outbox.c.status == row.status,
            outbox.c.attempts == row.attempts,
        )
        .values(status="sending", attempts=row.attempts + 1, next_attempt_at=lease_until)
    )
    return result.rowcount == 1


def mark_sent(conn: Connection, row_id: int, now: datetime) -> None:
    conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(status="sent", sent_at=now, last_error=None)
    )


def defer(conn: Connection, row_id: int, error: str, next_attempt_at: datetime) -> None:
    conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(status="queued", last_error=error[:2000], next_attempt_at=next_attempt_at)
    )


def mark_final(conn: Connection, row_id: int, status: str, error: str) -> None:
    if status not in FINAL:
        raise ValueError(f"not a final outbox status: {status}")
    conn.execute(
        update(outbox).where(outbox.c.id == row_id).values(status=status, last_error=error[:2000])
    )


def status_counts(conn: Connection, period_key: str | None = None) -> dict[str, int]:
    query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
    if period_key is not None:
        query = query.where(outbox.c.period_key == period_key)
    return {str(status): int(count) for status, count in conn.execute(query)}


# --- suppressions --------------------------------------------------------------------------


def suppressed(conn: Connection, emails: Sequence[str]) -> set[str]:
    """Which of ``emails`` (lowercased) may never be mailed again."""
    found: set[str] = set()
    for part in chunks(sorted({email.lower() for email in emails}), 500):
        rows = conn.execute(select(suppressions.c.email).where(suppressions.c.email.in_(part)))
        found.update(str(row[0]) for row in rows)
    return found


def suppress(conn: Connection, email: str, reason: str, now: datetime) -> int:
    """Never mail ``email`` again: record it, suppress its subscriptions and drop its
    pending messages (marked ``bounced``). Returns how many subscriptions it had active."""
    email = email.lower()
    conn.execute(
        insert_ignoring_conflicts(conn, suppressions).values(
            email=email, reason=reason[:2000], created_at=now
        )
    )
    changed = conn.execute(
        update(subscriptions)
        .where(subscriptions.c.email == email, subscriptions.c.status == "active")
        .values(status="suppressed")
    ).rowcount
    conn.execute(
        update(outbox)
        .where(outbox.c.email == email, outbox.c.status.in_(PENDING))
        .values(status="bounced", last_error=f"address suppressed: {reason}"[:2000])
    )
    return int(changed)


def has_work(conn: Connection) -> bool:
    """Whether the digest job has anything to look at: an active subscription (its
    digest may be due) or a message not yet sent."""
    active = conn.execute(
        select(subscriptions.c.id).where(subscriptions.c.status == "active").limit(1)
    ).first()
    if active is not None:
        return True
    return (
        conn.execute(select(outbox.c.id).where(outbox.c.status.in_(PENDING)).limit(1)).first()
        is not None
    )
