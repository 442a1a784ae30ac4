"""Subscribing to digests (double opt-in), managing and unsubscribing (RFC 8058).

A subscription starts ``pending``: the confirm mail carries a random token (stored as
its SHA-256) that expires after ``digest_confirm_hours``; confirming makes it ``active``.
Nothing here tells whether an address already has subscriptions: the caller answers the
same either way, and a suppressed address just gets no mail.

The unsubscribe token is **derived**, not random: ``HMAC(secret_key, "unsubscribe:<id>")``
(:func:`unsubscribe_token`). Its SHA-256 is stored when the subscription is made, so the
one-click link is looked up like every other token, and the digest sender can rebuild the
token for each message without any token being stored in clear. Changing ``secret_key``
changes the tokens: :func:`current_unsubscribe_token` (what the sender should call) then
stores the new hash, so new mails carry working links; links in older mails stop working
(as every session and CSRF token does when the key changes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from sqlalchemy import Connection

from paperwire.accounts.secrets import new_token, sign, token_hash
from paperwire.accounts.service import check_email
from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.errors import NotFound, UserError
from paperwire.models import User
from paperwire.store import subscriptions as store
from paperwire.store.subscriptions import TOPIC_KINDS, Subscription

FREQUENCIES = ("daily", "weekly")
DEFAULT_HOUR = 7

_CATEGORY = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?")  # cs.CL, hep-th, q-bio.NC
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")  # as organizations' slugs
# (most items, longest item) per topic kind: a digest is a short mail, not a search engine
TOPIC_LIMITS = {
    "categories": (30, 40),
    "organizations": (30, 100),
    "keywords": (20, 100),
    "searches": (10, 200),
}

CONFIRM_INVALID = (
    "This confirmation link is not valid: it was already used, or it is mistyped. "
    "Subscribe again to get a new one."
)
CONFIRM_EXPIRED = "This confirmation link has expired. Subscribe again to get a new one."
UNSUBSCRIBE_INVALID = "This unsubscribe link is not valid (mistyped, or from an older mail)."


@dataclass(frozen=True, slots=True)
class PendingConfirmation:
    """What the caller mails after answering: the link is in ``confirm_token``."""

    subscription_id: int
    email: str
    confirm_token: str


# --- checking what was asked for ---


def check_frequency(frequency: str) -> str:
    frequency = frequency.strip().lower()
    if frequency not in FREQUENCIES:
        raise UserError("The frequency is daily (weekdays) or weekly.")
    return frequency


def check_hour(hour_utc: int) -> int:
    if not 0 <= hour_utc <= 23:
        raise UserError("The hour is a whole hour from 0 to 23 (UTC).")
    return hour_utc


def check_topics(raw: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
    """Topics with every kind present, items trimmed, deduplicated (in order) and checked."""
    raw = raw or {}
    unknown = sorted(set(raw) - set(TOPIC_KINDS))
    if unknown:
        raise UserError(
            f"Unknown topic kinds: {', '.join(unknown)} (use {', '.join(TOPIC_KINDS)})."
        )
    topics: dict[str, list[str]] = {}
    for kind in TOPIC_KINDS:
        most, longest = TOPIC_LIMITS[kind]
        items: list[str] = []
        for item in raw.get(kind) or ():
            item = " ".join(str(item).split())
            if kind == "organizations":  # slugs are lowercase; categories keep case (cs.CL)
                item = item.lower()
            if not item or item in items:
                continue
            if len(item) > longest:
                raise UserError(f"A {kind[:-1]} has at most {longest} characters: {item[:40]!r}…")
            if kind == "categories" and not _CATEGORY.fullmatch(item):
                raise UserError(f"{item!r} is not an arXiv category, like cs.CL or hep-th.")
            if kind == "organizations" and not _SLUG.fullmatch(item):
                raise UserError(f"{item!r} is not an organization's slug, like allenai.")
            items.append(item)
        if len(items) > most:
            raise UserError(f"At most {most} {kind} per subscription.")
        topics[kind] = items
    return topics


def split_topic_text(kind: str, text: str) -> list[str]:
    """A form field's items: categories and organizations by commas or spaces; keywords
    and searches one per line (a search query holds spaces and commas of its own)."""
    if kind in ("categories", "organizations"):
        return [item for item in re.split(r"[\s,]+", text) if item]
    return [line for line in text.splitlines() if line.strip()]


# --- subscribing and confirming ---


def subscribe(
    conn: Connection,
    settings: Settings,
    email: str,
    *,
    frequency: str = "daily",
    hour_utc: int = DEFAULT_HOUR,
    topics: Mapping[str, Iterable[str]] | None = None,
    user: User | None = None,
    now: datetime | None = None,
) -> PendingConfirmation | None:
    """A new pending subscription; what to mail, or None when the address is suppressed
    (bounced or complained): the caller must answer exactly as if a mail were on its way.

    A member's subscription gets their ``user_id`` (listed in their settings); it is still
    confirmed by mail, since account addresses are not verified.
    """
    email = check_email(email)
    frequency = check_frequency(frequency)
    hour_utc = check_hour(hour_utc)
    checked = check_topics(topics)
    if store.is_suppressed(conn, email):
        return None
    now = now or utcnow()
    store.delete_stale_pending(conn, email, now)
    confirm = new_token()
    subscription_id = store.insert_subscription(
        conn,
        email=email,
        user_id=user.id if user else None,
        frequency=frequency,
        hour_utc=hour_utc,
        topics=checked,
        confirm_token_hash=token_hash(confirm),
        confirm_expires_at=now + timedelta(hours=settings.digest_confirm_hours),
        # a unique placeholder until the id, which the real token is derived from, exists
        unsubscribe_token_hash=token_hash(new_token()),
        now=now,
    )
    store.set_unsubscribe_token_hash(
        conn, subscription_id, token_hash(unsubscribe_token(settings, subscription_id))
    )
    return PendingConfirmation(subscription_id, email, confirm)


def confirm_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/subscribe/confirm?{urlencode({'token': token})}"


def pending_for_token(conn: Connection, token: str, now: datetime | None = None) -> Subscription:
    """The pending subscription a confirm token is for; UserError (400) when it is
    unknown, used or expired. Changes nothing (the GET confirm page calls it)."""
    found = store.by_confirm_hash(conn, token_hash(token[:200])) if token else None
    if found is None:
        raise UserError(CONFIRM_INVALID)
    subscription, expires_at = found
    if subscription.status != "pending":
        raise UserError(CONFIRM_INVALID)
    if expires_at is None or expires_at <= (now or utcnow()):
        raise UserError(CONFIRM_EXPIRED)
    return subscription


def confirm(conn: Connection, token: str, now: datetime | None = None) -> Subscription:
    """Activate the subscription of a confirm token; the token works once."""
    now = now or utcnow()
    subscription = pending_for_token(conn, token, now)
    store.activate(conn, subscription.id, now)
    activated = store.get_subscription(conn, subscription.id)
    assert activated is not None
    return activated


# --- unsubscribing ---


def unsubscribe_token(settings: Settings, subscription_id: int) -> str:
    """The subscription's one-click token: an HMAC of its id (see the module's note)."""
    return sign(settings.secret_key, f"unsubscribe:{subscription_id}")


def current_unsubscribe_token(conn: Connection, settings: Settings, subscription_id: int) -> str:
    """The token to put in a message's ``List-Unsubscribe``; re-stores its hash if the
    secret key changed since the subscription was made."""
    token = unsubscribe_token(settings, subscription_id)
    hashed = token_hash(token)
    if store.unsubscribe_token_hash_of(conn, subscription_id) != hashed:
        store.set_unsubscribe_token_hash(conn, subscription_id, hashed)
    return token


def unsubscribe_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/unsubscribe/{quote(token, safe='')}"


def list_unsubscribe_headers(settings: Settings, token: str) -> dict[str, str]:
    """RFC 2369 + RFC 8058 headers for a digest: the one-click URL first, then mailto."""
    mailto = settings.unsubscribe_mailto or settings.mail_from
    address = mailto.rpartition("<")[2].rstrip(">").strip()
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(settings, token)}>, "
        f"<mailto:{address}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def by_unsubscribe_token(conn: Connection, token: str) -> Subscription:
    found = store.by_unsubscribe_hash(conn, token_hash(token[:200])) if token else None
    if found is None:
        raise NotFound(UNSUBSCRIBE_INVALID)
    return found


def unsubscribe(conn: Connection, token: str, now: datetime | None = None) -> Subscription:
    """End the subscription of an unsubscribe token at once; again is fine (idempotent)."""
    subscription = by_unsubscribe_token(conn, token)
    store.mark_unsubscribed(conn, [subscription.id], now or utcnow())
    ended = store.get_subscription(conn, subscription.id)
    assert ended is not None
    return ended


def unsubscribe_by_email(conn: Connection, email: str, now: datetime | None = None) -> int:
    """End every pending or active subscription of ``email`` (a mailto unsubscribe);
    how many ended."""
    email = email.strip().lower()
    return store.mark_unsubscribed(conn, store.live_ids_of_email(conn, email), now or utcnow())


# --- a member's own subscriptions ---


def member_subscriptions(conn: Connection, user: User) -> list[Subscription]:
    return store.user_subscriptions(conn, user.id)


def member_subscription(conn: Connection, user: User, subscription_id: int) -> Subscription:
    """One of the member's live subscriptions; anybody else's is "not found"."""
    found = store.get_subscription(conn, subscription_id)
    if found is None or found.user_id != user.id or found.status not in store.LIVE_STATUSES:
        raise NotFound("You have no such subscription.")
    return found


def update(
    conn: Connection,
    user: User,
    subscription_id: int,
    *,
    frequency: str | None = None,
    hour_utc: int | None = None,
    topics: Mapping[str, Iterable[str]] | None = None,
) -> Subscription:
    """Change what is given (the email stays: a new address needs its own opt-in)."""
    current = member_subscription(conn, user, subscription_id)
    store.update_subscription(
        conn,
        subscription_id,
        frequency=check_frequency(frequency) if frequency is not None else current.frequency,
        hour_utc=check_hour(hour_utc) if hour_utc is not None else current.hour_utc,
        topics=check_topics(topics) if topics is not None else check_topics(current.topics),
    )
    updated = store.get_subscription(conn, subscription_id)
    assert updated is not None
    return updated


def cancel(conn: Connection, user: User, subscription_id: int, now: datetime | None = None) -> None:
    member_subscription(conn, user, subscription_id)
    store.mark_unsubscribed(conn, [subscription_id], now or utcnow())
