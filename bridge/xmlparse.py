"""Safe XML parsing for documents we did not write: no DTDs, no entities, no network,
bounded size and depth."""

from __future__ import annotations

import threading

from lxml import etree

from .errors import XmlError


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


_local = threading.local()  # lxml parsers must not be shared between threads


def _thread_parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _parser()
    return parser


def parse_untrusted(data: bytes, *, max_bytes: int, max_depth: int, what: str = "XML") -> etree._Element:
    if len(data) > max_bytes:
        raise XmlError(f"{what} is {len(data)} bytes, over the limit of {max_bytes}")
    try:
        root = etree.fromstring(data, parser=_thread_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"{what} is not well-formed: {exc}") from None
    if root is None:
        raise XmlError(f"{what} is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlError(f"{what} has a DTD, which is refused")
    check_depth(root, max_depth, what)
    return root


def check_depth(root: etree._Element, max_depth: int, what: str = "XML") -> None:
    # Iterative walk: the depth limit exists to protect us from deep recursion.
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise XmlError(f"{what} is nested deeper than the limit of {max_depth}")
        for child in node:
            if isinstance(child.tag, str):
                stack.append((child, depth + 1))
