"""The kinds of job the worker runs, each the same library call as a CLI command.

- ``sync_arxiv`` (``paperwire sync arxiv``): categories (a list or "cs.CL,cs.LG"),
  since ("2d", "36h", "1w");
- ``sync_oai`` (``paperwire sync oai``): set ("" for every set), from, until (YYYY-MM-DD);
- ``sync_hf`` (``paperwire sync hf``): day (YYYY-MM-DD; default: today and the days
  missed since the last run);
- ``index`` (``paperwire index``): keyword_only (true/false);
- ``send_digests`` (``paperwire digest send``): frequencies (a list or "daily,weekly";
  default both): queue the digests due now and send the outbox.

Every argument is optional (the settings give the defaults). Arguments are checked when
a job is queued (:func:`normalize_args`), so a typo is refused at once with a message
instead of failing later in the worker. A job returns a JSON-able result (the sync
report's counts, the index report) that is stored on the job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from paperwire.context import Context
from paperwire.digests.periods import FREQUENCIES
from paperwire.digests.send import fill_and_send
from paperwire.errors import UserError
from paperwire.search import indexer
from paperwire.search.keyword import IndexLocked
from paperwire.sync.arxiv import sync_arxiv
from paperwire.sync.hf import sync_hf
from paperwire.sync.oai import harvest
from paperwire.sync.report import Heartbeat, SyncReport
from paperwire.sync.runner import run_sync

JobResult = dict[str, Any]
Runner = Callable[[Context, dict[str, Any], Heartbeat], JobResult]
Normalizer = Callable[[dict[str, Any]], dict[str, Any]]

_SINCE = re.compile(r"(\d+)([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class BadJobArgs(UserError):
    """A job's kind or arguments are wrong: retrying cannot help."""


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    command: str  # the CLI command doing the same
    source: str | None  # the sync source it runs (a row of sync_sources), if any
    run: Runner
    normalize: Normalizer
    help: str


# --- argument checking -------------------------------------------------------------------


def _only(kind: str, args: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise BadJobArgs(f"{kind}: unknown argument {unknown[0]!r} (it takes: {known})")


def _day(kind: str, name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as error:
        raise BadJobArgs(f"{kind}: {name} {value!r} is not a date like 2025-10-06") from error


def _flag(kind: str, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise BadJobArgs(f"{kind}: {name} must be true or false, not {value!r}")


def parse_since(value: str) -> timedelta:
    """``2d``, ``36h``, ``1w``: the look-back of an arXiv sync."""
    match = _SINCE.fullmatch(value.strip())
    if not match:
        raise BadJobArgs(f"sync_arxiv: since {value!r} must be a number and a unit: 2d, 36h, 1w")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _normalize_arxiv(args: dict[str, Any]) -> dict[str, Any]:
    _only("sync_arxiv", args, {"categories", "since"})
    out: dict[str, Any] = {}
    categories = args.get("categories")
    if categories:
        items = categories.split(",") if isinstance(categories, str) else list(categories)
        out["categories"] = [str(item).strip() for item in items if str(item).strip()]
    if args.get("since"):
        parse_since(str(args["since"]))
        out["since"] = str(args["since"]).strip()
    return out


def _normalize_oai(args: dict[str, Any]) -> dict[str, Any]:
    _only("sync_oai", args, {"set", "from", "until"})
    out: dict[str, Any] = {}
    if args.get("set") is not None:
        out["set"] = str(args["set"]).strip()  # "": every set (the whole repository)
    for name in ("from", "until"):
        value = _day("sync_oai", name, args.get(name))
        if value is not None:
            out[name] = value
    if "from" in out and "until" in out and out["from"] > out["until"]:
        raise BadJobArgs(f"sync_oai: from {out['from']} is after until {out['until']}")
    return out


def _normalize_hf(args: dict[str, Any]) -> dict[str, Any]:
    _only("sync_hf", args, {"day"})
    day = _day("sync_hf", "day", args.get("day"))
    return {"day": day} if day is not None else {}


def _normalize_index(args: dict[str, Any]) -> dict[str, Any]:
    _only("index", args, {"keyword_only"})
    if "keyword_only" in args and _flag("index", "keyword_only", args["keyword_only"]):
        return {"keyword_only": True}
    return {}


def _normalize_digests(args: dict[str, Any]) -> dict[str, Any]:
    _only("send_digests", args, {"frequencies"})
    value = args.get("frequencies")
    if not value:
        return {}
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [str(item).strip() for item in items if str(item).strip()]
    unknown = [name for name in names if name not in FREQUENCIES]
    if unknown:
        raise BadJobArgs(f"send_digests: frequency {unknown[0]!r} is not daily or weekly")
    return {"frequencies": list(dict.fromkeys(names))}


# --- running -----------------------------------------------------------------------------


def _sync_result(report: SyncReport) -> JobResult:
    result = report.counts()
    if report.errors:
        result["first_errors"] = report.errors[:20]
    return result


def _run_arxiv(context: Context, args: dict[str, Any], heartbeat: Heartbeat) -> JobResult:
    categories = args.get("categories") or context.settings.arxiv_categories
    since = parse_since(args["since"]) if args.get("since") else None
    report = run_sync(
        context,
        "arxiv",
        lambda: sync_arxiv(context, categories=categories, since=since, heartbeat=heartbeat),
    )
    return _sync_result(report)


def _run_oai(context: Context, args: dict[str, Any], heartbeat: Heartbeat) -> JobResult:
    set_spec = str(args.get("set", context.settings.sync_oai_set))
    from_ = date.fromisoformat(args["from"]) if args.get("from") else None
    until = date.fromisoformat(args["until"]) if args.get("until") else None
    report = run_sync(
        context,
        "oai",
        lambda: harvest(context, set_spec=set_spec, from_=from_, until=until, heartbeat=heartbeat),
    )
    return _sync_result(report)


def _run_hf(context: Context, args: dict[str, Any], heartbeat: Heartbeat) -> JobResult:
    day = date.fromisoformat(args["day"]) if args.get("day") else None
    report = run_sync(context, "hf", lambda: sync_hf(context, day=day, heartbeat=heartbeat))
    return _sync_result(report)


def _run_index(context: Context, args: dict[str, Any], heartbeat: Heartbeat) -> JobResult:
    def start(_name: str, _total: int | None) -> indexer.Progress:
        heartbeat()
        # Called after each committed batch: a good place to stop, nothing is half done.
        return lambda _n: heartbeat()

    semantic = context.settings.semantic and not args.get("keyword_only")
    try:
        with context.search.writing(wait=False):
            report = indexer.run_index(
                context.engine, context.search, semantic=semantic, start=start
            )
    except IndexLocked as error:
        # `paperwire index` or an import is doing the same work right now.
        return {"skipped": f"{error}; the next run catches up"}
    return asdict(report)


def _run_digests(context: Context, args: dict[str, Any], heartbeat: Heartbeat) -> JobResult:
    heartbeat()
    frequencies = args.get("frequencies") or list(FREQUENCIES)
    return fill_and_send(context, frequencies).counts()


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind(
            "sync_arxiv",
            "paperwire sync arxiv",
            "arxiv",
            _run_arxiv,
            _normalize_arxiv,
            "new and updated papers of the followed categories (arXiv API)",
        ),
        JobKind(
            "sync_oai",
            "paperwire sync oai",
            "oai",
            _run_oai,
            _normalize_oai,
            "arXiv OAI-PMH harvest of a set (backfill); resumes where it stopped",
        ),
        JobKind(
            "sync_hf",
            "paperwire sync hf",
            "hf",
            _run_hf,
            _normalize_hf,
            "feature the Hugging Face daily list(s)",
        ),
        JobKind(
            "index",
            "paperwire index",
            None,
            _run_index,
            _normalize_index,
            "bring the keyword index, embeddings and vector index up to date",
        ),
        JobKind(
            "send_digests",
            "paperwire digest send",
            None,
            _run_digests,
            _normalize_digests,
            "queue the email digests due now (each subscriber's hour) and send them",
        ),
    )
}


def normalize_args(
    kind: str, args: Mapping[str, Any], kinds: Mapping[str, JobKind] = KINDS
) -> dict[str, Any]:
    """The job's arguments checked and in their stored form; :class:`BadJobArgs` if wrong."""
    if kind not in kinds:
        raise BadJobArgs(f"unknown job kind {kind!r} (known: {', '.join(sorted(kinds))})")
    return kinds[kind].normalize(dict(args))


def run(
    context: Context,
    kind: str,
    args: dict[str, Any],
    heartbeat: Heartbeat,
    kinds: Mapping[str, JobKind] = KINDS,
) -> JobResult:
    """Run one job of ``kind``; its exceptions are the worker's to record."""
    checked = normalize_args(kind, args, kinds)
    return kinds[kind].run(context, checked, heartbeat)
