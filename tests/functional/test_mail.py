"""The mail senders against a real SMTP server (aiosmtpd): plain, STARTTLS, implicit TLS,
with a login; refusals; and the password-reset message itself."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from paperwire.config import Settings
from paperwire.email import messages
from paperwire.email.sender import LogMailer, MailError, SmtpMailer, deliver, make_mailer
from paperwire.models import Role, User
from smtp_server import SmtpServer, make_certificate

USER = User(
    id=7,
    username="ada",
    email="ada@example.org",
    role=Role.MEMBER,
    created_at=datetime(2025, 1, 1, tzinfo=UTC),
    display_name="Ada <Lovelace>",
)
LINK = "https://papers.example/reset-password?token=abc-DEF_123"


def reset_message(settings: Settings) -> EmailMessage:
    return messages.password_reset(settings, USER, LINK)


def test_password_reset_message_has_both_parts_and_the_headers(settings: Settings) -> None:
    settings = settings.model_copy(
        update={"site_name": "Lab <Papers>", "mail_from": "Lab Papers <papers@lab.example>"}
    )
    message = reset_message(settings)
    assert message["Subject"] == "Reset your Lab <Papers> password"
    assert message["From"] == "Lab Papers <papers@lab.example>"
    assert message["To"] == '"Ada <Lovelace>" <ada@example.org>'
    assert message["Message-ID"].endswith("@lab.example>")
    sent_at = parsedate_to_datetime(message["Date"])
    assert abs((datetime.now(UTC) - sent_at).total_seconds()) < 60
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    page = message.get_body(preferencelist=("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(page, EmailMessage)
    assert LINK in text.get_content()
    assert f"{settings.password_reset_minutes} minutes" in text.get_content()
    assert f'href="{LINK}"' in page.get_content()
    assert "Lab &lt;Papers&gt;" in page.get_content()  # the HTML part is escaped
    assert "<Papers>" not in page.get_content()


def test_plain_smtp_delivers_the_message(settings: Settings) -> None:
    with SmtpServer() as server:
        mailer = make_mailer(settings.model_copy(update=server.settings_update()))
        assert isinstance(mailer, SmtpMailer)
        mailer.send(reset_message(settings))
        (received,) = server.received
    assert received.rcpt_tos == ["ada@example.org"]
    assert received.mail_from == "paperwire@localhost"
    assert received.message["Subject"] == "Reset your paperwire password"


# The test server takes a login over plain text (the client is the thing under test here).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_is_sent_when_configured_and_wrong_credentials_fail(settings: Settings) -> None:
    with SmtpServer(credentials=("mailer", "s3cret")) as server:
        good = settings.model_copy(update=server.settings_update())
        SmtpMailer(good).send(reset_message(settings))
        assert server.logins in (["PLAIN:mailer"], ["LOGIN:mailer"])
        bad = good.model_copy(update={"smtp_password": "wrong"})
        with pytest.raises(MailError, match="refused or failed"):
            SmtpMailer(bad).send(reset_message(settings))
        assert len(server.received) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_modes_verify_the_certificate_and_deliver(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    certificate = make_certificate(tmp_path)
    with SmtpServer(tls=security, certificate=certificate) as server:  # type: ignore[arg-type]
        mail_settings = settings.model_copy(update=server.settings_update())
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpMailer(mail_settings).send(reset_message(settings))  # an unknown issuer
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # now trusted
        SmtpMailer(mail_settings).send(reset_message(settings))
        assert [m["To"] for m in server.messages] == ['"Ada <Lovelace>" <ada@example.org>']


def test_starttls_against_a_server_without_it_fails_rather_than_sending_in_clear(
    settings: Settings,
) -> None:
    with SmtpServer() as server:  # no TLS offered
        mail_settings = settings.model_copy(
            update={**server.settings_update(), "smtp_security": "starttls"}
        )
        with pytest.raises(MailError, match="STARTTLS"):
            SmtpMailer(mail_settings).send(reset_message(settings))
        assert server.received == []


def test_refusals_raise_and_deliver_logs_them(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with SmtpServer() as server:
        mailer = SmtpMailer(settings.model_copy(update=server.settings_update()))
        server.fail_with("451 4.3.0 Try again later", times=1)
        with pytest.raises(MailError, match="451"):
            mailer.send(reset_message(settings))
        mailer.send(reset_message(settings))  # the failure was for one message only
        server.fail_with("550 5.1.1 Mailbox unavailable")
        with caplog.at_level(logging.ERROR, logger="paperwire.mail"):
            assert deliver(mailer, reset_message(settings)) is False
        assert len(server.received) == 1
    assert "550" in caplog.text
    assert "ada@example.org" in caplog.text


def test_without_a_host_the_log_mailer_is_used(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = make_mailer(settings)
    assert isinstance(mailer, LogMailer)
    with caplog.at_level(logging.WARNING, logger="paperwire.mail"):
        assert deliver(mailer, reset_message(settings)) is True
    assert LINK in caplog.text
    assert "Subject: Reset your paperwire password" in caplog.text
