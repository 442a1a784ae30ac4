"""A NUL character in what a visitor sends is an ordinary miss on both backends.

SQLite stores and compares any string; PostgreSQL's text refuses NUL, which made every
lookup holding one a server error there (store/pg_strings.py sends U+FFFD instead).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from factories import csrf_token
from paperwire.config import Settings

NUL = "a\x00b"


@pytest.mark.parametrize(
    "path",
    [
        "/api/organizations/a%00b",
        "/api/authors/a%00b",
        "/organizations/a%00b",
        "/authors/a%00b",
        "/users/a%00b",
        "/feeds/authors/a%00b.atom",
        "/api/papers/a%00b",
    ],
)
def test_a_lookup_with_nul_finds_nothing(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_filters_and_log_in_with_nul_answer_normally(
    client: TestClient, settings: Settings
) -> None:
    search = client.get("/api/papers/search", params={"q": "x", "organization": NUL})
    assert search.status_code == 200, search.text
    assert search.json() == []
    token = csrf_token(client, settings)
    login = client.post(
        "/api/auth/login",
        json={"login": NUL, "password": "not the password"},
        headers={"X-CSRF-Token": token},
    )
    assert login.status_code == 400, login.text
    assert login.json() == {"detail": "Wrong username/email or password."}
