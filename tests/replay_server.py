"""The scaffolding the local replay servers share (``arxiv_replay``, ``oai_replay``,
``hf_replay``): a threaded HTTP server on a free port of 127.0.0.1, used as a context
manager, that records every request and can be switched to misbehave.

A subclass says only what is specific to its source: :attr:`ReplayServer.url_path` (the
endpoint :attr:`ReplayServer.url` points at), optionally :meth:`ReplayServer.reject` (a
request answered before any switch counts down, e.g. a malformed argument) and
:meth:`ReplayServer.answer` (the :class:`Reply` to a query, given the fault due for it).
The base answers the faults every source has: an HTTP error (with ``Retry-After``) and a
slow answer (one that arrives after the client's timeout, unless the server stops); a
malformed body, or any other fault, is left to :meth:`ReplayServer.answer`.

Switches either set a count per kind, served in :attr:`ReplayServer.fault_order` (a
later switch of the same kind replaces the earlier one), or, with no order, queue up in
the order they were switched on.
"""

from __future__ import annotations

import itertools
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, NamedTuple, Self
from urllib.parse import parse_qs, urlsplit

Query = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    at: float  # time.monotonic() when the request arrived
    path: str
    query: Query
    headers: dict[str, str]
    port: int = 0  # the client's port: one value means one connection


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # "error", "slow", "malformed", or one a subclass answers
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0


class Reply(NamedTuple):
    status: int
    headers: dict[str, str]  # "Content-Type" first; Content-Length is added
    body: bytes


def reply(status: int, body: bytes, media: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"Content-Type": media, **(headers or {})}, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client killed mid-request (a kill test): nothing to report
        super().handle_error(request, client_address)


class ReplayServer:
    url_path: ClassVar[str] = ""
    fault_order: ClassVar[tuple[str, ...]] = ()  # empty: faults are served as queued
    request_type: ClassVar[type[RecordedRequest]] = RecordedRequest

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._stopping = threading.Event()
        self.requests: list[RecordedRequest] = []
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- life cycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.url_path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()  # ends slow answers and delays still sleeping
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; whether the server stopped meanwhile (then answer nothing)."""
        return self._stopping.wait(seconds)

    # --- switches -----------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None) -> None:
        """The next ``count`` requests answer HTTP ``status`` (with ``Retry-After``)."""
        self.queue_faults(count, Fault("error", status=status, retry_after=retry_after))

    def slow_next(self, count: int, seconds: float) -> None:
        """The next ``count`` requests wait ``seconds`` before answering."""
        self.queue_faults(count, Fault("slow", seconds=seconds))

    def malformed_next(self, count: int) -> None:
        """The next ``count`` requests answer 200 with a body cut off mid-way (malformed)."""
        self.queue_faults(count, Fault("malformed"))

    def queue_faults(self, count: int, fault: Fault) -> None:
        with self._lock:
            if self.fault_order:  # a count per kind: this one replaces the kind's count
                self._faults = [f for f in self._faults if f.kind != fault.kind]
            self._faults.extend([fault] * count)

    def _take_fault(self) -> Fault | None:
        """The misbehaviour due for this request, if any (each switch counts down)."""
        with self._lock:
            if not self._faults:
                return None
            index = 0
            if self.fault_order:
                rank = self.fault_order.index
                index = min(range(len(self._faults)), key=lambda i: rank(self._faults[i].kind))
            return self._faults.pop(index)

    # --- what happened ------------------------------------------------------------------

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests' arrivals."""
        times = sorted(r.at for r in self.requests)
        return [b - a for a, b in itertools.pairwise(times)]

    # --- answering ----------------------------------------------------------------------

    def reject(self, path: str, query: Query) -> Reply | None:
        """A reply given before any fault is due (no switch counts down); none by default."""
        return None

    def answer(self, path: str, query: Query, fault: Fault | None) -> Reply | None:
        """The reply to ``query`` (``fault``: one the base does not answer, or none);
        ``None`` answers nothing (the server stopped meanwhile)."""
        raise NotImplementedError

    def _respond(self, path: str, query: Query) -> Reply | None:
        rejected = self.reject(path, query)
        if rejected is not None:
            return rejected
        fault = self._take_fault()
        if fault is not None and fault.kind == "error":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return reply(fault.status, b"Service Unavailable\n", "text/plain", headers)
        # a slow answer: arrives after the client's timeout (unless the server stops)
        if fault is not None and fault.kind == "slow" and self.pause(fault.seconds):
            return None
        return self.answer(path, query, fault)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle and delayed ACKs
            # hold the body back ~40 ms on a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet tests

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                with replay._lock:
                    replay.requests.append(
                        replay.request_type(
                            time.monotonic(),
                            parts.path,
                            query,
                            {k.lower(): v for k, v in self.headers.items()},
                            self.client_address[1],
                        )
                    )
                answer = replay._respond(parts.path, query)
                if answer is not None:
                    self._write(answer)

            def _write(self, answer: Reply) -> None:
                status, headers, body = answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", headers["Content-Type"])
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        if name != "Content-Type":
                            self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler
