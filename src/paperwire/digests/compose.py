"""Composing one subscriber's digest for one period (being written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from paperwire.context import Context
from paperwire.models import Paper
from paperwire.store.subscriptions import Subscription


@dataclass(frozen=True, slots=True)
class DigestPeriod:
    frequency: str  # "daily" or "weekly"
    key: str  # "daily:2026-11-26" or "weekly:2026-W48": one digest per subscription and key
    start: date  # the featured days it covers, inclusive
    end: date


@dataclass(slots=True)
class DigestItem:
    paper: Paper
    upvotes: int
    reasons: list[str] = field(default_factory=list)  # why it matched the topics


@dataclass(slots=True)
class Digest:
    subject: str
    text: str  # the plain-text part
    html: str  # the HTML part
    items: list[DigestItem]


def compose(context: Context, subscription: Subscription, period: DigestPeriod) -> Digest | None:
    """The digest of ``period`` for ``subscription``; None when no paper qualifies."""
    raise NotImplementedError
