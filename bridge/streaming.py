"""Decoding a large document/literal wrapped reply while it is parsed, a batch of the wrapper's
children at a time, so that the whole tree is never in memory.

libxml2's tree takes about 7.6 times the size of a reply of many small elements; built whole, it
made the peak memory of a 45 MB reply 12 times its size. Here each batch of completed children is
moved out of the tree, decoded with the same compiled codec (the wrapper's plan over a wrapper
holding just that batch), and dropped; the batches' objects are joined (arrays concatenated).
Replies of any other shape (a fault, SOAP headers, attributes on the wrapper, text) return None,
and the caller parses them whole as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

from .envelope import ENV_NS
from .errors import XmlError
from .xmlparse import PARSER_DEPTH_LIMIT, SAFE_OPTIONS, check_depth

if TYPE_CHECKING:
    from .compiled import CompiledCodec
    from .model import Operation

BATCH = 1024  # children of the wrapper per decode
FEED = 1024 * 1024  # bytes given to the parser at a time

_ENVELOPES = {f"{{{ns}}}Envelope": ns for ns in ENV_NS.values()}


class _NotStreamable(Exception):
    pass


def _parser(wrapper_tag: str) -> etree.XMLPullParser:
    # The options of xmlparse.parse_untrusted: no DTD, no entities, no network. Events for the
    # envelope's own elements only: one per element of the reply would cost more than the decode.
    tags = [f"{{{ns}}}{name}" for ns in ENV_NS.values() for name in ("Envelope", "Header", "Body")]
    return etree.XMLPullParser(
        events=("start",),
        tag=[*tags, wrapper_tag],
        **SAFE_OPTIONS,  # type: ignore[arg-type]
    )


def _merge(out: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if key not in out:
            out[key] = value
        elif isinstance(value, list) and isinstance(out[key], list):
            out[key].extend(value)  # a repeated element across batches
        else:
            raise _NotStreamable  # a single element twice: let the whole-tree decode judge it


def decode_streaming(codec: CompiledCodec, op: Operation, body: bytes, *, max_depth: int, what: str) -> dict[str, Any] | None:
    """The reply's output message, or None when its shape needs the whole tree."""
    msg = op.output
    if msg is None or op.use == "encoded" or op.style != "document" or msg.header_parts:
        return None
    from .compiled import _Shape

    wrapped = _Shape(op, msg)
    if wrapped.wrapped is None:
        return None
    try:
        return _decode(codec, op, wrapped.tag, body, max_depth, what)
    except _NotStreamable:
        return None
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"{what} is not well-formed: {exc}") from None


def _decode(codec: CompiledCodec, op: Operation, wrapper_tag: str, body: bytes, max_depth: int, what: str) -> dict[str, Any]:
    assert op.output is not None
    parser = _parser(wrapper_tag)
    root: Any = None
    wrapper: Any = None
    out: dict[str, Any] = {}
    deep = max_depth < (PARSER_DEPTH_LIMIT or max_depth + 1)  # else libxml2 refuses deeper itself

    def flush(children: list[Any]) -> None:
        holder = etree.Element(wrapper.tag, nsmap=wrapper.nsmap)
        for el in children:
            holder.append(el)  # moved out of the parse tree: its memory goes with holder
        if deep:
            try:
                check_depth(holder, max_depth - 2)  # holder stands at the wrapper's depth, 3
            except XmlError:
                raise XmlError(f"{what} is nested deeper than the limit of {max_depth}") from None
        _merge(out, codec.decode_message(op, op.output, [holder], []))  # type: ignore[arg-type]

    for start in range(0, len(body), FEED):
        parser.feed(body[start : start + FEED])
        for _, el in parser.read_events():
            if root is None:
                if el.tag not in _ENVELOPES:
                    raise _NotStreamable
                root = el
            elif el.tag == wrapper_tag:
                parent = el.getparent()
                if wrapper is not None or parent is None or parent.getparent() is not root or el.attrib:
                    raise _NotStreamable  # another element of that name, or attributes to decode
                wrapper = el
            elif el.getparent() is root and el.tag.endswith("}Header"):
                raise _NotStreamable  # SOAP headers: the whole-tree path reads them
        if wrapper is not None and len(wrapper) > BATCH:
            flush(list(wrapper)[:-1])  # the last child may not be complete yet
    parser.close()
    if root is None or wrapper is None or root.getroottree().docinfo.doctype:
        raise _NotStreamable  # the whole-tree path gives the error, or the fault
    body_el = wrapper.getparent()
    if [c for c in body_el if isinstance(c.tag, str)] != [wrapper] or (wrapper.text or "").strip():
        raise _NotStreamable
    if len(wrapper) or not out:
        flush(list(wrapper))
    return out
