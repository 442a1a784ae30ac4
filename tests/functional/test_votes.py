"""Upvotes through the HTTP app: one per member, undoable, exact under concurrency."""

from __future__ import annotations

import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from factories import PASSWORD, api_token, csrf_token, make_user, sign_in
from paperwire.accounts.secrets import hash_password
from paperwire.clock import utcnow
from paperwire.community import votes
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.models import Role, User
from paperwire.store import users as user_store
from paperwire.store.schema import papers
from paperwire.store.schema import votes as votes_table
from paperwire.store.state import bump_content_version
from paperwire.web.app import create_app

DAY = "2024-05-27"  # 13 real HF papers; upvotes 32, 28, 19, 11, 10, 9, 9, 7, 7, 7, 5, 4, 3
TOP, LOW, FOUR = "2405.15738", "2405.15125", "2405.15216"


@pytest.fixture
def day_engine(engine: Engine, data_dir: Path) -> Engine:
    summary = import_paths(engine, [data_dir / "hf-daily-papers" / f"{DAY}.json"])
    assert summary.feed_inserted == 13
    return engine


def _rows(engine: Engine, paper_id: str) -> int:
    with engine.connect() as conn:
        stmt = (
            select(func.count()).select_from(votes_table).where(votes_table.c.paper_id == paper_id)
        )
        return int(conn.execute(stmt).scalar_one())


def _local(engine: Engine, paper_id: str) -> int:
    with engine.connect() as conn:
        stmt = select(papers.c.local_upvotes).where(papers.c.id == paper_id)
        return int(conn.execute(stmt).scalar_one())


def _day_upvotes(client: TestClient) -> dict[str, int]:
    items = client.get(f"/api/daily_papers?date={DAY}").json()
    return {item["paper"]["id"]: item["paper"]["upvotes"] for item in items}


def test_one_vote_per_member_and_undo_are_idempotent(
    client: TestClient, day_engine: Engine
) -> None:
    token = sign_in(client, day_engine, make_user(day_engine, "ada"))
    headers = {"X-CSRF-Token": token}
    for _ in range(2):
        answer = client.post(f"/api/papers/{LOW}/vote", headers=headers)
        assert answer.status_code == 200
        assert answer.json() == {"paperId": LOW, "voted": True, "upvotes": 4}
    assert (_rows(day_engine, LOW), _local(day_engine, LOW)) == (1, 1)
    assert _day_upvotes(client)[LOW] == 4
    for _ in range(2):
        answer = client.delete(f"/api/papers/{LOW}/vote", headers=headers)
        assert answer.json() == {"paperId": LOW, "voted": False, "upvotes": 3}
    assert (_rows(day_engine, LOW), _local(day_engine, LOW)) == (0, 0)
    # any spelling of the id reaches the same paper
    answer = client.post(f"/api/papers/arXiv:{LOW}v2/vote", headers=headers)
    assert answer.json()["paperId"] == LOW
    assert _rows(day_engine, LOW) == 1


def test_anonymous_votes_are_refused_with_401(client: TestClient, day_engine: Engine) -> None:
    settings: Settings = client.app.state.context.settings  # type: ignore[attr-defined]
    answer = client.post(
        f"/api/papers/{LOW}/vote", headers={"X-CSRF-Token": csrf_token(client, settings)}
    )
    assert answer.status_code == 401
    assert "Sign in" in answer.json()["detail"]
    assert _rows(day_engine, LOW) == 0


def test_an_unknown_paper_is_404(client: TestClient, day_engine: Engine) -> None:
    token = sign_in(client, day_engine, make_user(day_engine, "ada"))
    for paper_id in ("2405.99999", "hep-th/9901001"):
        answer = client.post(f"/api/papers/{paper_id}/vote", headers={"X-CSRF-Token": token})
        assert answer.status_code == 404
        assert paper_id in answer.json()["detail"]
    page = client.post(
        "/papers/2405.99999/vote",
        data={"csrf_token": token, "action": "up"},
        follow_redirects=False,
    )
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


def test_the_form_works_without_javascript_and_goes_back(
    client: TestClient, day_engine: Engine
) -> None:
    token = sign_in(client, day_engine, make_user(day_engine, "ada"))
    back = f"/papers/date/{DAY}?sort=upvotes"
    page = client.get(back).text
    assert page.count('<script src="/static/vote.js" defer></script>') == 1
    form = _vote_form(page, LOW)
    assert 'aria-pressed="false"' in form
    assert 'name="action" value="up"' in form
    assert f'name="csrf_token" value="{token}"' in form

    answer = client.post(
        f"/papers/{LOW}/vote",
        data={"csrf_token": token, "action": "up", "next": back},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == back
    form = _vote_form(client.get(back).text, LOW)
    assert 'aria-pressed="true"' in form
    assert 'name="action" value="down"' in form
    assert '<span class="count">4</span>' in form

    # withdrawing; a foreign "next" is not followed
    answer = client.post(
        f"/papers/{LOW}/vote",
        data={"csrf_token": token, "action": "down", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == f"/papers/{LOW}"
    assert _rows(day_engine, LOW) == 0
    paper_page = client.get(f"/papers/{LOW}").text
    assert 'class="upvote-pill vote-form"' in paper_page
    assert 'aria-pressed="false"' in paper_page


def _vote_form(page: str, paper_id: str) -> str:
    match = re.search(
        rf'<form class="votes vote-form[^"]*"[^>]*'
        rf'action="/papers/{re.escape(paper_id)}/vote".*?</form>',
        page,
        re.DOTALL,
    )
    assert match, f"no vote form for {paper_id}"
    return match.group()


def test_anonymous_pages_show_a_login_link_and_stay_fresh(
    client: TestClient, day_engine: Engine
) -> None:
    page = client.get(f"/papers/date/{DAY}").text
    assert "vote-form" not in page
    assert "vote.js" not in page
    assert f'class="votes vote-login" href="/login?next=/papers/date/{DAY}"' in page.replace(
        "%2F", "/"
    )
    # a vote from someone else shows on the cached anonymous page at once
    member = TestClient(client.app)
    token = sign_in(member, day_engine, make_user(day_engine, "ada"))
    member.post(f"/api/papers/{LOW}/vote", headers={"X-CSRF-Token": token})
    assert _day_upvotes(client)[LOW] == 4
    assert '<span class="count">4</span>' in client.get(f"/papers/date/{DAY}").text


def test_list_order_counts_local_votes_and_comments(client: TestClient, day_engine: Engine) -> None:
    before = list(_day_upvotes(client))
    assert before.index(FOUR) == before.index("2405.15613") + 1  # 4 below 5
    for name, expected in (("ada", 5), ("bob", 6)):
        voter = TestClient(client.app)
        token = sign_in(voter, day_engine, make_user(day_engine, name))
        answer = voter.post(f"/api/papers/{FOUR}/vote", headers={"X-CSRF-Token": token})
        assert answer.json()["upvotes"] == expected
    after = _day_upvotes(client)
    assert after[FOUR] == 6
    assert list(after).index(FOUR) == list(after).index("2405.15613") - 1  # 6 above 5
    # visible local comments are added to the imported count
    imported = {i["paper"]["id"]: i["numComments"] for i in _day_items(client)}
    with day_engine.begin() as conn:
        conn.execute(update(papers).where(papers.c.id == TOP).values(local_comments=3))
        bump_content_version(conn)
    counted = {i["paper"]["id"]: i["numComments"] for i in _day_items(client)}
    assert counted[TOP] == imported[TOP] + 3
    assert counted[LOW] == imported[LOW]


def _day_items(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(f"/api/daily_papers?date={DAY}").json()
    return items


def test_api_tokens_vote_without_csrf(client: TestClient, day_engine: Engine) -> None:
    bearer = {"Authorization": f"Bearer {api_token(day_engine, make_user(day_engine, 'ada'))}"}
    assert client.post(f"/api/papers/{TOP}/vote", headers=bearer).json()["upvotes"] == 33
    assert client.delete(f"/api/papers/{TOP}/vote", headers=bearer).json()["voted"] is False
    bad = {"Authorization": "Bearer pw_wrong"}
    assert client.post(f"/api/papers/{TOP}/vote", headers=bad).status_code == 401


def test_rate_limits_answer_429_with_retry_after(settings: Settings, data_dir: Path) -> None:
    limited = settings.model_copy(
        update={"rate_limit_vote": "3/minute", "rate_limit_vote_ip": "5/minute"}
    )
    with TestClient(create_app(limited)) as client:
        engine = client.app.state.context.engine  # type: ignore[attr-defined]
        import_paths(engine, [data_dir / "hf-daily-papers" / f"{DAY}.json"])
        token = sign_in(client, engine, make_user(engine, "ada"))
        statuses = [
            client.post(f"/api/papers/{TOP}/vote", headers={"X-CSRF-Token": token}).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 200]
        refused = client.post(f"/api/papers/{TOP}/vote", headers={"X-CSRF-Token": token})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "Too many vote requests" in refused.json()["detail"]
        # the IP's limit counts every account from it: 4 hits so far, one more passes
        other = TestClient(client.app)
        other_token = sign_in(other, engine, make_user(engine, "bob"))
        assert (
            other.post(f"/api/papers/{TOP}/vote", headers={"X-CSRF-Token": other_token}).status_code
            == 200
        )
        assert (
            other.post(f"/api/papers/{TOP}/vote", headers={"X-CSRF-Token": other_token}).status_code
            == 429
        )
        form = other.post(
            f"/papers/{TOP}/vote",
            data={"csrf_token": other_token, "action": "up"},
            follow_redirects=False,
        )
        assert form.status_code == 429
        assert "Retry-After" in form.headers
        assert "Too many vote requests" in form.text


# --- concurrency, through the library and a real database file --------------------------


@pytest.fixture
def members(day_engine: Engine) -> list[User]:
    password_hash = hash_password(PASSWORD)  # once: argon2 is slow on purpose
    with day_engine.begin() as conn:
        found = [
            user_store.create_user(
                conn,
                username=f"m{n}",
                email=f"m{n}@example.org",
                password_hash=password_hash,
                role=Role.MEMBER,
                now=utcnow(),
            )
            for n in range(60)
        ]
    return found


def test_one_member_voting_from_8_threads_counts_once(
    day_engine: Engine, members: list[User]
) -> None:
    start = threading.Barrier(8)

    def vote(_: int) -> bool:
        start.wait()
        return votes.upvote(day_engine, members[0], TOP).voted

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(vote, range(8)))
    assert (_rows(day_engine, TOP), _local(day_engine, TOP)) == (1, 1)


def test_many_members_voting_at_once_keep_exact_counts(
    day_engine: Engine, members: list[User]
) -> None:
    start = threading.Barrier(12)
    targets = [TOP, LOW, FOUR]

    def storm(seed: int) -> dict[tuple[int, str], bool]:
        rng = random.Random(seed)
        final: dict[tuple[int, str], bool] = {}
        mine = members[seed * 5 : seed * 5 + 5]
        start.wait()
        for _ in range(40):
            user, paper_id, up = rng.choice(mine), rng.choice(targets), rng.random() < 0.6
            state = votes.set_vote(day_engine, user, paper_id, up)
            assert state.voted is up
            final[(user.id, paper_id)] = up
        return final

    with ThreadPoolExecutor(12) as pool:
        finals = list(pool.map(storm, range(12)))
    expected = {key: up for final in finals for key, up in final.items()}
    with day_engine.connect() as conn:
        rows = conn.execute(select(votes_table.c.user_id, votes_table.c.paper_id)).all()
    assert len(rows) == len(set(rows))  # the primary key: no duplicates
    assert {(r.user_id, r.paper_id) for r in rows} == {k for k, up in expected.items() if up}
    for paper_id in targets:
        assert _local(day_engine, paper_id) == _rows(day_engine, paper_id)
        assert _rows(day_engine, paper_id) == sum(
            1 for (_, pid), up in expected.items() if up and pid == paper_id
        )
