"""Editing a paper's code link, project page and organization, on the real HF archive."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from factories import api_token, csrf_token, make_user, sign_in
from paperwire.community import claims as claim_service
from paperwire.config import Settings
from paperwire.ingest.files import read_records
from paperwire.ingest.pipeline import import_paths, import_records
from paperwire.models import ParsedRecord, Role, User
from paperwire.search import indexer
from paperwire.search.resources import SearchResources
from paperwire.store.schema import feed_entries, keyword_queue, links

PAPER = "2510.00515"  # HF states github.com/ZichenWen1/EPIC and a project page; org SJTU
NO_CODE = "2510.00263"  # no code link anywhere: not in HF's fields, nor in its abstract


def app_engine(client: TestClient) -> Engine:
    engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
    return engine


def token_of(engine: Engine, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(engine, user)}"}


def bearer(engine: Engine, username: str, role: Role = Role.MEMBER) -> dict[str, str]:
    return token_of(engine, make_user(engine, username, role))


def submitted_by(engine: Engine, user: User, paper_id: str) -> None:
    """Record ``user`` as the member who submitted the paper (as submissions do)."""
    with engine.begin() as conn:
        conn.execute(
            feed_entries.insert().values(
                paper_id=paper_id,
                feed_date=date(2025, 10, 9),
                position=99,
                source="submission",
                featured_by_user_id=user.id,
                submitted_by=user.username,
                created_at=datetime.now(UTC),
            )
        )


def verified_author(engine: Engine, user: User, paper_id: str, author: str) -> None:
    curator = make_user(engine, f"verifier{user.id}", Role.CURATOR)
    with engine.begin() as conn:
        made = claim_service.claim(conn, user, paper_id, author)
        claim_service.verify(conn, curator, made.id)


def admin_creates(client: TestClient, engine: Engine, *slugs: str) -> None:
    admin = bearer(engine, "admin0", Role.ADMIN)
    for slug in slugs:
        response = client.post(
            "/api/organizations", json={"slug": slug, "name": slug.title()}, headers=admin
        )
        assert response.status_code == 201


def patch(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.patch(f"/api/papers/{PAPER}", json=body, headers=headers)


def test_who_may_edit(hf_client: TestClient, hf_settings: Settings) -> None:
    engine = app_engine(hf_client)
    change = {"githubRepo": "https://github.com/someone/epic-fork"}
    anonymous = hf_client.patch(
        f"/api/papers/{PAPER}",
        json=change,
        headers={"X-CSRF-Token": csrf_token(hf_client, hf_settings)},
    )
    assert anonymous.status_code == 401
    stranger = patch(hf_client, bearer(engine, "stranger"), **change)
    assert stranger.status_code == 403
    assert "submitter, a verified author or a curator" in stranger.json()["detail"]

    pending = make_user(engine, "pending")
    with engine.begin() as conn:
        claim_service.claim(conn, pending, PAPER, "Zichen Wen")
    assert patch(hf_client, token_of(engine, pending), **change).status_code == 403

    submitter = make_user(engine, "submitter")
    submitted_by(engine, submitter, PAPER)
    submitted_other = make_user(engine, "other-submitter")
    submitted_by(engine, submitted_other, NO_CODE)  # a submitter of another paper only
    assert patch(hf_client, token_of(engine, submitted_other), **change).status_code == 403

    author = make_user(engine, "author")
    verified_author(engine, author, PAPER, "Shaobo Wang")
    curator = bearer(engine, "curator", Role.CURATOR)
    for n, who in enumerate((token_of(engine, submitter), token_of(engine, author), curator)):
        url = f"https://github.com/someone/epic-{n}"
        response = patch(hf_client, who, githubRepo=url)
        assert response.status_code == 200, response.text
        assert response.json()["githubRepo"] == url
    assert (
        hf_client.patch("/api/papers/9999.99999", json=change, headers=curator).status_code == 404
    )


def test_members_link_only_their_organizations(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    admin_creates(hf_client, engine, "lab-a", "lab-b")
    submitter = make_user(engine, "submitter")
    submitted_by(engine, submitter, PAPER)
    mine = token_of(engine, submitter)

    refused = patch(hf_client, mine, organization="lab-a")
    assert refused.status_code == 403
    assert "member of" in refused.json()["detail"]
    # keeping the current organization (SJTU, not theirs) needs no membership
    kept = patch(hf_client, mine, organization="SJTU", projectPage="https://epic.example.org/")
    assert kept.status_code == 200
    assert kept.json()["organization"]["name"] == "SJTU"
    assert patch(hf_client, mine, organization="no-such-org").status_code == 400

    hf_client.post("/api/organizations/lab-a/members", headers=mine)
    linked = patch(hf_client, mine, organization="lab-a")
    assert linked.status_code == 200
    assert linked.json()["organization"] == {"name": "lab-a", "fullname": "Lab-A", "avatar": None}
    day = hf_client.get("/api/daily_papers", params={"date": "2025-10-06", "limit": 100}).json()
    card = next(item for item in day if item["paper"]["id"] == PAPER)
    assert card["organization"]["name"] == "lab-a"  # the card shows the new organization

    curator = bearer(engine, "curator", Role.CURATOR)  # a member of nothing
    assert patch(hf_client, curator, organization="lab-b").json()["organization"]["name"] == (
        "lab-b"
    )
    removed = patch(hf_client, mine, organization=None)
    assert (removed.status_code, removed.json()["organization"]) == (200, None)
    assert hf_client.get("/api/organizations/lab-b").json()["numPapers"] == 0
    assert patch(hf_client, mine, organization="lab-b").status_code == 403


def test_links_are_validated_and_a_bad_field_changes_nothing(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    curator = bearer(engine, "curator", Role.CURATOR)
    before = hf_client.get(f"/api/papers/{PAPER}").json()
    for repo in (
        "javascript:alert(1)",
        "ftp://github.com/a/b",
        "https://example.com/some/page",
        "https://github.com/owner-only",
        "https://github.com/XXX/xxx",
        "data:text/html,hi",
        "https://github.com/" + "a" * 2000,
    ):
        response = patch(hf_client, curator, githubRepo=repo)
        assert response.status_code == 400, repo
        assert "detail" in response.json()
    for page in ("javascript:alert(1)", "https://arxiv.org/abs/2510.00515", "mailto:a@b.org"):
        assert patch(hf_client, curator, projectPage=page).status_code == 400, page
    mixed = patch(
        hf_client,
        curator,
        githubRepo="https://github.com/valid/repo",
        projectPage="javascript:alert(1)",
    )
    assert mixed.status_code == 400
    assert hf_client.get(f"/api/papers/{PAPER}").json() == before
    same = patch(
        hf_client, curator, githubRepo="https://github.com/a/b", projectPage="github.com/a/b"
    )
    assert same.status_code == 400
    assert patch(hf_client, curator, website="https://x.org").status_code == 422
    assert patch(hf_client, curator).json() == before  # nothing asked: nothing changes

    normalized = patch(hf_client, curator, githubRepo="https://github.com/Owner/Repo/tree/main/src")
    assert normalized.json()["githubRepo"] == "https://github.com/Owner/Repo"
    gitlab = patch(hf_client, curator, githubRepo="gitlab.com/group/sub/project")
    assert gitlab.json()["githubRepo"] == "https://gitlab.com/group/sub/project"


def test_an_edit_replaces_the_previous_one_and_empty_removes_it(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    curator = bearer(engine, "curator", Role.CURATOR)
    stated = hf_client.get(f"/api/papers/{PAPER}").json()
    assert stated["githubRepo"] == "https://github.com/ZichenWen1/EPIC"
    assert stated["projectPage"] == "https://zichenwen1.github.io/EPIC"

    first = patch(hf_client, curator, githubRepo="https://github.com/first/repo").json()
    assert first["githubRepo"] == "https://github.com/first/repo"
    assert first["links"][0] == {"kind": "code", "url": "https://github.com/first/repo"}
    assert first["projectPage"] == stated["projectPage"]  # left out: left alone
    second = patch(hf_client, curator, githubRepo="https://github.com/second/repo").json()
    assert second["githubRepo"] == "https://github.com/second/repo"
    urls = [link["url"] for link in second["links"]]
    assert "https://github.com/first/repo" not in urls
    assert "https://github.com/ZichenWen1/EPIC" in urls  # the stated link is still there

    project = patch(hf_client, curator, projectPage="https://epic.example.org/").json()
    assert project["projectPage"] == "https://epic.example.org/"
    removed = patch(hf_client, curator, githubRepo="", projectPage=None).json()
    assert removed["githubRepo"] == stated["githubRepo"]  # back to what the source stated
    assert removed["projectPage"] == stated["projectPage"]
    with engine.connect() as conn:
        origins = conn.execute(select(links.c.origin).where(links.c.paper_id == PAPER)).scalars()
        assert "user" not in set(origins)

    # taking over a stated URL keeps one row for it, and it comes first
    taken = patch(hf_client, curator, projectPage="https://zichenwen1.github.io/EPIC").json()
    assert taken["projectPage"] == "https://zichenwen1.github.io/EPIC"
    assert [link["url"] for link in taken["links"]].count(taken["projectPage"]) == 1
    page = hf_client.get(f"/papers/{PAPER}").text
    assert 'href="https://zichenwen1.github.io/EPIC"' in page


def search_ids(client: TestClient, **params: str) -> list[str]:
    response = client.get("/api/papers/search", params={"mode": "keyword", "limit": 100, **params})
    assert response.status_code == 200
    return [hit["paper"]["id"] for hit in response.json()]


def test_edits_reach_the_search_filters(hf_client: TestClient, hf_settings: Settings) -> None:
    engine = app_engine(hf_client)
    admin_creates(hf_client, engine, "calibration-lab")
    query = {"q": "calibrating autoraters preference distributions"}
    assert NO_CODE in search_ids(hf_client, **query)
    assert NO_CODE not in search_ids(hf_client, **query, has_code="true")
    assert NO_CODE not in search_ids(hf_client, **query, organization="calibration-lab")

    curator = bearer(engine, "curator", Role.CURATOR)
    response = hf_client.patch(
        f"/api/papers/{NO_CODE}",
        json={
            "githubRepo": "https://github.com/google/autorater",
            "organization": "calibration-lab",
        },
        headers=curator,
    )
    assert response.status_code == 200
    with engine.connect() as conn:
        queued = conn.execute(select(keyword_queue.c.paper_id)).scalars().all()
    assert NO_CODE in queued
    resources = SearchResources(hf_settings)  # what `paperwire index` does
    with resources.writing():
        assert indexer.update_keyword(engine, resources) >= 1
    assert NO_CODE in search_ids(hf_client, **query, has_code="true")
    assert NO_CODE in search_ids(hf_client, **query, organization="calibration-lab")
    assert search_ids(hf_client, q="autoraters", organization="calibration-lab") == [NO_CODE]


def newer_version(data_dir: Path, paper_id: str) -> ParsedRecord:
    """The paper's real arXiv listing record, as a later version would restate it."""
    listing = data_dir / "arxiv-daily-listings" / "2025-10-02.jsonl.gz"
    found = next(
        r for r in read_records(listing) if isinstance(r, ParsedRecord) and r.paper.id == paper_id
    )
    paper = dataclasses.replace(
        found.paper,
        version=9,
        updated_at=datetime(2026, 1, 5, tzinfo=UTC),
        title=found.paper.title + " (extended)",
        comments="NeurIPS 2025. Code: https://github.com/ZichenWen1/EPIC-v2",
    )
    return ParsedRecord(paper=paper, line=1)


def test_a_later_arxiv_import_keeps_the_edits(
    hf_client: TestClient, hf_settings: Settings, data_dir: Path
) -> None:
    engine = app_engine(hf_client)
    admin_creates(hf_client, engine, "epic-lab")
    curator = bearer(engine, "curator", Role.CURATOR)
    edited = patch(
        hf_client,
        curator,
        githubRepo="https://github.com/someone/epic-mirror",
        projectPage="https://epic.example.org/",
        organization="epic-lab",
    ).json()

    # the day's real arXiv listing, then a newer version whose comment names another repo
    listing = import_paths(engine, [data_dir / "arxiv-daily-listings" / "2025-10-02.jsonl.gz"])
    assert listing.errors == []
    summary = import_records(engine, [newer_version(data_dir, PAPER)])
    assert summary.papers_updated == 1
    paper = hf_client.get(f"/api/papers/{PAPER}").json()
    assert paper["title"].endswith("(extended)")  # the import did change the paper
    assert paper["version"] == 9
    assert "https://github.com/ZichenWen1/EPIC-v2" in [link["url"] for link in paper["links"]]
    assert paper["githubRepo"] == edited["githubRepo"] == "https://github.com/someone/epic-mirror"
    assert paper["projectPage"] == "https://epic.example.org/"
    assert paper["organization"]["name"] == "epic-lab"
    day = hf_client.get("/api/daily_papers", params={"date": "2025-10-06", "limit": 100}).json()
    card = next(item for item in day if item["paper"]["id"] == PAPER)
    assert card["organization"]["name"] == "epic-lab"
    assert card["paper"]["githubRepo"] == "https://github.com/someone/epic-mirror"

    # once the user link is removed, the stated link shows again (stated before found)
    after = patch(hf_client, curator, githubRepo=None).json()
    assert after["githubRepo"] == "https://github.com/ZichenWen1/EPIC"
    assert "https://github.com/ZichenWen1/EPIC-v2" in [link["url"] for link in after["links"]]


def test_edit_page_and_form_without_javascript(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    edit_path = f"/papers/{PAPER}/edit"
    anonymous = hf_client.get(edit_path, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    assert "Edit links" not in hf_client.get(f"/papers/{PAPER}").text

    sign_in(hf_client, engine, make_user(engine, "stranger"))
    assert "Edit links" not in hf_client.get(f"/papers/{PAPER}").text
    assert hf_client.get(edit_path).status_code == 403

    admin_creates(hf_client, engine, "lab-a")
    submitter = make_user(engine, "submitter")
    submitted_by(engine, submitter, PAPER)
    token = sign_in(hf_client, engine, submitter)
    page = hf_client.get(f"/papers/{PAPER}").text
    assert f'href="{edit_path}"' in page
    form = hf_client.get(edit_path)
    assert form.status_code == 200
    assert f'action="{edit_path}"' in form.text
    assert 'value="SJTU" selected' in form.text  # the current organization is kept
    assert 'value="lab-a"' not in form.text  # not a member: not offered

    fields = {
        "csrf_token": token,
        "github_repo": "https://example.com/not-a-repo",
        "project_page": "",
        "organization": "SJTU",
    }
    refused = hf_client.post(edit_path, data=fields, follow_redirects=False)
    assert refused.status_code == 400
    assert "repository URL" in refused.text
    assert 'value="https://example.com/not-a-repo"' in refused.text  # kept for fixing
    not_member = hf_client.post(
        edit_path,
        data={**fields, "github_repo": "", "organization": "lab-a"},
        follow_redirects=False,
    )
    assert not_member.status_code == 403
    assert "member of" in not_member.text

    hf_client.post("/organizations/lab-a/join", data={"csrf_token": token})
    assert 'value="lab-a"' in hf_client.get(edit_path).text
    saved = hf_client.post(
        edit_path,
        data={
            **fields,
            "github_repo": "https://github.com/someone/epic-mirror",
            "organization": "lab-a",
        },
        follow_redirects=False,
    )
    assert (saved.status_code, saved.headers["location"]) == (303, f"/papers/{PAPER}")
    hf_client.cookies.clear()  # the shared anonymous page shows the edit too
    page = hf_client.get(f"/papers/{PAPER}").text
    assert 'href="https://github.com/someone/epic-mirror"' in page
    assert '<a href="/organizations/lab-a">Lab-A</a>' in page
