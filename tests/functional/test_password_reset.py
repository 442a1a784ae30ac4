"""Password reset by mail, end to end through a real SMTP server (aiosmtpd): the link is
read out of the received message and used; single use, expiry, unknown addresses, mail
failures, the log fallback and the rate limits."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from account_support import (
    SENT,
    MakeClient,
    csrf_field,
    form_token,
    log_in,
    me,
    text_of,
)
from factories import PASSWORD, make_user, sign_in
from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.store.schema import password_resets
from smtp_server import SmtpServer, free_port

LINK = re.compile(r"https?://\S+/reset-password\?token=[\w-]+")


def request_reset(client: TestClient, email: str) -> httpx.Response:
    token = form_token(client, "/forgot-password")
    return client.post("/forgot-password", data={"csrf_token": token, "email": email})


def reset_link(message: EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html_part, EmailMessage)
    (link,) = set(LINK.findall(text.get_content()))
    assert html.escape(link) in html_part.get_content()  # the same link in both parts
    return link


def use_link(client: TestClient, link: str, password: str) -> httpx.Response:
    parts = urlsplit(link)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    csrf = csrf_field(page)
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token, "no token field on the reset form"
    return client.post(
        "/reset-password",
        data={
            "csrf_token": csrf,
            "token": token[1],
            "password": password,
            "password_confirm": password,
        },
        follow_redirects=False,
    )


def test_password_reset_by_mail_end_to_end(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine, settings: Settings
) -> None:
    ada = make_user(engine, "ada")
    elsewhere = TestClient(mail_client.app)
    sign_in(elsewhere, engine, ada)

    response = request_reset(mail_client, "ADA@example.org")
    assert response.status_code == 200
    assert SENT in text_of(response)
    (message,) = smtp.messages
    assert smtp.received[0].rcpt_tos == ["ada@example.org"]
    assert message["Subject"] == "Reset your paperwire password"
    assert message["From"] == settings.mail_from
    assert message["Message-ID"]
    assert message["Date"]
    link = reset_link(message)
    assert link.startswith(f"{settings.base_url}/reset-password?token=")

    done = use_link(mail_client, link, "my new password")
    assert (done.status_code, done.headers["location"]) == (303, "/")
    assert me(mail_client) == "ada"  # signed in afresh
    assert me(elsewhere) is None  # every earlier session ended

    again = use_link(mail_client, link, "yet another password")
    assert again.status_code == 400
    assert "invalid, used or expired" in text_of(again)

    mail_client.cookies.clear()
    assert log_in(mail_client, "ada", PASSWORD).status_code == 400
    assert log_in(mail_client, "ada", "my new password").status_code == 303


def test_unknown_email_gets_the_same_answer_and_no_mail(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    make_user(engine, "ada")
    unknown = request_reset(mail_client, "nobody@example.org")
    known = request_reset(mail_client, "ada@example.org")
    assert unknown.status_code == known.status_code == 200
    strip = re.compile(r'value="[^"]*"|content="[^"]*"')  # the per-visitor CSRF token aside
    assert strip.sub("", unknown.text) == strip.sub("", known.text)
    assert [m["To"] for m in smtp.messages] == ["ada@example.org"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(password_resets)).scalar_one() == 1


def test_expired_reset_token_fails(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    make_user(engine, "ada")
    request_reset(mail_client, "ada@example.org")
    link = reset_link(smtp.messages[0])
    with engine.begin() as conn:
        conn.execute(update(password_resets).values(expires_at=utcnow() - timedelta(minutes=1)))
    response = use_link(mail_client, link, "my new password")
    assert response.status_code == 400
    assert "invalid, used or expired" in text_of(response)
    assert log_in(mail_client, "ada", PASSWORD).status_code == 303  # the password is unchanged


def test_reset_form_checks_the_two_passwords_and_keeps_the_token(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    make_user(engine, "ada")
    request_reset(mail_client, "ada@example.org")
    link = reset_link(smtp.messages[0])
    page = mail_client.get(urlsplit(link).path + "?" + urlsplit(link).query)
    csrf = csrf_field(page)
    token = urlsplit(link).query.removeprefix("token=")
    differ = mail_client.post(
        "/reset-password",
        data={
            "csrf_token": csrf,
            "token": token,
            "password": "a long one",
            "password_confirm": "b long one",
        },
    )
    assert differ.status_code == 400
    assert "differ" in text_of(differ)
    short = mail_client.post(
        "/reset-password",
        data={"csrf_token": csrf, "token": token, "password": "short", "password_confirm": "short"},
    )
    assert short.status_code == 400
    assert "at least 8 characters" in text_of(short)
    assert use_link(mail_client, link, "finally long enough").status_code == 303  # still unused


def test_password_reset_json_twins(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    make_user(engine, "ada")
    headers = {"X-CSRF-Token": mail_client.get("/api/auth/csrf").json()["csrfToken"]}
    for email in ("ada@example.org", "ghost@example.org"):
        response = mail_client.post(
            "/api/auth/password-reset", json={"email": email}, headers=headers
        )
        assert (response.status_code, response.json()) == (202, {"detail": SENT})
    (message,) = smtp.messages
    token = urlsplit(reset_link(message)).query.removeprefix("token=")
    confirm = mail_client.post(
        "/api/auth/password-reset/confirm",
        json={"token": token, "password": "brand new pass"},
        headers=headers,
    )
    assert confirm.status_code == 200
    assert confirm.json()["username"] == "ada"
    assert me(mail_client) == "ada"
    reused = mail_client.post(
        "/api/auth/password-reset/confirm",
        json={"token": token, "password": "other new pass"},
        headers=headers,
    )
    assert reused.status_code == 400


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "550 5.1.1 Mailbox unavailable"])
def test_a_mail_failure_is_logged_and_the_answer_is_the_same(
    mail_client: TestClient,
    smtp: SmtpServer,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    reply: str,
) -> None:
    make_user(engine, "ada")
    smtp.fail_with(reply)
    with caplog.at_level(logging.ERROR, logger="paperwire.mail"):
        response = request_reset(mail_client, "ada@example.org")
    assert response.status_code == 200
    assert SENT in text_of(response)
    assert smtp.messages == []
    (record,) = [r for r in caplog.records if r.name == "paperwire.mail"]
    assert "not sent" in record.getMessage()
    assert reply.split()[0] in record.getMessage()


def test_mail_server_down_is_logged_too(
    make_client: MakeClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_user(engine, "ada")
    client = make_client(
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none", smtp_timeout_s=2.0
    )
    with caplog.at_level(logging.ERROR, logger="paperwire.mail"):
        response = request_reset(client, "ada@example.org")
    assert response.status_code == 200
    assert any("not sent" in r.getMessage() for r in caplog.records)


def test_without_smtp_the_mail_goes_to_the_log_and_its_link_works(
    client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_user(engine, "ada")
    with caplog.at_level(logging.WARNING, logger="paperwire.mail"):
        request_reset(client, "ada@example.org")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "paperwire.mail")
    assert "PAPERWIRE_SMTP_HOST is not set" in logged
    (link,) = LINK.findall(logged)  # readable: one unbroken link, not quoted-printable
    assert use_link(client, link, "from the log").status_code == 303
    assert me(client) == "ada"


def test_password_reset_requests_are_limited_per_email_and_per_ip(
    make_client: MakeClient, smtp: SmtpServer, engine: Engine
) -> None:
    make_user(engine, "ada")
    make_user(engine, "grace")
    changes = {**smtp.settings_update(), "rate_limit_password_reset": "2/hour"}
    first = make_client(ip="198.51.100.1", **changes)
    assert request_reset(first, "ada@example.org").status_code == 200
    assert request_reset(first, "ADA@example.org").status_code == 200
    refused = request_reset(first, "ada@example.org")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60
    assert "Too many password-reset requests" in text_of(refused)
    assert 'name="email"' in refused.text  # the form again, with the message

    second = make_client(ip="198.51.100.2", **changes)
    assert request_reset(second, "ada@example.org").status_code == 429  # per email, any IP
    assert request_reset(second, "grace@example.org").status_code == 200
    assert request_reset(second, "grace@example.org").status_code == 429  # this IP's 2 are spent
    assert [m["To"] for m in smtp.messages] == [
        "ada@example.org",
        "ada@example.org",
        "grace@example.org",
    ]  # refused requests sent nothing
