"""Input files: finding them, telling their format from their content, reading records.

Formats are detected from content, not names, because the real archives name files by
date only (``2025-03-18.jsonl.gz``, ``2024-12-11.json``). gzip is recognized by its
magic bytes and decompressed on the fly, whatever the file is called.

JSON-lines files are streamed in chunks (the Kaggle snapshot is several GB); the
document formats (HF daily lists, OAI-PMH and Atom pages) are small and read whole.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from paperwire.ingest.arxiv_atom import ArxivApiError, parse_atom_feed
from paperwire.ingest.arxiv_listing import parse_listing_lines
from paperwire.ingest.arxiv_oai import OaiError, parse_oai_page
from paperwire.ingest.generic import parse_generic_lines
from paperwire.ingest.hf_daily import parse_hf_daily
from paperwire.ingest.kaggle import parse_kaggle_lines
from paperwire.ingest.xmltree import XmlSyntaxError
from paperwire.models import ParsedRecord, RecordError

__all__ = [
    "FORMATS",
    "UnknownFormat",
    "detect_format",
    "is_data_file",
    "iter_input_files",
    "open_data",
    "read_records",
]

Result = ParsedRecord | RecordError
LinesParser = Callable[[Iterable[bytes], str], Iterator[Result]]

# The names accepted by ``paperwire import --format``.
FORMATS = ("hf-daily", "arxiv-listing", "kaggle", "arxiv-oai", "arxiv-atom", "generic")

_LINE_PARSERS: dict[str, LinesParser] = {
    "arxiv-listing": parse_listing_lines,
    "kaggle": parse_kaggle_lines,
    "generic": parse_generic_lines,
}
_DATA_SUFFIXES = (".json", ".jsonl", ".xml")
_GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 64 * 1024  # enough for the first line of every line format
_CHUNK_BYTES = 1 << 16  # small enough to keep most of a truncated gzip file


class UnknownFormat(ValueError):
    """A file's content matches none of :data:`FORMATS`."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: unknown input format ({reason}); formats: {', '.join(FORMATS)}")
        self.path = str(path)


# --- finding files -----------------------------------------------------------------


def is_data_file(path: Path) -> bool:
    """Whether a name is a data file's: ``*.json``, ``*.jsonl``, ``*.xml``, each maybe ``.gz``."""
    name = path.name.lower()
    if name.startswith("."):
        return False
    name = name.removesuffix(".gz")
    return name.endswith(_DATA_SUFFIXES)


def iter_input_files(paths: list[Path]) -> Iterator[Path]:
    """Files named directly, then each folder's data files, recursively, in sorted order.

    Hidden files and folders and non-data files (README, LICENSE...) in folders are
    skipped; a file named directly is always yielded (its content decides its format).
    """
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            for folder, subfolders, names in os.walk(path):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                for name in sorted(names):
                    candidate = Path(folder) / name
                    if is_data_file(candidate) and candidate.is_file():
                        yield candidate
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")


# --- detecting formats -------------------------------------------------------------

_KEY = re.compile(rb'"([A-Za-z_-]+)"\s*:')


def _plain_head(path: Path | str, head: bytes) -> bytes:
    """The first bytes of the content: gunzipped if need be, BOM and leading blanks removed."""
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
        except zlib.error as exc:
            raise UnknownFormat(path, f"corrupt gzip data: {exc}") from exc
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


def detect_format(path: Path | str, head: bytes) -> str:
    """The format of a file from its first bytes (``head``, compressed or not)."""
    text = _plain_head(path, head)
    if not text:
        raise UnknownFormat(path, "the file is empty")
    if text.startswith(b"<"):
        return _detect_xml(path, text)
    if text.startswith(b"["):
        return "hf-daily"
    if text.startswith(b"{"):
        return _detect_json_object(path, text)
    raise UnknownFormat(path, f"it starts with {text[:20]!r}")


def _detect_xml(path: Path | str, text: bytes) -> str:
    if b"<OAI-PMH" in text:
        return "arxiv-oai"
    if re.search(rb"<(?:\w+:)?feed[\s>]", text) and b"http://www.w3.org/2005/Atom" in text:
        return "arxiv-atom"
    raise UnknownFormat(path, "XML, but neither OAI-PMH nor an Atom feed")


def _detect_json_object(path: Path | str, text: bytes) -> str:
    first_line = text.split(b"\n", 1)[0]
    try:
        obj = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        keys = set(obj)
    else:  # a pretty-printed object, or a first line longer than the head
        if re.search(rb'"data"\s*:\s*\[', text):
            return "hf-daily"
        keys = {k.decode() for k in _KEY.findall(first_line)}
    if "data" in keys:
        return "hf-daily"
    if "versions" in keys and "submitter" in keys:
        return "kaggle"
    if ("abs" in keys or "pdf" in keys) and "summary" in keys:
        return "arxiv-listing"
    if "published" in keys or "abstract" in keys:
        return "generic"
    raise UnknownFormat(path, f"JSON with keys {', '.join(sorted(keys)[:12]) or 'none'}")


# --- reading -----------------------------------------------------------------------


def open_data(path: Path) -> BinaryIO:
    """Open a file for binary reading, gunzipping it on the fly if it is gzip data."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


class _Lines:
    """The lines of a binary stream, read in chunks (~15% faster than readline on gzip).

    ``count`` is how many lines were handed out, for reporting where a read failed.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        rest = b""
        while chunk := self.stream.read(_CHUNK_BYTES):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                self.count += 1
                yield line
        if rest:
            self.count += 1
            yield rest


def read_records(path: Path, fmt: str | None = None) -> Iterator[Result]:
    """Every record of a file, in order; bad records come as RecordError, in place.

    ``fmt`` is one of :data:`FORMATS`, or None to detect it (raises UnknownFormat).
    An empty file has no records.
    """
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if fmt is None:
        with path.open("rb") as raw:
            head = raw.read(HEAD_BYTES)
        if not _plain_head(path, head):
            return
        fmt = detect_format(path, head)
    name = str(path)
    with open_data(path) as stream:
        parse_lines = _LINE_PARSERS.get(fmt)
        if parse_lines is not None:
            lines = _Lines(stream)
            try:
                yield from parse_lines(lines, name)
            except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt gzip
                yield RecordError(name, lines.count + 1, f"cannot read the rest: {exc}")
            return
        try:
            data = stream.read()
        except (OSError, EOFError, zlib.error) as exc:
            yield RecordError(name, 1, f"cannot read: {exc}")
            return
    if data.strip():  # an empty file has no records, whatever its format
        yield from _read_document(fmt, data, name)


def _read_document(fmt: str, data: bytes, name: str) -> Iterator[Result]:
    try:
        if fmt == "hf-daily":
            yield from parse_hf_daily(data, name)
        elif fmt == "arxiv-oai":
            yield from parse_oai_page(data, name).records
        else:
            yield from parse_atom_feed(data, name).records
    except (XmlSyntaxError, OaiError, ArxivApiError) as exc:
        yield RecordError(name, exc.line, str(exc))
