"""Every state-changing route refuses cross-site requests: found from the app, not listed.

The routes are read from the running app, so a route added later is swept too. Each is
called as a signed-in member's browser would be tricked into calling it: with the
session cookie, and (a) no CSRF token, (b) the right token but a foreign ``Origin``,
(c) the right token but ``Sec-Fetch-Site: cross-site``. All must be refused by the CSRF
middleware before any handler runs.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import make_user, sign_in
from paperwire.models import Role
from paperwire.web import introspect
from paperwire.web.subscribe import CSRF_EXEMPT

PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
SAMPLE_VALUES = {"paper_id": "2510.01459", "id": "1", "slug": "some-org", "day": "2025-10-06"}
REFUSED = "Cross-site request refused"


def state_changing_routes(client: TestClient) -> list[tuple[str, str]]:
    return [
        (
            method,
            PARAM.sub(
                lambda m: SAMPLE_VALUES.get(m[1], "1" if m[1].endswith("_id") else "x"), path
            ),
        )
        for method, path in introspect.state_changing_routes(client.app)
        # RFC 8058 one-click unsubscribe: exempt by design (the token in the path is the
        # credential); tests/functional/test_unsubscribe.py checks it is the only one
        if not path.startswith(CSRF_EXEMPT)
    ]


def test_every_state_changing_route_refuses_cross_site_requests(
    client: TestClient, engine: Engine
) -> None:
    token = sign_in(client, engine, make_user(engine, "victim", Role.ADMIN))
    routes = state_changing_routes(client)
    assert len(routes) >= 40, routes  # the sweep found the app's routes
    attacks = {
        "no token": {},
        "foreign Origin": {"X-CSRF-Token": token, "Origin": "https://evil.example"},
        "cross-site fetch": {"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"},
    }
    let_through = []
    for method, path in routes:
        for attack, headers in attacks.items():
            response = client.request(
                method,
                path,
                headers=headers,
                data={"next": "/"},
                follow_redirects=False,
            )
            if response.status_code != 403 or REFUSED not in response.text:
                let_through.append((method, path, attack, response.status_code))
    assert let_through == []
