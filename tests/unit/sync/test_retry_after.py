"""``Retry-After`` as servers send it: seconds or an HTTP date (RFC 9110 section 10.2.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paperwire.ingest.arxiv_api import retry_after_seconds

NOW = datetime(2025, 11, 20, 9, 30, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0.5", 0.5),
        ("-3", 0.0),  # never a negative wait
        ("Thu, 20 Nov 2025 09:31:30 GMT", 90.0),
        ("Thursday, 20-Nov-25 09:30:10 GMT", 10.0),  # the obsolete RFC 850 form
        ("Thu, 20 Nov 2025 09:00:00 GMT", 0.0),  # already past
        ("", 0.0),
        ("soon", 0.0),  # unreadable: the caller's backoff applies
    ],
)
def test_retry_after_values(value: str, seconds: float) -> None:
    assert retry_after_seconds(value, now=NOW) == pytest.approx(seconds)
