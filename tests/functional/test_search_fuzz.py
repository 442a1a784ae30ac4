"""Properties of search over the real HF archive, for any input hypothesis can draw.

Any ``q`` text is a query (the syntax is forgiving by design), so it must answer 200 with
a JSON list, whatever else is in it; every valid combination of the other parameters
must too; hits are real papers; and the HTML page never echoes the query unescaped.
The benchmark ``python -m benchmarks fuzz`` runs the same idea at scale on a real server.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

# One fixture (the copied database) serves every example; nothing here writes to it.
# No example database: a failure is printed with its example, and no .hypothesis/ folder
# appears in the working tree.
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Words of the archive, so that many queries find papers and the hit checks run.
WORDS = ("diffusion", "language", "models", "agents", "reasoning", "video", "benchmark", "the")
NASTY = (
    "",
    " ",
    "\x00",
    "\t\r\n\x0b\x0c",
    "\u200b\ufeff\u202e",
    '"',
    '"unbalanced phrase',
    "-",
    '-"',
    "author:",
    'author:"',
    "category:",
    "cat:" + "x" * 60,
    "unknown:field",
    "AND OR NOT",
    "((( ))) [[ ]] {{ }}",
    "* ? ~ ^ + - : /",
    "title:(a OR b) AND NOT c~2^3",
    "'; DROP TABLE papers; --",
    "' OR '1'='1",
    "papers MATCH 'x*'",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</title><script>alert(document.cookie)</script>",
    "{{7*7}} ${7*7} {% raw %}",
    "$\\frac{a}{b}$",
    "2510.01459",
    "arXiv:2510.01459v99999999999999999999",
    "https://arxiv.org/abs/2510.01459",
    "https://arxiv.org/abs/2510.1459",
    "hep-th/990100",
    "２５１０.０１４５９",
    "x" * 5_000,
)

word_soup = st.lists(
    st.one_of(st.sampled_from(WORDS), st.sampled_from(NASTY), st.text(max_size=8))
).map(" ".join)
query_text = st.one_of(
    st.text(),  # every code point but lone surrogates (no URL can carry those)
    st.text(st.characters(max_codepoint=0x1F), max_size=20),  # control characters only
    st.sampled_from(NASTY),
    word_soup,
)


def _absent_or(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


dates = st.dates().map(lambda day: day.isoformat())
valid_params = st.fixed_dictionaries(
    {
        "mode": _absent_or(st.sampled_from(("keyword", "semantic", "hybrid"))),
        "sort": _absent_or(st.sampled_from(("relevance", "date", "upvotes"))),
        "category": _absent_or(
            st.lists(st.one_of(st.sampled_from(("cs.CL", "cs.CV")), st.text()), max_size=10)
        ),
        "organization": _absent_or(
            st.one_of(st.sampled_from(("nvidia", "NVIDIA", "no-such-org")), st.text(max_size=100))
        ),
        "has_code": _absent_or(st.sampled_from(("true", "false", "1", "0", "yes", "off"))),
        "from": _absent_or(dates),
        "to": _absent_or(dates),
        "limit": _absent_or(st.integers(1, 100)),
        "p": _absent_or(st.integers(0, 1000)),
    }
).map(lambda drawn: {name: value for name, value in drawn.items() if value is not None})


def _ordered_dates(params: dict[str, Any]) -> dict[str, Any]:
    """'from' after 'to' is the one invalid combination of valid values: swap them."""
    if "from" in params and "to" in params and params["from"] > params["to"]:
        params["from"], params["to"] = params["to"], params["from"]
    return params


def _search(client: TestClient, q: str, params: dict[str, Any]) -> list[Any]:
    response = client.get("/api/papers/search", params={"q": q, **params})
    assert response.status_code == 200, (q, params, response.text[:300])
    hits = response.json()
    assert isinstance(hits, list)
    assert int(response.headers["x-total-count"]) >= len(hits)
    assert response.headers["x-search-mode"] in ("keyword", "semantic", "hybrid")
    return hits


def test_any_query_text_answers_a_list_of_real_papers(hf_client: TestClient) -> None:
    seen: set[str] = set()  # each paper looked up once: the lookups are the slow part

    @FUZZ
    @given(q=query_text)
    def check(q: str) -> None:
        hits = _search(hf_client, q, {})
        for hit in hits[:3]:
            paper_id = hit["paper"]["id"]
            if paper_id in seen:
                continue
            seen.add(paper_id)
            response = hf_client.get(f"/api/papers/{paper_id}")
            assert response.status_code == 200, (q, paper_id)
            assert response.json()["id"] == paper_id

    check()
    assert seen, "no generated query found a paper: the hit checks never ran"


def test_any_valid_parameters_answer_a_list(hf_client: TestClient) -> None:
    @FUZZ
    @given(q=query_text, params=valid_params.map(_ordered_dates))
    def check(q: str, params: dict[str, Any]) -> None:
        hits = _search(hf_client, q, params)
        assert len(hits) <= params.get("limit", 20)
        first_rank = params.get("p", 0) * params.get("limit", 20) + 1
        assert [hit["rank"] for hit in hits] == list(range(first_rank, first_rank + len(hits)))

    check()


def test_the_page_shows_any_query_escaped(hf_client: TestClient) -> None:
    @FUZZ
    @given(q=query_text)
    def check(q: str) -> None:
        response = hf_client.get("/search", params={"q": q})
        assert response.status_code == 200, (q, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        # The pages carry no scripts at all, so any <script> would have come from q.
        assert "<script" not in html.lower(), q
        # The search box holds the query, escaped as an attribute value.
        assert f'value="{escape(q)}"' in html, q

    check()
