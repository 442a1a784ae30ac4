"""The periodic schedule's decisions (pure), the job registry's argument checks, backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paperwire.config import Settings
from paperwire.errors import UserError
from paperwire.jobs.queue import BACKOFF_MAX_S, backoff_s
from paperwire.jobs.registry import BadJobArgs, normalize_args, parse_since
from paperwire.jobs.schedule import PlannedJob, due_jobs, follow_up, unique_key
from paperwire.jobs.worker import summary

NOW = datetime(2025, 10, 7, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def plan(**overrides: object) -> list[PlannedJob]:
    values: dict[str, object] = {
        "now": NOW,
        "sources": ["arxiv", "hf"],
        "sync_every": HOUR,
        "last_sync": {},
        "index_every": timedelta(minutes=5),
        "last_index": None,
        "index_has_work": False,
        **overrides,
    }
    return due_jobs(**values)  # type: ignore[arg-type]


def kinds(planned: list[PlannedJob]) -> list[str]:
    return [job.kind for job in planned]


def test_sources_never_synced_are_due_at_once() -> None:
    assert kinds(plan()) == ["sync_arxiv", "sync_hf"]


def test_a_source_is_due_one_interval_after_its_last_run_started() -> None:
    last = {"arxiv": NOW - HOUR + timedelta(seconds=1), "hf": NOW - HOUR}
    assert kinds(plan(last_sync=last)) == ["sync_hf"]
    assert kinds(plan(last_sync=last, now=NOW + timedelta(seconds=1))) == [
        "sync_arxiv",
        "sync_hf",
    ]


def test_only_followed_sources_are_synced_and_each_once() -> None:
    assert kinds(plan(sources=["oai", "oai"])) == ["sync_oai"]
    assert kinds(plan(sources=[])) == []


def test_an_interval_of_none_means_never() -> None:
    assert plan(sync_every=None) == []
    assert plan(sync_every=None, index_every=None, index_has_work=True) == []


def test_an_unknown_source_is_refused_with_the_setting_named() -> None:
    with pytest.raises(UserError, match=r"PAPERWIRE_SYNC_SOURCES.*'arxvi'"):
        plan(sources=["arxiv", "arxvi"])


def test_the_index_is_due_when_there_is_work_and_the_interval_has_passed() -> None:
    five = timedelta(minutes=5)
    assert "index" not in kinds(plan(index_has_work=False))
    assert "index" in kinds(plan(index_has_work=True))
    assert "index" not in kinds(plan(index_has_work=True, last_index=NOW - five / 2))
    assert "index" in kinds(plan(index_has_work=True, last_index=NOW - five))


def test_each_periodic_kind_has_one_unique_key_and_no_args() -> None:
    planned = plan(sources=["arxiv", "oai", "hf"], index_has_work=True)
    assert [job.unique_key for job in planned] == [unique_key(job.kind) for job in planned]
    assert len({job.unique_key for job in planned}) == 4
    # No day: sync_hf reads today's list each time (it grows during the day).
    assert all(job.args == {} for job in planned)


def test_a_sync_that_changed_papers_is_followed_by_the_index() -> None:
    settings = Settings(env="test")
    assert [j.kind for j in follow_up("sync_oai", {"inserted": 3}, settings)] == ["index"]
    assert [j.kind for j in follow_up("sync_hf", {"updated": 1}, settings)] == ["index"]
    assert follow_up("sync_oai", {"inserted": 0, "updated": 0}, settings) == []
    assert follow_up("index", {"keyword_docs": 5}, settings) == []
    never = Settings(env="test", index_every_minutes=0)
    assert follow_up("sync_oai", {"inserted": 3}, never) == []


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_s(30) == BACKOFF_MAX_S


def test_job_args_are_checked_and_stored_in_one_form() -> None:
    assert normalize_args("sync_arxiv", {"categories": "cs.CL, cs.LG", "since": "2d"}) == {
        "categories": ["cs.CL", "cs.LG"],
        "since": "2d",
    }
    assert normalize_args("sync_oai", {"set": "cs", "from": "2025-01-01"}) == {
        "set": "cs",
        "from": "2025-01-01",
    }
    assert normalize_args("sync_hf", {}) == {}
    assert normalize_args("index", {"keyword_only": "yes"}) == {"keyword_only": True}
    assert parse_since("36h") == timedelta(hours=36)


@pytest.mark.parametrize(
    ("kind", "args", "message"),
    [
        ("sync_mars", {}, "unknown job kind 'sync_mars'"),
        ("sync_hf", {"date": "2025-10-06"}, "unknown argument 'date'"),
        ("sync_hf", {"day": "2025-13-01"}, "not a date"),
        ("sync_oai", {"from": "2025-02-01", "until": "2025-01-01"}, "after until"),
        ("sync_arxiv", {"since": "2 days"}, "number and a unit"),
        ("index", {"keyword_only": "maybe"}, "true or false"),
    ],
)
def test_bad_job_args_are_refused_with_a_message(
    kind: str, args: dict[str, str], message: str
) -> None:
    with pytest.raises(BadJobArgs, match=message):
        normalize_args(kind, args)


def test_a_job_summary_names_its_non_zero_counts_and_note() -> None:
    result = {"source": "oai", "pages": 4, "fetched": 387, "updated": 0, "complete": True}
    assert summary({**result, "note": "resumed after page 2"}) == (
        "pages 4, fetched 387, resumed after page 2"
    )
    assert summary({"keyword_docs": 0}) == "nothing to do"
