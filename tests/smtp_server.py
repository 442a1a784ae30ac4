"""A real SMTP server for tests: aiosmtpd in this process, on a free local port.

It keeps every message it accepts (parsed, with its envelope), can be told to answer
with a 4xx or 5xx reply instead, and optionally requires a login or speaks TLS (implicit
or STARTTLS, with a throw-away certificate from :func:`make_certificate`)::

    with SmtpServer() as server:
        settings = settings.model_copy(update=server.settings_update())
        ...  # something sends mail
        (message,) = server.wait_for(1)
        server.fail_with("451 4.3.0 Try again later", times=1)

Reusable by every test that sends mail (password resets, digests).
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (made with the openssl CLI).

    Point ``SSL_CERT_FILE`` at the returned certificate so that clients using
    ``ssl.create_default_context()`` trust it.
    """
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _smtp: Any, _session: Any, envelope: Any) -> str:
        return self.server._data(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)


class SmtpServer:
    """A running SMTP server that collects messages; use as a context manager."""

    def __init__(
        self,
        *,
        credentials: tuple[str, str] | None = None,
        tls: Literal["none", "starttls", "tls"] = "none",
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        self.host = HOST
        self.port = free_port()
        self.credentials = credentials
        self.security = tls
        self.received: list[Received] = []
        self.logins: list[str] = []
        self._failure: tuple[str, int | None] | None = None
        self._changed = threading.Condition()
        kwargs: dict[str, Any] = {}
        if credentials is not None:
            kwargs.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=False
            )
        if tls != "none":
            if certificate is None:
                raise ValueError("TLS needs a certificate: see make_certificate()")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)

    # --- running ---

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def settings_update(self) -> dict[str, Any]:
        """What to put into paperwire's ``Settings`` to send through this server."""
        update: dict[str, Any] = {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_security": self.security,
            "smtp_timeout_s": 5.0,
        }
        if self.credentials is not None:
            update.update(smtp_username=self.credentials[0], smtp_password=self.credentials[1])
        return update

    # --- behaviour ---

    def fail_with(self, reply: str, times: int | None = None) -> None:
        """Answer the next ``times`` messages (all, if None) with ``reply``, e.g.
        ``"451 4.3.0 Try again later"`` or ``"550 5.1.1 No such user"``."""
        if reply[:1] not in ("4", "5"):
            raise ValueError("a failure reply starts with 4 or 5")
        with self._changed:
            self._failure = (reply, times)

    def accept(self) -> None:
        """Accept messages again."""
        with self._changed:
            self._failure = None

    def _authenticate(
        self, _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self.credentials is not None:
            login = (data.login.decode(), data.password.decode())
            if login == self.credentials:
                self.logins.append(f"{mechanism}:{login[0]}")
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _data(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> str:
        with self._changed:
            if self._failure is not None:
                reply, times = self._failure
                if times is not None:
                    self._failure = (reply, times - 1) if times > 1 else None
                return reply
            message = message_from_bytes(content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.received.append(Received(mail_from, rcpt_tos, message, content))
            self._changed.notify_all()
        return "250 OK"

    # --- reading what came ---

    @property
    def messages(self) -> list[EmailMessage]:
        with self._changed:
            return [item.message for item in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once at least ``count`` have come (for senders in other threads)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise TimeoutError(f"expected {count} messages, got {len(self.received)}")
            return [item.message for item in self.received]
