"""Sending the outbox: at least once, at most one duplicate per crash, never lost.

For each due row: mark it ``sending`` (one more attempt, a lease) and **commit**; then one
SMTP transaction; then mark it ``sent`` and commit. A crash between the server's reply
to ``DATA`` and that last commit leaves the row ``sending``; once its lease has lapsed
(the longest an SMTP conversation can take) the next run sends it again, with the same
Message-ID, so a crash costs at most one duplicate and never a lost digest.

Replies: a 4xx (or a lost connection) defers the row with exponential backoff until
``digest_max_attempts``, then ``failed``; a 5xx to the recipient or the message is a hard
bounce: the row is ``bounced``, the address suppressed and its subscriptions too.
One SMTP connection is reused for every message of a run; it is reopened after an error.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from types import TracebackType

from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.context import Context
from paperwire.digests.compose import with_unsubscribe
from paperwire.digests.outbox import FillReport, fill, mail_host
from paperwire.digests.periods import period_for
from paperwire.digests.subscriptions import (
    current_unsubscribe_token,
    list_unsubscribe_headers,
    unsubscribe_url,
)
from paperwire.email.sender import Mailer, MailError, SmtpMailer
from paperwire.store import outbox as store
from paperwire.store.outbox import OutboxRow
from paperwire.store.subscriptions import get_subscription

log = logging.getLogger("paperwire.digests")

RETRY_BASE = timedelta(minutes=5)  # 5, 10, 20, 40 min ... between attempts
RETRY_CAP = timedelta(hours=6)
READ_BATCH = 200


class TransientFailure(Exception):
    """Try again later: a 4xx reply, a lost or refused connection."""


class ConnectionFailure(TransientFailure):
    """The connection itself failed (refused, dropped, log-in refused): the following
    messages would fail the same way, so the run stops and a later one retries."""


class HardBounce(Exception):
    """A 5xx reply to the recipient or the message: never mail this address again."""


@dataclass(slots=True)
class SendReport:
    sent: int = 0
    retried: int = 0  # deferred for a later attempt
    bounced: int = 0
    failed: int = 0  # attempts used up, or unsubscribed since it was queued
    skipped: int = 0  # taken by another sender at the same time
    stopped: str | None = None  # why the run stopped early (the mail server is down)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: exponential, capped."""
    delay: timedelta = RETRY_BASE * 2 ** max(attempts - 1, 0)
    return min(delay, RETRY_CAP)


def sending_lease(settings: Settings) -> timedelta:
    """How long a ``sending`` row belongs to its sender: longer than any SMTP
    conversation can last (each of its ~6 steps is bounded by ``smtp_timeout_s``)."""
    return max(timedelta(seconds=60), timedelta(seconds=6 * settings.smtp_timeout_s))


def build_message(
    settings: Settings, row: OutboxRow, unsubscribe_token: str, now: datetime
) -> EmailMessage:
    """The digest mail of ``row``: text + HTML alternatives and the list headers."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.email
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = row.message_id
    for name, value in list_unsubscribe_headers(settings, unsubscribe_token).items():
        message[name] = value
    message["List-Id"] = formataddr(
        (f"{settings.site_name} digest", f"digest.{mail_host(settings)}")
    )
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message["Precedence"] = "list"
    # The stored bodies hold a placeholder for the link: its token is derived at send
    # time (it changes with the secret key, see digests/subscriptions.py).
    text, html = with_unsubscribe(
        row.body_text, row.body_html, unsubscribe_url(settings, unsubscribe_token)
    )
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class SmtpSession:
    """One SMTP connection reused across messages; reopened after any error."""

    def __init__(self, mailer: SmtpMailer) -> None:
        self.mailer = mailer
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _open(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = self.mailer.connect()
            try:
                if self.mailer.username:
                    smtp.login(self.mailer.username, self.mailer.password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, message: EmailMessage) -> None:
        """Deliver one message, or raise :class:`TransientFailure` / :class:`HardBounce`."""
        try:
            smtp = self._open()
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            # smtplib reset the transaction: the connection stays usable
            replies = list(error.recipients.values())
            code, text = replies[0] if replies else (0, b"")
            _raise_for(int(code), _text(text))
        except smtplib.SMTPDataError as error:
            _raise_for(int(error.smtp_code), _text(error.smtp_error))
        except (smtplib.SMTPException, OSError) as error:
            # sender refused, authentication, a dropped connection: not the recipient's
            # fault, so never a bounce; start again on a fresh connection
            self.close_quietly()
            raise ConnectionFailure(
                f"SMTP {self.mailer.host}:{self.mailer.port}: {error}"
            ) from error

    def close_quietly(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            smtp.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _raise_for(code: int, text: str) -> None:
    reply = f"{code} {text}".strip()
    if 500 <= code < 600:
        raise HardBounce(reply)
    raise TransientFailure(reply)


class _OtherMailer:
    """Any other :class:`Mailer` (the log, in development): every failure is transient."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def send(self, message: EmailMessage) -> None:
        try:
            self.mailer.send(message)
        except MailError as error:
            raise TransientFailure(str(error)) from error

    def close(self) -> None:
        pass


def send(
    context: Context,
    now: datetime | None = None,
    *,
    flush: bool = False,
    limit: int | None = None,
) -> SendReport:
    """Send every due outbox row (see the module's note); ``flush`` also takes rows that
    wait for a retry or a crashed sender's lease, at once (``postqueue -f``-like).

    ``now`` fixes the clock (tests); by default each step reads it anew.
    """
    mailer = context.mailer
    session: SmtpSession | _OtherMailer = (
        SmtpSession(mailer) if isinstance(mailer, SmtpMailer) else _OtherMailer(mailer)
    )
    report = SendReport()
    after_id = 0
    started = now or utcnow()
    try:
        while limit is None or report.sent + report.retried + report.bounced < limit:
            with context.engine.connect() as conn:
                rows = store.due_rows(
                    conn, started, limit=READ_BATCH, flush=flush, after_id=after_id
                )
            if not rows:
                break
            for row in rows:
                after_id = row.id
                if not _send_one(context, session, row, now, report):
                    return report
                if limit is not None and report.sent + report.retried + report.bounced >= limit:
                    break
    finally:
        session.close()
    return report


def _send_one(
    context: Context,
    session: SmtpSession | _OtherMailer,
    row: OutboxRow,
    now: datetime | None,
    report: SendReport,
) -> bool:
    """One row; False when the run should stop (the mail server cannot be reached)."""
    settings = context.settings
    moment = now or utcnow()
    with context.engine.begin() as conn:
        if row.status == "sending" and row.attempts >= settings.digest_max_attempts:
            # its senders died with it every time: give up rather than crash forever
            store.mark_final(conn, row.id, "failed", f"{row.attempts} senders died sending it")
            report.failed += 1
            return True
        if not store.claim(conn, row, moment + sending_lease(settings)):
            report.skipped += 1
            return True
        subscription = get_subscription(conn, row.subscription_id)
        if subscription is None or subscription.status != "active":
            store.mark_final(conn, row.id, "failed", "unsubscribed before it was sent")
            report.failed += 1
            return True
        token = current_unsubscribe_token(conn, settings, row.subscription_id)
    message = build_message(settings, row, token, moment)
    attempts = row.attempts + 1
    try:
        session.send(message)
    except HardBounce as error:
        with context.engine.begin() as conn:
            store.suppress(conn, row.email, f"hard bounce: {error}", now or utcnow())
            store.mark_final(conn, row.id, "bounced", str(error))
        report.bounced += 1
        log.warning("digest to %s bounced: %s", row.email, error)
        return True
    except TransientFailure as error:
        with context.engine.begin() as conn:
            if attempts >= settings.digest_max_attempts:
                store.mark_final(conn, row.id, "failed", f"{attempts} attempts; last: {error}")
                report.failed += 1
            else:
                later = (now or utcnow()) + retry_delay(attempts)
                store.defer(conn, row.id, str(error), later)
                report.retried += 1
        if isinstance(error, ConnectionFailure):
            report.stopped = str(error)
            return False
        return True
    with context.engine.begin() as conn:
        store.mark_sent(conn, row.id, now or utcnow())
    report.sent += 1
    return True


@dataclass(slots=True)
class RunReport:
    """A fill and a send: what ``paperwire digest send`` and the worker job report."""

    fills: list[FillReport]
    sending: SendReport

    def counts(self) -> dict[str, int | str | None]:
        return {
            "periods": ",".join(fill.period_key for fill in self.fills),
            "queued": sum(fill.queued for fill in self.fills),
            "empty": sum(fill.empty for fill in self.fills),
            "not_due": sum(fill.not_due for fill in self.fills),
            "sent": self.sending.sent,
            "retried": self.sending.retried,
            "bounced": self.sending.bounced,
            "failed": self.sending.failed,
            "stopped": self.sending.stopped,
        }


def fill_and_send(
    context: Context,
    frequencies: Sequence[str],
    now: datetime | None = None,
    *,
    flush: bool = False,
) -> RunReport:
    """Queue the due digests of each frequency's current period, then send the outbox
    (which also retries earlier periods' deferred messages)."""
    now = now or utcnow()
    fills = [fill(context, period_for(frequency, now), now) for frequency in frequencies]
    return RunReport(fills, send(context, flush=flush))
