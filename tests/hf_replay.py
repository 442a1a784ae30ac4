"""A local stand-in for Hugging Face's daily papers API, replaying the real archive.

``GET /api/daily_papers?date=YYYY-MM-DD`` answers the recorded response of that day from
``../shared/data/hf-daily-papers/`` byte for byte (``D.json``, or ``D.json.gz``
decompressed), in whichever of the archive's three shapes it was recorded; a day with no
file answers ``[]``, as the real API does for a day nothing was featured on; a missing
or malformed ``date`` answers 400.

Switches make it misbehave: the next N requests answer an HTTP error (503 by default,
optionally with ``Retry-After``), answer slowly (past a client's timeout), or answer a
malformed body (the real day cut off mid-way). :meth:`HfReplay.serve` replaces a day's
body (e.g. the same list with more upvotes). Every request is recorded with its arrival
time and headers, so tests can check spacing and the User-Agent.

Use it as a context manager::

    with HfReplay() as hf:
        settings = hf_replay_settings(settings, hf)
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import replay_server
from paperwire.config import Settings
from replay_server import Fault, Query, ReplayServer, Reply, reply
from repo_paths import HF_DIR

ENDPOINT = "/api/daily_papers"
_JSON = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class RecordedRequest(replay_server.RecordedRequest):
    @property
    def day(self) -> str | None:
        return self.query.get("date", [None])[0]


def recorded_days(folder: Path = HF_DIR) -> dict[str, Path]:
    """The archive's files by day (``YYYY-MM-DD``)."""
    days: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        name = path.name.removesuffix(".gz").removesuffix(".json")
        if path.name.endswith((".json", ".json.gz")):
            date.fromisoformat(name)  # a file the layout does not explain fails loudly
            days[name] = path
    return days


def recorded_body(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


class HfReplay(ReplayServer):
    # no url_path: the base URL, as ``PAPERWIRE_HF_API_URL`` takes it; no fault_order:
    # faults are served in the order they were switched on
    request_type = RecordedRequest

    def __init__(self, folder: Path = HF_DIR) -> None:
        self._files = recorded_days(folder)
        self._served: dict[str, bytes] = {}  # bodies replaced by serve()
        super().__init__()

    # --- the data -----------------------------------------------------------------------

    @property
    def days(self) -> list[str]:
        return list(self._files)

    def body(self, day: str) -> bytes:
        """What the replay answers for ``day`` now."""
        with self._lock:
            if day in self._served:
                return self._served[day]
        path = self._files.get(day)
        return recorded_body(path) if path is not None else b"[]"

    def serve(self, day: str, body: bytes) -> None:
        """Answer ``body`` for ``day`` from now on (a later state of the list)."""
        with self._lock:
            self._served[day] = body

    # --- answering ----------------------------------------------------------------------

    def reject(self, path: str, query: Query) -> Reply | None:
        """Requests no fault reaches: another path, a missing or malformed date."""
        if path != ENDPOINT:
            return reply(404, b'{"error":"Not Found"}', _JSON)
        try:
            date.fromisoformat(query.get("date", [""])[0])
        except ValueError:
            return reply(400, b'{"error":"Invalid date"}', _JSON)
        return None

    def answer(self, path: str, query: Query, fault: Fault | None) -> Reply:
        body = self.body(query["date"][0])
        if fault is not None and fault.kind == "malformed":
            return reply(200, body[: max(len(body) // 2, 1)], _JSON)
        return reply(200, body, _JSON)


def hf_replay_settings(settings: Settings, replay: HfReplay, **overrides: object) -> Settings:
    """``settings`` pointed at the replay, polite but fast (tests measure the spacing)."""
    values: dict[str, object] = {
        "hf_api_url": replay.url,
        "hf_request_interval_s": 0.05,
        "arxiv_timeout_s": 2.0,
        "arxiv_retries": 2,
        **overrides,
    }
    return settings.model_copy(update=values)
