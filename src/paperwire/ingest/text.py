"""Text clean-up shared by the parsers: wrapped lines, paragraphs, author lists, accents.

arXiv stores titles, abstracts, comments and author lists hard-wrapped at about 80
columns (continuation lines of titles are indented: ``"...Self-supervised\\n  Pre-training"``).
All sources copy that text verbatim, so every parser runs it through here to get one
spelling per paper whatever the source.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

__all__ = [
    "clean_abstract",
    "clean_line",
    "clean_names",
    "latex_accents_to_unicode",
    "split_authors",
    "without_nul",
]


def without_nul(text: str) -> str:
    """NUL becomes U+FFFD: PostgreSQL's text refuses NUL, and an HTML parser shows it as
    U+FFFD anyway, so every backend stores the same text."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def clean_line(text: str) -> str:
    """Collapse every run of whitespace (newlines included) to one space; strip."""
    text = without_nul(text)
    # Fast path (10-20x faster on an abstract): once newlines are spaces, a text
    # without double spaces or other whitespace characters is already clean.
    flat = text.replace("\n", " ")
    if "  " not in flat and _no_other_whitespace(flat):
        return flat.strip(" ")
    return " ".join(text.split())


def _no_other_whitespace(text: str) -> bool:
    if text.isascii():  # str.isprintable() costs ~4 us on an abstract; `in` is memchr
        return (
            "\t" not in text
            and "\r" not in text
            and "\x0b" not in text
            and "\x0c" not in text
            and "\x1c" not in text
            and "\x1d" not in text
            and "\x1e" not in text
            and "\x1f" not in text
        )
    # Every whitespace character but " " is unprintable.
    return text.isprintable()


def clean_names(names: list[str]) -> list[str]:
    """:func:`clean_line` for each name, dropping blank ones.

    Bulk sources list ~900k names that are nearly all clean already, so one check over
    the joined list (a separator that is no name's character) replaces a call per name.
    """
    joined = "\x1e".join(names)
    if (
        "" not in names
        and joined.count("\x1e") == len(names) - 1  # (no name contains the separator)
        and joined.replace("\x1e", "").isprintable()
        and "  " not in joined
        and " \x1e" not in joined
        and "\x1e " not in joined
        and joined[:1] != " "
        and joined[-1:] != " "
    ):
        return names
    cleaned = (clean_line(name) for name in names)
    return [name for name in cleaned if name]


# A newline followed by white space (a blank or an indented line) may break a paragraph.
_PARAGRAPH_HINT = re.compile(r"\n[ \t\r\n]")
# The smallest shared indentation taken for pretty-printing rather than paragraphs.
_PRETTY_PRINT_INDENT = 4


def clean_abstract(text: str) -> str:
    """Join wrapped lines into one line per paragraph; paragraphs are separated by ``\\n\\n``.

    arXiv's rule for abstracts: line breaks are dropped except where the next line
    starts with white space, which starts a new paragraph (its submission help: "press
    return and indent the new line"). About 4% of the real listings use it
    (``"...further.\\n  With positions resolved, we..."``). A blank line is a break too.

    Some documents are pretty-printed (our OAI-PMH samples indent every line of an
    element by its XML depth, 24 spaces), so when most continuation lines share a deep
    indentation, that indentation is removed first; otherwise every line would become a
    paragraph. A shared indent of 2 is kept: arXiv indents paragraph starts by exactly 2
    spaces (all 9,240 in the real listings), and in 3,287 listed abstracts every
    continuation line starts a paragraph (one unwrapped line per paragraph).
    """
    if _PARAGRAPH_HINT.search(text) is None:
        return clean_line(text)  # the fast path: one paragraph
    text = without_nul(text)
    lines = text.splitlines()
    margin = _pretty_print_margin(lines[1:])
    paragraphs: list[list[str]] = [[]]
    for index, line in enumerate(lines):
        if index and margin:
            line = line[min(margin, len(line) - len(line.lstrip())) :]
        if not line.strip():
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        if index and line[0].isspace() and paragraphs[-1]:
            paragraphs.append([])
        paragraphs[-1].append(line)
    return "\n\n".join(" ".join(" ".join(p).split()) for p in paragraphs if p)


def _pretty_print_margin(lines: list[str]) -> int:
    """The indentation most continuation lines share, if it is too deep to be arXiv's."""
    indents = Counter(len(line) - len(line.lstrip()) for line in lines if line.strip())
    if not indents:
        return 0
    margin = indents.most_common(1)[0][0]
    return margin if margin >= _PRETTY_PRINT_INDENT else 0


# --- LaTeX accents in author names -------------------------------------------------
# arXiv author strings are LaTeX: ``C. Bal\'azs``, ``Rastislav \v{S}r\'amek``,
# ``Mikkel {\O}bro``. pylatexenc would do this fully; the accents below cover the
# names seen in practice and leave anything else untouched.

_COMBINING = {
    "'": "\u0301",  # acute
    "`": "\u0300",  # grave
    "^": "\u0302",  # circumflex
    '"': "\u0308",  # diaeresis
    "~": "\u0303",  # tilde
    "=": "\u0304",  # macron
    ".": "\u0307",  # dot above
    "u": "\u0306",  # breve
    "v": "\u030c",  # caron
    "H": "\u030b",  # double acute
    "c": "\u0327",  # cedilla
    "k": "\u0328",  # ogonek
    "r": "\u030a",  # ring above
}
_LETTERS = {
    "o": "ø", "O": "Ø", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
    "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}  # fmt: skip

_BASE = r"(\\[ij]|[A-Za-z])"
# Symbol accents may be followed directly by the letter (\'a) or a braced one (\'{a}).
_SYMBOL_ACCENT = re.compile(r"\\(['`^\"~=.])\s*(?:\{\s*" + _BASE + r"\s*\}|" + _BASE + ")")
# Letter accents need braces or a space, or they would be a different macro (\u vs \uparrow).
_LETTER_ACCENT = re.compile(r"\\([uvHckr])(?:\s*\{\s*" + _BASE + r"\s*\}|\s+" + _BASE + ")")
_LETTER_MACRO = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|[oOlLij])(?![A-Za-z])(?:\{\})?\s?")


def _accented(accent: str, base: str) -> str:
    if base.startswith("\\"):
        base = base[1:]  # \i and \j are dotless i/j; with an accent a plain i/j composes
    return unicodedata.normalize("NFC", base + _COMBINING[accent])


def latex_accents_to_unicode(text: str) -> str:
    """Replace common LaTeX accent macros with Unicode (``Bal\\'azs`` -> ``Balázs``)."""
    if "\\" not in text:
        return text
    text = _SYMBOL_ACCENT.sub(lambda m: _accented(m[1], m[2] or m[3]), text)
    text = _LETTER_ACCENT.sub(lambda m: _accented(m[1], m[2] or m[3]), text)
    return _LETTER_MACRO.sub(lambda m: _LETTERS[m[1]], text)


# --- author lists -------------------------------------------------------------------

_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s*;\s*|\s+and\s+|\s*&\s*")
_SUFFIXES = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"})
_NOT_NAMES = frozenset({"et al", "et al.", "others", "et. al."})


def split_authors(text: str) -> list[str]:
    """Split an arXiv author string into names, in order.

    ``"A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) CREST, ...)"`` becomes
    ``["A. S. Mishchenko", "N. Nagaosa"]``: parenthesized affiliations are dropped
    (they may contain commas and "and"), then names are split on commas, semicolons,
    "&" and " and ". A trailing "Jr."/"III" rejoins the name before it; "et al" is
    dropped. LaTeX accents
    are converted and grouping braces and ``~`` (a non-breaking space) removed.
    """
    text = latex_accents_to_unicode(_drop_parenthesized(text))
    text = text.replace("{", "").replace("}", "").replace("~", " ")
    names: list[str] = []
    for part in _AUTHOR_SEPARATOR.split(text):
        name = clean_line(part)
        if not name or name.lower() in _NOT_NAMES:
            continue
        if name in _SUFFIXES and names:
            names[-1] = f"{names[-1]}, {name}"
        else:
            names.append(name)
    return names


def _drop_parenthesized(text: str) -> str:
    """Remove balanced ``(...)`` groups; an unclosed one runs to the end of the text."""
    if "(" not in text:
        return text
    kept: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept)
