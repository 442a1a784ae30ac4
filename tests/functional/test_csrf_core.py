"""The CSRF middleware and auth core: tokens, origins, bearer tokens, safe redirects."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import api_token, csrf_token, make_user, sign_in
from paperwire.config import Settings
from paperwire.web.auth import safe_next


def test_post_without_token_is_refused_with_a_reason(client: TestClient) -> None:
    response = client.post("/logout")
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_cross_site_fetch_is_refused_even_with_the_token(
    client: TestClient, settings: Settings
) -> None:
    token = csrf_token(client, settings)
    for headers in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ):
        response = client.post("/api/health", headers={"X-CSRF-Token": token, **headers})
        assert response.status_code == 403, headers
        assert "Cross-site request refused" in response.json()["detail"]


def test_same_origin_post_with_token_passes_the_middleware(
    client: TestClient, settings: Settings
) -> None:
    token = csrf_token(client, settings)
    response = client.post(
        "/api/health",
        headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 405  # reached the app: GET only there


def test_a_token_of_another_visitor_is_refused(client: TestClient, settings: Settings) -> None:
    csrf_token(client, settings)
    response = client.post("/api/health", headers={"X-CSRF-Token": "0" * 64})
    assert response.status_code == 403


def test_form_field_token_is_read_and_the_body_still_reaches_the_app(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    user = make_user(engine, "ada")
    token = sign_in(client, engine, user)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code in (303, 404, 405)  # past the middleware


def test_bearer_tokens_skip_the_csrf_token_but_must_be_valid(
    client: TestClient, engine: Engine
) -> None:
    user = make_user(engine, "grace")
    token = api_token(engine, user)
    assert (
        client.post("/api/health", headers={"Authorization": f"Bearer {token}"}).status_code == 405
    )
    bad = client.get("/api/papers/search?q=x", headers={"Authorization": "Bearer pw_nope"})
    assert bad.status_code in (200, 401)


def test_safe_next_refuses_open_redirects() -> None:
    assert safe_next("/papers/2510.01459") == "/papers/2510.01459"
    for hostile in (
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "",
        None,
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
        "/%0d%0a",
    ):
        assert safe_next(hostile) in ("/", "/%0d%0a")
