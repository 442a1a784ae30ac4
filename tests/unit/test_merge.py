from datetime import UTC, datetime

from paperwire.ingest.merge import is_newer, merge

LISTED = datetime(2025, 10, 2, tzinfo=UTC)
SUBMITTED = datetime(2025, 10, 1, 4, 56, tzinfo=UTC)


def fields(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "2510.00515",
        "source": "arxiv",
        "version": None,
        "title": "Old title",
        "abstract": "Old abstract",
        "authors": ["A"],
        "categories": [],
        "submitted_at": None,
        "updated_at": None,
        "comments": None,
        "thumbnail_url": None,
    }
    base.update(values)
    return base


def test_higher_version_wins_even_when_dated_earlier() -> None:
    stored = fields(version=1, updated_at=LISTED)
    incoming = fields(version=2, updated_at=SUBMITTED, title="New title")
    assert is_newer(incoming, stored)
    merged = merge(stored, incoming)
    assert merged["title"] == "New title"
    assert merged["version"] == 2
    assert merged["updated_at"] == LISTED  # the latest date any source gave


def test_older_statement_only_fills_empty_fields() -> None:
    stored = fields(updated_at=LISTED, categories=["cs.CL"])
    incoming = fields(submitted_at=SUBMITTED, title="HF title", thumbnail_url="https://t/x.png")
    merged = merge(stored, incoming)
    assert merged["title"] == "Old title"
    assert merged["thumbnail_url"] == "https://t/x.png"
    assert merged["categories"] == ["cs.CL"]
    assert merged["submitted_at"] == SUBMITTED


def test_merge_is_idempotent_and_order_independent() -> None:
    hf = fields(submitted_at=SUBMITTED, title="HF title", thumbnail_url="t")
    listing = fields(submitted_at=LISTED, updated_at=LISTED, title="Listing", categories=["cs.CV"])
    empty = fields(title="", abstract="", authors=[])
    one = merge(merge(empty, hf), listing)
    two = merge(merge(empty, listing), hf)
    assert one == two
    assert one["title"] == "Listing"
    assert merge(one, hf) == one
    assert merge(one, listing) == one


def test_tie_keeps_what_is_stored() -> None:
    stored = fields(updated_at=LISTED, title="First")
    incoming = fields(updated_at=LISTED, title="Second")
    assert not is_newer(incoming, stored)
    assert merge(stored, incoming)["title"] == "First"


def test_a_statement_that_lost_once_loses_again() -> None:
    """HF dates a paper after its listing day: HF wins whichever file comes first."""
    hf = fields(submitted_at=SUBMITTED, title="HF title")
    early_listing = fields(
        submitted_at=datetime(2025, 9, 30, tzinfo=UTC),
        updated_at=datetime(2025, 9, 30, tzinfo=UTC),
        title="Listing title",
    )
    empty = fields(title="", abstract="", authors=[])
    hf_first = merge(merge(empty, hf), early_listing)
    listing_first = merge(merge(empty, early_listing), hf)
    assert hf_first == listing_first
    assert hf_first["title"] == "HF title"
    assert merge(hf_first, hf) == hf_first
    assert merge(hf_first, early_listing) == hf_first
