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
import itertools
import threading
import time
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from paperwire.config import Settings

HF_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hf-daily-papers"
ENDPOINT = "/api/daily_papers"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    at: float  # time.monotonic() when the request arrived
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    @property
    def day(self) -> str | None:
        return self.query.get("date", [None])[0]


@dataclass(frozen=True, slots=True)
class _Fault:
    kind: str  # "error", "slow" or "malformed"
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0


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


class HfReplay:
    def __init__(self, folder: Path = HF_DIR) -> None:
        self._files = recorded_days(folder)
        self._served: dict[str, bytes] = {}  # bodies replaced by serve()
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._stopping = threading.Event()
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- life cycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, as ``PAPERWIRE_HF_API_URL`` takes it."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> HfReplay:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()  # ends slow answers still sleeping
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

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

    # --- switches -----------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None) -> None:
        """The next ``count`` requests answer HTTP ``status`` (with ``Retry-After``)."""
        with self._lock:
            self._faults.extend([_Fault("error", status=status, retry_after=retry_after)] * count)

    def slow_next(self, count: int, seconds: float) -> None:
        """The next ``count`` requests wait ``seconds`` before answering."""
        with self._lock:
            self._faults.extend([_Fault("slow", seconds=seconds)] * count)

    def malformed_next(self, count: int) -> None:
        """The next ``count`` requests answer 200 with the day's body cut off mid-way."""
        with self._lock:
            self._faults.extend([_Fault("malformed")] * count)

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests' arrivals."""
        times = sorted(r.at for r in self.requests)
        return [b - a for a, b in itertools.pairwise(times)]

    def _fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    # --- answering ----------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet tests

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                with replay._lock:
                    replay.requests.append(
                        RecordedRequest(
                            time.monotonic(),
                            parts.path,
                            query,
                            {k.lower(): v for k, v in self.headers.items()},
                        )
                    )
                if parts.path != ENDPOINT:
                    self._answer(404, b'{"error":"Not Found"}')
                    return
                day = query.get("date", [""])[0]
                try:
                    date.fromisoformat(day)
                except ValueError:
                    self._answer(400, b'{"error":"Invalid date"}')
                    return
                fault = replay._fault()
                if fault is not None and fault.kind == "error":
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    self._answer(fault.status, b"Service Unavailable\n", headers, "text/plain")
                    return
                body = replay.body(day)
                if fault is not None and fault.kind == "malformed":
                    self._answer(200, body[: max(len(body) // 2, 1)])
                    return
                # a slow answer arrives after the client's timeout (unless the server stops)
                if fault is not None and replay._stopping.wait(fault.seconds):
                    return
                self._answer(200, body)

            def _answer(
                self,
                status: int,
                body: bytes,
                headers: dict[str, str] | None = None,
                media: str = "application/json; charset=utf-8",
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", media)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler


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
