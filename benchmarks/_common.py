"""What every benchmark shares: where the data is, the machine, timing and tables."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
CACHE_DIR = Path(__file__).resolve().parent / ".cache"

ARXIV_LISTINGS = DATA_DIR / "arxiv-daily-listings"
HF_DAILY = DATA_DIR / "hf-daily-papers"


class BenchmarkFailed(RuntimeError):
    """A benchmark's result is wrong (not slow: wrong); the run exits with status 1."""


def require_data(*folders: Path) -> None:
    for folder in folders:
        if not folder.is_dir():
            raise BenchmarkFailed(f"missing data folder {folder} (see ../shared/data/README.md)")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_lines() -> list[str]:
    """The machine, for the header of every run (the figures mean nothing without it)."""
    return [
        f"date:      {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"cpu:       {cpu_model()} x {os.cpu_count()} cores ({platform.machine()})",
        f"python:    {platform.python_implementation()} {platform.python_version()}",
        f"sqlite:    {sqlite3.sqlite_version}",
        f"os:        {platform.system()} {platform.release()}",
        f"load avg:  {load_average()} (1, 5, 15 min, at start)",
    ]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (from /proc, Linux only)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers are children of the supervisor)."""
    found = [pid]
    for current in found:
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as kids:
                    found.extend(int(child) for child in kids.read().split())
            except OSError:
                continue
    return found


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in process_tree(pid):
        try:
            total += process_cpu_seconds(member)
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass(slots=True)
class Stopwatch:
    """Wall and CPU (this process) time of a block."""

    wall: float = 0.0
    cpu: float = 0.0
    others: str = ""  # set by callers that watched the machine too
    _wall0: float = 0.0
    _cpu0: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = time.process_time() - self._cpu0


@dataclass(slots=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: list[Sequence[object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *row: object) -> None:
        self.rows.append(row)

    def render(self) -> str:
        cells = [[str(h) for h in self.headers], *([_cell(v) for v in row] for row in self.rows)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]
        lines = [self.title, ""]
        for n, row in enumerate(cells):
            lines.append(
                "| "
                + " | ".join(
                    c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
                + " |"
            )
            if n == 0:
                lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def say(*lines: str) -> None:
    """Progress on stderr, so that stdout holds only the header and the tables."""
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of sorted values, nearest-rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def join(items: Iterable[str]) -> str:
    return ", ".join(items)


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / ticks, steal / ticks


@dataclass(slots=True)
class MachineWatch:
    """How busy the whole machine was during a block (to tell noise from results)."""

    busy: float = 0.0  # CPU seconds used by every process
    steal: float = 0.0  # CPU seconds the hypervisor gave to others
    wall: float = 0.0
    _start: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __enter__(self) -> MachineWatch:
        self._start = (*machine_cpu_seconds(), time.perf_counter())
        return self

    def __exit__(self, *_exc: object) -> None:
        busy, steal = machine_cpu_seconds()
        self.busy = busy - self._start[0]
        self.steal = steal - self._start[1]
        self.wall = time.perf_counter() - self._start[2]

    def others(self, ours: float) -> str:
        """Cores used by other processes (busy minus ``ours`` CPU seconds), and steal."""
        wall = max(self.wall, 1e-9)
        return f"{max(0.0, self.busy - ours) / wall:.2f} cores, steal {self.steal / wall:.2f}"
