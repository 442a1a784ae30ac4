"""Helpers for the account tests: forms read like a browser reads them (the CSRF token
from the page's hidden field), and clients with settings of their own."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import httpx
from fastapi.testclient import TestClient

from factories import PASSWORD
from paperwire.config import Settings
from paperwire.web.app import create_app

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
GENERIC = "Wrong username/email or password."
SENT = "If an account has this email address, a link to reset its password is on its way."

MakeClient = Callable[..., TestClient]


def csrf_field(page: httpx.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, "no csrf_token field"
    return found[1]


def form_token(client: TestClient, path: str) -> str:
    """Open a form page as a browser would and read its hidden CSRF token."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_field(page)


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


def sign_up(
    client: TestClient, username: str, email: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    token = form_token(client, "/signup")
    fields = {"username": username, "email": email, "password": password, **extra}
    return client.post("/signup", data={"csrf_token": token, **fields}, follow_redirects=False)


def log_in(
    client: TestClient, login: str, password: str = PASSWORD, next: str = "/"
) -> httpx.Response:
    token = form_token(client, "/login")
    return client.post(
        "/login",
        data={"csrf_token": token, "login": login, "password": password, "next": next},
        follow_redirects=False,
    )


def me(client: TestClient) -> str | None:
    """The username the client is signed in as, if any."""
    response = client.get("/api/me")
    return response.json()["username"] if response.status_code == 200 else None


@contextmanager
def client_factory(settings: Settings) -> Iterator[MakeClient]:
    """Make clients on the same database, each from an IP of its own (the rate limits
    count per IP) and with some settings changed; all are closed at the end."""
    with ExitStack() as stack:

        def make(
            client_url: str = "http://testserver", ip: str = "testclient", **changes: object
        ) -> TestClient:
            app = create_app(settings.model_copy(update=changes))
            client = TestClient(app, base_url=client_url, client=(ip, 50000))
            return stack.enter_context(client)

        yield make
