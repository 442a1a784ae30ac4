"""Comments through the HTTP app: threads, edits, deletes, moderation, limits, forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from factories import api_token, csrf_token, make_user, sign_in
from paperwire.community.comments import MAX_DEPTH
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths, import_records
from paperwire.models import PaperRecord, ParsedRecord, Role, User
from paperwire.store.schema import author_claims, papers
from paperwire.store.state import content_version
from paperwire.web.app import create_app

OLD_STYLE_ID = "hep-th/9901001"


@pytest.fixture
def paper_ids(engine: Engine, data_dir: Path) -> list[str]:
    """Two real papers (one HF day) and one with an old-style id (holding a slash)."""
    summary = import_paths(engine, [data_dir / "hf-daily-papers" / "2024-05-27.json"])
    assert summary.errors == []
    record = PaperRecord(
        id=OLD_STYLE_ID, source="arxiv", title="An old paper", abstract="Strings.", authors=["A"]
    )
    import_records(engine, [ParsedRecord(paper=record, line=1)])
    with engine.connect() as conn:
        found = [row[0] for row in conn.execute(select(papers.c.id).order_by(papers.c.id))]
    assert len(found) >= 3
    return [found[0], found[1], OLD_STYLE_ID]


@pytest.fixture
def clients(client: TestClient) -> Iterator[list[TestClient]]:
    """More browsers on the same app (each its own cookies)."""
    made: list[TestClient] = []
    yield made
    for other in made:
        other.close()


class Member:
    """A signed-in user and their own client, sending the CSRF header with every write."""

    def __init__(self, client: TestClient, engine: Engine, user: User) -> None:
        self.client = client
        self.user = user
        self.token = sign_in(client, engine, user)

    def post(self, path: str, **json: Any) -> Any:
        return self.client.post(path, json=json, headers={"X-CSRF-Token": self.token})

    def patch(self, path: str, **json: Any) -> Any:
        return self.client.patch(path, json=json, headers={"X-CSRF-Token": self.token})

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers={"X-CSRF-Token": self.token})

    def comment(self, paper_id: str, body: str, parent: int | None = None) -> dict[str, Any]:
        response = self.post(f"/api/papers/{paper_id}/comments", body=body, parentId=parent)
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found

    def thread(self, paper_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/papers/{paper_id}/comments")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def form(self, path: str, **fields: str) -> Any:
        return self.client.post(
            path, data={"csrf_token": self.token, **fields}, follow_redirects=False
        )


@pytest.fixture
def member(client: TestClient, engine: Engine, clients: list[TestClient]) -> Iterator[Any]:
    def make(name: str, role: Role = Role.MEMBER) -> Member:
        own = TestClient(client.app)
        clients.append(own)
        return Member(own, engine, make_user(engine, name, role))

    return make


def local_comments(engine: Engine, paper_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(papers.c.local_comments).where(papers.c.id == paper_id)
            ).scalar_one()
        )


def version(engine: Engine) -> int:
    with engine.connect() as conn:
        return content_version(conn)


def ids_of(nodes: list[dict[str, Any]]) -> list[Any]:
    """The thread's shape as nested lists of ids: [1, [2, [3]], 4]."""
    shape: list[Any] = []
    for node in nodes:
        shape.append(node["id"])
        if node["replies"]:
            shape.append(ids_of(node["replies"]))
    return shape


# --- threads --------------------------------------------------------------------------


def test_comments_and_replies_form_a_thread(
    client: TestClient, member: Any, paper_ids: list[str]
) -> None:
    alice, bob = member("alice"), member("bob")
    paper = paper_ids[0]
    first = alice.comment(paper, "First! $E=mc^2$")
    assert first["parentId"] is None
    assert first["author"] == {"username": "alice", "name": "alice", "isPaperAuthor": False}
    assert "<math" in first["bodyHtml"]
    assert first["body"] == "First! $E=mc^2$"
    assert first["editedAt"] is None
    assert first["deleted"] is first["hidden"] is False
    reply = bob.comment(paper, "A **reply**", parent=first["id"])
    assert reply["parentId"] == first["id"]
    nested = alice.comment(paper, "A reply to the reply", parent=reply["id"])
    second = bob.comment(paper, "Second thread")

    anonymous = client.get(f"/api/papers/{paper}/comments").json()
    assert anonymous["paperId"] == paper
    assert anonymous["count"] == 4
    assert ids_of(anonymous["comments"]) == [
        first["id"], [reply["id"], [nested["id"]]], second["id"],
    ]  # fmt: skip
    top = anonymous["comments"][0]
    assert set(top) == {
        "id", "paperId", "parentId", "author", "bodyHtml", "createdAt", "editedAt",
        "deleted", "hidden", "replies",
    }  # fmt: skip
    assert top["replies"][0]["bodyHtml"] == "<p>A <strong>reply</strong></p>\n"
    assert top["createdAt"].endswith("Z")
    # the Markdown source goes to its author only
    as_alice = alice.thread(paper)["comments"]
    assert as_alice[0]["body"] == "First! $E=mc^2$"
    assert "body" not in as_alice[0]["replies"][0]
    assert as_alice[0]["replies"][0]["replies"][0]["body"] == "A reply to the reply"
    # other papers are not affected
    assert client.get(f"/api/papers/{paper_ids[1]}/comments").json()["comments"] == []


def test_reply_must_be_to_a_comment_of_the_same_paper(member: Any, paper_ids: list[str]) -> None:
    alice = member("alice")
    elsewhere = alice.comment(paper_ids[1], "On the other paper")
    response = alice.post(
        f"/api/papers/{paper_ids[0]}/comments", body="reply", parentId=elsewhere["id"]
    )
    assert response.status_code == 400
    assert "another paper" in response.json()["detail"]
    missing = alice.post(f"/api/papers/{paper_ids[0]}/comments", body="reply", parentId=999)
    assert missing.status_code == 404
    assert "no comment 999" in missing.json()["detail"]


def test_replies_deeper_than_the_limit_join_the_deepest_level(
    member: Any, paper_ids: list[str]
) -> None:
    alice, bob = member("alice"), member("bob")
    paper = paper_ids[0]
    chain = [alice.comment(paper, "depth 1")]
    for depth in range(2, MAX_DEPTH + 1):
        author = bob if depth % 2 == 0 else alice
        chain.append(author.comment(paper, f"depth {depth}", parent=chain[-1]["id"]))
    assert [c["parentId"] for c in chain[1:]] == [c["id"] for c in chain[:-1]]
    too_deep = alice.comment(paper, "depth 7?", parent=chain[-1]["id"])
    # it hangs from the depth-5 comment, beside the depth-6 one
    assert too_deep["parentId"] == chain[-2]["id"]
    node = alice.thread(paper)["comments"][0]
    depth = 1
    while node["replies"]:
        node = node["replies"][-1]
        depth += 1
    assert depth == MAX_DEPTH


def test_unknown_paper_and_comment_are_404(
    client: TestClient, member: Any, paper_ids: list[str]
) -> None:
    alice = member("alice")
    assert client.get("/api/papers/2999.99999/comments").status_code == 404
    response = alice.post("/api/papers/2999.99999/comments", body="hello")
    assert response.status_code == 404
    assert "no paper" in response.json()["detail"]
    assert alice.patch("/api/comments/12345", body="x").status_code == 404
    assert alice.delete("/api/comments/12345").status_code == 404
    curator = member("carol", Role.CURATOR)
    assert curator.post("/api/comments/12345/hide").status_code == 404


def test_old_style_ids_with_a_slash_work(member: Any, paper_ids: list[str]) -> None:
    alice = member("alice")
    made = alice.comment(OLD_STYLE_ID, "About strings")
    assert made["paperId"] == OLD_STYLE_ID
    assert alice.thread(OLD_STYLE_ID)["count"] == 1
    # any arXiv form of the id reaches the same paper
    assert alice.thread("arXiv:hep-th/9901001v2")["comments"][0]["id"] == made["id"]


def test_body_limits_are_clear_400s(member: Any, paper_ids: list[str]) -> None:
    alice = member("alice")
    paper = paper_ids[0]
    empty = alice.post(f"/api/papers/{paper}/comments", body="   \n ")
    assert empty.status_code == 400
    assert empty.json()["detail"] == "A comment needs some text."
    long = alice.post(f"/api/papers/{paper}/comments", body="x" * 10_001)
    assert long.status_code == 400
    assert "at most 10,000 characters" in long.json()["detail"]
    assert alice.post(f"/api/papers/{paper}/comments", body="x" * 10_000).status_code == 201


# --- editing and deleting -------------------------------------------------------------


def test_only_the_author_edits(member: Any, paper_ids: list[str]) -> None:
    alice, bob = member("alice"), member("bob")
    curator = member("carol", Role.CURATOR)
    made = alice.comment(paper_ids[0], "Typo hre")
    for other in (bob, curator):
        refused = other.patch(f"/api/comments/{made['id']}", body="vandalized")
        assert refused.status_code == 403
        assert "Only its author" in refused.json()["detail"]
    edited = alice.patch(f"/api/comments/{made['id']}", body="Typo *here*")
    assert edited.status_code == 200
    body = edited.json()
    assert body["bodyHtml"] == "<p>Typo <em>here</em></p>\n"
    assert body["body"] == "Typo *here*"
    assert body["editedAt"] is not None
    assert body["editedAt"] >= body["createdAt"]
    assert alice.patch(f"/api/comments/{made['id']}", body=" ").status_code == 400


def test_only_the_author_deletes_and_replies_keep_a_placeholder(
    client: TestClient, member: Any, paper_ids: list[str]
) -> None:
    alice, bob = member("alice"), member("bob")
    curator = member("carol", Role.CURATOR)
    paper = paper_ids[0]
    parent = alice.comment(paper, "Parent")
    child = bob.comment(paper, "Child", parent=parent["id"])
    lonely = alice.comment(paper, "Nobody answers")
    for other in (bob, curator):
        assert other.delete(f"/api/comments/{parent['id']}").status_code == 403

    deleted = alice.delete(f"/api/comments/{parent['id']}")
    assert deleted.status_code == 200
    placeholder = deleted.json()
    assert placeholder["deleted"] is True
    assert placeholder["author"] is None
    assert placeholder["bodyHtml"] is None
    assert "body" not in placeholder
    assert [r["id"] for r in placeholder["replies"]] == [child["id"]]
    assert alice.delete(f"/api/comments/{lonely['id']}").status_code == 200

    thread = client.get(f"/api/papers/{paper}/comments").json()
    assert ids_of(thread["comments"]) == [parent["id"], [child["id"]]]  # lonely is gone
    assert thread["count"] == 1
    page = client.get(f"/papers/{paper}").text
    assert f'id="comment-{parent["id"]}"' in page
    assert "[deleted]" in page
    assert "Parent" not in page
    assert f'id="comment-{lonely["id"]}"' not in page
    # a deleted comment is gone for every purpose
    assert alice.delete(f"/api/comments/{parent['id']}").status_code == 404
    assert alice.patch(f"/api/comments/{parent['id']}", body="back").status_code == 404
    reply = bob.post(f"/api/papers/{paper}/comments", body="late", parentId=parent["id"])
    assert reply.status_code == 400
    assert "deleted" in reply.json()["detail"]
    # once its last reply is deleted too, the placeholder goes
    assert bob.delete(f"/api/comments/{child['id']}").status_code == 200
    assert client.get(f"/api/papers/{paper}/comments").json()["comments"] == []


# --- moderation -----------------------------------------------------------------------


def test_curators_hide_and_unhide(client: TestClient, member: Any, paper_ids: list[str]) -> None:
    alice, bob = member("alice"), member("bob")
    curator = member("carol", Role.CURATOR)
    paper = paper_ids[0]
    spam = alice.comment(paper, "Buy **cheap** pills")
    refused = bob.post(f"/api/comments/{spam['id']}/hide")
    assert refused.status_code == 403
    assert "curators" in refused.json()["detail"]

    hidden = curator.post(f"/api/comments/{spam['id']}/hide")
    assert hidden.status_code == 200
    assert hidden.json()["hidden"] is True
    assert hidden.json()["bodyHtml"] == "<p>Buy <strong>cheap</strong> pills</p>\n"
    again = curator.post(f"/api/comments/{spam['id']}/hide")  # idempotent
    assert again.status_code == 200

    for viewer in (client, bob.client):
        node = viewer.get(f"/api/papers/{paper}/comments").json()["comments"][0]
        assert node["hidden"] is True
        assert node["author"] is None
        assert node["bodyHtml"] is None
        page = viewer.get(f"/papers/{paper}").text
        assert "[hidden by a curator]" in page
        assert "cheap" not in page
    for reader in (alice, curator):
        node = reader.thread(paper)["comments"][0]
        assert node["hidden"] is True
        assert "cheap" in node["bodyHtml"]
        page = reader.client.get(f"/papers/{paper}").text
        assert "<strong>cheap</strong>" in page
        assert "only its author and curators see it" in page
    # a hidden comment takes replies only from those who can read it
    assert (
        bob.post(f"/api/papers/{paper}/comments", body="+1", parentId=spam["id"]).status_code == 400
    )
    assert alice.comment(paper, "Why?", parent=spam["id"])["parentId"] == spam["id"]

    shown = curator.post(f"/api/comments/{spam['id']}/unhide")
    assert shown.status_code == 200
    assert shown.json()["hidden"] is False
    node = client.get(f"/api/papers/{paper}/comments").json()["comments"][0]
    assert node["author"]["username"] == "alice"
    assert bob.post(f"/api/comments/{spam['id']}/unhide").status_code == 403


def test_local_comments_counts_visible_comments_and_every_change_bumps_the_version(
    engine: Engine, member: Any, paper_ids: list[str]
) -> None:
    alice = member("alice")
    curator = member("carol", Role.CURATOR)
    paper = paper_ids[0]
    start = version(engine)
    first = alice.comment(paper, "one")
    assert (local_comments(engine, paper), version(engine)) == (1, start + 1)
    second = alice.comment(paper, "two", parent=first["id"])
    assert (local_comments(engine, paper), version(engine)) == (2, start + 2)
    assert curator.post(f"/api/comments/{first['id']}/hide").status_code == 200
    assert (local_comments(engine, paper), version(engine)) == (1, start + 3)
    assert alice.patch(f"/api/comments/{second['id']}", body="two!").status_code == 200
    assert (local_comments(engine, paper), version(engine)) == (1, start + 4)
    assert alice.delete(f"/api/comments/{second['id']}").status_code == 200
    assert (local_comments(engine, paper), version(engine)) == (0, start + 5)
    assert curator.post(f"/api/comments/{first['id']}/unhide").status_code == 200
    assert (local_comments(engine, paper), version(engine)) == (1, start + 6)
    # refused changes change nothing
    assert curator.delete(f"/api/comments/{first['id']}").status_code == 403
    assert version(engine) == start + 6
    assert local_comments(engine, paper_ids[1]) == 0
    alice.comment(paper, "three")
    assert local_comments(engine, paper) == 2


def test_a_verified_author_is_marked(
    client: TestClient, engine: Engine, member: Any, paper_ids: list[str]
) -> None:
    alice, bob = member("alice"), member("bob")
    paper = paper_ids[0]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(author_claims),
            [
                {"paper_id": paper, "user_id": alice.user.id, "author_name": "A",
                 "status": "verified", "created_at": now},
                {"paper_id": paper, "user_id": bob.user.id, "author_name": "B",
                 "status": "pending", "created_at": now},
                {"paper_id": paper_ids[1], "user_id": bob.user.id, "author_name": "B",
                 "status": "verified", "created_at": now},
            ],
        )  # fmt: skip
    assert alice.comment(paper, "We wrote this.")["author"]["isPaperAuthor"] is True
    assert bob.comment(paper, "Me too (pending).")["author"]["isPaperAuthor"] is False
    nodes = client.get(f"/api/papers/{paper}/comments").json()["comments"]
    assert [n["author"]["isPaperAuthor"] for n in nodes] == [True, False]
    page = client.get(f"/papers/{paper}").text
    assert page.count('class="author-badge"') == 1


# --- access and limits ----------------------------------------------------------------


def test_writes_need_a_signed_in_user(
    client: TestClient, settings: Settings, member: Any, paper_ids: list[str]
) -> None:
    made = member("alice").comment(paper_ids[0], "hello")
    headers = {"X-CSRF-Token": csrf_token(client, settings)}
    paper = paper_ids[0]
    attempts = [
        client.post(f"/api/papers/{paper}/comments", json={"body": "x"}, headers=headers),
        client.patch(f"/api/comments/{made['id']}", json={"body": "x"}, headers=headers),
        client.delete(f"/api/comments/{made['id']}", headers=headers),
        client.post(f"/api/comments/{made['id']}/hide", headers=headers),
        client.post(f"/api/comments/{made['id']}/unhide", headers=headers),
    ]
    assert [r.status_code for r in attempts] == [401] * 5
    assert all("Sign in" in r.json()["detail"] for r in attempts)
    form = client.post(
        f"/papers/{paper}/comments",
        data={"csrf_token": headers["X-CSRF-Token"], "body": "x"},
        follow_redirects=False,
    )
    assert form.status_code == 401
    assert "text/html" in form.headers["content-type"]
    assert "Sign in first" in form.text


def test_api_tokens_work_without_csrf(
    client: TestClient, engine: Engine, paper_ids: list[str]
) -> None:
    user = make_user(engine, "scripter")
    bearer = {"Authorization": f"Bearer {api_token(engine, user)}"}
    made = client.post(
        f"/api/papers/{paper_ids[0]}/comments", json={"body": "from a script"}, headers=bearer
    )
    assert made.status_code == 201
    comment_id = made.json()["id"]
    edited = client.patch(f"/api/comments/{comment_id}", json={"body": "edited"}, headers=bearer)
    assert edited.status_code == 200
    assert client.delete(f"/api/comments/{comment_id}", headers=bearer).status_code == 200
    bad = client.post(
        f"/api/papers/{paper_ids[0]}/comments",
        json={"body": "x"},
        headers={"Authorization": "Bearer pw_wrong"},
    )
    assert bad.status_code == 401


@pytest.fixture
def limited_client(settings: Settings) -> Iterator[TestClient]:
    limited = settings.model_copy(
        update={"rate_limit_comment": "2/minute", "rate_limit_comment_ip": "3/minute"}
    )
    with TestClient(create_app(limited)) as client:
        yield client


def test_rate_limits_per_user_and_per_ip(
    limited_client: TestClient, engine: Engine, paper_ids: list[str]
) -> None:
    alice = Member(limited_client, engine, make_user(engine, "alice"))
    paper = paper_ids[0]
    alice.comment(paper, "one")
    alice.comment(paper, "two")
    refused = alice.post(f"/api/papers/{paper}/comments", body="three")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many comment requests" in refused.json()["detail"]
    # another account from the same address: the per-IP limit (3) is spent at once
    with TestClient(limited_client.app) as other:
        bob = Member(other, engine, make_user(engine, "bob"))
        assert bob.post(f"/api/papers/{paper}/comments", body="four").status_code == 429
        form = bob.form(f"/papers/{paper}/comments", body="five")
        assert form.status_code == 429
        assert "Retry-After" in form.headers
        assert "Too many comment requests" in form.text
    assert len(alice.thread(paper)["comments"]) == 2


# --- pages and forms ------------------------------------------------------------------


def test_forms_work_without_javascript_and_redirect_back(
    client: TestClient, member: Any, paper_ids: list[str]
) -> None:
    alice = member("alice")
    curator = member("carol", Role.CURATOR)
    paper = paper_ids[0]
    here = f"/papers/{paper}"
    created = alice.form(f"{here}/comments", body="Via a *form*", next=here)
    assert created.status_code == 303
    match = re.fullmatch(rf"{re.escape(here)}#comment-(\d+)", created.headers["location"])
    assert match, created.headers["location"]
    first = int(match[1])
    reply = alice.form(f"{here}/comments", body="A reply", parent_id=str(first), next=here)
    assert reply.status_code == 303
    reply_id = int(reply.headers["location"].rpartition("-")[2])
    assert alice.thread(paper)["comments"][0]["replies"][0]["id"] == reply_id

    edited = alice.form(f"/comments/{first}/edit", body="Edited via a form", next=here)
    assert edited.status_code == 303
    assert edited.headers["location"] == f"{here}#comment-{first}"
    hidden = curator.form(f"/comments/{reply_id}/hide", next=here)
    assert hidden.headers["location"] == f"{here}#comment-{reply_id}"
    unhidden = curator.form(f"/comments/{reply_id}/unhide", next=here)
    assert unhidden.status_code == 303
    deleted = alice.form(f"/comments/{reply_id}/delete", next=here)
    assert deleted.status_code == 303
    # the reply left no placeholder: back to its parent
    assert deleted.headers["location"] == f"{here}#comment-{first}"
    # `next` elsewhere (an open redirect) falls back to the paper page
    outside = alice.form(f"/comments/{first}/edit", body="again", next="https://evil.example/")
    assert outside.headers["location"] == f"{here}#comment-{first}"

    page = alice.client.get(here).text
    assert "<p>again</p>" in page
    assert "(edited)" in page


def test_form_errors_are_shown_on_an_error_page(member: Any, paper_ids: list[str]) -> None:
    alice, bob = member("alice"), member("bob")
    here = f"/papers/{paper_ids[0]}"
    empty = alice.form(f"{here}/comments", body="  ", next=here)
    assert empty.status_code == 400
    assert "text/html" in empty.headers["content-type"]
    assert "A comment needs some text." in empty.text
    made = alice.comment(paper_ids[0], "mine")
    foreign = bob.form(f"/comments/{made['id']}/delete", next=here)
    assert foreign.status_code == 403
    assert "Only its author can delete a comment" in foreign.text
    bad_parent = alice.form(f"{here}/comments", body="x", parent_id="abc", next=here)
    assert bad_parent.status_code == 400
    not_curator = alice.form(f"/comments/{made['id']}/hide", next=here)
    assert not_curator.status_code == 403


def test_the_paper_page_shows_the_thread_and_forms_per_viewer(
    client: TestClient, member: Any, paper_ids: list[str]
) -> None:
    alice, bob = member("alice"), member("bob")
    curator = member("carol", Role.CURATOR)
    paper = paper_ids[0]
    here = f"/papers/{paper}"
    empty = client.get(here).text  # cached for anonymous viewers from here on
    assert "No comments yet." in empty
    assert "Log in to comment" in empty
    top = alice.comment(paper, "# Big heading\n\nWith $x^2$ and <script>alert(1)</script>")
    reply = bob.comment(paper, "Agreed", parent=top["id"])

    page = client.get(here).text  # the new version: not the cached page
    assert 'id="discussion"' in page
    assert "Discussion <span" in page
    assert f'<article id="comment-{top["id"]}"' in page
    assert f'<article id="comment-{reply["id"]}"' in page
    assert page.index(f'id="comment-{top["id"]}"') < page.index('class="comment-replies"')
    assert "<h3>Big heading</h3>" in page
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    # anonymous: no forms at all, a way to log in
    assert '<form method="post"' not in page
    assert "csrf_token" not in page
    assert f'href="/login?next=/papers/{paper}"' in page

    as_bob = bob.client.get(here).text
    assert as_bob.count('class="comment-reply"') == 2
    assert as_bob.count('class="comment-edit"') == 1  # his own reply only
    assert f'action="/comments/{reply["id"]}/edit"' in as_bob
    assert f'action="/comments/{top["id"]}/edit"' not in as_bob
    assert ">Agreed</textarea>" in as_bob
    assert "/hide" not in as_bob
    assert 'id="new-comment"' in as_bob
    assert "Log in to comment" not in as_bob

    as_curator = curator.client.get(here).text
    assert f'action="/comments/{top["id"]}/hide"' in as_curator
    assert f'action="/comments/{reply["id"]}/hide"' in as_curator
    assert 'class="comment-edit"' not in as_curator


def test_the_comments_api_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = {
        (method.upper(), path): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    for key in [
        ("GET", "/api/papers/{paper_id}/comments"),
        ("POST", "/api/papers/{paper_id}/comments"),
        ("PATCH", "/api/comments/{comment_id}"),
        ("DELETE", "/api/comments/{comment_id}"),
        ("POST", "/api/comments/{comment_id}/hide"),
        ("POST", "/api/comments/{comment_id}/unhide"),
    ]:
        assert key in operations, sorted(operations)
        assert operations[key]["summary"]
    assert not any(path.startswith("/comments/") for _, path in operations)
