"""The JSON-lines loop shared by the line-oriented formats (listing, Kaggle, generic).

One bad line must not cost the rest of a file: a line that is not JSON, not an
object, or that the format's parser rejects becomes a RecordError with its 1-based
line number, and reading goes on. Blank lines are skipped. Lines are bytes so that
orjson decodes them without an intermediate ``str``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import orjson

from paperwire.models import ParsedRecord, RecordError

__all__ = ["LineParser", "iter_json_lines"]

# Turns one decoded JSON object (and its line number) into a record; raises ValueError
# (BadRecord, InvalidArxivId...) when the object cannot be used.
LineParser = Callable[[Mapping[str, object], int], ParsedRecord]


def iter_json_lines(
    lines: Iterable[bytes], path: str, parse: LineParser
) -> Iterator[ParsedRecord | RecordError]:
    for number, raw in enumerate(lines, start=1):
        if not raw or raw.isspace():  # (isspace stops at the first other byte; strip copies)
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield RecordError(path, number, f"invalid JSON: {exc}")
            continue
        if not isinstance(obj, dict):
            kind = "null" if obj is None else type(obj).__name__
            yield RecordError(path, number, f"expected a JSON object, got {kind}")
            continue
        try:
            yield parse(obj, number)
        except ValueError as exc:
            yield RecordError(path, number, str(exc))
