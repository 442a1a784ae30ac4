"""Fuzz the search API: generated queries against a real server, goal 0 server errors.

The database is the whole Hugging Face daily-papers archive, imported with the product's
own command (``paperwire import``, which builds the keyword index at its end) and cached
under ``benchmarks/.cache/`` keyed on the schema, the keyword index's schema version and
the data files. Each run serves a scratch copy, so nothing a run does reaches the cache.

Requests are drawn by hypothesis strategies (``@given`` runs of 2,000 examples each,
seeded from ``--seed``, no example database, generate phase only): the same seed and
count give the same requests, so a failure printed here can be sent again. They cover:

- ``q``: any text (control characters and NUL included; no lone surrogates, which no
  URL can carry), astral characters, whitespace only, quotes balanced and not, every
  operator (AND OR NOT - + * ? ~ ^ ( ) [ ] { } : /), field prefixes known and unknown,
  arXiv ids and URLs in valid and broken forms, SQL/FTS/Lucene injections, HTML/JS
  payloads, and inputs up to 10 kB;
- the other parameters, valid or not: ``mode``, ``sort``, ``category`` (repeated),
  ``organization``, ``has_code``, ``from``/``to`` (impossible dates, ``from`` after
  ``to``), ``limit`` and ``p`` (out of range), and the exact shape the search page's own
  form submits (every field present, empty when unset).

Most requests go to ``GET /api/papers/search``; ``--page-fraction`` of them to the HTML
page ``GET /search`` with the same parameters. They are sent by ``--threads`` client
threads (httpx, keep-alive) to a server with semantic search off
(``PAPERWIRE_SEMANTIC=false``: hybrid and semantic fall back to keyword). A slice
(``--semantic-fraction``) goes to a second server with semantic search on, the default
configuration, after ``paperwire index`` has been asked to build the embeddings; when it
cannot, that server still runs, in the state every new installation is in before its
first ``paperwire index``, and the table says so.

Verdicts, per request: a 5xx, no response or a timeout is a failure; so is anything but
200 (with a JSON list from the API, or an HTML page) when every parameter other than
``q`` is valid: any ``q`` text must be accepted, and so must the blank fields the search
page's own form sends. A 4xx for a request with an invalid parameter is expected; a 200
for one is counted as "lenient", not a failure. The run fails (exit status 1) on any
failure; it prints one of each kind as a Python repr, and writes every one to
``benchmarks/.cache/fuzz-failures.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._common import (
    CACHE_DIR,
    HF_DAILY,
    PROJECT_ROOT,
    BenchmarkFailed,
    MachineWatch,
    Stopwatch,
    Table,
    fmt_ms,
    percentile,
    require_data,
    say,
)
from benchmarks._server import HOST, Server, free_port
from benchmarks.prepared_db import data_fingerprint, schema_revision

NAME = "fuzz"
HELP = "100,000 generated search queries through the API: 0 server errors"

API = "/api/papers/search"
PAGE = "/search"
MAX_Q_BYTES = 10_000  # "up to 10 kB": UTF-8 bytes; percent-encoded, at most 30 kB of URL
REQUEST_TIMEOUT_S = 30.0
# The first semantic request may build the embedding model (minutes, once per machine).
WARM_UP_TIMEOUT_S = 600.0
SERVER_START_S = 60.0
SHOWN_FAILURES = 10
SHOWN_CHARS = 600  # of a failing request's repr on screen; the failures file has them whole
FAILURES_FILE = CACHE_DIR / "fuzz-failures.txt"
EXPECTED_HF_PAPERS = 9_877  # shared/data/README.md: 9,877 distinct arXiv papers

Params = list[tuple[str, str]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=100_000, help="requests in all")
    parser.add_argument("--threads", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--seed", type=int, default=20251006, help="hypothesis seed")
    parser.add_argument(
        "--page-fraction",
        type=float,
        default=0.1,
        help="share of the requests sent to the HTML page /search instead of the API",
    )
    parser.add_argument(
        "--semantic-fraction",
        type=float,
        default=0.05,
        help="share sent to a server with semantic search on (0: no such server)",
    )
    parser.add_argument(
        "--embed-limit",
        type=float,
        default=900.0,
        help="seconds `paperwire index` may take to build the embeddings (once, cached)",
    )
    parser.add_argument("--rebuild", action="store_true", help="import and index again")


# --- the requests -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FuzzRequest:
    path: str  # API or PAGE
    params: tuple[tuple[str, str], ...]
    invalid: tuple[str, ...]  # the parameters (other than q) drawn from outside their domain
    semantic: bool = False  # sent to the server with semantic search on
    form: bool = False  # shaped like the search page's own form: every field, blanks too

    def reproduce(self) -> str:
        return f"httpx.get(BASE + {self.path!r}, params={list(self.params)!r})"


# Words that occur in the archive, so that many generated queries find papers and the
# code paths for hits (snippets, highlighting, sorting, paging) run, not just "no hits".
VOCABULARY = (
    "diffusion", "language", "model", "models", "agents", "reasoning", "video", "vision",
    "transformer", "attention", "benchmark", "reinforcement", "learning", "image", "3D",
    "retrieval", "alignment", "LLM", "multimodal", "speech", "robot", "graph", "efficient",
    "scaling", "tokens", "the", "of", "a", "and", "neural", "Gaussian", "splatting", "code",
    "mathematical", "preference", "RLHF", "MoE", "quantization", "über", "naïve", "数学",
    "модель", "Transformers without Normalization", "Smith", "Wang", "Zhang", "Li",
)  # fmt: skip
OPERATORS = (
    "AND", "OR", "NOT", "-", "+", "*", "?", "~", "^", "(", ")", "[", "]", "{", "}", ":", "/",
    "&&", "||", "!", "\\", '"', "'", "`", "~2", "^3", "*:*", "?:?", "--", "---", "+-", "-+",
    "NEAR/3", "TO", "[* TO *]", "{a TO b}", "a~0.8", "x^0", "/regex.*/",
)  # fmt: skip
FIELDS = ("author", "authors", "au", "category", "cat", "AUTHOR", "Cat", "unknown", "title", "id")
CATEGORIES = ("cs.CL", "cs.LG", "cs.CV", "cs.AI", "stat.ML", "math.GT", "hep-th", "q-bio.NC")
ARXIV_IDS = (
    "2510.01459", "2510.00515", "2502.13923", "0704.0001", "1501.00001", "hep-th/9901001",
    "math.GT/0309136", "cond-mat/0207270",
)  # fmt: skip
ARXIV_WRAPPERS = (
    "{}", "arXiv:{}", "arxiv:{}v1", "{}v12", "{}v0", "{}v", "{}v99999999999999999999",
    "https://arxiv.org/abs/{}", "http://export.arxiv.org/abs/{}v2", "arxiv.org/pdf/{}.pdf",
    "https://arxiv.org/pdf/{}v3.pdf", "https://www.arxiv.org/html/{}?context=cs#x", "/abs/{}",
    "oai:arXiv.org:{}", "https://arxiv.org/abs/{}/", "https://arxiv.org//abs/{}",
    "https://evil.example/abs/{}", "ARXIV:{}", "{}.pdf.pdf", "abs/{}", "{} {}",
)  # fmt: skip
BROKEN_IDS = (
    "2510.1459", "2510.014590", "25100.1459", "9913.00001", "2513.00001", "0000.00000",
    "hep-th/990100", "nope-th/9901001", "2510.", ".01459", "2510..01459", "arXiv:", "v2",
    "https://arxiv.org/abs/", "https://arxiv.org/abs/2510.01459v-1", "2510.01459v1v2",
    "१२३४.५६७८९", "２５１０.０１４５９",
)  # fmt: skip
NASTY = (
    "",
    " ",
    "\x00",
    "\x00" * 50,
    "a\x00b",
    "\r\n",
    "\u200b",
    "\ufeff",
    "\u202e",
    "\ufffd",
    "\U0001f680",
    "🏳️‍🌈",
    "Z̴̡̛̛͓̓a̸l̷g̶o̵",
    '"',
    '""',
    '"""',
    '"unbalanced',
    'unbalanced"',
    '"a" "b',
    "'",
    "''",
    "-",
    "--",
    "- -",
    "-\"\"",
    '-"',
    "author:",
    'author:"',
    'author:""',
    "author:-",
    "category:",
    "category:-",
    "cat:cs.CL",
    "cat:" + "x" * 60,
    "unknown:",
    ":",
    "::::",
    "a:b:c:d",
    "*",
    "?",
    "(((((",
    ")))))",
    "[[[",
    "{{{",
    "NOT",
    "AND OR NOT",
    "NOT NOT NOT",
    "'; DROP TABLE papers; --",
    "' OR '1'='1",
    '" OR ""="',
    "1; SELECT * FROM sqlite_master",
    "papers MATCH 'x'",
    "title:(a OR b) AND NOT c",
    "NEAR(a b, 2)",
    "a* OR b*",
    '{!lucene}*:*',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</title><script>alert(document.cookie)</script>",
    "javascript:alert(1)",
    "<mark>x</mark>",
    "&lt;script&gt;",
    "{{7*7}}",
    "${7*7}",
    "{% raw %}",
    "%00",
    "%25",
    "%s%s%s%n",
    "../../../../etc/passwd",
    "\\",
    "\\\\\\",
    "$x$",
    "$$\\frac{a}{b}$$",
    "\\begin{equation}",
)  # fmt: skip
XSS_MARKERS = ("<script", "<img", "<svg", "</title")

MODES = ("keyword", "semantic", "hybrid")
SORTS = ("relevance", "date", "upvotes")
BOOLS = ("true", "false", "1", "0", "yes", "no", "on", "off", "True", "FALSE")
BAD_BOOLS = ("maybe", "2", "-1", "tru", "ja", "null", "None", "\x00", "truee")
BAD_DATES = (
    "yesterday", "2025-13-01", "2025-02-30", "2025-00-10", "0000-01-01", "10000-01-01",
    "2025/01/01", "01-02-2025", "2025-1-1x", "\x00", "2025-01-01T25:00", "-2025-01-01", "1e9",
)  # fmt: skip
GOOD_DATES = ("0001-01-01", "1970-01-01", "2024-05-27", "2025-10-06", "2026-08-21", "9999-12-31")


def _strategies() -> Any:
    """The request strategy (hypothesis is imported here: only this benchmark needs it)."""
    from hypothesis import strategies as st

    any_text = st.text(max_size=80)  # every code point but surrogates: NUL, controls too
    astral = st.text(st.characters(min_codepoint=0x10000), max_size=30)
    controls = st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=20)
    spaces = st.text(
        st.sampled_from(" \t\n\r\x0b\x0c\u00a0\u1680\u2003\u2028\u2029\u3000\u200b\ufeff"),
        min_size=1,
        max_size=40,
    )
    word = st.one_of(
        st.sampled_from(VOCABULARY),
        st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True),
        st.text(max_size=12),
        st.sampled_from(OPERATORS),
    )
    arxiv = st.one_of(
        st.tuples(st.sampled_from(ARXIV_WRAPPERS), st.sampled_from(ARXIV_IDS)).map(
            lambda pair: pair[0].format(pair[1], pair[1])
        ),
        st.sampled_from(BROKEN_IDS),
        st.from_regex(r"\d{4}\.\d{4,5}(v\d{1,3})?", fullmatch=True),
    )

    def fielded(draw_parts: tuple[str, str, bool]) -> str:
        name, value, quoted = draw_parts
        return f'{name}:"{value}"' if quoted else f"{name}:{value}"

    token = st.one_of(
        word,
        word,
        st.builds(lambda w: f"-{w}", word),
        st.builds(lambda w: f"+{w}", word),
        st.lists(word, min_size=1, max_size=5).map(lambda ws: '"' + " ".join(ws) + '"'),
        st.lists(word, min_size=1, max_size=5).map(lambda ws: '"' + " ".join(ws)),  # unbalanced
        st.tuples(
            st.sampled_from(FIELDS),
            st.one_of(st.sampled_from(CATEGORIES), word, st.just("")),
            st.booleans(),
        ).map(fielded),
        arxiv,
        st.sampled_from(NASTY),
    )
    structured = st.lists(token, max_size=14).map(" ".join)

    def repeat(pair: tuple[str, int]) -> str:
        """``piece`` repeated to ``size`` UTF-8 bytes (less a cut character)."""
        piece, size = pair
        encoded = piece.encode() * (size // max(len(piece.encode()), 1) + 1)
        return encoded[:size].decode(errors="ignore")

    long_input = st.tuples(
        st.one_of(structured, any_text, astral, st.sampled_from(NASTY)).filter(bool),
        st.integers(min_value=1_000, max_value=MAX_Q_BYTES),
    ).map(repeat)
    q = st.one_of(
        structured,
        structured,
        structured,
        any_text,
        any_text,
        astral,
        controls,
        spaces,
        arxiv,
        st.sampled_from(NASTY),
        long_input,
        st.tuples(structured, controls, structured).map("".join),
    )

    def maybe(valid: Any, invalid: Any | None) -> Any:
        """(value, is_valid), or None for an absent parameter; invalid only if given."""
        options = [st.none(), st.none(), valid.map(lambda v: (v, True))]
        if invalid is not None:
            options.append(invalid.map(lambda v: (v, False)))
        return st.one_of(*options)

    date = st.one_of(st.sampled_from(GOOD_DATES), st.dates().map(lambda d: d.isoformat()))
    domains: dict[str, tuple[Any, Any]] = {
        "mode": (st.sampled_from(MODES), st.one_of(st.sampled_from(("", "MAGIC")), word)),
        "sort": (st.sampled_from(SORTS), st.one_of(st.just("Date"), word)),
        "category": (
            st.lists(st.one_of(st.sampled_from(CATEGORIES), any_text), max_size=10),
            st.lists(st.sampled_from(CATEGORIES), min_size=11, max_size=14),
        ),
        "organization": (
            st.one_of(
                st.sampled_from(("nvidia", "NVIDIA", "google", "meta", "no-such-org", "")),
                st.text(max_size=100),
            ),
            st.text(min_size=101, max_size=300),
        ),
        "has_code": (st.sampled_from(BOOLS), st.sampled_from(BAD_BOOLS)),
        "from": (date, st.sampled_from(BAD_DATES)),
        "to": (date, st.sampled_from(BAD_DATES)),
        "limit": (
            st.integers(1, 100).map(str),
            st.one_of(
                st.sampled_from(("0", "-1", "101", "1e3", "ten", "99999999999999999999")),
                st.integers(max_value=0).map(str),
                st.integers(min_value=101).map(str),
            ),
        ),
        "p": (
            st.integers(0, 1000).map(str),
            st.one_of(
                st.sampled_from(("-1", "1001", "1.5", "x")),
                st.integers(min_value=1001).map(str),
            ),
        ),
    }
    # Most requests keep every other parameter valid (so q is the only unusual one,
    # and anything but a 200 is a failure); a third may have invalid ones too.
    valid_only = st.fixed_dictionaries(
        {name: maybe(valid, None) for name, (valid, _invalid) in domains.items()}
    )
    mixed = st.fixed_dictionaries(
        {name: maybe(valid, invalid) for name, (valid, invalid) in domains.items()}
    )
    # What the search page's own form submits: every field, empty when it was left unset.
    form = st.fixed_dictionaries(
        {
            "mode": st.sampled_from(MODES),
            "sort": st.sampled_from(SORTS),
            "category": st.sampled_from(("", "cs.CL")),
            "organization": st.sampled_from(("", "nvidia")),
            "from": st.sampled_from(("", "2025-01-01")),
            "to": st.sampled_from(("", "2025-12-31")),
            "has_code": st.sampled_from(("", "true", "false")),
        }
    )
    return st.tuples(
        q, st.one_of(st.just({}), valid_only, valid_only, mixed, mixed, form.map(_form_shaped))
    )


def _form_shaped(values: dict[str, str]) -> dict[str, Any]:
    # Every value the form sends is one the page offers, so all of them must be accepted.
    return {name: (value, True) for name, value in values.items()} | {"_form": True}


def _params(q: str, other: dict[str, Any], page: bool) -> tuple[Params, list[str]]:
    """The query string's items (in order, repeats allowed) and the invalid names."""
    params: Params = [("q", q)]
    invalid: list[str] = []
    for name, drawn in other.items():
        if name.startswith("_") or drawn is None:
            continue
        if page and name == "limit":
            continue  # the page has a fixed page size
        value, valid = drawn
        if name == "category":
            values = value if isinstance(value, list) else [value]
            params.extend(("category", v) for v in values)
        else:
            params.append((name, value))
        if not valid:
            invalid.append(name)
    dates = {name: value for name, value in params if name in ("from", "to")}
    if (
        "from" not in invalid
        and "to" not in invalid
        and dates.get("from")
        and dates.get("to")
        and dates["from"] > dates["to"]  # ISO dates of 4-digit years sort as text
    ):
        invalid.append("from>to")
    return params, invalid


CHUNK = 2_000  # examples per hypothesis run: its memory of past examples stays small


def _draw(count: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """``count`` examples of the strategy, by hypothesis, reproducibly from ``seed``."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    drawn: list[tuple[str, dict[str, Any]]] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,  # nothing read or written: the same seed draws the same examples
        deadline=None,
        phases=[Phase.generate],  # no shrinking: nothing ever fails in here
        suppress_health_check=list(HealthCheck),
    )
    @given(_strategies())
    def collect(example: tuple[str, dict[str, Any]]) -> None:
        drawn.append(example)

    collect()
    return drawn


def _crosses(i: int, fraction: float) -> bool:
    return int((i + 1) * fraction) > int(i * fraction)


def generate(count: int, seed: int, page_fraction: float, semantic_fraction: float) -> list[Any]:
    """``count`` requests drawn by hypothesis, the same ones for the same seed and count."""
    drawn: list[tuple[str, dict[str, Any]]] = []
    for chunk in range(0, count, CHUNK):
        drawn.extend(_draw(min(CHUNK, count - chunk), seed * 1_000 + chunk // CHUNK))
    if len(drawn) < count:
        raise BenchmarkFailed(f"hypothesis drew {len(drawn)} requests, not {count}")
    requests = []
    sent = [0, 0]  # requests so far to each server: keyword, semantic
    for i, (q, other) in enumerate(drawn[:count]):
        # Spread evenly and deterministically: request i goes to the semantic server each
        # time i * fraction crosses a whole number; the page share is counted the same way
        # within each server's requests, so that both servers get both endpoints.
        semantic = _crosses(i, semantic_fraction)
        page = _crosses(sent[semantic], page_fraction)
        sent[semantic] += 1
        params, invalid = _params(q, other, page)
        path = PAGE if page else API
        form = bool(other.get("_form"))
        requests.append(FuzzRequest(path, tuple(params), tuple(invalid), semantic, form))
    return requests


# --- the database -------------------------------------------------------------------------


def _run_cli(args: list[str], db_path: Path, env: dict[str, str], limit: float) -> str | None:
    """Run ``paperwire ARGS`` on ``db_path``; None on success, else why it failed."""
    command = [sys.executable, "-m", "paperwire", *args]
    try:
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, "PAPERWIRE_DATABASE_URL": f"sqlite:///{db_path}", **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`paperwire {' '.join(args)}` did not finish within {limit:.0f} s"
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).decode(errors="replace").strip().splitlines()[-6:]
        return f"`paperwire {' '.join(args)}` exited with {done.returncode}: " + " / ".join(tail)
    return None


def index_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + "-index")


def fuzz_database(rebuild: bool) -> Path:
    """The HF archive imported by `paperwire import` (keyword index included), cached."""
    from paperwire.search.keyword import SCHEMA_VERSION

    require_data(HF_DAILY)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    key = f"{schema_revision()}-k{SCHEMA_VERSION}-{data_fingerprint(HF_DAILY)}"
    target = CACHE_DIR / f"fuzz-hf-{key}.db"
    if target.exists() and index_dir(target).is_dir() and not rebuild:
        say(f"fuzz: using the prepared database {target.name}")
        return target
    for stale in CACHE_DIR.glob("fuzz-hf-*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    building = CACHE_DIR / f"fuzz-building-{os.getpid()}.db"
    say("fuzz: importing the HF archive with `paperwire import` (once) ...")
    with Stopwatch() as watch:
        # Semantic off: the import then never touches the embedding model.
        failed = _run_cli(["import", str(HF_DAILY)], building, {"PAPERWIRE_SEMANTIC": "false"}, 900)
    if failed:
        raise BenchmarkFailed(failed)
    papers = _count(building, "SELECT COUNT(*) FROM papers")
    if papers < EXPECTED_HF_PAPERS:
        raise BenchmarkFailed(f"the import gave {papers:,} papers, expected {EXPECTED_HF_PAPERS:,}")
    say(f"fuzz: imported and keyword-indexed {papers:,} papers in {watch.wall:.0f} s")
    index_dir(building).rename(index_dir(target))
    building.rename(target)
    for sidecar in CACHE_DIR.glob(building.name + "-*"):
        sidecar.unlink()
    return target


def _count(db_path: Path, sql: str) -> int:
    import sqlite3

    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return int(conn.execute(sql).fetchone()[0])


def build_embeddings(db_path: Path, limit: float) -> str | None:
    """Ask `paperwire index` for the embeddings and vector index; None when it built them.

    Run on the cached database, so they are computed once; the command is incremental,
    so a run cut short by ``limit`` goes on from where it stopped the next time.
    """
    say(f"fuzz: `paperwire index` (embeddings, vector index; up to {limit:.0f} s) ...")
    failed = _run_cli(["index"], db_path, {"PAPERWIRE_SEMANTIC": "true"}, limit)
    if failed:
        return failed
    if _count(db_path, "SELECT COUNT(*) FROM embeddings") == 0:
        return "`paperwire index` computed no embeddings"
    return None


def scratch_copy(source: Path, folder: Path) -> Path:
    """A copy of the database and its indexes that the server may change at will."""
    import sqlite3

    # Fold the write-ahead log into the file first: the copy takes the main file alone.
    with contextlib.closing(sqlite3.connect(source)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = folder / "fuzz.db"
    shutil.copyfile(source, target)
    shutil.copytree(index_dir(source), index_dir(target))
    return target


# --- the server ---------------------------------------------------------------------------


@contextmanager
def serving(db_path: Path, env: dict[str, str], log: Path) -> Iterator[Server]:
    """A real `paperwire serve` (one worker) on a free port of 127.0.0.1, stopped on exit."""
    import httpx

    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    environment |= {"PAPERWIRE_DATABASE_URL": f"sqlite:///{db_path}", **env}
    command = [sys.executable, "-m", "paperwire", "serve", "--host", HOST, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, by its id
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                raise BenchmarkFailed(f"the server exited at start:\n{server.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{port}/api/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchmarkFailed(f"the server did not start:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # uvicorn's graceful stop
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of its group
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


# --- sending and judging ------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    request: FuzzRequest
    status: int  # 0: no response
    seconds: float
    problem: str = ""  # why this is a failure; empty when it is not
    detail: str = ""  # the start of the body of an answer other than 200


@dataclass(slots=True)
class Pass:
    """One server's share of the requests, sent and judged."""

    title: str
    outcomes: list[Outcome] = field(default_factory=list)
    wall: float = 0.0
    others: str = ""
    server_errors_logged: int = 0
    first_logged_error: str = ""


def judge(request: FuzzRequest, status: int, content_type: str, body: bytes) -> str:
    """Why this response is a failure, or "" when it is not."""
    if status >= 500:
        return f"HTTP {status}"
    if request.invalid:
        return ""  # a 4xx is the right answer; a 200 is lenient, counted apart
    if status != 200:
        if request.form:
            return f"HTTP {status} for what the search page's own form submits"
        return f"HTTP {status} for a request whose only unusual parameter is q"
    if request.path == API:
        import orjson

        try:
            hits = orjson.loads(body)
        except orjson.JSONDecodeError:
            return "the API answered 200 with a body that is not JSON"
        if not isinstance(hits, list):
            return "the API answered 200 with JSON that is not a list"
        return ""
    if not content_type.startswith("text/html"):
        return f"the page answered 200 with {content_type!r}"
    q = dict(request.params)["q"]
    if any(marker in q.lower() for marker in XSS_MARKERS) and q.encode() in body:
        return "the page shows the query's HTML unescaped"
    return ""


def send_all(base_url: str, requests: list[FuzzRequest], threads: int) -> list[Outcome]:
    """Every request, by ``threads`` threads with a keep-alive httpx client each."""
    import httpx

    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S)
            with lock:
                clients.append(local.client)
        found: httpx.Client = local.client
        return found

    def one(request: FuzzRequest) -> Outcome:
        started = time.perf_counter()
        try:
            response = client().get(request.path, params=list(request.params))
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            seconds = time.perf_counter() - started
            return Outcome(request, 0, seconds, f"no response: {type(error).__name__}: {error}")
        seconds = time.perf_counter() - started
        content_type = response.headers.get("content-type", "")
        problem = judge(request, response.status_code, content_type, response.content)
        detail = ""
        if problem and response.status_code != 200:
            detail = _reason(response.text, content_type)
        return Outcome(request, response.status_code, seconds, problem, detail)

    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fuzz") as pool:
            return list(pool.map(one, requests, chunksize=64))
    finally:
        for each in clients:
            each.close()


def _reason(body: str, content_type: str) -> str:
    """What an error answer says: the API's ``detail``, or the error page's text."""
    import re

    if "json" in content_type:
        return body[:300]
    found = re.search(r"<main[^>]*>(.*?)</main>", body, re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", found[1] if found else body)
    return " ".join(text.split())[:300]


def _logged_errors(log: Path) -> tuple[int, str]:
    """Tracebacks in the server's log, and the last line of the first (the exception)."""
    lines = log.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    first = ""
    if starts:
        for line in lines[starts[0] + 1 :]:
            if line and not line.startswith((" ", "\t", "Traceback", "The above", "During")):
                first = line[:300]
                break
    return len(starts), first


def run_pass(
    title: str,
    db_path: Path,
    env: dict[str, str],
    requests: list[FuzzRequest],
    threads: int,
    logdir: Path,
    warm_up: Callable[[str], None] | None = None,
) -> Pass:
    log = logdir / f"server-{len(list(logdir.glob('*.log')))}.log"
    result = Pass(title)
    with serving(db_path, env, log) as server:
        base_url = f"http://{HOST}:{server.port}"
        if warm_up is not None:
            warm_up(base_url)
        say(f"fuzz: {title}: {len(requests):,} requests, {threads} threads ...")
        cpu0 = server.cpu_seconds()
        with MachineWatch() as machine, Stopwatch() as watch:
            result.outcomes = send_all(base_url, requests, threads)
        server_cpu = server.cpu_seconds() - cpu0
        result.wall = watch.wall
        result.others = machine.others(server_cpu + watch.cpu)
        if server.process.poll() is not None:
            raise BenchmarkFailed(f"the server died during the run:\n{server.log_tail()}")
    result.server_errors_logged, result.first_logged_error = _logged_errors(log)
    return result


def _semantic_warm_up(note: list[str]) -> Callable[[str], None]:
    """One untimed semantic request (it may build the model); notes the answering mode."""

    def warm_up(base_url: str) -> None:
        import httpx

        say("fuzz: semantic server: first request (may build the embedding model) ...")
        try:
            response = httpx.get(
                base_url + API,
                params={"q": "video diffusion", "mode": "semantic"},
                timeout=WARM_UP_TIMEOUT_S,
            )
        except httpx.HTTPError as error:
            note.append(f"warm-up request failed: {type(error).__name__}")
            return
        note.append(
            f"warm-up: HTTP {response.status_code}, answered by "
            f"{response.headers.get('x-search-mode', '?')}"
            + (
                f" ({response.headers['x-search-notice']})"
                if "x-search-notice" in response.headers
                else ""
            )
        )

    return warm_up


# --- the report ---------------------------------------------------------------------------


def _row(name: str, outcomes: list[Outcome], wall: float) -> list[object]:
    statuses = Counter(o.status for o in outcomes)
    latencies = sorted(o.seconds for o in outcomes)
    lenient = sum(1 for o in outcomes if o.request.invalid and o.status == 200)
    return [
        name,
        len(outcomes),
        sum(n for s, n in statuses.items() if s >= 500),
        sum(n for s, n in statuses.items() if 400 <= s < 500),
        lenient,
        statuses.get(0, 0),
        sum(1 for o in outcomes if o.problem),
        fmt_ms(percentile(latencies, 50)),
        fmt_ms(percentile(latencies, 95)),
        fmt_ms(percentile(latencies, 99)),
        fmt_ms(latencies[-1]) if latencies else "",
        f"{len(outcomes) / wall:.0f}" if wall else "",
    ]


def run(args: argparse.Namespace) -> list[Table]:
    if args.count < 1 or args.threads < 1:
        raise BenchmarkFailed("--count and --threads must be at least 1")
    db_source = fuzz_database(args.rebuild)
    semantic_note: list[str] = []
    if args.semantic_fraction > 0:
        why_not = build_embeddings(db_source, args.embed_limit)
        semantic_note.append(
            "embeddings and vector index built by `paperwire index`"
            if why_not is None
            else f"no embeddings: {why_not}"
        )
    say(f"fuzz: drawing {args.count:,} requests with hypothesis (seed {args.seed}) ...")
    with Stopwatch() as drawing:
        requests = generate(args.count, args.seed, args.page_fraction, args.semantic_fraction)
    say(f"fuzz: drawn in {drawing.wall:.0f} s")
    keyword_requests = [r for r in requests if not r.semantic]
    semantic_requests = [r for r in requests if r.semantic]

    passes: list[Pass] = []
    with tempfile.TemporaryDirectory(prefix="paperwire-fuzz-") as tmp:
        folder = Path(tmp)
        db_path = scratch_copy(db_source, folder)
        passes.append(
            run_pass(
                "semantic off",
                db_path,
                {"PAPERWIRE_SEMANTIC": "false"},
                keyword_requests,
                args.threads,
                folder,
            )
        )
        if semantic_requests:
            passes.append(
                run_pass(
                    "semantic on",
                    db_path,
                    {"PAPERWIRE_SEMANTIC": "true"},
                    semantic_requests,
                    args.threads,
                    folder,
                    _semantic_warm_up(semantic_note),
                )
            )
    return _report(args, requests, passes, drawing.wall, semantic_note)


def _report(
    args: argparse.Namespace,
    requests: list[FuzzRequest],
    passes: list[Pass],
    drawing_s: float,
    semantic_note: list[str],
) -> list[Table]:
    table = Table(
        f"Search fuzzing: {len(requests):,} requests drawn by hypothesis (seed {args.seed}), "
        f"{args.threads} client threads, one server worker; latency in ms",
        [
            "server / endpoint", "requests", "5xx", "4xx", "lenient 200", "no answer",
            "FAILURES", "p50", "p95", "p99", "max", "req/s",
        ],
    )  # fmt: skip
    everything: list[Outcome] = []
    for each in passes:
        everything.extend(each.outcomes)
        table.add(*_row(f"{each.title}: all", each.outcomes, each.wall))
        for path in (API, PAGE):
            part = [o for o in each.outcomes if o.request.path == path]
            if part:
                table.add(*_row(f"  {path}", part, 0.0))
        only_q = [o for o in each.outcomes if not o.request.invalid]
        table.add(*_row("  only q unusual", only_q, 0.0))
    statuses = Counter(o.status for o in everything)
    failures = [o for o in everything if o.problem]
    invalid_by_name = Counter(name for r in requests for name in r.invalid)
    table.notes.extend(
        [
            "status codes: "
            + ", ".join(f"{s or 'none'}: {n:,}" for s, n in sorted(statuses.items())),
            "invalid parameters drawn (a request may have several): "
            + ", ".join(f"{k} {v:,}" for k, v in invalid_by_name.most_common()),
            "FAILURES: 5xx, no answer, or not a 200 list/page when only q is unusual; "
            "lenient 200: a 200 for a request with an invalid parameter (not a failure)",
            f"requests drawn in {drawing_s:.0f} s; req/s counts every answer, over the pass",
        ]
    )
    for each in passes:
        table.notes.append(
            f"{each.title}: {each.wall:.0f} s; tracebacks in the server log: "
            f"{each.server_errors_logged}"
            + (f" (first: {each.first_logged_error})" if each.first_logged_error else "")
            + f"; others on the machine {each.others}"
        )
    table.notes.extend(f"semantic on: {line}" for line in semantic_note)
    if failures:
        FAILURES_FILE.write_text(
            "".join(f"{_shown(o, whole=True)}\n" for o in failures), encoding="utf-8"
        )
        say(f"fuzz: {len(failures):,} failures, every one in {FAILURES_FILE}; the first few:")
        for outcome in failures[:SHOWN_FAILURES]:
            say(_shown(outcome))
        # One example of each kind (problem and answer), most frequent first: the first
        # failures are often one kind, and the rarer ones matter as much.
        kinds = Counter((o.problem, o.detail) for o in failures)
        examples = {(o.problem, o.detail): o for o in reversed(failures)}
        say(f"fuzz: {len(kinds)} kinds of failure, one example each:")
        for kind, n in kinds.most_common(SHOWN_FAILURES):
            say(f"  {n:,} x" + _shown(examples[kind]))
        print(table.render(), flush=True)
        raise BenchmarkFailed(
            f"{len(failures):,} of {len(everything):,} requests failed: "
            + "; ".join(f"{k} ({v:,})" for k, v in Counter(o.problem for o in failures).items())
        )
    return [table]


def _shown(outcome: Outcome, whole: bool = False) -> str:
    server = "semantic on" if outcome.request.semantic else "semantic off"
    call = outcome.request.reproduce()
    if not whole and len(call) > SHOWN_CHARS:
        call = f"{call[:SHOWN_CHARS]}... ({len(call) - SHOWN_CHARS:,} more characters)"
    shown = f"  [{server}] {outcome.problem}: {call}"
    return shown + (f"\n      answer: {outcome.detail}" if outcome.detail else "")
