"""XML to an ElementTree, remembering the line where chosen elements start.

ElementTree alone does not keep line numbers, but an error report must point at the
record it is about, so this drives expat directly (its ``CurrentLineNumber``) and
feeds a ``TreeBuilder``. Tags come out in ElementTree's ``{namespace}local`` form.

The inputs come from the network, so documents declaring entities are refused
(the "billion laughs" and external-entity attacks both need a declaration; arXiv's
responses have none), and expat never fetches external resources.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection
from xml.parsers import expat

__all__ = ["XmlSyntaxError", "child_text", "parse_xml"]


class XmlSyntaxError(ValueError):
    """The document is not well-formed XML (or declares entities); ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _clark(name: str) -> str:
    # expat with namespace_separator=" " reports "uri local"; ElementTree uses "{uri}local".
    uri, _, local = name.rpartition(" ")
    return f"{{{uri}}}{local}" if uri else local


def parse_xml(data: bytes, tracked: Collection[str]) -> tuple[ET.Element, dict[ET.Element, int]]:
    """Parse ``data``; return the root and the start line of each element tagged in ``tracked``."""
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name: str, attributes: dict[str, str]) -> None:
        tag = _clark(name)
        element = builder.start(tag, {_clark(k): v for k, v in attributes.items()})
        if tag in tracked:
            lines[element] = parser.CurrentLineNumber

    def refuse_entities(*_: object) -> None:
        raise XmlSyntaxError("entity declarations are not allowed", parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(_clark(name))
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse_entities
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlSyntaxError(f"not well-formed XML: {exc}", exc.lineno) from exc
    return builder.close(), lines


def child_text(parent: ET.Element, tag: str) -> str | None:
    """The stripped text of ``parent``'s first ``tag`` child; None if absent or blank."""
    child = parent.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None
