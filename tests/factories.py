"""Accounts and signed-in clients for tests, made through the library (not the forms)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from paperwire.accounts import service as accounts
from paperwire.accounts.secrets import sign
from paperwire.config import Settings
from paperwire.models import Role, User
from paperwire.web.auth import SESSION_COOKIE
from paperwire.web.csrf import CSRF_COOKIE

PASSWORD = "correct horse battery"


def make_user(
    engine: Engine, username: str, role: Role = Role.MEMBER, password: str = PASSWORD
) -> User:
    with engine.begin() as conn:
        return accounts.sign_up(
            conn,
            username=username,
            email=f"{username.lower()}@example.org",
            password=password,
            role=role,
        )


def csrf_token(client: TestClient, settings: Settings) -> str:
    """The CSRF token of the client's visitor cookie (fetched with a first GET if needed)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/api/health")
    return sign(settings.secret_key, client.cookies[CSRF_COOKIE])


def sign_in(client: TestClient, engine: Engine, user: User) -> str:
    """Give ``client`` a session of ``user``; returns its CSRF token for posts."""
    with engine.begin() as conn:
        token = accounts.start_session(conn, user, days=1)
    client.cookies.set(SESSION_COOKIE, token)
    settings: Settings = client.app.state.context.settings  # type: ignore[attr-defined]
    return csrf_token(client, settings)


def api_token(engine: Engine, user: User, name: str = "tests") -> str:
    with engine.begin() as conn:
        return accounts.create_api_token(conn, user, name).token
