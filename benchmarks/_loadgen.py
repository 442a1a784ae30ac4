"""A small open-loop HTTP/1.1 load generator (asyncio; uvloop when installed).

Open loop: request ``i`` is due at ``t0 + i / rate`` and is sent then whatever happened to
the earlier ones, so a slow server builds a queue and the queueing shows in the latency,
which is measured from the *scheduled* send time (no coordinated omission). Requests go
over keep-alive connections (a new one is opened when none is idle, up to a cap; past the
cap a request waits for one, and that wait counts in its latency too).

It speaks just enough HTTP/1.1 for a local server (``Content-Length`` or chunked bodies),
so that it costs the machine little: a few percent of a core at 200 requests/s, which the
benchmark measures and reports. It only ever connects to the host it is given.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(slots=True)
class Sample:
    label: str
    scheduled: float  # perf_counter seconds
    started: float = 0.0  # when the client got round to it (scheduled + client lag)
    sent: float = 0.0  # when the request was written (after waiting for a connection)
    done: float = 0.0
    status: int = 0  # 0: no response
    nbytes: int = 0
    error: str = ""

    @property
    def latency(self) -> float:
        return self.done - self.scheduled


@dataclass(slots=True)
class RunResult:
    samples: list[Sample]
    start: float
    end: float  # when the last response (or timeout) came
    send_window: float  # scheduled duration: n / rate
    client_cpu: float  # CPU seconds this process used during the run
    connections: int  # connections opened
    timeouts: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)


class _Pool:
    def __init__(self, host: str, port: int, max_connections: int, keep_alive: bool) -> None:
        self.host, self.port, self.max = host, port, max_connections
        self.keep_alive = keep_alive
        self.idle: list[Stream] = []
        self.open_count = 0
        self.opened_total = 0
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, fresh: bool = False) -> tuple[Stream, bool]:
        """A connection, and whether it is newly opened."""
        while True:
            if self.idle and not fresh:
                return self.idle.pop(), False
            if self.open_count < self.max:
                self.open_count += 1
                try:
                    stream = await asyncio.open_connection(self.host, self.port)
                except BaseException:
                    self.open_count -= 1
                    self._wake()
                    raise
                self.opened_total += 1
                return stream, True
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            await waiter

    def release(self, stream: Stream, reusable: bool) -> None:
        if reusable and self.keep_alive:
            self.idle.append(stream)
        else:
            self.open_count -= 1
            stream[1].close()
        self._wake()

    def _wake(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


class _Truncated(Exception):
    """The connection closed before a response started (a stale keep-alive connection)."""


async def _exchange(stream: Stream, request: bytes) -> tuple[int, int, bool]:
    """Send one request; return (status, body bytes, keep the connection)."""
    reader, writer = stream
    writer.write(request)
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise _Truncated from exc
        raise
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    nbytes = 0
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            nbytes += size
            if size == 0:
                break
    else:
        nbytes = int(headers.get("content-length", "0"))
        await reader.readexactly(nbytes)
    return status, nbytes, headers.get("connection") != "close"


async def _one(pool: _Pool, host_header: str, sample: Sample, path: str, timeout: float) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: paperwire-bench\r\n"
        "Accept: */*\r\n\r\n"
    ).encode()
    sample.started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            for attempt in range(2):
                stream, fresh = await pool.acquire(fresh=attempt > 0)
                reusable = False
                sample.sent = time.perf_counter()
                try:
                    sample.status, sample.nbytes, reusable = await _exchange(stream, request)
                except _Truncated:
                    if fresh:
                        raise
                    continue  # a stale keep-alive connection: retry once on a new one
                finally:
                    pool.release(stream, reusable)
                break
    except TimeoutError:
        sample.error = "timeout"
    except (OSError, asyncio.IncompleteReadError, _Truncated, ValueError) as exc:
        sample.error = type(exc).__name__
    sample.done = time.perf_counter()


async def _run(
    host: str,
    port: int,
    paths: Sequence[tuple[str, str]],
    rate: float | None,
    timeout: float,
    max_connections: int,
    max_seconds: float,
    keep_alive: bool,
) -> RunResult:
    pool = _Pool(host, port, max_connections if rate else 1, keep_alive)
    host_header = f"{host}:{port}"
    samples = [Sample(label, 0.0) for label, _path in paths]
    cpu0 = time.process_time()
    start = time.perf_counter() + 0.05
    if rate is None:  # closed loop, one at a time: the unloaded service time
        give_up = time.perf_counter() + max_seconds
        for sample, (_label, path) in zip(samples, paths, strict=True):
            sample.scheduled = time.perf_counter()
            if sample.scheduled > give_up:
                break
            await _one(pool, host_header, sample, path, timeout)
        samples = [s for s in samples if s.done]
    else:
        tasks = []
        for i, (sample, (_label, path)) in enumerate(zip(samples, paths, strict=True)):
            sample.scheduled = start + i / rate
            delay = sample.scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(pool, host_header, sample, path, timeout)))
        await asyncio.gather(*tasks)
    end = max((s.done for s in samples), default=start)
    client_cpu = time.process_time() - cpu0
    pool.close()
    errors: dict[str, int] = {}
    for sample in samples:
        if sample.error or sample.status != 200:
            kind = sample.error or f"HTTP {sample.status}"
            errors[kind] = errors.get(kind, 0) + 1
    return RunResult(
        samples=samples,
        start=start,
        end=end,
        send_window=len(paths) / rate if rate else end - start,
        client_cpu=client_cpu,
        connections=pool.opened_total,
        timeouts=errors.get("timeout", 0),
        errors_by_kind=errors,
    )


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_load(
    host: str,
    port: int,
    paths: Sequence[tuple[str, str]],
    rate: float | None,
    *,
    timeout: float = 10.0,
    max_connections: int = 256,
    max_seconds: float = 30.0,
    keep_alive: bool = True,
) -> RunResult:
    """Send ``paths`` (label, path) at ``rate`` per second (None: one at a time).

    Each request gives up after ``timeout`` seconds. One at a time, no new request is sent
    after ``max_seconds``; at a rate, the run lasts ``len(paths) / rate`` seconds plus at
    most ``timeout``. Without ``keep_alive`` each request has a connection of its own (with
    several server processes, that spreads requests over them).
    """
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only targets this machine")
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        result = runner.run(
            _run(host, port, paths, rate, timeout, max_connections, max_seconds, keep_alive)
        )
    return result
