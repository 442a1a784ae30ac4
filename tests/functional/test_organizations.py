"""Organizations: admins create them, members join and leave, pages list their papers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import api_token, csrf_token, make_user, sign_in
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.models import Role


def bearer(engine: Engine, username: str, role: Role = Role.MEMBER) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(engine, make_user(engine, username, role))}"}


def app_engine(client: TestClient) -> Engine:
    engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
    return engine


def test_only_admins_create_organizations(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    body = {"slug": "acme-lab", "name": "ACME Lab", "avatar": "https://acme.example/logo.png"}
    anonymous = client.post(
        "/api/organizations", json=body, headers={"X-CSRF-Token": csrf_token(client, settings)}
    )
    assert anonymous.status_code == 401
    member = client.post("/api/organizations", json=body, headers=bearer(engine, "mo"))
    assert member.status_code == 403
    curator = client.post(
        "/api/organizations", json=body, headers=bearer(engine, "cu", Role.CURATOR)
    )
    assert curator.status_code == 403
    assert client.get("/api/organizations/acme-lab").status_code == 404

    created = client.post("/api/organizations", json=body, headers=bearer(engine, "ad", Role.ADMIN))
    assert created.status_code == 201
    assert created.json() == {
        "name": "acme-lab",
        "fullname": "ACME Lab",
        "avatar": "https://acme.example/logo.png",
    }
    shown = client.get("/api/organizations/acme-lab").json()
    assert (shown["fullname"], shown["numPapers"], shown["papers"]) == ("ACME Lab", 0, [])
    listing = client.get("/organizations")
    assert 'href="/organizations/acme-lab"' in listing.text


@pytest.mark.parametrize(
    "slug",
    ["Acme", "acme lab", "acme_lab", "-acme", "acme-", "", "a" * 101, "new", "acme/x", "ac.me"],
)
def test_bad_slugs_are_refused(client: TestClient, engine: Engine, slug: str) -> None:
    response = client.post(
        "/api/organizations",
        json={"slug": slug, "name": "Lab"},
        headers=bearer(engine, "admin1", Role.ADMIN),
    )
    assert response.status_code == 400
    assert "slug" in response.json()["detail"]


def test_names_avatars_and_clashing_slugs(client: TestClient, engine: Engine) -> None:
    admin = bearer(engine, "admin1", Role.ADMIN)

    def create(**body: str) -> tuple[int, str]:
        response = client.post("/api/organizations", json=body, headers=admin)
        return response.status_code, str(response.json())

    assert create(slug="lab", name="  ")[0] == 400
    for avatar in ("javascript:alert(1)", "ftp://x.example/a.png", "//x.example/a.png", "logo"):
        status, detail = create(slug="lab", name="Lab", avatar=avatar)
        assert (status, "avatar" in detail) == (400, True), avatar
    assert create(slug="lab", name="The   Lab")[0] == 201
    status, detail = create(slug="lab", name="Another")
    assert status == 409
    assert "taken" in detail
    assert client.get("/api/organizations/lab").json()["fullname"] == "The Lab"


def test_slug_clash_ignores_case_of_imported_organizations(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    response = hf_client.post(
        "/api/organizations",
        json={"slug": "sjtu", "name": "Someone else"},
        headers=bearer(engine, "admin1", Role.ADMIN),
    )
    assert response.status_code == 409  # "SJTU" came with the Hugging Face import


def test_new_organization_page_and_form(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    anonymous = client.get("/organizations/new", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Forganizations%2Fnew"
    sign_in(client, engine, make_user(engine, "member1"))
    assert client.get("/organizations/new").status_code == 403
    assert 'href="/organizations/new"' not in client.get("/organizations").text

    token = sign_in(client, engine, make_user(engine, "admin1", Role.ADMIN))
    page = client.get("/organizations/new")
    assert page.status_code == 200
    assert 'action="/organizations/new"' in page.text
    assert 'href="/organizations/new"' in client.get("/organizations").text

    form = {"csrf_token": token, "slug": "Bad Slug", "name": "Mila", "avatar": ""}
    refused = client.post("/organizations/new", data=form, follow_redirects=False)
    assert refused.status_code == 400
    assert "lowercase letters" in refused.text
    assert 'value="Mila"' in refused.text  # what was typed is kept
    form["slug"] = "mila"
    created = client.post("/organizations/new", data=form, follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"] == "/organizations/mila"
    assert "<h1>Mila" in client.get("/organizations/mila").text
    clash = client.post("/organizations/new", data=form, follow_redirects=False)
    assert clash.status_code == 409
    assert "taken" in clash.text


def test_join_and_leave_are_idempotent(client: TestClient, engine: Engine) -> None:
    client.post(
        "/api/organizations",
        json={"slug": "lab", "name": "The Lab"},
        headers=bearer(engine, "admin1", Role.ADMIN),
    )
    alice = bearer(engine, "alice")
    first = client.post("/api/organizations/lab/members", headers=alice).json()
    again = client.post("/api/organizations/lab/members", headers=alice).json()
    assert (first["changed"], first["numMembers"]) == (True, 1)
    assert (again["changed"], again["numMembers"]) == (False, 1)
    client.post("/api/organizations/lab/members", headers=bearer(engine, "bob"))
    members = client.get("/api/organizations/lab/members").json()
    assert members["numMembers"] == 2
    assert [m["username"] for m in members["members"]] == ["alice", "bob"]

    left = client.delete("/api/organizations/lab/members", headers=alice).json()
    left_again = client.delete("/api/organizations/lab/members", headers=alice).json()
    assert (left["changed"], left["member"], left["numMembers"]) == (True, False, 1)
    assert (left_again["changed"], left_again["numMembers"]) == (False, 1)
    assert client.post("/api/organizations/nope/members", headers=alice).status_code == 404
    anonymous = client.delete("/api/organizations/lab/members")
    assert anonymous.status_code == 403  # no CSRF token: refused before anything else


def test_join_and_leave_forms_work_without_javascript(client: TestClient, engine: Engine) -> None:
    client.post(
        "/api/organizations",
        json={"slug": "lab", "name": "The Lab"},
        headers=bearer(engine, "admin1", Role.ADMIN),
    )
    anonymous = client.get("/organizations/lab").text
    assert "Log in</a> to join" in anonymous
    assert "/organizations/lab/join" not in anonymous

    token = sign_in(client, engine, make_user(engine, "carol"))
    page = client.get("/organizations/lab").text
    assert 'action="/organizations/lab/join"' in page
    joined = client.post(
        "/organizations/lab/join",
        data={"csrf_token": token, "next": "/organizations/lab"},
        follow_redirects=False,
    )
    assert joined.status_code == 303
    assert joined.headers["location"] == "/organizations/lab"
    page = client.get("/organizations/lab").text
    assert 'action="/organizations/lab/leave"' in page
    assert "1 member" in page
    assert 'href="/users/carol"' in page
    # an off-site next is not followed
    left = client.post(
        "/organizations/lab/leave",
        data={"csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert left.status_code == 303
    assert left.headers["location"] == "/organizations/lab"
    assert client.get("/api/organizations/lab/members").json()["numMembers"] == 0


def test_organization_pages_list_featured_and_linked_papers(
    hf_client: TestClient, data_dir: Path
) -> None:
    engine = app_engine(hf_client)
    # Papers from an arXiv API answer: stored, never featured.
    import_paths(engine, [data_dir / "arxiv-formats" / "atom-api-query.xml"])
    admin = bearer(engine, "admin1", Role.ADMIN)
    created = hf_client.post(
        "/api/organizations", json={"slug": "lab", "name": "Lab"}, headers=admin
    )
    assert created.status_code == 201
    sjtu_before = hf_client.get("/api/organizations/SJTU", params={"limit": 100}).json()
    assert "2510.00515" in [item["paper"]["id"] for item in sjtu_before["papers"]]

    for paper_id in ("2510.00515", "1501.05039", "quant-ph/0210005"):
        response = hf_client.patch(
            f"/api/papers/{paper_id}", json={"organization": "lab"}, headers=admin
        )
        assert response.status_code == 200, response.text
        assert response.json()["organization"]["name"] == "lab"

    page = hf_client.get("/api/organizations/lab").json()
    ids = [item["paper"]["id"] for item in page["papers"]]
    # newest first: featured on 2025-10-06, then submitted in 2015 and 2002
    assert ids == ["2510.00515", "1501.05039", "quant-ph/0210005"]
    assert page["numPapers"] == 3
    assert page["papers"][0]["publishedAt"].startswith("2025-10-06")
    assert page["papers"][1]["publishedAt"].startswith("2015-01-")
    assert all(item["organization"]["name"] == "lab" for item in page["papers"])
    second = hf_client.get("/api/organizations/lab", params={"limit": 1, "p": 1}).json()
    assert [item["paper"]["id"] for item in second["papers"]] == ["1501.05039"]
    html = hf_client.get("/organizations/lab").text
    for path in ("/papers/2510.00515", "/papers/1501.05039", "/papers/quant-ph/0210005"):
        assert f'href="{path}"' in html
    assert "3 papers" in html

    # the featured entry moved with the paper: SJTU no longer lists it, its card says Lab
    sjtu = hf_client.get("/api/organizations/SJTU", params={"limit": 100}).json()
    assert "2510.00515" not in [item["paper"]["id"] for item in sjtu["papers"]]
    assert sjtu["numPapers"] == sjtu_before["numPapers"] - 1
    day = hf_client.get("/api/daily_papers", params={"date": "2025-10-06", "limit": 100}).json()
    card = next(item for item in day if item["paper"]["id"] == "2510.00515")
    assert card["organization"]["name"] == "lab"
    listing = hf_client.get("/organizations").text
    assert '<a href="/organizations/lab">Lab</a> <span class="count">3 papers</span>' in listing


def test_json_routes_are_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    expected = {
        ("/api/organizations", "post"),
        ("/api/organizations/{slug}/members", "get"),
        ("/api/organizations/{slug}/members", "post"),
        ("/api/organizations/{slug}/members", "delete"),
        ("/api/papers/{paper_id}", "patch"),
        ("/api/papers/{paper_id}/claims", "post"),
        ("/api/papers/{paper_id}/claims", "get"),
        ("/api/claims", "get"),
        ("/api/claims/{claim_id}/verify", "post"),
        ("/api/claims/{claim_id}/reject", "post"),
        ("/api/claims/{claim_id}/reopen", "post"),
        ("/api/claims/{claim_id}", "delete"),
    }
    for path, method in expected:
        assert spec["paths"][path][method]["summary"], (path, method)
    body = spec["paths"]["/api/papers/{paper_id}"]["patch"]["requestBody"]["content"]
    name = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = spec["components"]["schemas"][name]["properties"]
    assert set(fields) == {"githubRepo", "projectPage", "organization"}
