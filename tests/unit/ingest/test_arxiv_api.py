"""The arXiv API client against a local server replaying a real Atom response."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from arxiv_replay import ArxivReplay
from paperwire import __version__
from paperwire.config import Settings
from paperwire.errors import NotFound, UpstreamError
from paperwire.ingest.arxiv_api import ArxivClient, user_agent
from paperwire.models import ParsedRecord

INTERVAL = 0.2
SLACK = 0.02  # arrival times jitter a little around the client's send times


@pytest.fixture
def replay() -> Iterator[ArxivReplay]:
    with ArxivReplay() as server:
        yield server


def _client(replay: ArxivReplay, **options: float) -> ArxivClient:
    values: dict[str, float] = {"interval_s": INTERVAL, "timeout_s": 2.0, "retries": 2, **options}
    return ArxivClient(
        replay.url,
        agent=user_agent("https://papers.example.org"),
        interval_s=values["interval_s"],
        timeout_s=values["timeout_s"],
        retries=int(values["retries"]),
    )


def test_fetch_ids_returns_exactly_the_requested_real_entries(replay: ArxivReplay) -> None:
    client = _client(replay)
    found = client.fetch_ids(["quant-ph/0210005", "1501.05039", "2510.99999"])
    assert set(found) == {"quant-ph/0210005", "1501.05039"}  # the unknown id is absent
    paper = found["1501.05039"]
    assert paper.title == "Defining Data Science"
    assert paper.authors == ["Yangyong Zhu", "Yun Xiong"]
    assert paper.categories == ["cs.DB", "cs.CY"]
    assert paper.version == 1
    assert found["quant-ph/0210005"].title.startswith("Quantum information science")
    (request,) = replay.requests
    assert request.query["id_list"] == ["quant-ph/0210005,1501.05039,2510.99999"]
    assert request.query["max_results"] == ["3"]
    assert request.headers["user-agent"] == (
        f"paperwire/{__version__} (+https://papers.example.org)"
    )


def test_fetch_of_an_unknown_or_malformed_id_is_not_found(replay: ArxivReplay) -> None:
    client = _client(replay)
    with pytest.raises(NotFound, match=r"arXiv has no paper 2510\.99999"):
        client.fetch("2510.99999")
    with pytest.raises(NotFound, match="incorrect id format for 12345"):
        client.fetch("12345")  # arXiv answers malformed ids with an error entry


def test_query_takes_any_parameters_for_harvests(replay: ArxivReplay) -> None:
    page = _client(replay).query({"search_query": "all:science", "start": 2, "max_results": 4})
    assert (page.total_results, page.start_index, page.items_per_page) == (10, 2, 4)
    assert [r.paper.id for r in page.records if isinstance(r, ParsedRecord)] == replay.ids[2:6]


def test_requests_are_spaced_by_the_interval_even_from_many_threads(
    replay: ArxivReplay,
) -> None:
    client = _client(replay)
    for paper_id in replay.ids[:3]:
        client.fetch(paper_id)
    start = threading.Barrier(6)

    def fetch(paper_id: str) -> str:
        start.wait()
        return client.fetch(paper_id).id

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(fetch, replay.ids[3:9])) == sorted(replay.ids[3:9])
    gaps = replay.gaps()
    assert len(gaps) == 8
    assert min(gaps) >= INTERVAL - SLACK, gaps
    # and no slower than needed: nine requests take about eight intervals
    span = replay.requests[-1].at - replay.requests[0].at
    assert span < 8 * INTERVAL + 1.0


def test_503s_are_retried_with_backoff_then_succeed(replay: ArxivReplay) -> None:
    replay.fail_next(2)
    began = time.monotonic()
    assert _client(replay).fetch("0705.1367").id == "0705.1367"
    assert len(replay.requests) == 3
    # backoff: one interval, then two (each at least the interval apart anyway)
    gaps = replay.gaps()
    assert gaps[0] >= INTERVAL - SLACK
    assert gaps[1] >= 2 * INTERVAL - SLACK
    assert time.monotonic() - began < 5


def test_429_honours_retry_after(replay: ArxivReplay) -> None:
    replay.fail_next(1, status=429, retry_after="1")
    assert _client(replay).fetch("0705.1367").id == "0705.1367"
    assert replay.gaps()[0] >= 1.0 - SLACK


def test_a_persistent_failure_gives_up_after_the_retries(replay: ArxivReplay) -> None:
    replay.fail_next(100)
    with pytest.raises(UpstreamError, match=r"answered HTTP 503 \(3 tries\)"):
        _client(replay).fetch("0705.1367")
    assert len(replay.requests) == 3  # 1 + 2 retries, not one more


def test_a_4xx_is_not_retried(replay: ArxivReplay) -> None:
    replay.fail_next(1, status=400)
    with pytest.raises(UpstreamError, match=r"HTTP 400"):
        _client(replay).fetch("0705.1367")
    assert len(replay.requests) == 1


def test_timeouts_are_retried_then_reported(replay: ArxivReplay) -> None:
    replay.slow_next(1, 3.0)
    client = _client(replay, timeout_s=0.5)
    assert client.fetch("1802.03292").id == "1802.03292"  # the retry is answered
    assert len(replay.requests) == 2
    replay.slow_next(3, 3.0)
    with pytest.raises(UpstreamError, match=r"did not answer within 0\.5 s \(3 tries\)"):
        client.fetch("1802.03292")


def test_a_malformed_body_is_an_upstream_error(replay: ArxivReplay) -> None:
    replay.malformed_next(1)
    with pytest.raises(UpstreamError, match="not an Atom feed"):
        _client(replay).fetch("1802.03292")


def test_an_unreachable_api_is_an_upstream_error() -> None:
    with ArxivReplay() as gone:
        url = gone.url
    client = ArxivClient(url, agent="paperwire/test", interval_s=0.0, retries=1, backoff_s=0.05)
    with pytest.raises(UpstreamError, match=r"could not be reached .*\(2 tries\)"):
        client.fetch("1802.03292")


def test_settings_configure_the_client(replay: ArxivReplay) -> None:
    settings = Settings(
        env="test",
        arxiv_api_url=replay.url,
        arxiv_request_interval_s=0.1,
        arxiv_timeout_s=3,
        arxiv_retries=4,
        base_url="https://papers.example.org",
    )
    client = ArxivClient.from_settings(settings)
    assert (client.api_url, client.interval_s, client.timeout_s, client.retries) == (
        replay.url,
        0.1,
        3,
        4,
    )
    client.fetch("1312.7288")
    assert replay.requests[0].headers["user-agent"].endswith("(+https://papers.example.org)")
