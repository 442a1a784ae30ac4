"""Accounts through the pages and the JSON API: sign-up, log-in, log-out, sessions,
cookies, CSRF, rate limits and settings. Password reset: test_password_reset.py."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from account_support import (
    GENERIC,
    MakeClient,
    csrf_field,
    form_token,
    log_in,
    me,
    sign_up,
    text_of,
)
from factories import PASSWORD, make_user, sign_in
from paperwire.accounts.secrets import token_hash
from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.store.schema import sessions, users
from paperwire.web.auth import SESSION_COOKIE

# --- sign-up ---


def test_signup_signs_in_and_goes_to_next(client: TestClient, engine: Engine) -> None:
    response = sign_up(
        client, "Ada", "Ada@Example.org", display_name="Ada L.", next="/papers/trending"
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/papers/trending"
    assert me(client) == "Ada"
    with engine.connect() as conn:
        row = conn.execute(select(users.c.email, users.c.display_name)).one()
    assert tuple(row) == ("ada@example.org", "Ada L.")


@pytest.mark.parametrize(
    ("username", "email", "password", "message"),
    [
        ("-ada", "ada@example.org", PASSWORD, "A username has 1 to 40 letters"),
        ("a" * 41, "ada@example.org", PASSWORD, "A username has 1 to 40 letters"),
        ("ada lovelace", "ada@example.org", PASSWORD, "A username has 1 to 40 letters"),
        ("Admin", "ada@example.org", PASSWORD, "The username 'Admin' is reserved."),
        ("ada", "not-an-email", PASSWORD, "Enter a valid email address"),
        ("ada", "ada@example", PASSWORD, "Enter a valid email address"),
        ("ada", "ada@example.org", "short", "at least 8 characters"),
    ],
)
def test_signup_validation_messages(
    client: TestClient, engine: Engine, username: str, email: str, password: str, message: str
) -> None:
    response = sign_up(client, username, email, password)
    assert response.status_code == 400
    assert message in text_of(response)
    assert f'value="{html.escape(email)}"' in response.text  # what was typed is kept
    assert SESSION_COOKIE not in client.cookies
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar_one() == 0


def test_duplicate_username_in_any_case_or_email_is_a_conflict(
    client: TestClient, engine: Engine
) -> None:
    make_user(engine, "grace")
    taken_name = sign_up(client, "GRACE", "other@example.org")
    assert taken_name.status_code == 409
    assert "That username is already registered." in text_of(taken_name)
    taken_email = sign_up(client, "hopper", "Grace@example.org")
    assert taken_email.status_code == 409
    assert "That email address is already registered." in text_of(taken_email)
    api = client.post(
        "/api/auth/signup",
        json={"username": "Grace", "email": "g2@example.org", "password": PASSWORD},
        headers={"X-CSRF-Token": form_token(client, "/signup")},
    )
    assert api.status_code == 409
    assert api.json() == {"detail": "That username is already registered."}


def test_signup_api_signs_in_and_returns_the_account(client: TestClient) -> None:
    csrf = client.get("/api/auth/csrf").json()["csrfToken"]
    response = client.post(
        "/api/auth/signup",
        json={
            "username": "linus",
            "email": "linus@example.org",
            "password": PASSWORD,
            "displayName": "L",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["username"], body["email"], body["displayName"], body["role"]) == (
        "linus",
        "linus@example.org",
        "L",
        "member",
    )
    assert me(client) == "linus"


# --- log-in, log-out, sessions ---


def test_login_by_username_in_any_case_and_by_email(client: TestClient, engine: Engine) -> None:
    make_user(engine, "Ada")
    for login in ("ada", "ADA", "ada@example.org", " Ada@Example.org "):
        response = log_in(client, login, next="/papers/trending")
        assert response.status_code == 303, login
        assert response.headers["location"] == "/papers/trending"
        assert me(client) == "Ada"
        client.cookies.clear()


def test_failed_login_says_one_generic_thing(client: TestClient, engine: Engine) -> None:
    make_user(engine, "ada")
    wrong_password = log_in(client, "ada", "not the password")
    unknown_user = log_in(client, "nobody", PASSWORD)
    unknown_email = log_in(client, "nobody@example.org", PASSWORD)
    empty = log_in(client, "", "")
    for response in (wrong_password, unknown_user, unknown_email, empty):
        assert response.status_code == 400
        page = text_of(response)
        assert GENERIC in page
        assert "no such" not in page.lower()
        assert "unknown" not in page.lower()
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert 'value="ada"' in wrong_password.text  # the login is kept, the password not
    api = client.post(
        "/api/auth/login",
        json={"login": "ada", "password": "nope nope"},
        headers={"X-CSRF-Token": client.get("/api/auth/csrf").json()["csrfToken"]},
    )
    assert (api.status_code, api.json()) == (400, {"detail": GENERIC})


def test_login_rotates_the_session(client: TestClient, engine: Engine) -> None:
    make_user(engine, "ada")
    assert log_in(client, "ada").status_code == 303
    before = client.cookies[SESSION_COOKIE]
    assert log_in(client, "ada").status_code == 303  # logging in again, already signed in
    after = client.cookies[SESSION_COOKIE]
    assert after != before
    with engine.connect() as conn:
        stored = set(conn.execute(select(sessions.c.token_hash)).scalars())
    assert stored == {token_hash(after)}  # the old session row is gone, not just unused


def test_login_api_sets_the_cookie_and_returns_the_user(client: TestClient, engine: Engine) -> None:
    make_user(engine, "ada")
    csrf = client.get("/api/auth/csrf").json()["csrfToken"]
    response = client.post(
        "/api/auth/login",
        json={"login": "ada@example.org", "password": PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    assert response.json()["username"] == "ada"
    assert "HttpOnly" in response.headers["set-cookie"]
    assert me(client) == "ada"
    out = client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    assert me(client) is None


def test_logout_ends_the_session_row_and_the_old_cookie_stops_working(
    client: TestClient, engine: Engine
) -> None:
    csrf = sign_in(client, engine, make_user(engine, "ada"))
    old = client.cookies[SESSION_COOKIE]
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert re.search(rf'{SESSION_COOKIE}=""?; .*Max-Age=0', response.headers["set-cookie"])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sessions)).scalar_one() == 0
    client.cookies.set(SESSION_COOKIE, old)  # a copy of the cookie kept by an attacker
    assert client.get("/api/me").status_code == 401
    assert (
        client.get("/settings", follow_redirects=False).headers["location"]
        == "/login?next=%2Fsettings"
    )


@pytest.mark.parametrize(
    "hostile", ["//evil.example", "https://evil.example", "/\\evil", "javascript:alert(1)"]
)
def test_next_is_honoured_only_within_the_site(
    client: TestClient, engine: Engine, hostile: str
) -> None:
    make_user(engine, "ada")
    page = client.get("/login", params={"next": hostile})
    assert 'name="next" value="/"' in page.text  # the form does not even carry it
    response = log_in(client, "ada", next=hostile)  # posted anyway, by a crafted form
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    signed_in = client.get("/login", params={"next": hostile}, follow_redirects=False)
    assert signed_in.headers["location"] == "/"


def test_signed_in_visitors_are_sent_on_from_login_and_signup(
    client: TestClient, engine: Engine
) -> None:
    sign_in(client, engine, make_user(engine, "ada"))
    for path in ("/login", "/signup"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/")
    assert (
        client.get("/login?next=/settings", follow_redirects=False).headers["location"]
        == "/settings"
    )


def test_expired_sessions_do_not_sign_in(client: TestClient, engine: Engine) -> None:
    sign_in(client, engine, make_user(engine, "ada"))
    assert me(client) == "ada"
    with engine.begin() as conn:
        conn.execute(update(sessions).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/me").status_code == 401
    assert client.get("/settings", follow_redirects=False).status_code == 303


# --- cookies ---


def session_cookie_header(response: httpx.Response) -> str:
    headers = response.headers.get_list("set-cookie")
    (found,) = [h for h in headers if h.startswith(f"{SESSION_COOKIE}=")]
    return str(found)


def test_session_cookie_flags_over_http(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    make_user(engine, "ada")
    cookie = session_cookie_header(log_in(client, "ada")).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert f"max-age={settings.session_days * 86400}" in cookie
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back


def test_session_cookie_is_secure_when_the_site_is_https(
    make_client: MakeClient, engine: Engine
) -> None:
    make_user(engine, "ada")
    client = make_client("https://testserver", base_url="https://papers.example")
    cookie = session_cookie_header(log_in(client, "ada")).lower()
    assert "; secure" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert me(client) == "ada"


# --- CSRF ---


FORM_POSTS = (
    "/signup",
    "/login",
    "/logout",
    "/forgot-password",
    "/reset-password",
    "/settings/profile",
    "/settings/password",
    "/settings/tokens",
    "/settings/tokens/1/delete",
)
API_WRITES = (
    ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/password-reset"),
    ("POST", "/api/auth/password-reset/confirm"),
    ("PATCH", "/api/me"),
    ("POST", "/api/me/password"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/1"),
)


def test_every_account_form_refuses_a_post_without_the_token(
    client: TestClient, engine: Engine
) -> None:
    sign_in(client, engine, make_user(engine, "ada"))
    fields = {"login": "ada", "password": PASSWORD, "username": "x", "email": "x@example.org"}
    for path in FORM_POSTS:
        response = client.post(path, data=fields, follow_redirects=False)
        assert response.status_code == 403, path
        assert "CSRF token is missing" in response.text, path
    assert me(client) == "ada"  # the refused log-out did nothing


def test_every_account_write_refuses_cross_site_requests(
    client: TestClient, engine: Engine
) -> None:
    csrf = sign_in(client, engine, make_user(engine, "ada"))
    attacks = (
        {},
        {"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
    )
    calls = [("POST", path) for path in FORM_POSTS] + list(API_WRITES)
    for method, path in calls:
        for headers in attacks:
            response = client.request(
                method, path, headers=headers, data={"name": "x"}, follow_redirects=False
            )
            assert response.status_code == 403, (method, path, headers)
            assert "Cross-site request refused" in response.text
    assert me(client) == "ada"
    assert client.get("/api/tokens").json() == []  # nothing was created


# --- rate limits ---


def test_login_is_limited_per_account_name(make_client: MakeClient, engine: Engine) -> None:
    make_user(engine, "ada")
    limits = {"rate_limit_login": "3/minute", "rate_limit_login_ip": "100/minute"}
    attacker = make_client(ip="198.51.100.1", **limits)
    for _ in range(3):
        assert log_in(attacker, "ada", "wrong password").status_code == 400
    client = make_client(ip="198.51.100.2", **limits)
    refused = log_in(client, "ADA", PASSWORD)  # right password, same account, another IP
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many log-in requests" in text_of(refused)
    assert 'name="login"' in refused.text  # the form, with the message on it
    assert SESSION_COOKIE not in client.cookies
    make_user(engine, "grace")
    assert log_in(client, "grace").status_code == 303  # another account is not locked


def test_login_is_limited_per_ip(make_client: MakeClient, engine: Engine) -> None:
    limits = {"rate_limit_login": "100/minute", "rate_limit_login_ip": "4/minute"}
    client = make_client(ip="198.51.100.1", **limits)
    statuses = [log_in(client, f"user{i}", "wrong password").status_code for i in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    other_ip = make_client(ip="198.51.100.2", **limits)
    assert log_in(other_ip, "user9", "wrong password").status_code == 400
    api = client.post(
        "/api/auth/login",
        json={"login": "someone", "password": "x"},
        headers={"X-CSRF-Token": client.get("/api/auth/csrf").json()["csrfToken"]},
    )
    assert api.status_code == 429
    assert int(api.headers["Retry-After"]) >= 1
    assert "Too many log-in requests" in api.json()["detail"]


def test_signup_is_limited_per_ip(make_client: MakeClient, engine: Engine) -> None:
    client = make_client(rate_limit_signup_ip="2/hour")
    assert sign_up(client, "one", "one@example.org").status_code == 303
    client.cookies.delete(SESSION_COOKIE)
    assert sign_up(client, "two", "bad").status_code == 400  # a failed try counts too
    refused = sign_up(client, "three", "three@example.org")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60
    assert "Too many sign-up requests" in text_of(refused)
    with engine.connect() as conn:
        assert list(conn.execute(select(users.c.username)).scalars()) == ["one"]


# --- settings ---


def test_settings_change_display_name_and_password(client: TestClient, engine: Engine) -> None:
    ada = make_user(engine, "ada")
    sign_in(client, engine, ada)
    other_browser = TestClient(client.app)
    sign_in(other_browser, engine, ada)
    page = client.get("/settings")
    assert "ada@example.org" in page.text  # the owner sees their own email here
    token = csrf_field(page)

    saved = client.post(
        "/settings/profile",
        data={"csrf_token": token, "display_name": "  Ada  Lovelace "},
        follow_redirects=False,
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/settings?saved=profile")
    assert client.get("/api/me").json()["displayName"] == "Ada Lovelace"

    wrong = client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": "nope",
            "new_password": "a new password",
            "new_password_confirm": "a new password",
        },
    )
    assert wrong.status_code == 400
    assert "The current password is not right." in text_of(wrong)
    differ = client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a new password",
            "new_password_confirm": "another one",
        },
    )
    assert differ.status_code == 400
    assert "differ" in text_of(differ)
    changed = client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a new password",
            "new_password_confirm": "a new password",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert me(client) == "ada"  # this browser got a fresh session
    assert me(other_browser) is None  # every other session ended
    client.cookies.clear()
    assert log_in(client, "ada", PASSWORD).status_code == 400
    assert log_in(client, "ada", "a new password").status_code == 303


def test_settings_json_twins(client: TestClient, engine: Engine) -> None:
    ada = make_user(engine, "ada")
    csrf = sign_in(client, engine, ada)
    headers = {"X-CSRF-Token": csrf}
    renamed = client.patch("/api/me", json={"displayName": "A. L."}, headers=headers)
    assert renamed.json()["displayName"] == "A. L."
    too_long = client.patch("/api/me", json={"displayName": "x" * 101}, headers=headers)
    assert too_long.status_code == 400
    changed = client.post(
        "/api/me/password",
        json={"currentPassword": PASSWORD, "newPassword": "brand new pass"},
        headers=headers,
    )
    assert changed.status_code == 200
    assert me(client) == "ada"
    assert client.get("/api/users/ada").json()["displayName"] == "A. L."


def test_settings_need_sign_in(client: TestClient) -> None:
    response = client.get("/settings", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=%2Fsettings")
    assert client.get("/api/me").status_code == 401


def test_hostile_input_gets_clear_answers_not_errors(client: TestClient, engine: Engine) -> None:
    make_user(engine, "ada")
    headers = {"X-CSRF-Token": client.get("/api/auth/csrf").json()["csrfToken"]}

    def post(path: str, body: dict[str, str]) -> httpx.Response:
        return client.post(path, json=body, headers=headers)

    nul_name = post(
        "/api/auth/signup",
        {"username": "eve", "email": "eve@example.org", "password": PASSWORD, "displayName": "\0"},
    )
    assert (nul_name.status_code, nul_name.json()["detail"]) == (
        400,
        "A display name cannot hold control characters.",
    )
    nul_email = post(
        "/api/auth/signup", {"username": "eve", "email": "e\0@x.org", "password": PASSWORD}
    )
    assert nul_email.status_code == 400
    assert post("/api/auth/login", {"login": "ada\0", "password": PASSWORD}).json() == {
        "detail": GENERIC
    }
    assert post("/api/auth/password-reset", {"email": "\0@example.org"}).status_code == 400
    long = post("/api/auth/login", {"login": "a" * 5000, "password": "x"})
    assert long.status_code == 422  # over the field's bound, refused before any work
    assert client.get("/api/users/%00").status_code == 404
    assert client.get("/api/users/" + "a" * 300).status_code == 404


def test_account_routes_are_in_the_openapi_document_with_summaries(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        "/api/auth/signup": {"post"},
        "/api/auth/login": {"post"},
        "/api/auth/logout": {"post"},
        "/api/auth/csrf": {"get"},
        "/api/auth/password-reset": {"post"},
        "/api/auth/password-reset/confirm": {"post"},
        "/api/me": {"get", "patch"},
        "/api/me/password": {"post"},
        "/api/tokens": {"get", "post"},
        "/api/tokens/{token_id}": {"delete"},
        "/api/users/{username}": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) == methods, path
        for method in methods:
            assert paths[path][method]["summary"], (method, path)
    assert not any(path.startswith(("/login", "/signup", "/settings")) for path in paths)
