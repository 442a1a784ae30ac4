"""CSRF: cross-site requests against every state-changing route of a real server.

A fresh database gets an admin account (the most privileged victim) and a real
``python -m paperwire serve`` is started. The routes are read from the app itself (every
POST, PUT, PATCH and DELETE, pages' form posts and the JSON API alike), so none can be
forgotten. Each route is sent, with the victim's session cookie, the attacks a
cross-site page can make a browser send: no CSRF token; the right token with a foreign
``Origin``; the right token with ``Sec-Fetch-Site: cross-site`` or ``same-site``; and an
``Origin: null`` (sandboxed frames). All must be refused (403 from the CSRF middleware).
As a control, the same request from the site itself (token, same origin) must get past
the middleware, so that the refusals are not a server refusing everything.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import httpx

from benchmarks._common import BenchmarkFailed, Stopwatch, Table, say
from benchmarks._server import HOST, serving
from paperwire.accounts import service as accounts
from paperwire.accounts.secrets import sign
from paperwire.config import Settings
from paperwire.models import Role
from paperwire.store.db import make_engine
from paperwire.store.migrate import upgrade
from paperwire.web.app import create_app
from paperwire.web.auth import SESSION_COOKIE
from paperwire.web.csrf import CSRF_COOKIE
from paperwire.web.introspect import state_changing_routes
from paperwire.web.subscribe import CSRF_EXEMPT

NAME = "csrf"
HELP = "cross-site requests against every state-changing route of a real server"

PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
SAMPLES = {"paper_id": "2510.01459", "id": "1", "slug": "some-org", "day": "2025-10-06"}
REFUSED = "Cross-site request refused"
SECRET = "csrf-benchmark-secret-key"  # noqa: S105 - a throwaway server's key


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def routes(settings: Settings) -> list[tuple[str, str]]:
    """Every state-changing route but RFC 8058's one-click unsubscribe, which must work
    from a mail client with no cookie and no token (tests/functional/test_csrf_sweep.py
    checks that it is the only exemption)."""
    return [
        (method, PARAM.sub(lambda m: SAMPLES.get(m[1], "1" if m[1].endswith("_id") else "x"), path))
        for method, path in state_changing_routes(create_app(settings))
        if not path.startswith(CSRF_EXEMPT)
    ]


def run(args: argparse.Namespace) -> list[Table]:
    del args
    with tempfile.TemporaryDirectory(prefix="pw-csrf-") as tmp:
        db = Path(tmp) / "csrf.db"
        settings = Settings(env="test", database_url=f"sqlite:///{db}", secret_key=SECRET)
        engine = make_engine(settings)
        upgrade(engine)
        with engine.begin() as conn:
            admin = accounts.sign_up(
                conn,
                username="victim",
                email="victim@example.org",
                password="x" * 12,
                role=Role.ADMIN,
            )
            session = accounts.start_session(conn, admin, days=1)
        engine.dispose()
        targets = routes(settings)
        if not targets:
            raise BenchmarkFailed("the app has no state-changing routes to sweep")
        say(f"sweeping {len(targets)} state-changing routes")
        env = {"PAPERWIRE_SECRET_KEY": SECRET}
        with serving(db, 1, Path(tmp), env) as server, Stopwatch() as watch:
            base = f"http://{HOST}:{server.port}"
            with httpx.Client(base_url=base, timeout=10) as client:
                client.get("/api/health")
                cookie = client.cookies[CSRF_COOKIE]
                token = sign(SECRET, cookie)
                client.cookies.set(SESSION_COOKIE, session)
                attacks = {
                    "no token": {},
                    "foreign Origin": {"X-CSRF-Token": token, "Origin": "https://evil.example"},
                    "Origin null": {"X-CSRF-Token": token, "Origin": "null"},
                    "cross-site": {"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"},
                    "same-site": {"X-CSRF-Token": token, "Sec-Fetch-Site": "same-site"},
                }
                refused = dict.fromkeys(attacks, 0)
                passed_control = 0
                leaks: list[str] = []
                for method, path in targets:
                    for name, headers in attacks.items():
                        response = client.request(method, path, headers=headers, data={"x": "1"})
                        if response.status_code == 403 and REFUSED in response.text:
                            refused[name] += 1
                        else:
                            leaks.append(f"{method} {path} ({name}): {response.status_code}")
                    control = client.request(
                        method,
                        path,
                        headers={
                            "X-CSRF-Token": token,
                            "Origin": base,
                            "Sec-Fetch-Site": "same-origin",
                        },
                        data={"x": "1"},
                    )
                    if REFUSED not in control.text:
                        passed_control += 1
    table = Table(
        "CSRF: cross-site requests refused, per attack, over every state-changing route",
        ["attack", "routes", "refused", "share"],
    )
    for name, count in refused.items():
        table.add(name, len(targets), count, f"{100 * count / len(targets):.0f}%")
    table.add(
        "control: same-origin with token",
        len(targets),
        len(targets) - passed_control,
        f"{passed_control}/{len(targets)} let through",
    )
    table.notes.append(f"{watch.wall:.1f} s; {len(targets)} routes read from the app")
    if leaks:
        table.notes.extend(leaks[:20])
        raise BenchmarkFailed("cross-site requests got through:\n" + "\n".join(leaks[:20]))
    if passed_control != len(targets):
        raise BenchmarkFailed("same-origin requests with the token were refused too")
    return [table]
