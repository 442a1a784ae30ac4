"""A corpus of hostile payloads, and a static check of HTML for anything that could run.

Shared by ``tests/browser/test_xss.py`` (a few hundred payloads) and
``python -m benchmarks xss`` (thousands), through ``tests/xss_harness.py``. Every
payload, if it ever ran, calls ``__xss(N)`` (or ``alert(N)``, or a disguised form of
either) with its own number N, so an execution names its payload and its place. Payloads
are built from known vectors (script tags, event handlers on many tags, ``javascript:``
and ``data:`` URLs, mutation-XSS through MathML/SVG, Markdown links, LaTeX commands),
each under mutations (case, whitespace, breakouts, entity and percent encoding, NUL and
control characters, very long and deeply nested input) and with disguised calls; no two
payloads of one corpus share a structure.
"""

from __future__ import annotations

import base64
import html
import random
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote

PLACE_BASE = {"title": 1_000_000, "abstract": 2_000_000, "comment": 3_000_000, "link": 4_000_000}
JS = "%JS%"  # where a vector's script goes
URL = "%URL%"  # where a link vector's URL goes


@dataclass(frozen=True, slots=True)
class Payload:
    n: int  # the number its script reports
    family: str
    text: str


# --- the vectors ------------------------------------------------------------------------
# (family, context, template): the context picks the disguised calls that fit there.

_VECTORS: list[tuple[str, str, str]] = [
    ("script", "script", t)
    for t in (
        "<script>%JS%</script>", "<script >%JS%</script >", "<script\n>%JS%</script\n>",
        "<script/x>%JS%</script>", '<script type="text/javascript">%JS%</script>',
        "<scr<script>ipt>%JS%</scr</script>ipt>", "<<script>%JS%//<</script>",
        "<script>%JS%</script", "<svg><script>%JS%</script></svg>",
        "<math><script>%JS%</script></math>", "<script>/*</script>*/%JS%</script>",
        "<script>\u2028%JS%</script>", "<!--<script>-->%JS%</script>",
        "<template><script>%JS%</script></template>", "<xmp><script>%JS%</script></xmp>",
    )
] + [
    ("event", "attr", t)
    for t in (
        "<img src=x onerror=%JS%>", '<img src="x" onerror="%JS%">', "<img/src=x/onerror=%JS%>",
        "<img src onerror\n=%JS%>", "<img src=x:x onerror='%JS%'>", "<svg onload=%JS%>",
        "<svg/onload=%JS%>", "<svg><animate onbegin=%JS% attributeName=x dur=1s>",
        "<svg><set onbegin=%JS% attributename=x to=1>", "<body onload=%JS%>",
        "<body onpageshow=%JS%>", "<iframe onload=%JS%></iframe>",
        "<details open ontoggle=%JS%>", "<video src=x onerror=%JS%></video>",
        "<video><source onerror=%JS%></video>", "<audio src=x onerror=%JS%></audio>",
        "<input autofocus onfocus=%JS%>", "<select autofocus onfocus=%JS%></select>",
        "<textarea autofocus onfocus=%JS%></textarea>", "<marquee onstart=%JS%>x</marquee>",
        "<style>@keyframes k{}</style><b style=animation-name:k onanimationstart=%JS%>",
        "<math><mi xlink:href=x onclick=%JS%>x</mi></math>", "<object data=x onerror=%JS%>",
        "<image src=x onerror=%JS%>", "<img src=x onerror=%JS%//", '<img """><b onclick=%JS%>">',
        "<x contenteditable autofocus onfocusin=%JS%>", "<form><button formaction=x onfocus=%JS% "
        "autofocus>", "<body onresize=%JS%>", "<img src=x onerror=\"javascript:%JS%\">",
    )
] + [
    ("url", "url", t)
    for t in (
        '<a href="javascript:%JS%">x</a>', "<iframe src=javascript:%JS%></iframe>",
        "<object data=javascript:%JS%></object>", "<embed src=javascript:%JS%>",
        '<form action="javascript:%JS%"><button>x</button></form>',
        "<math href=javascript:%JS%>x</math>",
        '<svg><a xlink:href="javascript:%JS%"><rect width=99 height=99 /></a></svg>',
        '<meta http-equiv="refresh" content="0;url=javascript:%JS%">',
        "<base href=javascript:%JS%//>", '<a href="jav&#x09;ascript:%JS%">x</a>',
        '<a href="&#x6a;avascript:%JS%">x</a>', '<a href="javascript&colon;%JS%">x</a>',
        "<isindex action=javascript:%JS% type=image>", "<iframe srcdoc='<script>%JS%</script>'>",
        '<iframe src="data:text/html,<script>%JS%</script>"></iframe>',
        '<a href="vbscript:%JS%">x</a>', '<svg><use href="data:image/svg+xml,<svg id=x '
        "xmlns=%27http://www.w3.org/2000/svg%27><image href=1 onerror=%JS% /></svg>#x\" />",
        "<div style=\"background:url('javascript:%JS%')\">x</div>",
        "<div style=width:expression(%JS%)>x</div>",
        "<link rel=import href=\"data:text/html,<script>%JS%</script>\">",
    )
] + [
    ("mxss", "attr", t)
    for t in (
        "<math><mtext><table><mglyph><style><img src=x onerror=%JS%>",
        '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 '
        'onerror=%JS%&gt;">',
        '<noscript><p title="</noscript><img src=x onerror=%JS%>">',
        '<svg></p><style><a id="</style><img src=1 onerror=%JS%>">',
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=%JS%>",
        '<xmp><p title="</xmp><svg/onload=%JS%>">', '<title><a title="</title><img src=x '
        'onerror=%JS%>">', '<textarea><p title="</textarea><img src=x onerror=%JS%>">',
        '<style><p title="</style><img src=x onerror=%JS%>">',
        "<svg><style><img src=x onerror=%JS%></style></svg>",
        "<!--><img src=x onerror=%JS%>-->", "<![CDATA[><img src=x onerror=%JS%>]]>",
        "<?xml ><img src=x onerror=%JS%>?>", "<a/\"/ onmouseover=%JS%>x",
        '<img src="x` `<script>%JS%</script>"` `>',
    )
] + [
    ("markdown", "url", t)
    for t in (
        "[x](javascript:%JS%)", "[x](<javascript:%JS%>)", "[x][r]\n\n[r]: javascript:%JS%",
        "![x](javascript:%JS%)", "<javascript:%JS%>", "[x](&#106;avascript:%JS%)",
        '![x"onerror="%JS%](x)', '[x](https://example.org" onmouseover="%JS%)',
        "`<img src=x onerror=%JS%>`", "[<img src=x onerror=%JS%>](https://example.org)",
        "[x](  javascript:%JS%  )", "[x](javascript://%0a%JS%)",
        '[x](x "a\\" onmouseover=%JS% b=\\"")', "[x]: javascript:%JS%\n\n[x]",
        "<a href=javascript:%JS%>x</a>",
    )
] + [
    ("latex", "attr", t)
    for t in (
        "$\\href{javascript:%JS%}{x}$", "$\\unicode{<img src=x onerror=%JS%>}$",
        "$\\text{<script>%JS%</script>}$", "$\\style{background:url(javascript:%JS%)}{x}$",
        '$\\class{x" onmouseover="%JS%}{y}$', '$\\htmlId{x" onerror="%JS%}{y}$',
        "$\\mathrm{</math><img src=x onerror=%JS%>}$",
        "$$\\begin{array}{c}<img src=x onerror=%JS%>\\end{array}$$",
        "\\href{javascript:%JS%}{click}", "\\url{javascript:%JS%}",
        "$x$<img src=x onerror=%JS%>$y$", '$\\color{" onload="%JS%}{x}$',
        "$\\operatorname{<svg/onload=%JS%>}$", "\\textbf{<img src=x onerror=%JS%>}",
        "\\(\\text{</math><svg onload=%JS%>}\\)", "$\\frac{<img src=x onerror=%JS%>}{2}$",
        "$\\mathbf{&lt;img src=x onerror=%JS%&gt;}$", "$\\text{&#60;svg onload=%JS%&#62;}$",
    )
]  # fmt: skip

_CALLS = {
    "script": (
        "__xss(N)", "alert(N)", "window.__xss(N)", "top['__xss'](N)", "[N].map(__xss)",
        "setTimeout(__xss,0,N)", "Function('__xss(N)')()", "self[atob('X194c3M=')](N)",
        "eval('\\x5f\\x5fxss(N)')", "(0,__xss)(N)",
    ),
    "attr": (
        "__xss(N)", "alert(N)", "window.__xss(N)", "top['__xss'](N)", "[N].map(__xss)",
        "setTimeout(__xss,0,N)", "&#95;&#95;xss&#40;N&#41;", "__xss&lpar;N&rpar;",
        "&#x61;lert(N)", "(0,__xss)(N)",
    ),
    "url": (
        "__xss(N)", "alert(N)", "%5F%5Fxss(N)", "__xss%28N%29", "window.__xss(N)",
        "top['__xss'](N)", "[N].map(__xss)", "setTimeout(__xss,0,N)", "(0,__xss)(N)",
        "void(__xss(N))",
    ),
}  # fmt: skip


def _spaces(replacement: str) -> Callable[[str], str]:
    return lambda t: t.replace(" ", replacement)


def _prefix(before: str, after: str = "") -> Callable[[str], str]:
    return lambda t: before + t + after


def _alternate_case(text: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))


# Mutations of a vector's template (before the call goes in, so calls keep their case).
_MUTATIONS: list[tuple[str, Callable[[str], str]]] = [
    ("plain", lambda t: t),
    ("upper", str.upper),
    ("mixed-case", _alternate_case),
    ("slash", _spaces("/")),
    ("tab", _spaces("\t")),
    ("newline", _spaces("\n")),
    ("formfeed", _spaces("\x0c")),
    ("nul", lambda t: t.replace("<", "<\x00", 1).replace("javascript", "java\x00script")),
    ("controls", lambda t: "\x01\x02\x1b[0m" + t.replace("javascript:", "\x0bjavascript:")),
    ("quote-breakout", _prefix('">')),
    ("apos-breakout", _prefix("'>")),
    ("textarea-breakout", _prefix("</textarea>")),
    ("title-breakout", _prefix("</title>")),
    ("style-breakout", _prefix("</style>")),
    ("script-breakout", _prefix("</script>")),
    ("comment-breakout", _prefix("--!>")),
    ("cdata-breakout", _prefix("]]>")),
    ("math-breakout", _prefix("</math></svg>")),
    ("code-breakout", _prefix("</code></pre></p>")),
    ("entities", lambda t: html.escape(t)),
    ("percent", lambda t: quote(t, safe="%")),
    ("fullwidth", lambda t: t.replace("<", "\uff1c").replace(">", "\uff1e")),
    ("rtl", _prefix("\u202e", "\u202c")),
    ("long", _prefix("A" * 3000 + " ", " " + "B" * 3000)),
    ("nested", _prefix("<div>" * 300, "</div>" * 300)),
    ("quote", _prefix("> ")),
    ("list", _prefix("- ")),
    ("bold", _prefix("**", "**")),
    ("heading", _prefix("# ")),
    ("table", _prefix("| a |\n|---|\n| ", " |")),
    ("fence", _prefix("```\n", "\n```")),
    ("link-text", _prefix("[", "](https://example.org)")),
    ("math", _prefix("$", "$")),
]

# Link vectors: an unsafe URL inside one of Markdown's (and HTML's) ways to make a link.
_URLS = (
    "javascript:%JS%", "JaVaScRiPt:%JS%", "javascript&#58;%JS%", "javascript&colon;%JS%",
    "&#106;avascript:%JS%", "&#x6A;avascript:%JS%", "java\tscript:%JS%", "java&#9;script:%JS%",
    "java\nscript:%JS%", " javascript:%JS%", "\x01javascript:%JS%", "javascript\x00:%JS%",
    "%6Aavascript:%JS%", "javas&#99;ript:%JS%", "vbscript:%JS%", "javascript://%0a%JS%",
    "javascript://example.org/%0a%JS%", "jav&#x0A;ascript:%JS%", "livescript:%JS%",
    "data:text/html,<script>%JS%</script>", "data:image/svg+xml,<svg onload=%JS%>",
    "data:text/html;base64,%B64%",
)  # fmt: skip
_LINK_SYNTAX = (
    "[click](%URL%)", "[click](<%URL%>)", '[click](%URL% "title")', "[click][ref]\n\n[ref]: %URL%",
    "[click][]\n\n[click]: <%URL%>", "![img](%URL%)", "<%URL%>", "%URL%", "[click]( %URL% )",
    "[![img](https://example.org/i.png)](%URL%)", '<a href="%URL%">click</a>',
    "[%URL%](https://example.org)", '[click](https://example.org "%URL%")',
    "[click](https://example.org/a%20b?%URL%)", "*[click](%URL%)*",
)  # fmt: skip
_LINK_MUTATIONS = [m for m in _MUTATIONS if m[0] in {
    "plain", "upper", "mixed-case", "tab", "nul", "controls", "quote-breakout", "entities",
    "percent", "quote", "list", "bold", "heading", "table", "link-text", "long",
}]  # fmt: skip


# Markers that every mutation leaves alone (digits: no case, no escaping, no spaces).
_JS_MARK, _B64_MARK = "7770777", "7771777"


def _unique(
    count: int,
    base: int,
    seed: int,
    choices: list[tuple[str, str, str]],
    mutations: list[tuple[str, Callable[[str], str]]],
) -> list[Payload]:
    """``count`` payloads: every vector in turn, each with a call and a mutation drawn
    from a seeded generator (the same corpus every run), none of the same structure."""
    rng = random.Random(seed)
    tried: set[tuple[int, int, int]] = set()
    structures: set[str] = set()
    capacity = sum(len(_CALLS[context]) for _, context, _ in choices) * len(mutations)
    found: list[Payload] = []
    vector = 0
    while len(found) < count:
        if len(tried) >= capacity:
            raise ValueError(f"only {len(found)} distinct payloads of this kind; asked {count}")
        index = vector % len(choices)
        family, context, template = choices[index]
        vector += 1
        calls = _CALLS[context]
        key = (index, rng.randrange(len(calls)), rng.randrange(len(mutations)))
        if key in tried:
            continue
        tried.add(key)
        name, mutate = mutations[key[2]]
        shape = mutate(template.replace(JS, _JS_MARK).replace("%B64%", _B64_MARK))
        n = base + len(found)
        call = calls[key[1]].replace("N", str(n))
        script = base64.b64encode(f"<script>{call}</script>".encode()).decode()
        payload = Payload(
            n, f"{family}/{name}", shape.replace(_JS_MARK, call).replace(_B64_MARK, script)
        )
        if structure(payload) in structures:  # a mutation that changed nothing here
            continue
        structures.add(structure(payload))
        found.append(payload)
    return found


def payloads(count: int, place: str, seed: int = 4) -> list[Payload]:
    """``count`` distinct payloads numbered from ``PLACE_BASE[place]``."""
    return _unique(count, PLACE_BASE[place], seed, _VECTORS, _MUTATIONS)


def link_payloads(count: int, seed: int = 5) -> list[Payload]:
    """``count`` distinct hostile links (Markdown and HTML link syntax, unsafe URLs)."""
    links = [("link", "url", syntax.replace(URL, url)) for syntax in _LINK_SYNTAX for url in _URLS]
    return _unique(count, PLACE_BASE["link"], seed, links, _LINK_MUTATIONS)


def structure(payload: Payload) -> str:
    """The payload without its number: two payloads of one structure differ only in N."""
    return payload.text.replace(str(payload.n), "N")


def place_of(n: str) -> str:
    """Which place a reported number (or "alert:N") belongs to ("?" for other values)."""
    digits = n.rpartition(":")[2].strip()
    if not digits.isdigit():
        return "?"
    for place, base in PLACE_BASE.items():
        if base <= int(digits) < base + 1_000_000:
            return place
    return "?"


# --- the static check -------------------------------------------------------------------

URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
        "srcset", "ping", "cite", "codebase", "dynsrc", "lowsrc", "to", "from", "values",
        "by", "icon", "manifest", "longdesc",
    }
)  # fmt: skip
FORBIDDEN_TAGS = frozenset(
    {
        "iframe", "frame", "frameset", "object", "embed", "applet", "base", "template",
        "style", "xmp", "plaintext", "marquee", "isindex", "keygen", "bgsound", "portal",
        "img", "image", "svg", "video", "audio", "source", "animate", "set", "use",
    }
)  # fmt: skip
BAD_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:")


class _StaticCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.violations: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        shown = " ".join(f"{name}={(value or '')[:60]!r}" for name, value in attrs)
        where = f"<{tag} {shown[:200]}>"
        if tag == "script":
            self._in_script = True
            if not (found.get("src") or "").startswith("/static/"):
                self.violations.append(f"script not served by the site: {where}")
        if tag in FORBIDDEN_TAGS:
            self.violations.append(f"element the site never emits: {where}")
        if tag == "meta" and "http-equiv" in found:
            self.violations.append(f"meta http-equiv: {where}")
        if "srcdoc" in found:
            self.violations.append(f"srcdoc: {where}")
        for name, value in attrs:
            if name.startswith("on"):
                self.violations.append(f"event handler {name}: {where}")
            if name in URL_ATTRIBUTES and value is not None:
                url = "".join(c for c in value if c > " " and c != "\x7f").lower()
                favicon = tag == "link" and found.get("rel") == "icon"
                if url.startswith(BAD_SCHEMES) and not (favicon and url.startswith("data:image/")):
                    self.violations.append(f"{url.split(':')[0]}: URL in {name}: {where}")
            if (
                name == "style"
                and value
                and any(bad in value.lower() for bad in ("expression", "javascript:", "url("))
            ):
                self.violations.append(f"active style: {where}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._in_script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.violations.append(f"inline script: {data.strip()[:80]!r}")


def static_violations(body: str) -> list[str]:
    """What in an HTML page could run a script: a script the site does not serve, an
    event-handler attribute, a ``javascript:``/``vbscript:``/``data:`` URL, a frame..."""
    checker = _StaticCheck()
    checker.feed(body)
    checker.close()
    return checker.violations
