"""Subscriptions to email digests, and suppressed addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from paperwire.clock import as_utc
from paperwire.store.schema import subscriptions, suppressions


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    email: str
    user_id: int | None
    frequency: str  # "daily" (weekdays) or "weekly"
    hour_utc: int
    topics: dict[str, Any]  # categories, organizations, keywords, searches: lists of str
    status: str  # "pending", "active", "unsubscribed", "suppressed"
    created_at: datetime
    confirmed_at: datetime | None = None

    @property
    def has_topics(self) -> bool:
        return any(self.topics.get(name) for name in TOPIC_KINDS)


TOPIC_KINDS = ("categories", "organizations", "keywords", "searches")

COLUMNS = (
    subscriptions.c.id,
    subscriptions.c.email,
    subscriptions.c.user_id,
    subscriptions.c.frequency,
    subscriptions.c.hour_utc,
    subscriptions.c.topics,
    subscriptions.c.status,
    subscriptions.c.created_at,
    subscriptions.c.confirmed_at,
)


def subscription_from_row(row: RowMapping) -> Subscription:
    return Subscription(**{name: row[name] for name in Subscription.__slots__})


def get_subscription(conn: Connection, subscription_id: int) -> Subscription | None:
    row = (
        conn.execute(select(*COLUMNS).where(subscriptions.c.id == subscription_id))
        .mappings()
        .first()
    )
    return subscription_from_row(row) if row else None


def active_subscriptions(conn: Connection, frequency: str) -> list[Subscription]:
    rows = conn.execute(
        select(*COLUMNS)
        .where(subscriptions.c.status == "active", subscriptions.c.frequency == frequency)
        .order_by(subscriptions.c.id)
    ).mappings()
    return [subscription_from_row(row) for row in rows]


# Statuses a member still sees (and can edit) in their settings.
LIVE_STATUSES = ("pending", "active")


def insert_subscription(
    conn: Connection,
    *,
    email: str,
    user_id: int | None,
    frequency: str,
    hour_utc: int,
    topics: dict[str, list[str]],
    confirm_token_hash: str,
    confirm_expires_at: datetime,
    unsubscribe_token_hash: str,
    now: datetime,
) -> int:
    """A new pending subscription; its id."""
    result = conn.execute(
        insert(subscriptions).values(
            email=email,
            user_id=user_id,
            frequency=frequency,
            hour_utc=hour_utc,
            topics=topics,
            status="pending",
            confirm_token_hash=confirm_token_hash,
            confirm_expires_at=confirm_expires_at,
            unsubscribe_token_hash=unsubscribe_token_hash,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def set_unsubscribe_token_hash(conn: Connection, subscription_id: int, hashed: str) -> None:
    conn.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(unsubscribe_token_hash=hashed)
    )


def unsubscribe_token_hash_of(conn: Connection, subscription_id: int) -> str | None:
    return conn.execute(
        select(subscriptions.c.unsubscribe_token_hash).where(subscriptions.c.id == subscription_id)
    ).scalar_one_or_none()


def delete_stale_pending(conn: Connection, email: str, now: datetime) -> int:
    """Forget never-confirmed subscriptions of ``email`` whose link has expired."""
    result = conn.execute(
        delete(subscriptions).where(
            subscriptions.c.email == email,
            subscriptions.c.status == "pending",
            subscriptions.c.confirm_expires_at <= now,
        )
    )
    return result.rowcount or 0


def by_confirm_hash(conn: Connection, hashed: str) -> tuple[Subscription, datetime | None] | None:
    """The subscription a confirm token is for, and when that token expires."""
    row = (
        conn.execute(
            select(*COLUMNS, subscriptions.c.confirm_expires_at).where(
                subscriptions.c.confirm_token_hash == hashed
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return subscription_from_row(row), as_utc(row["confirm_expires_at"])


def activate(conn: Connection, subscription_id: int, now: datetime) -> None:
    """Confirmed: active from now on; the confirm token is spent (cleared)."""
    conn.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(
            status="active",
            confirmed_at=now,
            confirm_token_hash=None,
            confirm_expires_at=None,
        )
    )


def by_unsubscribe_hash(conn: Connection, hashed: str) -> Subscription | None:
    row = (
        conn.execute(select(*COLUMNS).where(subscriptions.c.unsubscribe_token_hash == hashed))
        .mappings()
        .first()
    )
    return subscription_from_row(row) if row else None


def mark_unsubscribed(conn: Connection, subscription_ids: list[int], now: datetime) -> int:
    """End these subscriptions (pending or active ones; others are left as they are)."""
    if not subscription_ids:
        return 0
    result = conn.execute(
        update(subscriptions)
        .where(
            subscriptions.c.id.in_(subscription_ids),
            subscriptions.c.status.in_(LIVE_STATUSES),
        )
        .values(
            status="unsubscribed",
            unsubscribed_at=now,
            confirm_token_hash=None,
            confirm_expires_at=None,
        )
    )
    return result.rowcount or 0


def live_ids_of_email(conn: Connection, email: str) -> list[int]:
    return list(
        conn.execute(
            select(subscriptions.c.id).where(
                subscriptions.c.email == email, subscriptions.c.status.in_(LIVE_STATUSES)
            )
        ).scalars()
    )


def user_subscriptions(conn: Connection, user_id: int) -> list[Subscription]:
    """A member's pending and active subscriptions, oldest first."""
    rows = conn.execute(
        select(*COLUMNS)
        .where(subscriptions.c.user_id == user_id, subscriptions.c.status.in_(LIVE_STATUSES))
        .order_by(subscriptions.c.id)
    ).mappings()
    return [subscription_from_row(row) for row in rows]


def update_subscription(
    conn: Connection,
    subscription_id: int,
    *,
    frequency: str,
    hour_utc: int,
    topics: dict[str, list[str]],
) -> None:
    conn.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(frequency=frequency, hour_utc=hour_utc, topics=topics)
    )


def is_suppressed(conn: Connection, email: str) -> bool:
    found = conn.execute(select(suppressions.c.email).where(suppressions.c.email == email)).first()
    return found is not None
