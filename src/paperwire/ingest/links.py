"""Find and classify the links a paper points to (code, project page, HF artifacts).

Abstracts and arXiv comments are free text typed by authors and then re-wrapped by
arXiv at about 80 columns, so the URLs in them are messy: broken by a newline, split
after a hyphen (``https://github.com/KD- OCT``), with a space after the scheme
(``https: //github.com``), written without a scheme (``github.com/x/y``), wrapped in
LaTeX (``\\url{...}``, ``\\href{...}{...}``, ``\\_``), and followed by sentence
punctuation. Everything here is pure and precompiled because it runs once per
imported paper (about 120k abstracts for a full listing import) and must stay well
under the import's time budget.

What each kind means (the choice is documented because it drives the "has code"
filter and the links shown on paper pages):

* CODE: a source repository, normalized to its root (``https://github.com/o/r``):
  GitHub and ``gist.github.com``; GitLab (``gitlab.com`` with subgroups, and
  self-hosted ``gitlab.*``/``git.*`` hosts, GitHub Enterprise ``github.*`` hosts);
  Codeberg and Bitbucket; and
  ``anonymous.4open.science/r/NAME``, the anonymized-repository mirror used for
  double-blind review (about 460 mentions in the real listings).
* MODEL / DATASET / SPACE: a Hugging Face repository (``huggingface.co`` or
  ``hf.co``), normalized to ``https://huggingface.co/[datasets/|spaces/]owner/name``.
* PROJECT: any other web page the paper points to: ``*.github.io`` sites, lab pages,
  GitHub/HF organization pages, HF collections and blog posts. Not included: links
  back to papers (arXiv, DOI, OpenReview, publishers' and proceedings' sites, HF
  paper pages), venues ("Accepted at https://wsdm-conference.org/2026/"), social
  media and video sites (Twitter/X, YouTube, LinkedIn...), Wikipedia, license pages,
  and direct file downloads (``.pdf``, archives, images, videos): none of them is a
  page about the work's artifacts. Placeholders ("https://github.com/XXX",
  "https://github.com/anonymized-link") are dropped.

Measured on the 120,405 rows of ``arxiv-daily-listings`` (abstract + comment): 16% of
rows (11,915 of 74,728 distinct papers) get a CODE link, at ~15 µs per row. Where
HF states ``githubRepo`` and the abstract names a repository, they agree for 951 of
963 papers (the rest name a different repository).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from paperwire.models import Link, LinkKind

__all__ = ["extract_links", "normalize_url"]

# --- repairing wrapped / LaTeX-escaped text before matching -------------------------

# ``\_`` ``\%`` ``\#`` ``\&`` ``\~`` are LaTeX escapes of characters that are literal
# in URLs (``\url{https://x.io/a\_b}``).
_LATEX_ESCAPE = re.compile(r"\\([_%#&~])")
# A scheme broken by whitespace or missing slashes, all seen in the listings:
# ``https: //x``, ``https:\n//x``, ``https://\nx``, ``https:/x``, ``https:github.com``.
# Only broken forms match, so the common case costs one fast literal-prefix scan.
_BROKEN_SCHEME = re.compile(
    r"http(s?)(?:[ \t\n]+:[ \t\n]*/*[ \t\n]*|:(?:[ \t\n]+/*[ \t\n]*|/?(?=[\w-]+\.)"
    r"|/[ \t\n]+/?[ \t\n]*|//[ \t\n]+))"
)
# A host split at its dot: ``github.\ncom``, ``github. com``, ``zeng.github. io``.
# One pattern per name: a literal prefix lets ``re`` skip ahead (an alternation
# would try every position, 10x slower on the real data).
_BROKEN_HOSTS = tuple(
    (name, re.compile(name + r"(?:[ \t\n]+\.[ \t\n]*|\.[ \t\n]+)(com|io|co)\b"))
    for name in ("github", "gitlab", "huggingface")
)


def _words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps the long word lists readable)."""
    return frozenset(text.split())


# --- finding URLs -------------------------------------------------------------------

# What a URL runs over; whitespace, quotes, LaTeX braces/backslashes, ``$`` (URLs
# inside math), ``|``, ``<``/``>``, brackets and backtick end it.
_URL_CHARS = r"[^\s<>\"{}\\|^`$\[\]]"
_URL_TAIL = re.compile(_URL_CHARS + "*")
# URLs with a scheme (lowercase, as authors write them: literal prefix, fast).
_SCHEME_URL = re.compile(r"https?://" + _URL_CHARS + "*")
# Code and HF hosts that authors also write without a scheme (``github.com/x/y``).
_BARE_HOSTS = (
    "github.com/",
    "gitlab.com/",
    "huggingface.co/",
    "hf.co/",
    "codeberg.org/",
    "bitbucket.org/",
)
_BARE_TLD = re.compile(r"\.(?:com/|co/|org/|github\.io)")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
# The next word after a URL cut by whitespace, for re-joining wrapped URLs.
_CONTINUATION = re.compile(rf"[ \t]*\n?[ \t]*([A-Za-z0-9]{_URL_CHARS}*)")
# Words that follow an incomplete URL in prose ("at https://github.com/x/ soon.")
# and must not be glued onto it.
_PROSE_WORDS = _words(
    "a an and are as at by for from in is it of on or soon the then to upon via will with"
    " code coming available release released"
)
_TRAILING = ".,;:!?'\"*…"
_OPENERS = {")": "(", "]": "[", "}": "{"}

# --- classifying ---------------------------------------------------------------------

_GITHUB_RESERVED = _words(
    "about apps collections customer-stories enterprise events explore features login"
    " marketplace new notifications orgs pricing pulls search security settings site"
    " sponsors topics trending users"
)
_HF_RESERVED = _words(
    "api blog changelog chat collections datasets docs enterprise inference-endpoints join"
    " learn login models new new-space organizations papers posts pricing privacy search"
    " settings spaces tasks terms-of-service welcome"
)
# HF sections that are pages about a work (shown as PROJECT) rather than site chrome.
_HF_PROJECT_SECTIONS = frozenset({"blog", "collections", "organizations", "posts"})
_GITLAB_STOP = _words(
    "- tree blob raw issues merge_requests wikis commits commit releases tags branches archive"
)
# Hosts (and their subdomains) of pages that are the paper itself or another paper:
# never a project page, even when a source states one.
_PAPER_HOSTS = _words(
    """
    arxiv.org alphaxiv.org doi.org dx.doi.org openreview.net aclanthology.org
    semanticscholar.org scholar.google.com researchgate.net paperswithcode.com
    ieeexplore.ieee.org dl.acm.org link.springer.com sciencedirect.com nature.com
    papers.nips.cc proceedings.neurips.cc proceedings.mlr.press openaccess.thecvf.com
    ssrn.com biorxiv.org medrxiv.org ncbi.nlm.nih.gov
    thecvf.com acm.org ieee.org springer.com mdpi.com frontiersin.org jmlr.org
    """
)
# Where a paper's own page lives: never its project page.
_SELF_HOSTS = _words("arxiv.org alphaxiv.org")
# Hosts not taken as project pages when found in text; see the module doc.
_EXCLUDED_HOSTS = _PAPER_HOSTS | _words(
    """
    twitter.com x.com youtube.com youtu.be linkedin.com facebook.com instagram.com
    reddit.com t.me bilibili.com tiktok.com
    creativecommons.org opensource.org orcid.org wikipedia.org example.com example.org
    """
)
# Conference and symposium sites named in arXiv comments ("Accepted at WSDM 2026,
# https://wsdm-conference.org/2026/"): the venue, not the work.
_VENUE_HOST = re.compile(
    r"(?:conference|symposium|conf)(?:[.-]|$)|(?:^|\.)(?:iclr|icml|neurips|nips|ijcai|aaai)\."
)
_FILE_SUFFIXES = (
    ".pdf", ".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz",
    ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".mp4", ".mov", ".avi",
)  # fmt: skip
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
_NAME_PREFIX = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# "https://github.com/XXX/xxx", "https://github.com/anonymized-link" (no real repo yet).
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\Z")
_XS = re.compile("x+", re.I)
_PLACEHOLDER = re.compile(r"x+|anonym[a-z-]*|(?:your-?)?user-?name", re.I)
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\Z")
# A DNS name whose top-level label is alphabetic (rules out "github.c10pom", "1.5").
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]+)\Z")


def extract_links(*texts: str | None) -> list[Link]:
    """Return the links found in ``texts`` (abstract, comments...), first seen first.

    Duplicates (same kind, same URL ignoring case, ``www.`` and a trailing slash) are
    kept once, so ``\\href{https://github.com/a/b}{github.com/a/b}`` gives one link.
    """
    links: list[Link] = []
    seen: set[str] = set()
    for text in texts:
        if not text or not _may_have_links(text):
            continue
        for raw in _find_urls(text):
            link = _classify(raw)
            if link is None:
                continue
            key = _dedupe_key(link)
            if key not in seen:
                seen.add(key)
                links.append(link)
    return links


def normalize_url(kind: LinkKind, url: str | None) -> str | None:
    """Clean a link a source states explicitly (HF ``githubRepo``, ``projectPage``).

    The source's kind is trusted, but the URL is brought to the same canonical form
    ``extract_links`` gives (repository root, ``huggingface.co`` host) so that links
    from different sources deduplicate. Returns None for junk: empty, not http(s)
    (``javascript:``, ``data:``), no valid host, or the paper's own page (arXiv, HF
    paper page) given as a project page, as 26 HF ``projectPage`` values are.
    Unlike text, an explicit project page may be a DOI (often a dataset's).
    """
    if not url:
        return None
    # A single-URL field has no legitimate whitespace; when present it is wrapping
    # ("https://github.com/\nFightingFighting/NeuroAda.git", seen in HF data).
    text = "".join(url.split())
    if not text:
        return None
    if "://" not in text:
        if ":" in text.split("/", 1)[0] or not re.match(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}/", text):
            return None  # javascript:..., mailto:..., or not a host at all
        text = "https://" + text
    if not re.match(r"https?://", text, re.I):
        return None
    split = _split(text)
    if split is None:
        return None
    host, segments, page = split
    if kind is LinkKind.CODE:
        root = _code_root(host, segments)
        if root is not None:
            return root
    elif kind in (LinkKind.MODEL, LinkKind.DATASET, LinkKind.SPACE) and host in (
        "huggingface.co",
        "hf.co",
    ):
        link = _classify_hf(segments)
        if link is not None and link.kind is kind:
            return link.url
    elif kind is LinkKind.PROJECT and (
        _on_hosts(host, _SELF_HOSTS) or (host == "huggingface.co" and segments[:1] == ["papers"])
    ):
        return None
    return page


# --- internals ---------------------------------------------------------------------


def _may_have_links(text: str) -> bool:
    """A cheap substring test that skips the ~80% of texts with no link at all.

    A few ``in`` scans: each is a fast search, unlike a regex alternation.
    """
    # Nearly every URL has a "/", a one-byte scan that rules out ~80% of texts. Then
    # "git" covers github.com and gitlab, ".co/" bare huggingface.co/ and hf.co/,
    # ".org/" codeberg and bitbucket. Without a "/": a bare "name.github.io", or a
    # scheme with its slashes lost ("https:kite-live.vercel.app", seen once).
    if "/" in text:
        return "http" in text or "git" in text or ".co/" in text or ".org/" in text
    return ".github.io" in text or (":" in text and "http" in text)


def _find_urls(text: str) -> list[str]:
    """Raw URL strings in ``text``, in order, re-joined where wrapping split them."""
    text = _repair(text)
    urls: list[str] = []
    end = 0
    for start in _url_starts(text):
        if start < end:
            continue  # inside the previous URL (``https://github.com/...`` etc.)
        match = _URL_TAIL.match(text, start)
        assert match is not None  # a ``*`` pattern always matches
        url, end = match.group(), match.end()
        while end < len(text) and text[end].isspace() and _looks_cut(url):
            cont = _CONTINUATION.match(text, end)
            if cont is None or cont.group(1).rstrip(_TRAILING).lower() in _PROSE_WORDS:
                break
            url += cont.group(1)
            end = cont.end()
        urls.append(url)
    return urls


def _repair(text: str) -> str:
    """Undo LaTeX escapes and rejoin schemes and hosts that wrapping broke apart."""
    if "\\" in text:
        text = _LATEX_ESCAPE.sub(r"\1", text)
    # Broken schemes are rare: only scan for them when some "http" is not followed
    # by "://", or a "://" by a blank (C-speed counts are cheaper than a regex scan).
    http = text.count("http")
    if http and (
        http != text.count("http://") + text.count("https://") or ":// " in text or "://\n" in text
    ):
        text = _BROKEN_SCHEME.sub(r"http\1://", text)
    for name, pattern in _BROKEN_HOSTS:
        if name in text and (
            f"{name}. " in text or f"{name}.\n" in text or f"{name} " in text or f"{name}\n" in text
        ):
            text = pattern.sub(name + r".\1", text)
    return text


def _url_starts(text: str) -> list[int]:
    """Sorted start offsets of URLs with a scheme, bare code/HF hosts and github.io sites.

    Bare hosts are found from their top-level domain (one literal-prefix regex scan)
    and walked back to the start of the host, which is much cheaper than a regex
    that tries a host pattern at every position of the text.
    """
    spans = [m.span() for m in _SCHEME_URL.finditer(text)] if "http" in text else []
    starts = [start for start, _ in spans]
    span_index = 0
    for match in _BARE_TLD.finditer(text):
        tld_at = match.start()
        while span_index < len(spans) and spans[span_index][1] <= tld_at:
            span_index += 1
        if span_index < len(spans) and spans[span_index][0] <= tld_at:
            continue  # part of a URL with a scheme
        start = tld_at
        while start > 0 and text[start - 1] in _HOST_CHARS:
            start -= 1
        if start == tld_at or (start > 0 and text[start - 1] in "/@:"):
            continue  # no host label, or a path / e-mail address / other scheme
        host = text[start : match.end()].lower()
        if host.endswith(".github.io") or host.removeprefix("www.") in _BARE_HOSTS:
            starts.append(start)
    return sorted(starts)


def _looks_cut(url: str) -> bool:
    """Whether a URL that stops at whitespace was probably wrapped mid-way.

    A URL ending in ``-`` or ``_`` is never complete. One ending in ``/`` is cut only
    if it is a code/HF URL still missing its owner or repository name
    (``https://github.com/\\nowner/repo``); a project page ending in ``/`` is complete
    and is typically followed by prose ("Project page: https://x.github.io/ Code: ...").
    """
    last = url[-1]
    if last in "-_":
        return "://" not in url or len(url) > url.index("://") + 3
    if last != "/":
        return False
    bare = re.sub(r"^https?://", "", url, flags=re.I).lower().removeprefix("www.")
    host, _, path = bare.partition("/")
    if host not in ("github.com", "gitlab.com", "huggingface.co", "hf.co"):
        return False
    segments = [s for s in path.split("/") if s]
    if host in ("huggingface.co", "hf.co") and segments[:1] in (["datasets"], ["spaces"]):
        segments = segments[1:]
    return len(segments) < 2


def _strip_trailing(url: str) -> str:
    """Remove sentence punctuation and unbalanced closing brackets from a URL's end."""
    while url:
        last = url[-1]
        unbalanced = last in _OPENERS and url.count(last) > url.count(_OPENERS[last])
        if last in _TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


class _Parts(NamedTuple):
    """A URL taken apart: ``host`` is lowercase without ``www.``; ``page`` is the URL
    with a lowercase scheme and host but the path, query and fragment as written."""

    host: str
    segments: list[str]
    page: str


def _split(url: str) -> _Parts | None:
    """Take a URL apart, or None if it is not an http(s) URL with a valid host.

    Hand-rolled rather than ``urllib.parse.urlsplit`` (3x slower, and this runs for
    every URL of every imported paper); the input always starts with a scheme.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        return None
    cut = len(rest)
    for char in "/?#":
        i = rest.find(char)
        if 0 <= i < cut:
            cut = i
    netloc, tail = rest[:cut].lower(), rest[cut:]
    if "@" in netloc:
        return None  # credentials in a URL: never a real link in an abstract
    hostname, colon, port = netloc.partition(":")
    hostname = hostname.rstrip(".")
    if not (_HOST.match(hostname) or _IPV4.match(hostname)) or (
        colon and not (port.isdigit() and len(port) <= 5)
    ):
        return None
    path = tail
    for char in "?#":
        path = path.partition(char)[0]
    page = f"{scheme}://{hostname}{colon}{port}{tail}"
    segments = [s for s in path.split("/") if s]
    return _Parts(hostname.removeprefix("www."), segments, page)


def _repo(name: str, *, lenient: bool = False) -> str | None:
    """A repository/owner name without ``.git``, or None if it is not a valid name.

    ``lenient`` keeps the valid prefix of a name glued to prose by a missing space
    (``DGHMesh.(The`` -> ``DGHMesh``); only used for the last segment of a root.
    """
    if lenient:
        match = _NAME_PREFIX.match(name)
        name = match.group().rstrip(".") if match else ""
    name = name.removesuffix(".git")
    if not _NAME.match(name) or not name.strip(".") or _XS.fullmatch(name):
        return None
    return name


def _code_root(host: str, segments: list[str]) -> str | None:
    """The root URL of the repository at ``host``/``segments``, or None if not a repo."""
    if host == "github.com" or host in ("codeberg.org", "bitbucket.org"):
        if len(segments) < 2 or segments[0].lower() in _GITHUB_RESERVED:
            return None
        owner, repo = _repo(segments[0]), _repo(segments[1], lenient=True)
        return f"https://{host}/{owner}/{repo}" if owner and repo else None
    if host == "gist.github.com" and len(segments) >= 2:
        owner, gist = _repo(segments[0]), _repo(segments[1])
        return f"https://{host}/{owner}/{gist}" if owner and gist else None
    if host == "gitlab.com" or host.startswith(("gitlab.", "git.", "github.")):
        path: list[str] = []
        for segment in segments:
            if segment in _GITLAB_STOP and len(path) >= 2:
                break
            name = _repo(segment)
            if name is None:
                return None
            path.append(name)
        return f"https://{host}/{'/'.join(path)}" if len(path) >= 2 else None
    if host == "anonymous.4open.science" and len(segments) >= 2 and segments[0] == "r":
        name = _repo(segments[1])
        return f"https://{host}/r/{name}" if name else None
    return None


def _classify_hf(segments: list[str]) -> Link | None:
    """Classify a huggingface.co path; None for site pages (papers, docs, login...)."""
    if not segments:
        return None
    section = segments[0].lower()
    if section in ("datasets", "spaces"):
        kind = LinkKind.DATASET if section == "datasets" else LinkKind.SPACE
        names = [_repo(s) for s in segments[1:3]]
        if len(names) == 2 and names[0] and names[1]:
            return Link(kind, f"https://huggingface.co/{section}/{names[0]}/{names[1]}")
        if len(names) == 1 and names[0]:  # an organization's datasets/spaces
            return Link(LinkKind.PROJECT, f"https://huggingface.co/{section}/{names[0]}")
        return None
    if section in _HF_RESERVED:
        if section in _HF_PROJECT_SECTIONS and len(segments) >= 2:
            return Link(LinkKind.PROJECT, "https://huggingface.co/" + "/".join(segments))
        return None
    owner = _repo(segments[0])
    if owner is None:
        return None
    if len(segments) == 1:  # a user or organization page
        return Link(LinkKind.PROJECT, f"https://huggingface.co/{owner}")
    name = _repo(segments[1])
    return Link(LinkKind.MODEL, f"https://huggingface.co/{owner}/{name}") if name else None


def _on_hosts(host: str, hosts: frozenset[str]) -> bool:
    """Whether ``host`` or one of its parent domains is in ``hosts``."""
    while True:
        if host in hosts:
            return True
        _, dot, parent = host.partition(".")
        if not dot or "." not in parent:
            return False
        host = parent


def _classify(raw: str) -> Link | None:
    """Turn one raw match into a Link, or None if it is not a link we keep."""
    url = _strip_trailing(raw)
    if "://" not in url:
        url = "https://" + url
    split = _split(url)
    if split is None:
        return None
    host, segments, page = split
    root = _code_root(host, segments)
    if root is not None:
        return Link(LinkKind.CODE, root)
    if host in ("huggingface.co", "hf.co"):
        return _classify_hf(segments)
    if host == "github.com":
        # An owner page (github.com/org) is shown as a project page; site pages, cut
        # names ("SAI-") and placeholders ("https://github.com/XXX") are dropped.
        if len(segments) != 1 or segments[0].lower() in _GITHUB_RESERVED:
            return None
        owner = segments[0]
        if not _GITHUB_OWNER.match(owner) or _PLACEHOLDER.fullmatch(owner):
            return None
        return Link(LinkKind.PROJECT, f"https://github.com/{owner}")
    if _on_hosts(host, _EXCLUDED_HOSTS) or (
        not host.endswith(".github.io") and _VENUE_HOST.search(host) is not None
    ):
        return None
    if segments and segments[-1].lower().endswith(_FILE_SUFFIXES):
        return None
    if any(s.lower() in ("license", "licenses", "license.html") for s in segments):
        return None  # a model/data license page, not the project
    return Link(LinkKind.PROJECT, page)


def _dedupe_key(link: Link) -> str:
    """Identity of a link for deduplication: kind + URL without scheme, ``www.``,
    case or final slash (``http://www.X.io/p/`` and ``https://x.io/p`` are one page)."""
    bare = link.url.lower().split("://", 1)[-1].removeprefix("www.")
    return f"{link.kind}:{bare.rstrip('/')}"
