"""Author claims: pending -> verified | rejected, reopen, withdraw, on real papers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import api_token, make_user, sign_in
from paperwire.models import Role

PAPER = "2510.00515"  # authors: Zichen Wen, ..., as the Hugging Face archive lists them


def app_engine(client: TestClient) -> Engine:
    engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
    return engine


def bearer(engine: Engine, username: str, role: Role = Role.MEMBER) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(engine, make_user(engine, username, role))}"}


def claim(client: TestClient, headers: dict[str, str], author: str) -> Any:
    return client.post(f"/api/papers/{PAPER}/claims", json={"author": author}, headers=headers)


def test_a_claim_waits_for_a_curator_then_shows_on_the_paper(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    member, curator = bearer(engine, "zwen"), bearer(engine, "cur", Role.CURATOR)
    made = claim(hf_client, member, "  zichen   WEN ")  # matched ignoring case and spacing
    assert made.status_code == 201
    body = made.json()
    assert (body["author"], body["status"], body["user"]) == (
        "Zichen Wen",
        "pending",
        {"username": "zwen"},
    )

    # a pending claim is not public: only its member and curators see it
    assert hf_client.get(f"/api/papers/{PAPER}/claims").json() == []
    assert [
        c["id"] for c in hf_client.get(f"/api/papers/{PAPER}/claims", headers=member).json()
    ] == [body["id"]]
    other = bearer(engine, "other")
    assert hf_client.get(f"/api/papers/{PAPER}/claims", headers=other).json() == []
    queue = hf_client.get("/api/claims", params={"status": "pending"}, headers=curator).json()
    assert (queue["total"], [c["id"] for c in queue["claims"]]) == (1, [body["id"]])
    assert hf_client.get("/api/claims", headers=member).status_code == 403
    assert hf_client.get("/api/claims").status_code == 401
    before = hf_client.get(f"/papers/{PAPER}").text  # anonymous: cached from here on
    assert "Verified author" not in before
    assert 'href="/users/zwen"' not in before

    assert hf_client.post(f"/api/claims/{body['id']}/verify", headers=member).status_code == 403
    verified = hf_client.post(f"/api/claims/{body['id']}/verify", headers=curator)
    assert verified.status_code == 200
    assert verified.json()["status"] == "verified"
    assert verified.json()["decidedAt"] is not None
    public = hf_client.get(f"/api/papers/{PAPER}/claims").json()
    assert [(c["author"], c["status"]) for c in public] == [("Zichen Wen", "verified")]
    # the anonymous page is cached: it must show the change (the content version moved)
    page = hf_client.get(f"/papers/{PAPER}").text
    assert '<a href="/users/zwen" title="@zwen">Zichen Wen</a>' in page
    assert hf_client.get("/api/claims", headers=curator).json()["total"] == 0
    again = hf_client.post(f"/api/claims/{body['id']}/verify", headers=curator)
    assert again.status_code == 409


def test_rejected_claim_can_be_reopened_and_then_verified(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    member, curator = bearer(engine, "zwen"), bearer(engine, "cur", Role.CURATOR)
    claim_id = claim(hf_client, member, "Zichen Wen").json()["id"]
    rejected = hf_client.post(f"/api/claims/{claim_id}/reject", headers=curator)
    assert rejected.json()["status"] == "rejected"
    assert hf_client.post(f"/api/claims/{claim_id}/reject", headers=curator).status_code == 409

    duplicate = claim(hf_client, member, "Zichen Wen")
    assert duplicate.status_code == 409
    assert "Reopen it" in duplicate.json()["detail"]
    stranger = bearer(engine, "stranger")
    assert hf_client.post(f"/api/claims/{claim_id}/reopen", headers=stranger).status_code == 403
    assert hf_client.post(f"/api/claims/{claim_id}/reopen", headers=curator).status_code == 403
    reopened = hf_client.post(f"/api/claims/{claim_id}/reopen", headers=member)
    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["decidedAt"]) == ("pending", None)
    assert hf_client.post(f"/api/claims/{claim_id}/reopen", headers=member).status_code == 409
    assert hf_client.post(f"/api/claims/{claim_id}/verify", headers=curator).json()["status"] == (
        "verified"
    )
    assert hf_client.post(f"/api/claims/{claim_id}/reopen", headers=member).status_code == 409
    # a curator can take back a verification made by mistake
    revoked = hf_client.post(f"/api/claims/{claim_id}/reject", headers=curator)
    assert revoked.json()["status"] == "rejected"
    assert hf_client.get(f"/api/papers/{PAPER}/claims").json() == []
    assert "/users/zwen" not in hf_client.get(f"/papers/{PAPER}").text


def test_withdrawing_a_pending_claim(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    member, curator = bearer(engine, "zwen"), bearer(engine, "cur", Role.CURATOR)
    claim_id = claim(hf_client, member, "Zichen Wen").json()["id"]
    assert hf_client.delete(f"/api/claims/{claim_id}", headers=bearer(engine, "x")).status_code == (
        403
    )
    withdrawn = hf_client.delete(f"/api/claims/{claim_id}", headers=member)
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    assert hf_client.delete(f"/api/claims/{claim_id}", headers=member).status_code == 404
    assert hf_client.get("/api/claims", headers=curator).json()["total"] == 0
    # the member may claim again, and a verified claim cannot be withdrawn
    new_id = claim(hf_client, member, "Zichen Wen").json()["id"]
    hf_client.post(f"/api/claims/{new_id}/verify", headers=curator)
    assert hf_client.delete(f"/api/claims/{new_id}", headers=member).status_code == 409


def test_claims_must_name_one_of_the_papers_authors_once(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    member = bearer(engine, "zwen")
    wrong = claim(hf_client, member, "Somebody Else")
    assert wrong.status_code == 400
    assert "not one of this paper's authors" in wrong.json()["detail"]
    assert claim(hf_client, member, "   ").status_code == 400
    assert claim(hf_client, member, "Zichen").status_code == 400  # a whole name, not a part
    unknown = hf_client.post("/api/papers/9999.99999/claims", json={"author": "X"}, headers=member)
    assert unknown.status_code == 404
    assert claim(hf_client, member, "Zichen Wen").status_code == 201
    duplicate = claim(hf_client, member, "Zichen Wen")
    assert duplicate.status_code == 409
    assert "already claimed" in duplicate.json()["detail"]
    # another author name does not make a second claim on the same paper either
    second_author = hf_client.get(f"/api/papers/{PAPER}").json()["authors"][1]["name"]
    assert claim(hf_client, member, second_author).status_code == 409
    assert claim(hf_client, {}, "Zichen Wen").status_code == 403  # no token: CSRF refuses


def test_curators_do_not_verify_their_own_claims(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    curator = bearer(engine, "cur", Role.CURATOR)
    own = claim(hf_client, curator, "Zichen Wen").json()["id"]
    refused = hf_client.post(f"/api/claims/{own}/verify", headers=curator)
    assert refused.status_code == 403
    assert "Another curator" in refused.json()["detail"]
    other = bearer(engine, "cur2", Role.ADMIN)
    assert hf_client.post(f"/api/claims/{own}/verify", headers=other).status_code == 200


def test_two_members_cannot_both_be_verified_as_one_author(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    curator = bearer(engine, "cur", Role.CURATOR)
    first = claim(hf_client, bearer(engine, "zwen"), "Zichen Wen").json()["id"]
    second = claim(hf_client, bearer(engine, "impostor"), "Zichen Wen").json()["id"]
    assert hf_client.post(f"/api/claims/{first}/verify", headers=curator).status_code == 200
    clash = hf_client.post(f"/api/claims/{second}/verify", headers=curator)
    assert clash.status_code == 409
    assert "zwen is already verified" in clash.json()["detail"]
    assert hf_client.post(f"/api/claims/{second}/reject", headers=curator).status_code == 200


def test_claim_flow_with_forms_and_no_javascript(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    paper_path = f"/papers/{PAPER}"
    anonymous = hf_client.get(paper_path).text
    assert "/claim" not in anonymous  # no per-viewer forms on the shared (cached) page

    claimant = make_user(engine, "zwen")
    token = sign_in(hf_client, engine, claimant)
    page = hf_client.get(paper_path).text
    assert f'action="{paper_path}/claim"' in page
    assert '<option value="Zichen Wen">Zichen Wen</option>' in page
    made = hf_client.post(
        f"{paper_path}/claim",
        data={"csrf_token": token, "author": "Zichen Wen", "next": paper_path},
        follow_redirects=False,
    )
    assert (made.status_code, made.headers["location"]) == (303, paper_path)
    page = hf_client.get(paper_path).text
    assert "waiting for a curator" in page
    assert hf_client.get(f"/api/papers/{PAPER}/claims").json()[0]["status"] == "pending"
    wrong = hf_client.post(
        f"{paper_path}/claim",
        data={"csrf_token": token, "author": "Nobody"},
        follow_redirects=False,
    )
    assert wrong.status_code == 400  # an error page that says why
    assert "<html" in wrong.text
    assert "not one of this paper&#39;s authors" in wrong.text

    # the curator's queue, with verify and reject forms
    assert hf_client.get("/claims").status_code == 403
    anonymous = TestClient(hf_client.app).get("/claims", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login?next=%2Fclaims")
    curator_token = sign_in(hf_client, engine, make_user(engine, "cur", Role.CURATOR))
    queue = hf_client.get("/claims").text
    found = queue.split('action="/claims/')[1].split("/")[0]
    assert "claims to be\n      <strong>Zichen Wen</strong>" in queue
    rejected = hf_client.post(
        f"/claims/{found}/reject",
        data={"csrf_token": curator_token, "next": "/claims"},
        follow_redirects=False,
    )
    assert (rejected.status_code, rejected.headers["location"]) == (303, "/claims")
    assert "No claims are waiting." in hf_client.get("/claims").text

    # back as the claimant: reopen by form
    token = sign_in(hf_client, engine, claimant)
    page = hf_client.get(paper_path).text
    assert "was rejected" in page
    assert f'action="/claims/{found}/reopen"' in page
    reopened = hf_client.post(
        f"/claims/{found}/reopen",
        data={"csrf_token": token, "next": paper_path},
        follow_redirects=False,
    )
    assert reopened.status_code == 303
    assert "waiting for a curator" in hf_client.get(paper_path).text

    curator_token = sign_in(hf_client, engine, make_user(engine, "cur2", Role.CURATOR))
    verified = hf_client.post(
        f"/claims/{found}/verify", data={"csrf_token": curator_token}, follow_redirects=False
    )
    assert (verified.status_code, verified.headers["location"]) == (303, paper_path)
    hf_client.cookies.clear()
    assert '<a href="/users/zwen" title="@zwen">Zichen Wen</a>' in hf_client.get(paper_path).text


def test_withdraw_by_form(hf_client: TestClient) -> None:
    engine = app_engine(hf_client)
    token = sign_in(hf_client, engine, make_user(engine, "zwen"))
    hf_client.post(f"/papers/{PAPER}/claim", data={"csrf_token": token, "author": "Zichen Wen"})
    page = hf_client.get(f"/papers/{PAPER}").text
    claim_id = page.split('action="/claims/')[1].split("/")[0]
    assert f'action="/claims/{claim_id}/withdraw"' in page
    done = hf_client.post(
        f"/claims/{claim_id}/withdraw", data={"csrf_token": token}, follow_redirects=False
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/papers/{PAPER}")
    assert 'action="/papers/2510.00515/claim"' in hf_client.get(f"/papers/{PAPER}").text
