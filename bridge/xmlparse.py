"""Safe XML parsing for documents we did not write: no DTDs, no entities, no network,
bounded size and depth."""

from __future__ import annotations

import functools
import threading

from lxml import etree

from .errors import XmlError

# What every parser of untrusted XML is built with (the whole-tree one here, the streaming one).
SAFE_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**SAFE_OPTIONS)  # type: ignore[arg-type]


_local = threading.local()  # lxml parsers must not be shared between threads


def _thread_parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _parser()
    return parser


def parse_untrusted(data: bytes, *, max_bytes: int, max_depth: int, what: str = "XML") -> etree._Element:
    """Parses untrusted XML: no DTDs, entities or network, within ``max_bytes`` and ``max_depth``; raises
    ``XmlError`` naming ``what`` otherwise."""
    if len(data) > max_bytes:
        raise XmlError(f"{what} is {len(data)} bytes, over the limit of {max_bytes}")
    try:
        root = etree.fromstring(data, parser=_thread_parser())
    except etree.XMLSyntaxError as exc:
        if "Excessive depth" in str(exc):
            raise XmlError(f"{what} is nested deeper than the limit of {min(max_depth, PARSER_DEPTH_LIMIT or max_depth)}") from None
        raise XmlError(f"{what} is not well-formed: {exc}") from None
    if root is None:
        raise XmlError(f"{what} is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlError(f"{what} has a DTD, which is refused")
    if PARSER_DEPTH_LIMIT is None or max_depth < PARSER_DEPTH_LIMIT:
        check_depth(root, max_depth, what)
    return root


def _probe_depth_limit() -> int | None:
    """The nesting depth libxml2 refuses to go past without huge_tree (256), or None if it has none."""
    for depth in (256, 257):
        try:
            etree.fromstring(b"<a>" * depth + b"</a>" * depth, parser=_parser())
        except etree.XMLSyntaxError:
            return depth - 1
    return None


# libxml2 itself refuses deeper documents; a walk is needed only for a stricter limit.
PARSER_DEPTH_LIMIT = _probe_depth_limit()


@functools.lru_cache(maxsize=8)
def _deeper_than(max_depth: int) -> etree.XPath:
    return etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")


def check_depth(root: etree._Element, max_depth: int, what: str = "XML") -> None:
    """Raises ``XmlError`` when elements are nested deeper than ``max_depth``."""
    # XPath in C, not a walk in Python: is there an element max_depth + 1 levels down?
    if _deeper_than(max_depth)(root):
        raise XmlError(f"{what} is nested deeper than the limit of {max_depth}")
