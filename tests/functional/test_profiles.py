"""Profiles (/users/{username} and /api/users/{username}) over real Hugging Face papers:
submissions, upvotes, claims (verified publicly; all to the member themself),
organizations, paging, 404s, and never an email address."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from factories import make_user, sign_in
from paperwire.clock import utcnow
from paperwire.ingest.pipeline import import_paths
from paperwire.models import User
from paperwire.store.schema import (
    author_claims,
    feed_entries,
    organization_members,
    organizations,
    papers,
    votes,
)

DAYS = ("2025-10-03", "2025-10-06", "2025-10-07")
SUBMITTED_ON = date(2025, 10, 8)  # a day the import did not feature


@dataclass(frozen=True, slots=True)
class World:
    ada: User
    grace: User
    paper_ids: list[str]
    titles: dict[str, str]
    submitted: list[str]  # newest first
    upvoted: list[str]  # newest first
    verified: str
    pending: str
    rejected: str
    curated: str  # featured by ada as a curator: not a submission
    organization: str


@pytest.fixture
def world(engine: Engine, data_dir: Path) -> World:
    summary = import_paths(engine, [data_dir / "hf-daily-papers" / f"{day}.json" for day in DAYS])
    assert summary.errors == []
    ada, grace = make_user(engine, "ada"), make_user(engine, "grace")
    now = utcnow()
    with engine.begin() as conn:
        rows = conn.execute(select(papers.c.id, papers.c.title).order_by(papers.c.id)).all()
        ids = [row[0] for row in rows]
        titles = {row[0]: row[1] for row in rows}
        org_id, org_name = conn.execute(
            select(organizations.c.id, organizations.c.name).order_by(organizations.c.id)
        ).first()  # type: ignore[misc]
        submitted = ids[0:3]
        for position, paper_id in enumerate(submitted):
            conn.execute(
                insert(feed_entries).values(
                    paper_id=paper_id,
                    feed_date=SUBMITTED_ON - timedelta(days=position),
                    position=position,
                    featured_by_user_id=ada.id,
                    source="submission",
                    created_at=now,
                )
            )
        curated = ids[3]
        conn.execute(
            insert(feed_entries).values(
                paper_id=curated,
                feed_date=SUBMITTED_ON,
                position=9,
                featured_by_user_id=ada.id,
                source="curator",
                created_at=now,
            )
        )
        upvoted = ids[10:65]  # 55: more than one page of 50
        conn.execute(
            insert(votes),
            [
                {"user_id": ada.id, "paper_id": paper_id, "created_at": now - timedelta(minutes=i)}
                for i, paper_id in enumerate(upvoted)
            ],
        )
        conn.execute(insert(votes), [{"user_id": grace.id, "paper_id": ids[70], "created_at": now}])
        verified, pending, rejected = ids[4], ids[5], ids[6]
        for minutes, (paper_id, status) in enumerate(
            ((verified, "verified"), (pending, "pending"), (rejected, "rejected"))
        ):
            conn.execute(
                insert(author_claims).values(
                    paper_id=paper_id,
                    user_id=ada.id,
                    author_name="Ada Lovelace",
                    status=status,
                    created_at=now - timedelta(minutes=minutes),
                )
            )
        conn.execute(
            insert(organization_members).values(
                organization_id=org_id, user_id=ada.id, joined_at=now
            )
        )
    return World(
        ada=ada,
        grace=grace,
        paper_ids=ids,
        titles=titles,
        submitted=submitted,
        upvoted=upvoted,
        verified=verified,
        pending=pending,
        rejected=rejected,
        curated=curated,
        organization=org_name,
    )


def ids_of(listing: dict[str, object]) -> list[str]:
    return [item["paper"]["id"] for item in listing["items"]]  # type: ignore[attr-defined, index]


def test_public_profile_api(client: TestClient, world: World) -> None:
    response = client.get("/api/users/ADA")  # usernames match in any case
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "ada"
    assert "email" not in body
    assert "ada@example.org" not in response.text
    assert ids_of(body["submissions"]) == world.submitted  # newest day first
    assert world.curated not in ids_of(body["submissions"])
    assert body["submissions"]["total"] == 3
    assert body["submissions"]["items"][0]["featuredOn"] == SUBMITTED_ON.isoformat()
    assert body["upvotes"]["total"] == 55
    assert ids_of(body["upvotes"]) == world.upvoted[:50]  # the latest vote first, capped
    assert body["upvotes"]["hasMore"] is True
    assert ids_of(body["claims"]) == [world.verified]  # only verified claims, publicly
    assert body["claims"]["items"][0]["status"] == "verified"
    assert [org["fullname"] for org in body["organizations"]] == [world.organization]


def test_the_member_themself_sees_every_claim(
    client: TestClient, engine: Engine, world: World
) -> None:
    sign_in(client, engine, world.ada)
    body = client.get("/api/users/ada").json()
    assert ids_of(body["claims"]) == [world.verified, world.pending, world.rejected]
    assert [item["status"] for item in body["claims"]["items"]] == [
        "verified",
        "pending",
        "rejected",
    ]
    page = html.unescape(client.get("/users/ada").text)
    assert "Your authorship claims" in page
    assert "pending · as Ada Lovelace" in page
    assert "rejected · as Ada Lovelace" in page


def test_another_member_sees_only_verified_claims(
    client: TestClient, engine: Engine, world: World
) -> None:
    sign_in(client, engine, world.grace)
    body = client.get("/api/users/ada").json()
    assert ids_of(body["claims"]) == [world.verified]
    page = html.unescape(client.get("/users/ada").text)
    assert world.titles[world.pending] not in page
    assert "pending" not in page


def test_profile_page_lists_submissions_upvotes_and_claims(
    client: TestClient, world: World
) -> None:
    response = client.get("/users/ada")
    assert response.status_code == 200
    page = response.text
    assert "ada@example.org" not in page
    for paper_id in [*world.submitted, *world.upvoted[:50], world.verified]:
        assert f'href="/papers/{paper_id}"' in page, paper_id
    for hidden in (world.pending, world.rejected, world.curated, world.upvoted[50]):
        assert f'href="/papers/{hidden}"' not in page, hidden
    assert world.organization in html.unescape(page)
    assert "<strong>55</strong> upvoted" in page
    assert "<strong>3</strong> submitted" in page
    assert 'href="?upvotes_p=1#upvotes"' in page  # more upvotes on a next page


def test_profile_paging(client: TestClient, world: World) -> None:
    second = client.get("/users/ada", params={"upvotes_p": 1})
    assert second.status_code == 200
    for paper_id in world.upvoted[50:]:
        assert f'href="/papers/{paper_id}"' in second.text
    assert f'href="/papers/{world.upvoted[0]}"' not in second.text
    assert f'href="/papers/{world.submitted[0]}"' in second.text  # other lists stay put
    body = client.get("/api/users/ada", params={"limit": 2, "upvotes_p": 1}).json()
    assert ids_of(body["upvotes"]) == world.upvoted[2:4]
    assert (body["upvotes"]["page"], body["upvotes"]["hasMore"]) == (1, True)
    assert ids_of(body["submissions"]) == world.submitted[:2]
    last = client.get("/api/users/ada", params={"limit": 50, "upvotes_p": 1}).json()
    assert (len(last["upvotes"]["items"]), last["upvotes"]["hasMore"]) == (5, False)
    assert client.get("/api/users/ada", params={"limit": 51}).status_code == 422


def test_empty_profile(client: TestClient, world: World) -> None:
    body = client.get("/api/users/grace").json()
    assert body["submissions"]["total"] == body["claims"]["total"] == 0
    assert body["upvotes"]["total"] == 1
    assert body["organizations"] == []
    page = client.get("/users/grace").text
    assert "No submissions yet." in page
    assert "No verified papers yet." in page


def test_unknown_user_is_404(client: TestClient, world: World) -> None:
    api = client.get("/api/users/nobody")
    assert api.status_code == 404
    assert "nobody" in api.json()["detail"]
    page = client.get("/users/nobody")
    assert page.status_code == 404
    assert "There is no member named" in html.unescape(page.text)


def test_display_name_change_shows_on_the_cached_profile(
    client: TestClient, engine: Engine, world: World
) -> None:
    anonymous = TestClient(client.app)
    assert "Ada Lovelace" not in anonymous.get("/users/ada").text  # now cached
    csrf = sign_in(client, engine, world.ada)
    client.patch("/api/me", json={"displayName": "Ada Lovelace"}, headers={"X-CSRF-Token": csrf})
    assert "<h1>Ada Lovelace" in anonymous.get("/users/ada").text
