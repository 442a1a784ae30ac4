"""Unsubscribing: RFC 8058 one-click POSTs (no cookie, no CSRF token, as mail providers
send them), GET links that only show a button, unknown tokens, the List-Unsubscribe
headers the sender uses, secret-key rotation, unsubscribing by address, re-subscribing."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from account_support import MakeClient, csrf_field, form_token, text_of
from paperwire.config import Settings
from paperwire.digests import subscriptions as service
from paperwire.store.schema import subscriptions
from paperwire.web import introspect
from paperwire.web.subscribe import CSRF_EXEMPT
from smtp_server import SmtpServer

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}
LINK = re.compile(r"https?://\S+/subscribe/confirm\?token=[\w-]+")


def active_subscription(engine: Engine, settings: Settings, email: str) -> tuple[int, str]:
    """An active subscription made through the library; its id and unsubscribe token."""
    with engine.begin() as conn:
        pending = service.subscribe(conn, settings, email, topics={"keywords": ["agents"]})
        assert pending is not None
        service.confirm(conn, pending.confirm_token)
    return pending.subscription_id, service.unsubscribe_token(settings, pending.subscription_id)


def status_of(engine: Engine, subscription_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(subscriptions.c.status).where(subscriptions.c.id == subscription_id)
        ).scalar_one()


def test_get_only_shows_a_button_and_the_one_click_post_unsubscribes(
    make_client: MakeClient, settings: Settings, engine: Engine
) -> None:
    subscription_id, token = active_subscription(engine, settings, "reader@example.org")
    scanner = make_client()
    page = scanner.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert f'action="/unsubscribe/{token}"' in page.text
    assert "reader@example.org" in page.text
    assert status_of(engine, subscription_id) == "active"  # following the link changed nothing

    # as a mail provider's server posts it: no cookie, no CSRF token, no Origin
    provider = make_client(ip="203.0.113.9")
    answer = provider.post(
        f"/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK
    )
    assert answer.status_code == 200
    assert "You are unsubscribed" in answer.text
    assert "pw_csrf" in provider.cookies  # it was a fresh visitor, yet not refused
    assert status_of(engine, subscription_id) == "unsubscribed"
    with engine.connect() as conn:
        ended = conn.execute(
            select(subscriptions.c.unsubscribed_at).where(subscriptions.c.id == subscription_id)
        ).scalar_one()
    assert ended is not None

    again = make_client().post(f"/unsubscribe/{token}", headers=ONE_CLICK, content=b"")
    assert again.status_code == 200  # twice is fine
    assert "already ended" in scanner.get(f"/unsubscribe/{token}").text


def test_the_page_button_works_without_javascript(
    make_client: MakeClient, settings: Settings, engine: Engine
) -> None:
    subscription_id, token = active_subscription(engine, settings, "b@example.org")
    browser = make_client()
    page = browser.get(f"/unsubscribe/{token}")
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert form
    posted = browser.post(form[1], data={}, headers={"Origin": "http://testserver"})
    assert posted.status_code == 200
    assert status_of(engine, subscription_id) == "unsubscribed"


def test_unknown_tokens_are_not_found(
    make_client: MakeClient, settings: Settings, engine: Engine
) -> None:
    subscription_id, token = active_subscription(engine, settings, "c@example.org")
    client = make_client()
    for bad in ("nope", token[:-1] + ("0" if token[-1] != "0" else "1")):
        assert client.get(f"/unsubscribe/{bad}").status_code == 404
        refused = client.post(f"/unsubscribe/{bad}", content=b"List-Unsubscribe=One-Click")
        assert refused.status_code == 404
        assert "not valid" in text_of(refused)
    assert status_of(engine, subscription_id) == "active"


def test_list_unsubscribe_headers_point_at_a_working_one_click_url(
    make_client: MakeClient, settings: Settings, engine: Engine
) -> None:
    settings = settings.model_copy(update={"unsubscribe_mailto": "Papers <leave@example.org>"})
    subscription_id, _ = active_subscription(engine, settings, "d@example.org")
    with engine.begin() as conn:
        token = service.current_unsubscribe_token(conn, settings, subscription_id)
    headers = service.list_unsubscribe_headers(settings, token)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url, mailto = re.findall(r"<([^>]+)>", headers["List-Unsubscribe"])
    assert url == service.unsubscribe_url(settings, token)
    assert url.startswith(settings.base_url.rstrip("/") + "/unsubscribe/")
    assert mailto == "mailto:leave@example.org?subject=unsubscribe"
    response = make_client().post(
        urlsplit(url).path, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK
    )
    assert response.status_code == 200
    assert status_of(engine, subscription_id) == "unsubscribed"


def test_a_new_secret_key_gets_new_working_tokens(
    make_client: MakeClient, settings: Settings, engine: Engine
) -> None:
    subscription_id, old_token = active_subscription(engine, settings, "e@example.org")
    rotated = settings.model_copy(update={"secret_key": "another secret key, long enough " * 2})
    with engine.begin() as conn:
        assert service.current_unsubscribe_token(conn, settings, subscription_id) == old_token
        new_token = service.current_unsubscribe_token(conn, rotated, subscription_id)
    assert new_token != old_token
    client = make_client()
    assert client.post(f"/unsubscribe/{old_token}").status_code == 404
    assert client.post(f"/unsubscribe/{new_token}").status_code == 200
    assert status_of(engine, subscription_id) == "unsubscribed"


def test_unsubscribe_by_email_ends_every_subscription_of_the_address(
    settings: Settings, engine: Engine
) -> None:
    first, _ = active_subscription(engine, settings, "f@example.org")
    second, _ = active_subscription(engine, settings, "f@example.org")
    other, _ = active_subscription(engine, settings, "g@example.org")
    with engine.begin() as conn:
        assert service.unsubscribe_by_email(conn, " F@example.org ") == 2
        assert service.unsubscribe_by_email(conn, "f@example.org") == 0
    assert [status_of(engine, i) for i in (first, second, other)] == [
        "unsubscribed",
        "unsubscribed",
        "active",
    ]


def test_resubscribing_after_unsubscribing_needs_a_new_confirmation(
    make_client: MakeClient, settings: Settings, engine: Engine
) -> None:
    old_id, token = active_subscription(engine, settings, "h@example.org")
    with SmtpServer() as smtp:
        client = make_client(**smtp.settings_update())
        assert client.post(f"/unsubscribe/{token}").status_code == 200
        csrf = form_token(client, "/subscribe?email=h@example.org")
        answer = client.post(
            "/subscribe",
            data={"csrf_token": csrf, "email": "h@example.org"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        (message,) = smtp.wait_for(1)
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    found = LINK.search(body.get_content())
    assert found
    parts = urlsplit(found[0])
    page = client.get(f"{parts.path}?{parts.query}")
    confirmed = client.post(
        "/subscribe/confirm",
        data={"token": parts.query.partition("=")[2], "csrf_token": csrf_field(page)},
    )
    assert confirmed.status_code == 200
    with engine.connect() as conn:
        statuses = conn.execute(
            select(subscriptions.c.id, subscriptions.c.status)
            .where(subscriptions.c.email == "h@example.org")
            .order_by(subscriptions.c.id)
        ).all()
    assert [(i, s) for i, s in statuses] == [(old_id, "unsubscribed"), (statuses[1][0], "active")]
    assert statuses[1][0] != old_id


def test_only_the_one_click_path_is_exempt_from_csrf(client: TestClient) -> None:
    assert CSRF_EXEMPT == ("/unsubscribe/",)
    exempt = [
        (method, path)
        for method, path in introspect.state_changing_routes(client.app)
        if path.startswith(CSRF_EXEMPT)
    ]
    assert exempt == [("POST", "/unsubscribe/{token}")]
