"""API tokens: created on the settings page (shown once) or through the API, listed,
revoked; a token signs a script in, a revoked one is refused, and only hashes are stored."""

from __future__ import annotations

import hashlib
import html
import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from account_support import form_token
from factories import api_token, make_user, sign_in
from paperwire.accounts.service import MAX_API_TOKENS
from paperwire.store.schema import api_tokens

NEW_TOKEN = re.compile(r'id="new-token"[^>]*value="(pw_[\w-]+)"')


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_on_page(client: TestClient, name: str) -> httpx.Response:
    token = form_token(client, "/settings/tokens")
    return client.post("/settings/tokens", data={"csrf_token": token, "name": name})


def test_token_created_on_the_page_is_shown_once_and_works(
    client: TestClient, engine: Engine
) -> None:
    ada = make_user(engine, "ada")
    sign_in(client, engine, ada)
    created = create_on_page(client, "digest  script")
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    match = NEW_TOKEN.search(created.text)
    assert match, "the new token is not on the page"
    secret = match[1]
    assert "digest script" in html.unescape(created.text)

    later = client.get("/settings/tokens")
    assert secret not in later.text  # never shown again
    assert secret[:7] in later.text  # its prefix identifies it in the list

    anonymous = TestClient(client.app)
    me = anonymous.get("/api/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json()["username"] == "ada"


def test_revoking_on_the_page_makes_the_token_fail(client: TestClient, engine: Engine) -> None:
    ada = make_user(engine, "ada")
    csrf = sign_in(client, engine, ada)
    secret = api_token(engine, ada, "ci")
    assert client.get("/api/me", headers=bearer(secret)).status_code == 200
    with engine.connect() as conn:
        token_id = conn.execute(select(api_tokens.c.id)).scalar_one()
    response = client.post(
        f"/settings/tokens/{token_id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, "/settings/tokens")
    refused = TestClient(client.app).get("/api/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert "revoked or mistyped" in refused.json()["detail"]
    assert "No tokens yet." in client.get("/settings/tokens").text


def test_api_create_list_revoke(client: TestClient, engine: Engine) -> None:
    ada = make_user(engine, "ada")
    first = api_token(engine, ada, "bootstrap")
    created = client.post("/api/tokens", json={"name": "nightly"}, headers=bearer(first))
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "token"}
    assert body["name"] == "nightly"
    assert body["token"].startswith("pw_")

    listed = client.get("/api/tokens", headers=bearer(body["token"]))
    assert listed.status_code == 200
    rows = listed.json()
    assert [row["name"] for row in rows] == ["bootstrap", "nightly"]
    assert all("token" not in row for row in rows)  # secrets are never listed
    assert rows[1]["prefix"] == body["token"][:7]
    assert rows[1]["lastUsedAt"] is not None  # it was just used to list

    deleted = client.delete(f"/api/tokens/{body['id']}", headers=bearer(first))
    assert deleted.status_code == 204
    assert client.get("/api/me", headers=bearer(body["token"])).status_code == 401
    assert client.delete(f"/api/tokens/{body['id']}", headers=bearer(first)).status_code == 404


def test_a_token_cannot_revoke_or_list_another_users_tokens(
    client: TestClient, engine: Engine
) -> None:
    ada, grace = make_user(engine, "ada"), make_user(engine, "grace")
    ada_token = api_token(engine, ada)
    grace_token = api_token(engine, grace)
    with engine.connect() as conn:
        grace_id = conn.execute(
            select(api_tokens.c.id).where(api_tokens.c.user_id == grace.id)
        ).scalar_one()
    response = client.delete(f"/api/tokens/{grace_id}", headers=bearer(ada_token))
    assert response.status_code == 404
    assert client.get("/api/me", headers=bearer(grace_token)).status_code == 200
    assert [row["name"] for row in client.get("/api/tokens", headers=bearer(ada_token)).json()] == [
        "tests"
    ]


def test_token_secret_is_stored_only_as_its_hash(client: TestClient, engine: Engine) -> None:
    ada = make_user(engine, "ada")
    first = api_token(engine, ada)
    secret = client.post("/api/tokens", json={"name": "x"}, headers=bearer(first)).json()["token"]
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(select(api_tokens)).mappings()]
    stored_text = repr(rows)
    assert secret not in stored_text
    assert secret[7:] not in stored_text  # not even the part after the shown prefix
    assert hashlib.sha256(secret.encode()).hexdigest() in [row["token_hash"] for row in rows]


def test_token_requests_need_a_signed_in_account_and_skip_csrf(
    client: TestClient, engine: Engine
) -> None:
    assert client.get("/api/tokens").status_code == 401
    ada = make_user(engine, "ada")
    secret = api_token(engine, ada)
    # a bearer request needs no CSRF token: a cross-site page cannot add the header
    assert client.post("/api/tokens", json={"name": "y"}, headers=bearer(secret)).status_code == 201
    # a cookie-signed-in script does need it
    csrf = sign_in(client, engine, ada)
    assert client.post("/api/tokens", json={"name": "z"}).status_code == 403
    ok = client.post("/api/tokens", json={"name": "z"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    assert client.get("/api/tokens", headers=bearer("pw_not-a-token")).status_code == 401


def test_tokens_per_account_are_bounded(client: TestClient, engine: Engine) -> None:
    ada = make_user(engine, "ada")
    for _ in range(MAX_API_TOKENS - 1):
        api_token(engine, ada)
    last = api_token(engine, ada)  # the 50th, made through the library's unbounded call
    refused = client.post("/api/tokens", json={"name": "one more"}, headers=bearer(last))
    assert refused.status_code == 409
    assert "at most" in refused.json()["detail"]
    sign_in(client, engine, ada)
    page = create_on_page(client, "one more")
    assert page.status_code == 409
    assert "revoke one first" in page.text


def test_tokens_page_needs_sign_in(client: TestClient) -> None:
    response = client.get("/settings/tokens", follow_redirects=False)
    assert response.headers["location"] == "/login?next=%2Fsettings%2Ftokens"


def test_hostile_token_ids_and_names(client: TestClient, engine: Engine) -> None:
    secret = api_token(engine, make_user(engine, "ada"))
    for token_id in ("99999999999999999999999", "0", "-1", "x"):
        response = client.delete(f"/api/tokens/{token_id}", headers=bearer(secret))
        assert response.status_code == 422, token_id
    created = client.post("/api/tokens", json={"name": "a\0b\tc\n"}, headers=bearer(secret))
    assert created.json()["name"] == "a b c"
