"""Render arXiv-supplied text (titles, abstracts) as safe HTML and plain excerpts.

arXiv titles and abstracts are LaTeX fragments written by authors: inline math
(``$\\mathcal{O}(n)$``, ``\\(x\\)``), display math (``$$...$$``, ``\\[...\\]``), text
commands (``\\textbf{}``, ``\\emph{}``, ``50\\%``, ``Fig.~1``, ``\\'e``) and plain dollar
signs used as currency ("costs $4 per test"). Paper pages show them rendered, with
math as server-side MathML (no JavaScript needed), and the text is hostile by
default: anyone can submit a paper.

Safety is layered, because latex2mathml is not a sanitizer (it copies ``\\text{<b>}``
into its output verbatim, and emits ``href="javascript:..."`` for ``\\href`` and
``style`` for ``\\style``):

1. all source text is HTML-escaped by this module's own LaTeX reader, which only ever
   emits ``<em>``, ``<strong>`` and ``<br>`` itself;
2. MathML is not taken as a string from latex2mathml: its element tree is serialized
   here with an allowlist of MathML elements and attributes, escaping all text;
3. the final HTML goes through ``nh3`` (ammonia) with the same allowlist, so a bug
   in 1 or 2 still cannot let a script, an event handler or a URL through.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3
from markupsafe import Markup

from paperwire.mathml import MATHML_ATTRIBUTES, MATHML_TAGS, formula_to_mathml

__all__ = ["plain_excerpt", "render_abstract", "render_latex"]

_HTML_TAGS = frozenset({"p", "em", "strong", "br"})
_CLEANER = nh3.Cleaner(
    tags=set(_HTML_TAGS | MATHML_TAGS),
    attributes={
        "math": {"xmlns", *MATHML_ATTRIBUTES},
        **{tag: set(MATHML_ATTRIBUTES) for tag in MATHML_TAGS if tag != "math"},
    },
    url_schemes=set(),
    link_rel=None,
    strip_comments=True,
)

# Formulas longer than this are shown as source: abstracts' formulas are short, and
# latex2mathml's time grows with input (hostile input must not cost seconds).
_MAX_FORMULA = 1000


def _words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps the long word lists readable)."""
    return frozenset(text.split())


# --- the text-mode LaTeX reader ---------------------------------------------------

_SPECIAL = re.compile(r"[\\{}$~`']")
_COMMAND = re.compile(r"[A-Za-z]+|.", re.S)
_OPTIONAL_ARG = re.compile(r"\s*\[[^\]]{0,200}\]")
_SPACES = re.compile(r"[ \t]*\n?[ \t]*")

# Commands whose one argument is shown wrapped in a tag ("" = shown plain).
_WRAPPERS: dict[str, tuple[str, str]] = {
    "textbf": ("<strong>", "</strong>"),
    "textit": ("<em>", "</em>"),
    "emph": ("<em>", "</em>"),
    "textsl": ("<em>", "</em>"),
    "footnote": (" (", ")"),
    **dict.fromkeys(
        _words(
            "underline uline textsc texttt textsf textrm textup textmd textnormal mbox"
            " hbox text textsuperscript textsubscript hl mathrm mathbf mathit"
        ),
        ("", ""),
    ),
}
# Declarations that switch style until the end of the current group.
_DECLARATIONS = {
    "em": ("<em>", "</em>"),
    "it": ("<em>", "</em>"),
    "itshape": ("<em>", "</em>"),
    "sl": ("<em>", "</em>"),
    "slshape": ("<em>", "</em>"),
    "bf": ("<strong>", "</strong>"),
    "bfseries": ("<strong>", "</strong>"),
}
# Commands dropped with their argument (citations, labels, spacing).
_DROP_WITH_ARG = _words(
    "cite citep citet citealp citeauthor citeyear ref eqref autoref cref Cref label"
    " vspace hspace color includegraphics footnotemark"
)
# Commands dropped alone (font sizes, layout).
_DROP = _words(
    "noindent centering tt ttfamily sc scshape rm normalfont sf sffamily small large"
    " Large LARGE huge Huge tiny scriptsize footnotesize normalsize relax xspace"
    " medskip bigskip smallskip protect"
)
_BREAKS = frozenset({"newline", "par", "linebreak"})
_SYMBOLS: dict[str, str] = {
    # punctuation and text symbols
    "ldots": "…", "dots": "…", "textellipsis": "…", "textendash": "–",
    "textemdash": "—", "textasciitilde": "~", "textasciicircum": "^",
    "textbackslash": "\\", "textbar": "|", "textless": "<", "textgreater": ">",
    "textquotedblleft": "“", "textquotedblright": "”", "textquoteleft": "‘",
    "textquoteright": "’", "textdegree": "°", "deg": "°", "degree": "°",
    "copyright": "©", "texttrademark": "™", "textregistered": "®", "S": "§", "P": "¶",
    "dag": "†", "dagger": "†", "ddag": "‡", "ddagger": "‡", "pounds": "£",
    "euro": "€", "textperthousand": "‰", "checkmark": "✓", "textbullet": "•",
    # letters
    "ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ",
    "oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
    # macros common in CV/NLP abstracts
    "eg": "e.g.", "ie": "i.e.", "etal": "et al.", "vs": "vs.", "wrt": "w.r.t.",
    "etc": "etc.", "LaTeX": "LaTeX", "TeX": "TeX",
    # math symbols written outside math (arXiv shows them raw; readers mean these)
    "times": "×", "pm": "±", "mp": "∓", "sim": "∼", "approx": "≈", "simeq": "≃",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "neq": "≠", "ne": "≠", "cdot": "·",
    "rightarrow": "→", "to": "→", "leftarrow": "←", "Rightarrow": "⇒",
    "Leftarrow": "⇐", "leftrightarrow": "↔", "uparrow": "↑", "downarrow": "↓",
    "infty": "∞", "circ": "∘", "star": "⋆", "bullet": "•", "ell": "ℓ",
    "partial": "∂", "nabla": "∇", "in": "∈", "emptyset": "∅",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ",
    "varepsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι",
    "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
    "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ",
    "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    # one-character control symbols
    "%": "%", "&": "&", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}",
    " ": " ", "\n": " ", ",": "\u2009", ";": " ", ":": " ", "!": "", "-": "", "/": "",
    "@": "", "|": "‖",
}  # fmt: skip
# Accents: \'e, \'{e}, \"o, \c{c}... -> a combining mark, then NFC.
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
    "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331",
}  # fmt: skip
_ACCENT_ARG = re.compile(r"\{\\?([A-Za-z])\}|\\?([A-Za-z])")
_LETTER_ACCENT_ARG = re.compile(r"\{\\?([A-Za-z])\}")
# A formula that is only a text command ($\textbf{ReMe}$, $\textit{Remember Me}$):
# authors use it for emphasis; shown as text, not as a MathML <mtext>.
_TEXT_FORMULA = re.compile(
    r"\s*\\(?:textbf|textit|emph|textsc|texttt|textsf|textrm|text|underline)\s*\{[^{}$\\]*\}\s*"
)
_WEB_URL = re.compile(r"https?://[^\s]+\Z", re.I)
_URL_ESCAPE = re.compile(r"\\([_%#&~$])")
_URL_LIKE = re.compile(r"(?:https?://|www\.)\S+|\S+\.\S+/\S*")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*|\n[ \t]+")
_WHITESPACE = re.compile(r"\s+")


def render_latex(text: str) -> Markup:
    """Render one LaTeX fragment (a title, a paragraph) as safe HTML with MathML.

    Never raises: a formula latex2mathml cannot convert is shown as its escaped
    source. Dollars that do not delimit math (``$4``, ``\\$``) are literal dollars.
    """
    # Safe by construction (see the module doc) and then sanitized by nh3.
    return Markup(_CLEANER.clean(_Reader(text, html_mode=True).read()))  # noqa: S704


def render_abstract(text: str) -> Markup:
    """Render an abstract as ``<p>`` paragraphs, each through ``render_latex``.

    Paragraphs are separated by a blank line or, as in arXiv's own abstracts, by a
    line that starts with indentation ("...settings.\\n  To this end, we...").
    """
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.strip()) if p.strip()]
    body = "".join(f"<p>{_Reader(p, html_mode=True).read()}</p>" for p in paragraphs)
    return Markup(_CLEANER.clean(body))  # noqa: S704 - sanitized, as in render_latex


def plain_excerpt(text: str, limit: int = 300) -> str:
    """A one-paragraph plain-text excerpt (feeds, ``<meta>`` descriptions, emails).

    Text-mode LaTeX is resolved (``\\emph{x}`` -> ``x``, ``50\\%`` -> ``50%``) but math
    is left as source, since plain text cannot show it better. Cut at a word
    boundary with "…" when longer than ``limit`` characters. Not HTML-escaped: the
    caller's template escapes it.
    """
    # Lists show hundreds of excerpts per second: read only a prefix of the source (LaTeX
    # only ever shrinks as it is read), and the whole text when the prefix falls short.
    window = text[: limit * 3]
    plain = " ".join(_Reader(window, html_mode=False).read().split())
    if len(plain) <= limit and len(window) < len(text):
        plain = " ".join(_Reader(text, html_mode=False).read().split())
    return cut_at_word(plain, limit)


def cut_at_word(plain: str, limit: int) -> str:
    """``plain`` itself if short enough, else cut at a word boundary with "…"."""
    if len(plain) <= limit:
        return plain
    cut = plain[: max(limit - 1, 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—(") + "…"


class _Reader:
    """A small, iterative (never recursive) reader of text-mode LaTeX.

    Iterative so that 10 kB of ``{`` cannot exhaust the stack; every unknown or
    malformed construct falls back to showing its source, escaped.
    """

    def __init__(self, text: str, *, html_mode: bool) -> None:
        self.text = text
        self.html = html_mode
        self.out: list[str] = []
        # One entry per open brace group: what to emit when it closes.
        self.closers: list[str] = [""]

    def read(self) -> str:
        text, n, i = self.text, len(self.text), 0
        while i < n:
            match = _SPECIAL.search(text, i)
            if match is None:
                self.emit(text[i:])
                break
            start = match.start()
            if start > i:
                self.emit(text[i:start])
            char = text[start]
            if char == "\\":
                i = self.command(start)
            elif char == "{":
                self.closers.append("")
                i = start + 1
            elif char == "}":
                if len(self.closers) > 1:
                    self.out.append(self.closers.pop())
                i = start + 1
            elif char == "$":
                i = self.dollar(start)
            elif char == "~":
                tie = 0 < start < n - 1 and not text[start - 1].isspace()
                self.emit("\u00a0" if tie and not text[start + 1].isspace() else "~")
                i = start + 1
            else:  # ` or '
                double = text.startswith(char * 2, start)
                if double:
                    self.emit("“" if char == "`" else "”")
                else:
                    self.emit("‘" if char == "`" else "'")
                i = start + (2 if double else 1)
        while len(self.closers) > 1:
            self.out.append(self.closers.pop())
        self.out.append(self.closers[0])
        return "".join(self.out)

    # -- output -----------------------------------------------------------------

    def emit(self, text: str) -> None:
        """Append source-derived text: escaped in HTML mode, as is in plain mode."""
        self.out.append(html.escape(text, quote=False) if self.html else text)

    def tag(self, markup: str) -> str:
        """Markup this module generates itself; dropped in plain mode."""
        if self.html or not markup.startswith("<"):
            return markup
        return ""

    # -- commands -----------------------------------------------------------------

    def command(self, at: int) -> int:
        """Handle the command at ``text[at] == "\\"``; return where reading resumes."""
        text = self.text
        match = _COMMAND.match(text, at + 1)
        if match is None:  # a lone backslash at the very end
            self.emit("\\")
            return at + 1
        name, end = match.group(), match.end()
        if name == "\\":
            self.out.append(self.tag("<br>") or " ")
            return end
        if name in ("(", "["):
            return self.delimited_math(at, "\\)" if name == "(" else "\\]")
        if name in _ACCENTS and ((len(name) == 1 and not name.isalpha()) or name in "cdbkrHuv"):
            accent = self.accent(name, end)
            if accent is not None:
                return accent
        if name in _SYMBOLS:
            self.emit(_SYMBOLS[name])
            return end
        if name in _WRAPPERS:
            opening, closing = _WRAPPERS[name]
            return self.open_group(end, self.tag(opening), self.tag(closing), name)
        if name == "textcolor" or name == "colorbox":
            skipped = self.skip_group(end)
            return self.open_group(skipped, "", "", name) if skipped != end else end
        if name == "href":
            return self.href(end)
        if name == "url":
            group = self.raw_group(end)
            if group is not None:
                self.emit(_unescape_url(group[0]))
                return group[1]
        if name in _DECLARATIONS:
            opening, closing = _DECLARATIONS[name]
            self.out.append(self.tag(opening))
            self.closers[-1] = self.tag(closing) + self.closers[-1]
            return _skip_spaces(text, end)
        if name in _DROP_WITH_ARG:
            optional = _OPTIONAL_ARG.match(text, end)
            return self.skip_group(optional.end() if optional else end)
        if name in _DROP:
            # LaTeX eats the spaces after a control word; here only after these
            # switches, since "\\eg some" is meant as "e.g. some".
            return _skip_spaces(text, end)
        if name in _BREAKS:
            self.out.append(self.tag("<br>") or " ")
            return end
        self.emit("\\" + name)  # an author's own macro: show it as arXiv does
        return end

    def accent(self, name: str, end: int) -> int | None:
        """``\\'e`` / ``\\'{e}`` / ``\\c{c}`` as one accented character, or None."""
        pattern = _ACCENT_ARG if not name.isalpha() else _LETTER_ACCENT_ARG
        match = pattern.match(self.text, end)
        if match is None:
            return None
        letter = match.group(1) or match.group(2)
        self.emit(unicodedata.normalize("NFC", letter + _ACCENTS[name]))
        return match.end()

    def open_group(self, at: int, opening: str, closing: str, name: str) -> int:
        """Open the ``{`` argument of a wrapper command at ``at``."""
        brace = _skip_spaces(self.text, at)
        if brace < len(self.text) and self.text[brace] == "{":
            self.out.append(opening)
            self.closers.append(closing)
            return brace + 1
        self.emit("\\" + name)  # no argument: not something we understand
        return at

    def raw_group(self, at: int) -> tuple[str, int] | None:
        """The raw text of the balanced ``{...}`` group at ``at`` and its end."""
        text = self.text
        i = _skip_spaces(text, at)
        if i >= len(text) or text[i] != "{":
            return None
        depth, j = 0, i
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1 : j], j + 1
            j += 1
        return None

    def skip_group(self, at: int) -> int:
        group = self.raw_group(at)
        return group[1] if group is not None else at

    def href(self, end: int) -> int:
        """``\\href{url}{text}``: the text, then the URL in parentheses unless the text
        already is a URL or the URL is not http(s). No link is made: the allowlist has
        no ``<a>``, and paper pages list links from ``ingest.links.extract_links``."""
        url = self.raw_group(end)
        if url is None:
            self.emit("\\href")
            return end
        target = _unescape_url(url[0].strip())
        # Only a web address is worth showing; "javascript:..." and the like are not.
        if not _WEB_URL.match(target):
            target = ""
        label = self.raw_group(url[1])
        if label is None:
            self.emit(target)
            return url[1]
        shown = label[0].strip()
        closing = "" if not target or _URL_LIKE.fullmatch(shown) else f" ({target})"
        brace = _skip_spaces(self.text, url[1])
        self.closers.append(html.escape(closing, quote=False) if self.html else closing)
        return brace + 1

    # -- math ---------------------------------------------------------------------

    def dollar(self, at: int) -> int:
        """Math opened by ``$`` or ``$$`` at ``at``, or a literal dollar sign.

        An inline formula runs to the next unescaped ``$``. Telling math from money
        follows pandoc's rule, adapted to what arXiv authors write (MathJax renders
        any pair on arXiv): the formula must not start with a space *and* end with
        one ("between $10 and $20"), nor end with a space unless it holds a LaTeX
        command ("$\\log p(y) $" is math); and pandoc's "a closing ``$`` is not
        followed by a digit" applies only to formulas that start with a digit
        ("$48-$74"), since arXiv is full of "512$\\times$512" and "$\\sim$21M".
        "$4 per test" (no closing ``$``) stays text.
        """
        text = self.text
        if text.startswith("$$", at):
            close = text.find("$$", at + 2)
            formula = text[at + 2 : close]
            if close > at + 2 and self.formula_ok(formula):
                self.math(formula, display=True, source=text[at : close + 2])
                return close + 2
            self.emit("$$")
            return at + 2
        close = text.find("$", at + 1)
        while close > 0 and text[close - 1] == "\\":  # \$ inside the formula
            close = text.find("$", close + 1)
        formula = text[at + 1 : close]
        if close > at + 1 and self.formula_ok(formula):
            opens_with_space = formula[0].isspace()
            closes_with_space = formula[-1].isspace()
            money = formula[0].isdigit() and text[close + 1 : close + 2].isdigit()
            if not money and not (closes_with_space and (opens_with_space or "\\" not in formula)):
                self.math(formula, display=False, source=text[at : close + 1])
                return close + 1
        self.emit("$")
        return at + 1

    def delimited_math(self, at: int, closing: str) -> int:
        """``\\(...\\)`` or ``\\[...\\]`` starting at ``at``."""
        text = self.text
        close = text.find(closing, at + 2)
        formula = text[at + 2 : close]
        if close < 0 or not formula.strip() or not self.formula_ok(formula):
            self.emit(text[at : at + 2])
            return at + 2
        self.math(formula, display=closing == "\\]", source=text[at : close + 2])
        return close + 2

    @staticmethod
    def formula_ok(formula: str) -> bool:
        return len(formula) <= _MAX_FORMULA and "\n\n" not in formula and bool(formula.strip())

    def math(self, formula: str, *, display: bool, source: str) -> None:
        if _TEXT_FORMULA.fullmatch(formula):
            self.out.append(_Reader(formula, html_mode=self.html).read())
            return
        if not self.html:
            self.emit(source)
            return
        mathml = formula_to_mathml(formula, display)
        if mathml is None:
            self.emit(source)
        else:
            self.out.append(mathml)


def _skip_spaces(text: str, at: int) -> int:
    """Where the next non-blank character after ``at`` is (one line break allowed)."""
    match = _SPACES.match(text, at)
    return match.end() if match else at


def _unescape_url(url: str) -> str:
    """``https://x.org/a\\_b`` -> ``https://x.org/a_b`` (LaTeX escapes in URLs)."""
    return _URL_ESCAPE.sub(r"\1", url)
