"""Digest subscriptions end to end through the HTTP app and a real SMTP server (aiosmtpd):
the header's GET form, the full form, the confirmation mail (its link read out of the
received message), confirming by POST only, expiry, the same answer for every address,
topics, members' settings pages and the JSON twins."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select, update

from account_support import MakeClient, csrf_field, form_token, text_of
from factories import api_token, csrf_token, make_user, sign_in
from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.digests import subscriptions as service
from paperwire.errors import UserError
from paperwire.store.schema import subscriptions, suppressions
from paperwire.web.subscribe import SENT
from smtp_server import SmtpServer

LINK = re.compile(r"https?://\S+/subscribe/confirm\?token=[\w-]+")


def subscribe(client: TestClient, email: str, **fields: Any) -> httpx.Response:
    token = form_token(client, f"/subscribe?email={email}")
    return client.post(
        "/subscribe",
        data={"csrf_token": token, "email": email, **fields},
        follow_redirects=False,
    )


def confirm_link(message: EmailMessage) -> str:
    """The confirm link's path and query, from the plain-text part as a person reads it."""
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    parts = urlsplit(found[0])
    return f"{parts.path}?{parts.query}"


def rows(engine: Engine, email: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(subscriptions)
                .where(subscriptions.c.email == email)
                .order_by(subscriptions.c.id)
            ).mappings()
        )


def test_every_page_has_the_header_subscribe_form_without_a_token(client: TestClient) -> None:
    for path in ("/", "/papers/trending", "/organizations", "/login"):
        page = client.get(path)
        assert page.status_code == 200, path
        form = re.search(r'<form class="header-subscribe"(.*?)</form>', page.text, re.S)
        assert form, path
        assert 'method="get" action="/subscribe"' in form[0]
        assert 'name="email"' in form[0]
        assert "csrf_token" not in form[0]  # cached pages hold no per-visitor token


def test_double_opt_in_through_the_mail(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    page = mail_client.get("/subscribe", params={"email": "reader@example.org"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert 'value="reader@example.org"' in page.text
    csrf_field(page)  # the full form carries the token

    answer = subscribe(
        mail_client,
        "Reader@Example.org",
        frequency="weekly",
        hour_utc="18",
        categories="cs.CL, cs.LG cs.CL",
        organizations="AllenAI",
        keywords="retrieval augmented generation\nspeculative decoding\n",
        searches="diffusion language models\n",
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/subscribe/sent"
    assert SENT in text_of(mail_client.get("/subscribe/sent"))

    (message,) = smtp.wait_for(1)
    assert message["To"] == "reader@example.org"
    assert message["Subject"] == "Confirm your paperwire digest subscription"
    (row,) = rows(engine, "reader@example.org")
    assert row["status"] == "pending"
    assert row["frequency"] == "weekly"
    assert row["hour_utc"] == 18
    assert row["user_id"] is None
    assert row["topics"] == {
        "categories": ["cs.CL", "cs.LG"],
        "organizations": ["allenai"],
        "keywords": ["retrieval augmented generation", "speculative decoding"],
        "searches": ["diffusion language models"],
    }

    link = confirm_link(message)
    shown = mail_client.get(link)  # what a mail scanner does: must change nothing
    assert shown.status_code == 200
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert 'action="/subscribe/confirm"' in shown.text
    assert rows(engine, "reader@example.org")[0]["status"] == "pending"

    token = link.partition("token=")[2]
    refused = mail_client.post("/subscribe/confirm", data={"token": token})
    assert refused.status_code == 403  # the confirm form needs its CSRF token too
    confirmed = mail_client.post(
        "/subscribe/confirm",
        data={"token": token, "csrf_token": csrf_field(shown)},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/subscribe/confirmed"
    (row,) = rows(engine, "reader@example.org")
    assert row["status"] == "active"
    assert row["confirmed_at"] is not None
    assert row["confirm_token_hash"] is None

    again = mail_client.post(
        "/subscribe/confirm", data={"token": token, "csrf_token": csrf_field(shown)}
    )
    assert again.status_code == 400
    assert "already used" in text_of(again)
    assert mail_client.get(link).status_code == 400


def test_expired_and_unknown_confirm_links_get_a_clear_page(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    assert subscribe(mail_client, "late@example.org").status_code == 303
    link = confirm_link(smtp.wait_for(1)[0])
    with engine.begin() as conn:
        conn.execute(
            update(subscriptions).values(confirm_expires_at=utcnow() - timedelta(minutes=1))
        )
    shown = mail_client.get(link)
    assert shown.status_code == 400
    assert "expired" in text_of(shown)
    token = link.partition("token=")[2]
    csrf = csrf_token(mail_client, mail_client.app.state.context.settings)  # type: ignore[attr-defined]
    posted = mail_client.post("/subscribe/confirm", data={"token": token, "csrf_token": csrf})
    assert posted.status_code == 400
    assert rows(engine, "late@example.org")[0]["status"] == "pending"
    unknown = mail_client.get("/subscribe/confirm", params={"token": "not-a-token"})
    assert unknown.status_code == 400
    assert "not valid" in text_of(unknown)

    # subscribing again forgets the expired pending one and mails a fresh link
    assert subscribe(mail_client, "late@example.org").status_code == 303
    fresh = confirm_link(smtp.wait_for(2)[1])
    (row,) = rows(engine, "late@example.org")
    assert row["status"] == "pending"
    assert mail_client.get(fresh).status_code == 200


def test_every_address_gets_the_same_answer_and_suppressed_ones_no_mail(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(suppressions).values(
                email="bounced@example.org", reason="550 no such user", created_at=utcnow()
            )
        )
    answers = [
        subscribe(mail_client, "fresh@example.org"),
        subscribe(mail_client, "fresh@example.org"),  # already has a subscription
        subscribe(mail_client, "bounced@example.org"),
    ]
    assert {(a.status_code, a.headers["location"]) for a in answers} == {(303, "/subscribe/sent")}
    messages = smtp.wait_for(2)
    assert [m["To"] for m in messages] == ["fresh@example.org", "fresh@example.org"]
    assert rows(engine, "bounced@example.org") == []
    assert len(rows(engine, "fresh@example.org")) == 2


def test_bad_input_shows_the_form_again_with_what_was_typed(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    bad_email = subscribe(mail_client, "not-an-email", keywords="agents")
    assert bad_email.status_code == 400
    assert "valid email" in text_of(bad_email)
    assert 'value="not-an-email"' in bad_email.text
    assert ">agents</textarea>" in bad_email.text
    bad_category = subscribe(mail_client, "ok@example.org", categories="cs.CL; DROP")
    assert bad_category.status_code == 400
    assert "not an arXiv category" in text_of(bad_category)
    bad_frequency = subscribe(mail_client, "ok@example.org", frequency="hourly")
    assert bad_frequency.status_code == 400
    assert rows(engine, "ok@example.org") == []
    assert smtp.messages == []


def test_subscribing_is_rate_limited_per_address(make_client: MakeClient, smtp: SmtpServer) -> None:
    client = make_client(rate_limit_password_reset="2/hour", **smtp.settings_update())
    assert subscribe(client, "many@example.org").status_code == 303
    assert subscribe(client, "many@example.org").status_code == 303
    refused = subscribe(client, "MANY@example.org ")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert len(smtp.wait_for(2)) == 2


def test_member_subscribes_and_manages_it_in_settings(
    mail_client: TestClient, smtp: SmtpServer, engine: Engine
) -> None:
    ada = make_user(engine, "ada")
    sign_in(mail_client, engine, ada)
    page = mail_client.get("/subscribe")
    assert 'value="ada@example.org"' in page.text  # prefilled with the account's email
    assert subscribe(mail_client, "ada@example.org", keywords="agents").status_code == 303
    (row,) = rows(engine, "ada@example.org")
    assert row["user_id"] == ada.id
    assert smtp.wait_for(1)[0]["To"] == "ada@example.org"

    settings_page = mail_client.get("/settings/subscriptions")
    assert settings_page.status_code == 200
    assert f'id="subscription-{row["id"]}"' in settings_page.text
    assert "waiting for the emailed confirmation" in settings_page.text

    saved = mail_client.post(
        f"/settings/subscriptions/{row['id']}",
        data={
            "csrf_token": csrf_field(settings_page),
            "frequency": "weekly",
            "hour_utc": "5",
            "organizations": "deepmind",
            "keywords": "agents\nrobotics",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/settings/subscriptions?saved=1"
    (row,) = rows(engine, "ada@example.org")
    assert (row["frequency"], row["hour_utc"]) == ("weekly", 5)
    assert row["topics"]["organizations"] == ["deepmind"]
    assert row["topics"]["keywords"] == ["agents", "robotics"]

    # another member can neither see nor cancel it
    other = second_browser(mail_client)
    sign_in(other, engine, make_user(engine, "bob"))
    assert f"subscription-{row['id']}" not in other.get("/settings/subscriptions").text
    stolen = other.post(
        f"/settings/subscriptions/{row['id']}/cancel",
        data={"csrf_token": csrf_field(other.get("/settings/subscriptions"))},
    )
    assert stolen.status_code == 404
    assert rows(engine, "ada@example.org")[0]["status"] == "pending"

    cancelled = mail_client.post(
        f"/settings/subscriptions/{row['id']}/cancel",
        data={"csrf_token": csrf_field(settings_page)},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    assert rows(engine, "ada@example.org")[0]["status"] == "unsubscribed"
    assert "no digest subscriptions" in mail_client.get("/settings/subscriptions").text


def second_browser(client: TestClient) -> TestClient:
    """A second browser on the same app (cookies of its own)."""
    return TestClient(client.app, base_url="http://testserver")


def test_settings_page_needs_sign_in(client: TestClient) -> None:
    page = client.get("/settings/subscriptions", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


def test_json_twins(mail_client: TestClient, smtp: SmtpServer, engine: Engine) -> None:
    settings: Settings = mail_client.app.state.context.settings  # type: ignore[attr-defined]
    # anonymous, with just an email (and the visitor's CSRF token, as any browser script)
    headers = {"X-CSRF-Token": csrf_token(mail_client, settings)}
    answer = mail_client.post(
        "/api/subscriptions", json={"email": "j@example.org"}, headers=headers
    )
    assert answer.status_code == 202
    assert answer.json() == {"detail": SENT}
    token = confirm_link(smtp.wait_for(1)[0]).partition("token=")[2]
    confirmed = mail_client.post(
        "/api/subscriptions/confirm", json={"token": token}, headers=headers
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "active"
    assert confirmed.json()["frequency"] == "daily"
    again = mail_client.post("/api/subscriptions/confirm", json={"token": token}, headers=headers)
    assert again.status_code == 400
    assert "already used" in again.json()["detail"]

    # a member with an API token (no cookie, no CSRF token)
    grace = make_user(engine, "grace")
    bearer = TestClient(mail_client.app, base_url="http://testserver")
    bearer.headers["Authorization"] = f"Bearer {api_token(engine, grace)}"
    body = {
        "email": "grace@example.org",
        "frequency": "weekly",
        "hourUtc": 9,
        "topics": {"categories": ["cs.CV"], "searches": ["vision transformers"]},
    }
    assert bearer.post("/api/subscriptions", json=body).status_code == 202
    (listed,) = bearer.get("/api/subscriptions").json()
    assert listed["email"] == "grace@example.org"
    assert listed["status"] == "pending"
    assert listed["hourUtc"] == 9
    assert listed["topics"] == {
        "categories": ["cs.CV"],
        "organizations": [],
        "keywords": [],
        "searches": ["vision transformers"],
    }
    assert rows(engine, "grace@example.org")[0]["user_id"] == grace.id
    path = f"/api/subscriptions/{listed['id']}"
    assert bearer.get(path).json() == listed
    patched = bearer.patch(path, json={"frequency": "daily", "topics": {"keywords": ["ocr"]}})
    assert patched.status_code == 200
    assert patched.json()["frequency"] == "daily"
    assert patched.json()["hourUtc"] == 9  # untouched
    assert patched.json()["topics"]["keywords"] == ["ocr"]
    bad = bearer.patch(path, json={"topics": {"organizations": ["Not A Slug!"]}})
    assert bad.status_code == 400
    assert "slug" in bad.json()["detail"]

    # somebody else's subscription is "not found"
    ada = TestClient(mail_client.app, base_url="http://testserver")
    ada.headers["Authorization"] = f"Bearer {api_token(engine, make_user(engine, 'ada'))}"
    assert ada.get(path).status_code == 404
    assert ada.delete(path).status_code == 404
    assert ada.get("/api/subscriptions").json() == []

    assert bearer.delete(path).status_code == 204
    assert bearer.get("/api/subscriptions").json() == []
    assert bearer.get(path).status_code == 404
    assert mail_client.get("/api/subscriptions").status_code == 401


def test_json_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/api/subscriptions", "post"),
        ("/api/subscriptions", "get"),
        ("/api/subscriptions/confirm", "post"),
        ("/api/subscriptions/{subscription_id}", "get"),
        ("/api/subscriptions/{subscription_id}", "patch"),
        ("/api/subscriptions/{subscription_id}", "delete"),
    ]:
        assert paths[path][method]["summary"], (path, method)
    assert not any(path.startswith(("/subscribe", "/unsubscribe")) for path in paths)


def test_csrf_is_required_on_the_subscribe_forms(client: TestClient, engine: Engine) -> None:
    anonymous = client.post("/subscribe", data={"email": "x@example.org"})
    assert anonymous.status_code == 403
    sign_in(client, engine, make_user(engine, "eve"))
    for path in ("/settings/subscriptions/1", "/settings/subscriptions/1/cancel"):
        assert client.post(path, data={"frequency": "daily"}).status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(subscriptions)).scalar_one() == 0


def test_library_rejects_too_many_topics() -> None:
    with pytest.raises(UserError, match="At most 20 keywords"):
        service.check_topics({"keywords": [f"k{i}" for i in range(21)]})
    with pytest.raises(UserError, match="Unknown topic kinds: authors"):
        service.check_topics({"authors": ["x"]})
