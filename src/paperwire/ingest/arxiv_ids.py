"""arXiv identifiers in every spelling users and sources use, reduced to (id, version).

Two schemes exist (https://info.arxiv.org/help/arxiv_identifier.html):

- new style, since April 2007: ``YYMM.NNNN`` until December 2014, ``YYMM.NNNNN`` from
  January 2015, e.g. ``0704.0001``, ``2510.01459``;
- old style, 1991 to March 2007: ``archive/YYMMNNN``, e.g. ``hep-th/9901001``. Users
  often add the subject class (``math.GT/0309136``); arXiv treats that as an alias of
  ``math/0309136``, so the canonical id drops it: two spellings of one paper must not
  become two papers.

Either may carry a version suffix ``vN`` and may be wrapped in a prefix (``arXiv:``,
``oai:arXiv.org:``) or an abs/pdf/html URL on arxiv.org or export.arxiv.org.
"""

from __future__ import annotations

import re

__all__ = ["InvalidArxivId", "is_arxiv_id", "parse_arxiv_id"]


class InvalidArxivId(ValueError):
    """The text is not an arXiv identifier in any accepted spelling."""


# Archives that issued old-style identifiers (before April 2007).
_OLD_ARCHIVES = frozenset(
    {
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an",
        "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an",
        "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th",
        "nlin", "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio",
        "quant-ph", "solv-int", "supr-con",
    }
)  # fmt: skip

_ID_RE = re.compile(
    r"""
    (?:
        arxiv:                                   # arXiv:2510.01459
      | oai:arxiv\.org:                          # OAI-PMH identifier
      | (?P<url>                                 # URL, with or without scheme and host
            (?:(?:https?://)?(?:www\.|export\.)?arxiv\.org)?/?(?:abs|pdf|html)/
        )
    )?
    (?:
        (?P<yymm>\d{4})\.(?P<number>\d{4,5})     # new style
      | (?P<archive>[a-z]+(?:-[a-z]+)?)          # old style: archive ...
        (?:\.[a-z]+(?:-[a-z]+)?)?                # ... optional subject class (dropped)
        /(?P<old_yymm>\d{4})(?P<old_number>\d{3})
    )
    (?:v(?P<version>\d+))?
    (?P<tail>\.pdf)?
    /?
    (?P<query>[?\#].*)?
    """,
    re.IGNORECASE | re.VERBOSE,
)


# The common case (a bare new-style id, as bulk sources give it) without the big pattern.
_PLAIN_NEW_RE = re.compile(r"(\d{4})\.(\d{4,5})(?:v([1-9]\d*))?")


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """Return ``(id without version, version or None)``; raise InvalidArxivId otherwise.

    >>> parse_arxiv_id("https://arxiv.org/abs/2510.01459v3")
    ('2510.01459', 3)
    >>> parse_arxiv_id("math.GT/0309136")
    ('math/0309136', None)
    """
    if not isinstance(text, str):
        raise InvalidArxivId(f"not an arXiv id: {text!r} is not text")
    stripped = text.strip()
    plain = _PLAIN_NEW_RE.fullmatch(stripped)
    if plain is not None:
        arxiv_id = _new_style(plain[1], plain[2], stripped)
        return arxiv_id, int(plain[3]) if plain[3] else None
    match = _ID_RE.fullmatch(stripped)
    if match is None:
        raise InvalidArxivId(f"not an arXiv id: {_shorten(stripped)!r}")
    is_url = match["url"] is not None
    if (match["tail"] or match["query"]) and not is_url:
        raise InvalidArxivId(f"not an arXiv id: {_shorten(stripped)!r}")
    if match["yymm"] is not None:
        arxiv_id = _new_style(match["yymm"], match["number"], stripped)
    else:
        arxiv_id = _old_style(match["archive"], match["old_yymm"], match["old_number"], stripped)
    version = None
    if match["version"] is not None:
        version = int(match["version"])
        if version < 1:
            raise InvalidArxivId(f"arXiv versions start at v1: {_shorten(stripped)!r}")
    return arxiv_id, version


def is_arxiv_id(text: str) -> bool:
    """Whether ``text`` is an arXiv id in any spelling :func:`parse_arxiv_id` accepts."""
    try:
        parse_arxiv_id(text)
    except InvalidArxivId:
        return False
    return True


def _new_style(yymm: str, number: str, original: str) -> str:
    month = int(yymm[2:])
    if not 1 <= month <= 12:
        raise InvalidArxivId(f"bad month {yymm[2:]} in arXiv id {_shorten(original)!r}")
    if yymm < "0704":
        raise InvalidArxivId(
            f"new-style arXiv ids start in April 2007 (0704): {_shorten(original)!r}"
        )
    # Four-digit sequence numbers until 1412, five from 1501 on.
    expected = 4 if yymm <= "1412" else 5
    if len(number) != expected:
        raise InvalidArxivId(
            f"arXiv ids from {yymm} have {expected}-digit numbers: {_shorten(original)!r}"
        )
    return f"{yymm}.{number}"


def _old_style(archive: str, yymm: str, number: str, original: str) -> str:
    archive = archive.lower()
    if archive not in _OLD_ARCHIVES:
        raise InvalidArxivId(f"unknown arXiv archive {archive!r} in {_shorten(original)!r}")
    year, month = int(yymm[:2]), int(yymm[2:])
    if not 1 <= month <= 12 or 8 <= year <= 90:
        raise InvalidArxivId(f"bad date {yymm} in old-style arXiv id {_shorten(original)!r}")
    return f"{archive}/{yymm}{number}"


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
