"""BibTeX entries for papers (arXiv style: ``eprint``, ``archivePrefix``, ``primaryClass``)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["bibtex"]


def _words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps the long word lists readable)."""
    return frozenset(text.split())


_BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_SPECIAL = re.compile(r"[\\{}&%$#_~^]")
_UNESCAPED_TEXT_SPECIAL = re.compile(r"(?<!\\)([&%#_$])")
_KEY_STOPWORDS = _words(
    "a an the on of in for to and with towards toward via from by is are do does"
)
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def bibtex(
    *,
    id: str,  # the paper's id, named as in PaperRecord.id
    title: str,
    authors: list[str],
    year: int | None,
    source: str,
    version: int | None = None,
    categories: list[str] | None = None,
    doi: str | None = None,
    journal_ref: str | None = None,
    url: str | None = None,
) -> str:
    """A BibTeX entry for a paper, in the form arXiv's own export uses.

    ``@misc`` with ``eprint``/``archivePrefix``/``primaryClass`` for arXiv papers,
    ``@article`` with ``journal`` when a journal reference is known. The key is
    ``lastname2025firstword`` (Google Scholar's convention, which people expect).
    The title keeps its LaTeX (math, ``\\%``), since BibTeX output is read by LaTeX,
    and is double-braced to keep its capitalization; everything else is escaped.
    """
    arxiv = source == "arxiv"
    entry_type = "article" if journal_ref else "misc"
    fields: list[tuple[str, str]] = [("title", "{" + _bibtex_title(title) + "}")]
    names = [_bibtex_name(a) for a in authors if a.strip()]
    if names:
        fields.append(("author", " and ".join(names)))
    if year is not None:
        fields.append(("year", str(year)))
    if journal_ref:
        fields.append(("journal", _bibtex_escape(journal_ref.strip())))
    if arxiv:
        fields.append(("eprint", _bibtex_verbatim(id)))
        fields.append(("archivePrefix", "arXiv"))
        if categories:
            fields.append(("primaryClass", _bibtex_verbatim(categories[0])))
    if doi:
        fields.append(("doi", _bibtex_verbatim(doi.strip())))
    if url is None and arxiv:
        url = f"https://arxiv.org/abs/{id}" + (f"v{version}" if version else "")
    if url:
        fields.append(("url", _bibtex_verbatim(url)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{entry_type}{{{_bibtex_key(authors, year, title)},\n{body}\n}}\n"


def _ascii_word(text: str) -> str:
    """Lowercase ASCII letters and digits only (``Müller`` -> ``muller``)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _bibtex_key(authors: list[str], year: int | None, title: str) -> str:
    last = ""
    for author in authors:
        if author.strip():
            last = _ascii_word(_last_name(author))
            break
    words = [_ascii_word(w) for w in re.findall(r"[^\W_]+", _strip_math(title))]
    first = next((w for w in words if w and w not in _KEY_STOPWORDS), "")
    return f"{last or 'anonymous'}{year or ''}{first}"


def _last_name(name: str) -> str:
    """The family name of "First Last", "Last, First" or "First Last Jr."."""
    if "," in name:
        head, _, tail = name.partition(",")
        if tail.strip().lower() not in _NAME_SUFFIXES:
            return head.strip()
        name = head
    tokens = name.split()
    while len(tokens) > 1 and tokens[-1].lower() in _NAME_SUFFIXES:
        tokens.pop()
    return tokens[-1] if tokens else ""


def _strip_math(text: str) -> str:
    """Title words only: formulas and commands out, braces dropped ("{B}ERT" -> "BERT")."""
    return re.sub(r"[{}]", "", re.sub(r"\$[^$]*\$|\\[A-Za-z]+", " ", text))


def _bibtex_escape(text: str) -> str:
    """Plain text made safe for a BibTeX field: every TeX special escaped."""
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_SPECIALS[m.group()], text)


def _bibtex_name(name: str) -> str:
    """One author: escaped, and braced if it contains " and " (an organization)."""
    escaped = _bibtex_escape(" ".join(name.split()))
    return f"{{{escaped}}}" if re.search(r"\sand\s", escaped, re.I) else escaped


def _bibtex_title(title: str) -> str:
    """The title as LaTeX: arXiv titles already are, so math and ``\\%`` stay, but a
    bare ``&``, ``%``, ``#`` or ``_`` outside math is escaped, and if the braces do not
    balance (which would end the field early) they are escaped too."""
    title = " ".join(title.split())
    pieces = re.split(r"(\$[^$]*\$)", title)
    for i in range(0, len(pieces), 2):  # the text between formulas
        pieces[i] = _UNESCAPED_TEXT_SPECIAL.sub(r"\\\1", pieces[i])
    result = "".join(pieces)
    if not _balanced(result):
        result = re.sub(r"(?<!\\)([{}])", r"\\\1", result)
    if (len(result) - len(result.rstrip("\\"))) % 2:
        result = result[:-1]  # a lone trailing backslash would escape the closing brace
    return result


def _balanced(text: str) -> bool:
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def _bibtex_verbatim(value: str) -> str:
    """Identifiers and URLs: kept as is, minus braces and backslashes, which could
    end the field or start a command."""
    return re.sub(r"[{}\\\s]", "", value)
