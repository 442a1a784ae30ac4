"""Subscriptions to email digests, and suppressed addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from paperwire.store.schema import subscriptions


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
