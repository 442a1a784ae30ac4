"""``python -m benchmarks [import|latency|sync|...] [options]``: run benchmarks, print tables.

With no name, every benchmark runs in turn. Progress goes to stderr; the machine and the
result tables go to stdout. Exit status 1 when a benchmark's result is wrong (a count
that does not match the data), not when it is merely slow.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import ModuleType

from benchmarks import (
    backends,
    csrf_sweep,
    daily_latency,
    digest_send,
    embedding,
    import_throughput,
    search_fuzz,
    search_quality,
    search_speed,
    sync_throughput,
    vote_storm,
    worker_index,
    xss,
)
from benchmarks._common import BenchmarkFailed, Stopwatch, machine_lines

BENCHMARKS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        import_throughput,
        daily_latency,
        embedding,
        search_quality,
        search_speed,
        search_fuzz,
        csrf_sweep,
        vote_storm,
        xss,
        sync_throughput,
        worker_index,
        digest_send,
        backends,
    )
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="paperwire's benchmarks; results are recorded in docs/benchmarks.md.",
    )
    sub = parser.add_subparsers(dest="name", metavar="{" + ",".join(BENCHMARKS) + "}")
    for name, module in BENCHMARKS.items():
        module.add_arguments(
            sub.add_parser(
                name,
                help=module.HELP,
                description=module.__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
        )
    return parser


def _terminated(signum: int, _frame: object) -> None:
    # Unwind normally, so that a server a benchmark started is stopped on the way out.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminated)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.name is None:
        # Every benchmark, each with its default options.
        runs = [(name, parser.parse_args([name])) for name in BENCHMARKS]
    else:
        runs = [(args.name, args)]
    print("paperwire benchmarks", *machine_lines(), sep="\n", flush=True)
    status = 0
    for name, run_args in runs:
        print(flush=True)
        try:
            with Stopwatch() as watch:
                tables = BENCHMARKS[name].run(run_args)
        except BenchmarkFailed as failure:
            print(f"FAILED {name}: {failure}", flush=True)
            status = 1
            continue
        for table in tables:
            print(table.render(), "", sep="\n", flush=True)
        print(f"({name}: {watch.wall:.0f} s in all)", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
