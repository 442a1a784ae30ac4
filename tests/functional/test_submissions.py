"""Submissions by arXiv id, against a local server replaying real arXiv API answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from arxiv_replay import ArxivReplay, replay_settings
from factories import api_token, csrf_token, make_user, sign_in
from paperwire.community.submissions import submit
from paperwire.config import Settings
from paperwire.errors import Conflict, UserError
from paperwire.ingest.arxiv_api import ArxivClient
from paperwire.ingest.pipeline import import_paths
from paperwire.models import Role
from paperwire.store import papers as paper_store
from paperwire.store.schema import embedding_queue, feed_entries, keyword_queue, papers
from paperwire.web.app import create_app

OLD_ENOUGH = 100_000  # days: the replayed papers are from 2002 to 2018
HF_DAY = "2024-05-27"


@pytest.fixture
def arxiv() -> Iterator[ArxivReplay]:
    with ArxivReplay() as server:
        yield server


def _client(settings: Settings, arxiv: ArxivReplay, **overrides: object) -> TestClient:
    values: dict[str, object] = {"submission_max_age_days": OLD_ENOUGH, **overrides}
    return TestClient(create_app(replay_settings(settings, arxiv, **values)))


@pytest.fixture
def client(settings: Settings, arxiv: ArxivReplay) -> Iterator[TestClient]:
    with _client(settings, arxiv) as client:
        yield client


def _engine(client: TestClient) -> Engine:
    engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
    return engine


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _post(client: TestClient, text: str, token: str) -> Any:
    return client.post("/api/papers/submit", json={"id": text}, headers={"X-CSRF-Token": token})


@pytest.mark.parametrize(
    ("text", "paper_id"),
    [
        ("1501.05039", "1501.05039"),
        ("arXiv:1501.05039v2", "1501.05039"),
        ("https://arxiv.org/abs/1501.05039", "1501.05039"),
        ("/pdf/1501.05039v1", "1501.05039"),
        ("https://arxiv.org/pdf/1501.05039v1.pdf", "1501.05039"),
        ("quant-ph/0210005", "quant-ph/0210005"),
        ("https://arxiv.org/abs/physics/0507092v1", "physics/0507092"),
    ],
)
def test_any_id_form_fetches_stores_and_features_the_paper(
    client: TestClient, arxiv: ArxivReplay, text: str, paper_id: str
) -> None:
    engine = _engine(client)
    ada = make_user(engine, "ada")
    answer = _post(client, text, sign_in(client, engine, ada))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["paper"]["id"] == paper_id
    assert (body["day"], body["position"], body["fetched"]) == (_today(), 0, True)
    assert [r.query["id_list"] for r in arxiv.requests] == [[paper_id]]
    with engine.connect() as conn:
        entry = conn.execute(select(feed_entries)).mappings().one()
        paper = paper_store.get_paper(conn, paper_id)
        queued = {
            name: conn.execute(select(queue.c.paper_id)).scalars().all()
            for name, queue in (("keyword", keyword_queue), ("embedding", embedding_queue))
        }
    assert (entry["paper_id"], entry["feed_date"].isoformat()) == (paper_id, _today())
    assert (entry["source"], entry["submitted_by"], entry["featured_by_user_id"]) == (
        "submission",
        "ada",
        ada.id,
    )
    assert paper is not None
    assert paper.source == "arxiv"
    assert paper.title == body["paper"]["title"]
    assert queued == {"keyword": [paper_id], "embedding": [paper_id]}  # search will index it
    # it is on today's list
    listed = client.get(f"/api/daily_papers?date={_today()}").json()
    assert [item["paper"]["id"] for item in listed] == [paper_id]
    assert listed[0]["submittedBy"]["name"] == "ada"


@pytest.mark.parametrize(
    "text", ["", "not an id", "2513.00001", "1501.5039", "https://example.org/abs/1501.05039"]
)
def test_a_bad_id_is_400_naming_the_accepted_forms(
    client: TestClient, arxiv: ArxivReplay, text: str
) -> None:
    engine = _engine(client)
    answer = _post(client, text, sign_in(client, engine, make_user(engine, "ada")))
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert "2510.01459" in detail
    assert "hep-th/9901001" in detail
    if text == "not an id":
        assert detail.startswith("Not an arXiv id: 'not an id'. Accepted forms: 2510.01459,")
    assert arxiv.requests == []


def test_the_age_rule(settings: Settings, engine: Engine, arxiv: ArxivReplay) -> None:
    ruled = replay_settings(settings, arxiv)  # the default: 14 days
    source = ArxivClient.from_settings(ruled)
    ada = make_user(engine, "ada")
    # 1501.05039's first version: 2015-01-21; 14 days later is still fine
    done = submit(engine, source, ruled, ada, "1501.05039", today=date(2015, 2, 4))
    assert (done.day, done.position, done.fetched) == (date(2015, 2, 4), 0, True)
    # 1503.01162's: 2015-03-03; 15 days later is refused, after asking arXiv, storing nothing
    with pytest.raises(UserError, match=r"first published on 2015-03-03 \(15 days ago\)"):
        submit(engine, source, ruled, ada, "1503.01162", today=date(2015, 3, 18))
    assert len(arxiv.requests) == 2
    with engine.connect() as conn:
        assert paper_store.get_paper(conn, "1503.01162") is None
    # ids whose month alone is too old are refused without asking arXiv at all
    with pytest.raises(UserError, match="in August 2008; members can submit papers whose"):
        submit(engine, source, ruled, ada, "0808.0631", today=date(2015, 3, 18))
    with pytest.raises(UserError, match="first published in October 2002"):
        submit(engine, source, ruled, ada, "quant-ph/0210005", today=date(2015, 3, 18))
    assert len(arxiv.requests) == 2
    assert _count(engine, papers) == 1


def test_the_age_rule_over_http(settings: Settings, arxiv: ArxivReplay) -> None:
    with _client(settings, arxiv, submission_max_age_days=14) as client:
        engine = _engine(client)
        answer = _post(client, "1802.03292", sign_in(client, engine, make_user(engine, "ada")))
        assert answer.status_code == 400
        assert "at most 14 days old" in answer.json()["detail"]
        assert _count(engine, papers) == 0


def test_a_paper_is_featured_once(client: TestClient, arxiv: ArxivReplay, data_dir: Path) -> None:
    engine = _engine(client)
    import_paths(engine, [data_dir / "hf-daily-papers" / f"{HF_DAY}.json"])
    ada_token = sign_in(client, engine, make_user(engine, "ada"))
    refused = _post(client, "2405.15738", ada_token)  # featured by the HF import
    assert refused.status_code == 409
    assert f"already featured on {HF_DAY}" in refused.json()["detail"]
    assert _post(client, "1501.05039", ada_token).status_code == 201
    bob = TestClient(client.app)
    again = _post(bob, "arXiv:1501.05039v1", sign_in(bob, engine, make_user(engine, "bob")))
    assert again.status_code == 409
    assert f"already on the list of {_today()}" in again.json()["detail"]
    assert len(arxiv.requests) == 1  # the duplicates were refused without asking arXiv


def test_featured_on_an_earlier_day_names_the_day(
    settings: Settings, engine: Engine, arxiv: ArxivReplay
) -> None:
    ruled = replay_settings(settings, arxiv, submission_max_age_days=OLD_ENOUGH)
    source = ArxivClient.from_settings(ruled)
    submit(engine, source, ruled, make_user(engine, "ada"), "1802.03292", today=date(2025, 1, 6))
    with pytest.raises(Conflict, match="already featured on 2025-01-06"):
        submit(
            engine, source, ruled, make_user(engine, "bob"), "1802.03292", today=date(2025, 1, 7)
        )


def test_the_daily_quota(settings: Settings, arxiv: ArxivReplay) -> None:
    with _client(settings, arxiv, submission_daily_quota=2) as client:
        engine = _engine(client)
        token = sign_in(client, engine, make_user(engine, "ada"))
        assert _post(client, "1501.05039", token).status_code == 201
        assert _post(client, "1503.01162", token).status_code == 201
        refused = _post(client, "0705.1367", token)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) <= 86400
        assert "submitted 2 papers today; members can submit 2 a day" in refused.json()["detail"]
        assert len(arxiv.requests) == 2  # refused before fetching
        assert _count(engine, papers) == 2
        # the form shows the same message, keeps the text, and answers 429
        form = client.post("/submit", data={"csrf_token": token, "id": "0705.1367"})
        assert form.status_code == 429
        assert "Retry-After" in form.headers
        assert "members can submit 2 a day" in form.text
        assert 'value="0705.1367"' in form.text


def test_curators_bypass_every_rule(settings: Settings, arxiv: ArxivReplay, data_dir: Path) -> None:
    with _client(settings, arxiv, submission_daily_quota=1, submission_max_age_days=14) as client:
        engine = _engine(client)
        import_paths(engine, [data_dir / "hf-daily-papers" / f"{HF_DAY}.json"])
        token = sign_in(client, engine, make_user(engine, "cora", Role.CURATOR))
        # old, old-style, already featured on another day, and over the quota
        for n, text in enumerate(["1501.05039", "quant-ph/0210005", "2405.15738"]):
            answer = _post(client, text, token)
            assert answer.status_code == 201, answer.text
            assert answer.json()["position"] == n
        assert _post(client, "2405.15738", token).status_code == 409  # but not twice a day


def test_submission_goes_after_the_days_last_entry(
    settings: Settings, engine: Engine, arxiv: ArxivReplay, data_dir: Path
) -> None:
    import_paths(engine, [data_dir / "hf-daily-papers" / f"{HF_DAY}.json"])
    with engine.connect() as conn:
        last = conn.execute(
            select(func.max(feed_entries.c.position)).where(
                feed_entries.c.feed_date == date.fromisoformat(HF_DAY)
            )
        ).scalar_one()
    ruled = replay_settings(settings, arxiv, submission_max_age_days=OLD_ENOUGH)
    done = submit(
        engine,
        ArxivClient.from_settings(ruled),
        ruled,
        make_user(engine, "ada"),
        "1312.7288",
        today=date.fromisoformat(HF_DAY),
    )
    assert done.position == last + 1


def test_arxiv_503s_are_retried_then_the_submission_succeeds(
    client: TestClient, arxiv: ArxivReplay
) -> None:
    engine = _engine(client)
    arxiv.fail_next(2)
    answer = _post(client, "1802.03292", sign_in(client, engine, make_user(engine, "ada")))
    assert answer.status_code == 201
    assert len(arxiv.requests) == 3


@pytest.mark.parametrize(
    ("fault", "message"),
    [("unavailable", r"answered HTTP 503 \(3 tries\)"), ("malformed", "not an Atom feed")],
)
def test_a_failing_arxiv_gives_502_and_stores_nothing(
    client: TestClient, arxiv: ArxivReplay, fault: str, message: str
) -> None:
    engine = _engine(client)
    if fault == "unavailable":
        arxiv.fail_next(100)
    else:
        arxiv.malformed_next(1)
    answer = _post(client, "1802.03292", sign_in(client, engine, make_user(engine, "ada")))
    assert answer.status_code == 502
    assert re.search(message, answer.json()["detail"])
    assert (_count(engine, papers), _count(engine, feed_entries)) == (0, 0)


def test_an_id_arxiv_does_not_know_is_404(client: TestClient) -> None:
    engine = _engine(client)
    answer = _post(client, "2501.99999", sign_in(client, engine, make_user(engine, "ada")))
    assert answer.status_code == 404
    assert "arXiv has no paper 2501.99999" in answer.json()["detail"]
    assert _count(engine, papers) == 0


def test_the_submit_page_and_form(client: TestClient, arxiv: ArxivReplay) -> None:
    engine = _engine(client)
    anonymous = client.get("/submit", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fsubmit"
    token = sign_in(client, engine, make_user(engine, "ada"))
    page = client.get("/submit")
    assert page.status_code == 200
    assert f"at most {OLD_ENOUGH} days old" in page.text
    assert "at most 5 papers a day" in page.text
    assert 'name="csrf_token"' in page.text
    bad = client.post("/submit", data={"csrf_token": token, "id": "hep-th/99"})
    assert bad.status_code == 400
    assert "Accepted forms" in bad.text
    assert 'value="hep-th/99"' in bad.text
    done = client.post(
        "/submit",
        data={"csrf_token": token, "id": "https://arxiv.org/abs/0705.1367v1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/papers/0705.1367"
    assert _today() in client.get("/api/papers/0705.1367").json()["featuredOn"]


def test_api_tokens_submit(client: TestClient) -> None:
    engine = _engine(client)
    bearer = {"Authorization": f"Bearer {api_token(engine, make_user(engine, 'ada'))}"}
    answer = client.post("/api/papers/submit", json={"id": "0808.0638"}, headers=bearer)
    assert answer.status_code == 201
    assert answer.json()["paper"]["id"] == "0808.0638"
    settings: Settings = client.app.state.context.settings  # type: ignore[attr-defined]
    anonymous = client.post(
        "/api/papers/submit",
        json={"id": "0808.0639"},
        headers={"X-CSRF-Token": csrf_token(client, settings)},
    )
    assert anonymous.status_code == 401


def test_submissions_are_rate_limited(settings: Settings, arxiv: ArxivReplay) -> None:
    with _client(settings, arxiv, rate_limit_submit="1/hour") as client:
        engine = _engine(client)
        token = sign_in(client, engine, make_user(engine, "ada"))
        assert _post(client, "0808.0638", token).status_code == 201
        refused = _post(client, "0808.0639", token)
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers
        assert "Too many submit requests" in refused.json()["detail"]
