"""Mail senders behind one small protocol: SMTP in production, the log in development.

Senders are called after the response is sent (FastAPI background tasks, or a job), never
inside a request's transaction: a slow or failing mail server must not hold a database
lock or change what the user is told.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from paperwire.config import Settings

log = logging.getLogger("paperwire.mail")


class MailError(Exception):
    """A message could not be handed to the mail server."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over for delivery; raises :class:`MailError` when that fails."""


class SmtpMailer:
    """Sends through an SMTP server: STARTTLS (587), implicit TLS (465) or plain (25)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpMailer needs PAPERWIRE_SMTP_HOST")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.security = settings.smtp_security
        self.username = settings.smtp_username
        self.password = settings.smtp_password
        self.timeout = settings.smtp_timeout_s

    def connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        try:
            with self.connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(
                f"SMTP {self.host}:{self.port} ({self.security}) refused or failed: {error}"
            ) from error
        if refused:  # some recipients were refused, the others accepted
            raise MailError(f"SMTP {self.host}:{self.port} refused recipients: {refused}")


class LogMailer:
    """No SMTP server configured: the whole message goes to the log instead.

    A development install can then still reset a password, by copying the link from the
    server's output. Logged at WARNING, so that it shows without any logging set-up.
    """

    def send(self, message: EmailMessage) -> None:
        log.warning(
            "PAPERWIRE_SMTP_HOST is not set; this mail was written here instead of sent:\n%s",
            readable(message),
        )


def readable(message: EmailMessage) -> str:
    """The headers and the decoded text part: what a person reads (and copies links from);
    the raw form is quoted-printable, which breaks long links across lines."""
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else message.as_string()
    return f"{headers}\n\n{text}"


def make_mailer(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else LogMailer()


def deliver(mailer: Mailer, message: EmailMessage) -> bool:
    """Send and log a failure instead of raising: for background tasks, whose errors no
    user would see. True when the mail server took the message."""
    try:
        mailer.send(message)
    except MailError as error:
        log.error("mail to %s (%s) not sent: %s", message["To"], message["Subject"], error)
        return False
    except Exception:  # a bug, not the server: still never lost silently
        log.exception("mail to %s (%s) not sent", message["To"], message["Subject"])
        return False
    return True
