"""Curators' feed controls and metadata refresh, through the HTTP app and a replayed arXiv."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from arxiv_replay import ArxivReplay, replay_settings
from factories import csrf_token, make_user, sign_in
from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.models import Role
from paperwire.store.schema import author_claims, comments, feed_entries, links, papers, votes
from paperwire.store.users import get_user_by_name
from paperwire.web.app import create_app

DAY = "2024-05-27"
# the day's real order as imported; 2405.15319 and 2405.14979 both have 9 upvotes
HF_ORDER = [
    "2405.15738",
    "2405.15574",
    "2405.15071",
    "2405.15032",
    "2405.15682",
    "2405.15319",
    "2405.14979",
    "2405.15223",
    "2405.14908",
    "2405.14906",
    "2405.15613",
    "2405.15216",
    "2405.15125",
]


@pytest.fixture
def arxiv() -> Iterator[ArxivReplay]:
    with ArxivReplay() as server:
        yield server


@pytest.fixture
def client(settings: Settings, arxiv: ArxivReplay, data_dir: Path) -> Iterator[TestClient]:
    configured = replay_settings(settings, arxiv, submission_max_age_days=100_000)
    with TestClient(create_app(configured)) as client:
        summary = import_paths(_engine(client), [data_dir / "hf-daily-papers" / f"{DAY}.json"])
        assert summary.feed_inserted == len(HF_ORDER)
        yield client


def _engine(client: TestClient) -> Engine:
    engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
    return engine


def _as(client: TestClient, name: str, role: Role = Role.MEMBER) -> tuple[TestClient, str]:
    """Another browser, signed in as a new user; and its CSRF token."""
    browser = TestClient(client.app)
    return browser, sign_in(browser, _engine(client), make_user(_engine(client), name, role))


def _ids(client: TestClient, sort: str) -> list[str]:
    items = client.get(f"/api/daily_papers?date={DAY}&sort={sort}").json()
    return [item["paper"]["id"] for item in items]


def _order_in_store(client: TestClient) -> list[str]:
    with _engine(client).connect() as conn:
        rows = conn.execute(
            select(feed_entries.c.paper_id)
            .where(feed_entries.c.feed_date == date.fromisoformat(DAY))
            .order_by(feed_entries.c.position)
        )
        return list(rows.scalars())


def test_members_and_anonymous_visitors_cannot_curate(client: TestClient) -> None:
    member, token = _as(client, "ada")
    headers = {"X-CSRF-Token": token}
    calls: list[tuple[str, str, Any]] = [
        ("POST", f"/api/feed/{DAY}/papers", {"id": "1501.05039"}),
        ("DELETE", f"/api/feed/{DAY}/papers/{HF_ORDER[0]}", None),
        ("PUT", f"/api/feed/{DAY}/order", {"ids": HF_ORDER[::-1]}),
    ]
    for method, path, body in calls:
        answer = member.request(method, path, json=body, headers=headers)
        assert answer.status_code == 403, (method, path)
        assert answer.json()["detail"] == "Only curators can do this."
    page = member.get(f"/curate/{DAY}")
    assert page.status_code == 403
    for form in ("move", "remove"):
        posted = member.post(
            f"/curate/{DAY}/{form}", data={"csrf_token": token, "paper_id": HF_ORDER[0]}
        )
        assert posted.status_code == 403
    settings: Settings = client.app.state.context.settings  # type: ignore[attr-defined]
    anonymous = client.post(
        f"/api/feed/{DAY}/papers",
        json={"id": "1501.05039"},
        headers={"X-CSRF-Token": csrf_token(client, settings)},
    )
    assert anonymous.status_code == 401
    login = client.get(f"/curate/{DAY}", follow_redirects=False)
    assert login.headers["location"] == f"/login?next=%2Fcurate%2F{DAY}"
    assert _order_in_store(client) == HF_ORDER


def test_curators_feature_any_paper_where_they_like(client: TestClient, arxiv: ArxivReplay) -> None:
    curator, token = _as(client, "cora", Role.CURATOR)
    headers = {"X-CSRF-Token": token}
    first = curator.post(
        f"/api/feed/{DAY}/papers", json={"id": "arXiv:1501.05039v1", "position": 0}, headers=headers
    )
    assert first.status_code == 201
    assert (first.json()["position"], first.json()["fetched"]) == (0, True)
    last = curator.post(f"/api/feed/{DAY}/papers", json={"id": "hep-th/9901001"}, headers=headers)
    assert last.status_code == 404  # not in the replayed arXiv
    last = curator.post(f"/api/feed/{DAY}/papers", json={"id": "quant-ph/0210005"}, headers=headers)
    assert last.json()["position"] == len(HF_ORDER) + 1
    assert _ids(client, "date") == ["1501.05039", *HF_ORDER, "quant-ph/0210005"]
    again = curator.post(f"/api/feed/{DAY}/papers", json={"id": "1501.05039"}, headers=headers)
    assert again.status_code == 409
    assert f"already on the list of {DAY}" in again.json()["detail"]
    bad_day = curator.post(
        "/api/feed/2024-13-01/papers", json={"id": "1501.05039"}, headers=headers
    )
    assert bad_day.status_code == 400
    assert "not a calendar day" in bad_day.json()["detail"]
    # featured by the curator, who is named on the entry
    entry = next(
        i
        for i in client.get(f"/api/daily_papers?date={DAY}").json()
        if i["paper"]["id"] == "1501.05039"
    )
    assert entry["submittedBy"]["name"] == "cora"
    assert len(arxiv.requests) == 3


def test_curators_unfeature(client: TestClient) -> None:
    curator, token = _as(client, "cora", Role.CURATOR)
    headers = {"X-CSRF-Token": token}
    gone = curator.delete(f"/api/feed/{DAY}/papers/{HF_ORDER[3]}", headers=headers)
    assert gone.json() == {"day": DAY, "paperId": HF_ORDER[3], "featured": False}
    assert _ids(client, "date") == HF_ORDER[:3] + HF_ORDER[4:]
    again = curator.delete(f"/api/feed/{DAY}/papers/{HF_ORDER[3]}", headers=headers)
    assert again.status_code == 404
    # the paper itself stays
    assert client.get(f"/api/papers/{HF_ORDER[3]}").status_code == 200


def test_reordering_sets_the_as_featured_order_and_breaks_upvote_ties(
    client: TestClient,
) -> None:
    by_votes = _ids(client, "upvotes")
    assert by_votes.index("2405.15319") < by_votes.index("2405.14979")  # 9 and 9: by position
    curator, token = _as(client, "cora", Role.CURATOR)
    headers = {"X-CSRF-Token": token}
    reversed_order = HF_ORDER[::-1]
    answer = curator.put(f"/api/feed/{DAY}/order", json={"ids": reversed_order}, headers=headers)
    assert answer.json() == {"day": DAY, "ids": reversed_order}
    assert _ids(client, "date") == reversed_order
    by_votes = _ids(client, "upvotes")
    assert by_votes.index("2405.14979") < by_votes.index("2405.15319")  # the tie follows the order

    wrong = [*HF_ORDER[1:], "1501.05039"]
    refused = curator.put(f"/api/feed/{DAY}/order", json={"ids": wrong}, headers=headers)
    assert refused.status_code == 400
    detail = refused.json()["detail"]
    assert f"missing {HF_ORDER[0]}" in detail
    assert "not on this day 1501.05039" in detail
    twice = curator.put(
        f"/api/feed/{DAY}/order", json={"ids": [*HF_ORDER, HF_ORDER[0]]}, headers=headers
    )
    assert twice.status_code == 400
    assert f"named twice {HF_ORDER[0]}" in twice.json()["detail"]
    assert _ids(client, "date") == reversed_order  # refused orders change nothing


def test_the_curation_page_and_its_forms(client: TestClient) -> None:
    curator, token = _as(client, "cora", Role.CURATOR)
    page = curator.get(f"/curate/{DAY}")
    assert page.status_code == 200
    assert "breaks ties between papers with equal upvotes" in page.text
    positions = [page.text.index(f'id="p-{pid.replace(".", "-")}"') for pid in HF_ORDER]
    assert positions == sorted(positions)

    moved = curator.post(
        f"/curate/{DAY}/move",
        data={"csrf_token": token, "paper_id": HF_ORDER[0], "direction": "down"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"].startswith(f"/curate/{DAY}")
    assert _ids(client, "date")[:2] == [HF_ORDER[1], HF_ORDER[0]]

    removed = curator.post(
        f"/curate/{DAY}/remove",
        data={"csrf_token": token, "paper_id": HF_ORDER[5]},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert HF_ORDER[5] not in _ids(client, "date")

    featured = curator.post(
        f"/curate/{DAY}/feature",
        data={"csrf_token": token, "id": "https://arxiv.org/abs/1802.03292", "position": "1"},
        follow_redirects=False,
    )
    assert featured.status_code == 303
    assert _ids(client, "date")[0] == "1802.03292"

    bad = curator.post(f"/curate/{DAY}/feature", data={"csrf_token": token, "id": "nonsense"})
    assert bad.status_code == 404
    assert "not an arXiv id" in bad.text
    assert 'value="nonsense"' in bad.text


# --- metadata refresh ------------------------------------------------------------------------


def _submitted(client: TestClient, paper_id: str) -> tuple[TestClient, str]:
    """ada submits the paper (from the replay) and gets it featured today."""
    ada, token = _as(client, "ada")
    answer = ada.post("/api/papers/submit", json={"id": paper_id}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 201, answer.text
    return ada, token


def test_refresh_takes_a_new_version_and_keeps_votes_comments_links_and_entries(
    client: TestClient, arxiv: ArxivReplay
) -> None:
    paper_id = "1501.05039"
    ada, token = _submitted(client, paper_id)
    bob, bob_token = _as(client, "bob")
    assert (
        bob.post(f"/api/papers/{paper_id}/vote", headers={"X-CSRF-Token": bob_token}).status_code
        == 200
    )
    engine = _engine(client)
    with engine.begin() as conn:
        bob_id = conn.execute(select(votes.c.user_id)).scalar_one()
        conn.execute(
            insert(comments).values(
                paper_id=paper_id,
                user_id=bob_id,
                body="Nice *definition*.",
                body_html="<p>Nice <em>definition</em>.</p>",
                created_at=utcnow(),
            )
        )
        conn.execute(
            insert(links).values(
                paper_id=paper_id,
                kind="code",
                url="https://github.com/example/datanature",
                origin="user",
            )
        )
    before = client.get(f"/api/papers/{paper_id}").json()
    assert (before["version"], before["title"]) == (1, "Defining Data Science")

    arxiv.revise(paper_id, 2, "Defining Data Science, Revised", "2025-02-03T10:00:00Z")
    answer = ada.post(f"/api/papers/{paper_id}/refresh", headers={"X-CSRF-Token": token})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["previousVersion"], body["changed"]) == (1, True)
    assert (body["paper"]["version"], body["paper"]["title"]) == (
        2,
        "Defining Data Science, Revised",
    )
    assert body["paper"]["githubRepo"] == "https://github.com/example/datanature"
    with engine.connect() as conn:
        assert conn.execute(select(votes.c.paper_id)).scalars().all() == [paper_id]
        local = select(papers.c.local_upvotes).where(papers.c.id == paper_id)
        assert conn.execute(local).scalar_one() == 1
        assert conn.execute(select(comments.c.body)).scalars().all() == ["Nice *definition*."]
        assert conn.execute(
            select(links.c.url).where(links.c.origin == "user")
        ).scalars().all() == ["https://github.com/example/datanature"]
        assert conn.execute(
            select(feed_entries.c.submitted_by).where(feed_entries.c.paper_id == paper_id)
        ).scalars().all() == ["ada"]
    assert "Defining Data Science, Revised" in client.get(f"/papers/{paper_id}").text
    # refreshing again finds nothing newer
    again = ada.post(f"/api/papers/{paper_id}/refresh", headers={"X-CSRF-Token": token})
    assert again.json()["changed"] is False


def test_who_may_refresh(client: TestClient, arxiv: ArxivReplay) -> None:
    paper_id = "0705.1367"
    ada, _ = _submitted(client, paper_id)
    bob, bob_token = _as(client, "bob")
    refused = bob.post(f"/api/papers/{paper_id}/refresh", headers={"X-CSRF-Token": bob_token})
    assert refused.status_code == 403
    assert "submitter, a verified author or a curator" in refused.json()["detail"]
    assert "Refresh from arXiv" not in bob.get(f"/papers/{paper_id}").text
    assert "Refresh from arXiv" in ada.get(f"/papers/{paper_id}").text
    author = client.get(f"/api/papers/{paper_id}").json()["authors"][0]["name"]
    with _engine(client).begin() as conn:
        bob_user = get_user_by_name(conn, "bob")
        assert bob_user is not None
        conn.execute(
            insert(author_claims).values(
                paper_id=paper_id,
                user_id=bob_user.id,
                author_name=author,
                status="verified",
                created_at=utcnow(),
            )
        )
    assert (
        bob.post(f"/api/papers/{paper_id}/refresh", headers={"X-CSRF-Token": bob_token}).status_code
        == 200
    )
    curator, curator_token = _as(client, "cora", Role.CURATOR)
    form = curator.post(
        f"/papers/{paper_id}/refresh",
        data={"csrf_token": curator_token, "next": f"/papers/{paper_id}"},
        follow_redirects=False,
    )
    assert (form.status_code, form.headers["location"]) == (303, f"/papers/{paper_id}")
    missing = curator.post(
        "/api/papers/2501.99999/refresh", headers={"X-CSRF-Token": curator_token}
    )
    assert missing.status_code == 404
    arxiv.fail_next(100)
    failing = curator.post(
        f"/api/papers/{paper_id}/refresh", headers={"X-CSRF-Token": curator_token}
    )
    assert failing.status_code == 502
