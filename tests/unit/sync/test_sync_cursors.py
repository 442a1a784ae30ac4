"""Where a sync starts and what its cursor says: the Atom plan and the OAI-PMH state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from paperwire.ingest.arxiv_oai import OaiPage
from paperwire.models import PaperRecord, ParsedRecord
from paperwire.sync.arxiv import SyncPlan
from paperwire.sync.oai import HarvestState

CATS = ["cs.CL", "cs.LG"]
NEWEST = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


def record(updated: datetime | None) -> ParsedRecord:
    paper = PaperRecord(
        id="2511.00001", source="arxiv", title="t", abstract="a", authors=["A"], updated_at=updated
    )
    return ParsedRecord(paper=paper, line=1)


def test_a_first_run_looks_back_the_configured_days() -> None:
    plan = SyncPlan.make({}, CATS, None, 2)
    assert abs(plan.floor - (datetime.now(UTC) - timedelta(days=2))) < timedelta(seconds=5)
    assert (plan.newest, plan.resume_past) == (None, 0)


def test_later_runs_look_back_to_the_newest_update_seen() -> None:
    stored = {"categories": CATS, "newest_updated": NEWEST.isoformat(), "run": None}
    plan = SyncPlan.make(stored, CATS, None, 2)
    assert plan.floor == NEWEST
    assert plan.within(record(NEWEST))  # the same instant again: read, merely unchanged
    assert not plan.within(record(NEWEST - timedelta(seconds=1)))
    assert plan.within(record(None))  # no date: cannot tell, so it is read
    # --since wins; other categories start over
    assert SyncPlan.make(stored, CATS, timedelta(days=30), 2).floor < NEWEST - timedelta(days=20)
    other = SyncPlan.make(stored, ["cs.AI"], None, 2).floor
    assert abs(other - (datetime.now(UTC) - timedelta(days=2))) < timedelta(seconds=5)


def test_an_unfinished_run_is_walked_again_down_to_its_floor() -> None:
    floor = NEWEST - timedelta(days=3)
    later = NEWEST + timedelta(hours=5)
    stored = {
        "categories": CATS,
        "newest_updated": NEWEST.isoformat(),
        "run": {"floor": floor.isoformat(), "newest": later.isoformat(), "next_start": 300},
    }
    plan = SyncPlan.make(stored, CATS, None, 2)
    assert (plan.floor, plan.newest, plan.resume_past) == (floor, later, 300)
    # interrupted again earlier: the furthest position is kept
    assert plan.progress(100)["run"]["next_start"] == 300
    assert plan.progress(100)["newest_updated"] == NEWEST.isoformat()  # not moved yet
    plan.saw([record(later + timedelta(minutes=1))])
    done = plan.finished()
    assert done["run"] is None
    assert done["newest_updated"] == (later + timedelta(minutes=1)).isoformat()


REQUEST = {"set": "cs", "from": None, "until": None}


def test_the_same_unfinished_harvest_resumes_from_its_token() -> None:
    stored = {
        "request": REQUEST,
        "from_used": "2025-01-01",
        "token": "1403493|1001",
        "pages": 1,
        "records": 1000,
        "finished": False,
        "harvested": {"cs": "2024-12-01"},
    }
    state = HarvestState.make(stored, REQUEST, incremental=True)
    assert (state.token, state.pages, state.records, state.from_used) == (
        "1403493|1001",
        1,
        1000,
        "2025-01-01",
    )
    other = HarvestState.make(stored, {**REQUEST, "set": "math"}, incremental=True)
    assert (other.token, other.pages, other.from_used) == (None, 0, None)
    assert other.harvested == {"cs": "2024-12-01"}  # kept for the next cs harvest


@pytest.mark.parametrize(
    ("request_", "incremental", "from_used"),
    [
        (REQUEST, True, "2024-12-01"),  # the day the last full cs harvest began
        ({**REQUEST, "from": "2020-01-01"}, False, "2020-01-01"),  # asked for
        ({**REQUEST, "set": "math"}, True, None),  # never harvested: everything
    ],
)
def test_a_new_harvest_starts_where_the_last_finished_one_began(
    request_: dict[str, Any], incremental: bool, from_used: str | None
) -> None:
    stored = {
        "request": REQUEST,
        "token": None,
        "finished": True,
        "harvested": {"cs": "2024-12-01"},
    }
    state = HarvestState.make(stored, request_, incremental)
    assert (state.token, state.from_used) == (None, from_used)


def test_only_an_open_ended_harvest_moves_the_incremental_date() -> None:
    state = HarvestState.make({}, REQUEST, incremental=True)
    state.response_date = "2025-11-20"
    state.advance(OaiPage(records=[], resumption_token="t|2"))
    assert (state.finished, state.harvested) == (False, {})
    state.advance(OaiPage(records=[], resumption_token=None))
    assert (state.finished, state.pages, state.harvested) == (True, 2, {"cs": "2025-11-20"})

    bounded = HarvestState.make({}, {**REQUEST, "until": "2025-06-30"}, incremental=False)
    bounded.response_date = "2025-11-20"
    bounded.advance(OaiPage(records=[], resumption_token=None))
    assert bounded.finished
    assert bounded.harvested == {}
