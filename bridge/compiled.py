"""The compiled codec: each type of the model becomes, once, a closure that converts XML to JSON
(and JSON to envelope bytes) with no per-node dispatch over the model.

It covers the constructs real services use most: sequences, choices and all groups of elements,
attributes, simpleContent, nil, defaults, arrays, nested types. Anything else (wildcards,
repeated groups, substitution groups, xsi:type on a type with subtypes, SOAP encoding) is handed,
node by node, to the generic ``Codec``, which is the reference: when the compiled path meets
anything unexpected, including invalid data, the whole message is converted again by the generic
codec, so errors carry the same JSON pointers and messages and the output never differs.

The inner loops run in C (``_ccodec.pyx``) when the extension is built: decoding walks libxml2's
nodes without a Python proxy per node, encoding writes the text without the interpreter. The
Python closures here stay as the stand-in when it is not built, and build the C loops' plans.
``SOAPBRIDGE_NO_EXTENSIONS=1`` forces the Python loops (as ``AIOHTTP_NO_EXTENSIONS`` does);
``c_loops()`` says which run, and each fallback to the generic codec is logged at DEBUG.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable
from decimal import Decimal
from types import ModuleType
from typing import Any, TypeAlias

from lxml import etree

from .codec import XSI_NIL, XSI_TYPE, Codec, _Pool, _tag
from .envelope import ENV_NS, SOAP11, SOAP12, XSD, build
from .errors import DecodeError
from .jsonschema import all_derived
from .model import (
    HEADERS_KEY,
    XSI_NS,
    ComplexType,
    Element,
    Group,
    Message,
    Operation,
    QName,
    SimpleType,
    XsdType,
    unwrapped_part,
)
from .namespaces import XML as XML_NS
from .xsd.lexical import INT_RANGES, from_lexical, json_kind, normalize, parse_integer, parse_number, to_lexical, white_space

log = logging.getLogger("soapbridge.compiled")

NO_EXTENSIONS_ENV = "SOAPBRIDGE_NO_EXTENSIONS"
_ccodec: ModuleType | None
_no_c_why: str
if os.environ.get(NO_EXTENSIONS_ENV, "") not in ("", "0"):
    _ccodec, _no_c_why = None, f"{NO_EXTENSIONS_ENV} is set"
else:
    try:
        from . import _ccodec  # the inner loops in C (bridge/_ccodec.pyx)
    except ImportError:  # not built (no compiler at install time): the Python loop stands in
        _ccodec, _no_c_why = None, "bridge._ccodec is not built: the install had no C compiler or lxml headers"


def c_loops() -> str:
    """``yes`` when the codec's inner loops run in C, else ``no (why)`` (the Python loops decode
    about 3.5 times slower)."""
    return "yes" if _ccodec is not None else f"no ({_no_c_why})"


def _fell_back(what: str, op: Operation, exc: Exception) -> None:
    # The exception's class only: a message may quote request or reply data.
    log.debug("compiled codec: %s %s falls back to the generic codec (%s)", what, op.key, type(exc).__name__)

Node: TypeAlias = etree._Element
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_TAG_CACHE_LIMIT = 256  # distinct tags remembered per type; a hostile reply cannot grow it further


_TEXT, _CONVERT, _DECODER = "text", "convert", "decoder"
_Spec = tuple[str, bool, bool, str, Callable[..., Any], int]


class _Retry(Exception):
    """The compiled path leaves this message to the generic codec."""


# What the compiled path raises when it gives a message up, in Python or in C.
GIVE_UP: tuple[type[Exception], ...] = (_Retry,) if _ccodec is None else (_Retry, _ccodec.Unhandled)


def _local(tag: str) -> str:
    return tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag


def _generic_simple(t: SimpleType) -> Callable[[str], Any]:
    return lambda s: from_lexical(t, s, "")


def _simple_decoder(t: SimpleType) -> Callable[[str], Any] | None:
    """Lexical form -> JSON value, as ``lexical.from_lexical`` does it; None means the text itself.
    A value it refuses raises ``_Retry``: the generic codec then reports it with its pointer."""
    if t.variety != "atomic":
        return _generic_simple(t)
    b = t.builtin
    kind = json_kind(b)
    if kind == "string":
        if b == "base64Binary" or white_space(t) == "replace":
            return _generic_simple(t)
        if white_space(t) == "preserve":
            return None
        return lambda s: normalize(t, s)
    if kind == "boolean":

        def boolean(s: str) -> bool:
            v = _BOOLEANS.get(s.strip(" \t\n\r"))
            if v is None:
                raise _Retry
            return v

        return boolean
    if kind == "integer":

        def integer(s: str) -> int:
            try:
                return parse_integer(b, s)
            except DecodeError:
                raise _Retry from None

        return integer
    if kind == "number":
        whole = t.facets.fraction_digits == 0

        def number(s: str) -> int | float | str:
            try:
                return parse_number(b, s, whole=whole)
            except DecodeError:
                raise _Retry from None

        return number
    return _generic_simple(t)


def _simple_plan(t: SimpleType) -> Any:
    """The C decoder's plan for a simple type: the same converter, with the common lexical forms
    (plain integers, decimals, booleans) handled in C."""
    c = _ccodec
    assert c is not None
    conv = _simple_decoder(t)
    if conv is None:
        return c.Simple(c.TEXT)
    if t.variety == "atomic":
        b = t.builtin
        kind = json_kind(b)
        if kind == "string" and b != "base64Binary" and white_space(t) == "collapse":
            return c.Simple(c.COLLAPSE, conv)  # " ".join(s.split()), in C when it changes nothing
        if kind == "integer":
            lo, hi = INT_RANGES[b]
            return c.Simple(c.INTEGER, conv, lo, hi)  # plain digits in C, the rest through conv
        if kind == "boolean":
            return c.Simple(c.BOOLEAN, conv)
        if kind == "number":
            return c.Simple(c.NUMBER, conv, is_decimal=b == "decimal", whole=t.facets.fraction_digits == 0)
    return c.Simple(c.CONVERT, conv)


def _plain_particles(t: ComplexType) -> list[Element] | None:
    """The elements of a type whose content is only (nested, non-repeating) groups of plain
    elements, in wire order; None when the type needs the generic codec."""
    if t.soapenc_array_item is not None or t.mixed or t.any_attribute_inherited():
        return None
    out: list[Element] = []

    def walk(g: Group) -> bool:
        if g.is_array:
            return False
        for p in g.particles:
            if isinstance(p, Element):
                if p.substitutes:
                    return False
                out.append(p)
            elif isinstance(p, Group):
                if not walk(p):
                    return False
            else:
                return False  # xs:any
        return True

    if not all(walk(g) for g in t.content_chain()):
        return None
    if len({p.qname.name for p in out}) != len(out):
        return None  # two particles share a local name: the generic codec decides which takes what
    return out


# ---- encode ---------------------------------------------------------------------------
#
# The request body is written as text, not as lxml elements: the same bytes lxml would give for
# the generic codec's tree (one "ns0" prefix declared on each top-level element, attributes in
# layout order, lxml's escaping). Only elements whose whole subtree uses one namespace (or none)
# are compiled, so the prefix lxml would choose is known in advance; anything else raises _Retry
# and the generic codec writes the whole message.

# Characters XML cannot carry are looked for once, in the finished document's bytes (markup has
# none; bytes.translate is several times faster than a regular expression); per value only the
# characters to escape are.
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 13))
_SPECIAL_ATTR = re.compile('[&<>"\n\r\t]')
_RESERVED_NS = frozenset({XSI_NS, XSD, SOAP11, SOAP12, XML_NS})
_PREFIX = "ns0"
_STRING, _SIMPLE, _COMPLEX, _WRITER = 0, 1, 2, 3  # how a particle is written
_NIL = ' xsi:nil="true"/>'
_MISSING = object()
_Writer: TypeAlias = Callable[[list[str], Any], None]
_TypeWriter: TypeAlias = Callable[[list[str], str, str, Any], None]


def _escape_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attr(s: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return s.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def _text(v: Any) -> str:
    if type(v) is not str:
        raise _Retry
    # Four substring tests cost a fraction of one regular-expression search.
    if "&" in v or "<" in v or ">" in v or "\r" in v:
        return _escape_text(v)
    return v


def _lexical_writer(t: SimpleType, attr: bool) -> Callable[[Any], str]:
    """JSON value -> escaped lexical form, as ``codec.to_lexical`` writes it; raises on anything
    the generic codec would refuse."""
    escape = _escape_attr if attr else _escape_text
    kind = json_kind(t.builtin) if t.variety == "atomic" else ""
    if kind == "string" and attr:

        def attribute(v: Any) -> str:
            if type(v) is not str:
                raise _Retry
            return _escape_attr(v) if _SPECIAL_ATTR.search(v) else v

        return attribute
    if kind == "string":
        return _text
    if kind == "integer":
        # Numbers are written in ASCII digits, signs, points and exponents: nothing to escape.
        return lambda v: str(v) if type(v) is int else to_lexical(t, v, "")
    if kind == "number" and t.builtin == "decimal":

        def decimal(v: Any) -> str:
            if type(v) is int:
                return str(v)
            if type(v) is float:
                d = Decimal(repr(v))
                if not d.is_finite():
                    raise _Retry
                return format(d, "f")
            return to_lexical(t, v, "")

        return decimal
    if kind == "number":
        return lambda v: repr(v) if type(v) is float and math.isfinite(v) else to_lexical(t, v, "")
    if kind == "boolean":

        def boolean(v: Any) -> str:
            if v is True:
                return "true"
            if v is False:
                return "false"
            raise _Retry

        return boolean
    return lambda v: escape(to_lexical(t, v, ""))


def _encodable_particles(t: ComplexType) -> list[Element] | None:
    """The elements the compiled encoder writes for a type, in the generic codec's order; None
    when the type needs the generic codec."""
    particles = _plain_particles(t)
    if particles is None or any(a.qname.namespace in _RESERVED_NS for a in t.all_attributes()):
        return None
    return particles


def _one_namespace(el: Element) -> bool:
    """Whether every element and attribute the compiled encoder may write under ``el`` is in
    el's namespace or in none, so lxml would declare one prefix, on ``el``, for all of them."""
    root = el.qname.namespace
    if root in _RESERVED_NS:
        return False
    seen: set[int] = set()
    stack: list[XsdType] = [el.type]
    while stack:
        t = stack.pop()
        if id(t) in seen or not isinstance(t, ComplexType):
            continue
        seen.add(id(t))
        particles = _encodable_particles(t)
        if particles is None:
            continue  # written by the generic codec: the message falls back as a whole
        for a in t.all_attributes():
            if a.qname.namespace not in ("", root):
                return False
        for p in particles:
            if p.qname.namespace not in ("", root):
                return False
            stack.append(p.type)
    return True


def _qualified(q: QName) -> str:
    return f"{_PREFIX}:{q.name}" if q.namespace else q.name


def _each(one: _Writer) -> _Writer:
    """The writer of an array element: one occurrence per item of a JSON list."""

    def many(out: list[str], v: Any) -> None:
        if type(v) is not list:
            raise _Retry
        for item in v:
            one(out, item)

    return many


class _EncoderMixin:
    """Encoders compiled per type and element on first use (part of ``CompiledCodec``)."""

    codec: Codec
    _type_writers: dict[int, _TypeWriter]
    _element_writers: dict[int, _Writer]
    _root_writers: dict[int, _Writer]

    def encode_request(self, op: Operation, data: Any) -> bytes:
        """JSON data (already validated) -> SOAP envelope bytes, the same bytes as
        ``envelope.build`` over ``Codec.encode_message``."""
        try:
            return self._encode_request(op, data)
        except Exception as exc:
            _fell_back("encoding", op, exc)
            headers, body = self.codec.encode_message(op, op.input, data)  # type: ignore[arg-type]
            return build(op.soap_version, headers, body)

    def _encode_request(self, op: Operation, data: Any) -> bytes:
        msg = op.input
        if msg is None or op.use == "encoded" or op.style != "document" or type(data) is not dict:
            raise _Retry
        ns = ENV_NS[op.soap_version]
        out = [
            f'<?xml version=\'1.0\' encoding=\'utf-8\'?>\n<soap:Envelope xmlns:soap="{ns}" xmlns:xsi="{XSI_NS}" xmlns:xsd="{XSD}">'
        ]
        headers_data = data.get(HEADERS_KEY, _MISSING)
        n = len(data)
        if headers_data is not _MISSING:
            n -= 1
            if not headers_data:
                headers_data = {}
            elif type(headers_data) is not dict:
                raise _Retry
            if headers_data:
                names = {p.name for p in msg.header_parts}
                if any(k not in names for k in headers_data):
                    raise _Retry
                out.append("<soap:Header>")
                for part in msg.header_parts:
                    if part.name in headers_data:
                        self.root_writer(part.element)(out, headers_data[part.name])
                if len(out) == 2:
                    out.pop()
                else:
                    out.append("</soap:Header>")
        mark = len(out)
        out.append("<soap:Body>")
        wrapped = unwrapped_part(op, msg)
        if wrapped is not None:
            body = data if headers_data is _MISSING else {k: v for k, v in data.items() if k != HEADERS_KEY}
            self.root_writer(wrapped.element)(out, body)
        else:
            used = 0
            for part in msg.body_parts:
                v = data.get(part.name, _MISSING)
                if v is _MISSING:
                    if part.element.min_occurs > 0:
                        raise _Retry
                    continue
                used += 1
                self.root_writer(part.element)(out, v)
            if used != n:
                raise _Retry  # unknown parts
        if len(out) == mark + 1:
            out[mark] = "<soap:Body/>"
        else:
            out.append("</soap:Body>")
        out.append("</soap:Envelope>")
        doc = "".join(out).encode()  # a lone surrogate fails here
        if len(doc.translate(None, _CONTROL_BYTES)) != len(doc) or (b"\xef\xbf" in doc and (b"\xef\xbf\xbe" in doc or b"\xef\xbf\xbf" in doc)):
            raise _Retry  # a character XML cannot carry (U+FFFE, U+FFFF or a control): the generic codec names the value
        return doc

    def root_writer(self, el: Element) -> _Writer:
        """Writes a top-level element (a body or header part) with its namespace declaration."""
        w = self._root_writers.get(id(el))
        if w is None:
            w = self._root_writers[id(el)] = self._compile_root(el)
        return w

    def _compile_root(self, el: Element) -> _Writer:
        if not _one_namespace(el) or el.substitutes:
            return _retry_writer
        decl = f' xmlns:{_PREFIX}="{_escape_attr(el.qname.namespace)}"' if el.qname.namespace else ""
        return self._writer_for(el, f"<{_qualified(el.qname)}{decl}", nil=False)

    def element_writer(self, el: Element) -> _Writer:
        """Writes a local element (all its occurrences for an array) from its JSON value."""
        w = self._element_writers.get(id(el))
        if w is None:
            w = self._element_writers[id(el)] = self._compile_element_writer(el)
        return w

    def _compile_element_writer(self, el: Element) -> _Writer:
        if el.substitutes:
            return _retry_writer
        return self._writer_for(el, f"<{_qualified(el.qname)}", nil=el.nillable)

    def _writer_for(self, el: Element, start: str, *, nil: bool) -> _Writer:
        """The writer of an element (every occurrence, for an array): in C when it is built."""
        if _ccodec is not None:
            return self._c_element_writer(el, start, nil=nil)
        one = self._one_writer(el, start, nil=nil)
        return _each(one) if el.is_array else one

    def _c_element_writer(self, el: Element, start: str, *, nil: bool) -> _Writer:
        """``_one_writer`` (with ``_each`` for an array) as one ``_ccodec.ElementWriter``."""
        c = _ccodec
        assert c is not None
        close = f"</{_qualified(el.qname)}>"
        if isinstance(el.type, SimpleType):
            return c.ElementWriter(start, close, nil, el.is_array, lexical=_c_lexical(el.type, attr=False))  # type: ignore[no-any-return]
        return c.ElementWriter(start, close, nil, el.is_array, tw=self.type_writer(el.type))  # type: ignore[no-any-return]

    def _one_writer(self, el: Element, start: str, *, nil: bool) -> _Writer:
        close = f"</{_qualified(el.qname)}>"
        t = el.type
        if isinstance(t, SimpleType):
            lexical = _lexical_writer(t, attr=False)
            opened = start + ">"

            def simple(out: list[str], v: Any) -> None:
                if v is None:
                    if not nil:
                        raise _Retry
                    out.append(start + _NIL)
                else:
                    out.append(opened + lexical(v) + close)

            return simple
        tw = self.type_writer(t)

        def complex_(out: list[str], v: Any) -> None:
            if v is None:
                if not nil:
                    raise _Retry
                out.append(start + _NIL)
            else:
                tw(out, start, close, v)

        return complex_

    def type_writer(self, t: ComplexType) -> _TypeWriter:
        w = self._type_writers.get(id(t))
        if w is None and _ccodec is not None and _encodable_particles(t) is not None:
            # Registered before it is filled: recursive types meet their own writer.
            w = self._type_writers[id(t)] = _ccodec.TypeWriter()
            self._fill_c_type_writer(w, t)
        if w is None:
            # Recursive types meet themselves while compiling: a forwarder stands in meanwhile.
            cell: list[_TypeWriter] = []
            self._type_writers[id(t)] = lambda out, start, close, v: cell[0](out, start, close, v)
            w = self._compile_type_writer(t)
            cell.append(w)
            self._type_writers[id(t)] = w
        return w

    def _fill_c_type_writer(self, w: Any, t: ComplexType) -> None:
        """``_compile_type_writer``'s plan, for a ``_ccodec.TypeWriter``."""
        c = _ccodec
        assert c is not None
        particles = _encodable_particles(t)
        assert particles is not None
        _, layout = self.codec._layout(t)
        attrs = [(key, f' {_qualified(a.qname)}="', _c_lexical(a.type, attr=True)) for key, a in layout]
        vt = t.value_type()
        children = []
        for p in particles:
            tag = _qualified(p.qname)
            nil = f"<{tag}{_NIL}"
            if p.is_array or p.substitutes:
                children.append(c.Child(p.qname.name, c.W_WRITER, "", "", "", False, fn=self.element_writer(p)))
            elif isinstance(p.type, SimpleType):
                mode = c.W_STRING if _lexical_writer(p.type, attr=False) is _text else c.W_SIMPLE
                children.append(c.Child(p.qname.name, mode, f"<{tag}>", f"</{tag}>", nil, p.nillable, lexical=_c_lexical(p.type, attr=False)))
            else:
                children.append(c.Child(p.qname.name, c.W_COMPLEX, f"<{tag}", f"</{tag}>", nil, p.nillable, fn=self.type_writer(p.type)))
        w.fill(attrs, _c_lexical(vt, attr=False) if vt is not None else None, children)

    def _compile_type_writer(self, t: ComplexType) -> _TypeWriter:
        particles = _encodable_particles(t)
        if particles is None:
            return _retry_type_writer
        _, layout = self.codec._layout(t)
        attrs = [(key, f' {_qualified(a.qname)}="', _lexical_writer(a.type, attr=True)) for key, a in layout]
        vt = t.value_type()
        value = _lexical_writer(vt, attr=False) if vt is not None else None
        # Per particle: single elements are written inline (strings, other simple values, complex
        # values through their type's writer), arrays by the element's writer.
        children: list[tuple[str, int, str, str, str, bool, Any]] = []
        for p in particles:
            tag = _qualified(p.qname)
            nil = f"<{tag}{_NIL}"
            if p.is_array or p.substitutes:
                children.append((p.qname.name, _WRITER, "", "", "", False, self.element_writer(p)))
            elif isinstance(p.type, SimpleType):
                conv = _lexical_writer(p.type, attr=False)
                mode = _STRING if conv is _text else _SIMPLE
                children.append((p.qname.name, mode, f"<{tag}>", f"</{tag}>", nil, p.nillable, conv))
            else:
                children.append((p.qname.name, _COMPLEX, f"<{tag}", f"</{tag}>", nil, p.nillable, self.type_writer(p.type)))

        def write(out: list[str], start: str, close: str, v: Any) -> None:
            if type(v) is not dict or "$type" in v:
                raise _Retry
            used = 0
            for key, head, lexical in attrs:
                a = v.get(key, _MISSING)
                if a is not _MISSING:
                    used += 1
                    start += head + lexical(a) + '"'
            if value is not None:
                text = v.get("$value", _MISSING)
                if text is not _MISSING:
                    out.append(start + ">" + value(text) + close)
                    if used + 1 != len(v):
                        raise _Retry
                    return
            mark = len(out)
            out.append(start + ">")
            for key, mode, opened, closed, nil, nillable, fn in children:
                c = v.get(key, _MISSING)
                if c is _MISSING:
                    continue
                used += 1
                if c is None and mode != _WRITER:
                    if not nillable:
                        raise _Retry
                    out.append(nil)
                elif mode == _STRING:
                    if type(c) is not str:
                        raise _Retry
                    if "&" in c or "<" in c or ">" in c or "\r" in c:
                        c = _escape_text(c)
                    out.append(opened + c + closed)
                elif mode == _SIMPLE:
                    out.append(opened + fn(c) + closed)
                elif mode == _COMPLEX:
                    fn(out, opened, closed, c)
                else:
                    fn(out, c)
            if used != len(v):
                raise _Retry  # unknown fields
            if len(out) == mark + 1:
                out[mark] = start + "/>"
            else:
                out.append(close)

        return write


def _c_lexical(t: SimpleType, attr: bool) -> Any:
    """``_lexical_writer`` as a ``_ccodec.Lexical``: strings and numbers are written in C."""
    c = _ccodec
    assert c is not None
    fn = _lexical_writer(t, attr)
    if fn is _text:
        return c.Lexical(c.L_TEXT, fn)
    kind = json_kind(t.builtin) if t.variety == "atomic" else ""
    if kind == "integer":
        return c.Lexical(c.L_INT, fn)
    if kind == "string" and attr:
        return c.Lexical(c.L_ATTR, fn)
    if kind == "number":
        return c.Lexical(c.L_DECIMAL if t.builtin == "decimal" else c.L_DOUBLE, fn)
    return c.Lexical(c.L_OTHER, fn)


def _retry_writer(out: list[str], v: Any) -> None:
    raise _Retry


def _retry_type_writer(out: list[str], start: str, close: str, v: Any) -> None:
    raise _Retry


class _Shape:
    """What the decoder needs to know of a message, worked out once."""

    def __init__(self, op: Operation, msg: Message) -> None:
        self.wrapped = unwrapped_part(op, msg)
        self.tag = _tag(self.wrapped.element.qname) if self.wrapped is not None else ""
        self.header_parts = msg.header_parts


class CompiledCodec(_EncoderMixin):
    """Decoders and encoders compiled per type on first use, over the generic ``Codec`` they fall back to."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self._type_writers: dict[int, _TypeWriter] = {}
        self._element_writers: dict[int, _Writer] = {}
        self._root_writers: dict[int, _Writer] = {}
        self._types: dict[int, Callable[[Node], Any]] = {}
        self._elements: dict[int, Callable[[Node], Any]] = {}
        self._plans: dict[int, Any] = {}  # _ccodec.TypePlan, or None for a type it cannot take
        self._shapes: dict[int, _Shape] = {}  # per message

    # ---- decode -------------------------------------------------------------------

    def decode_message(self, op: Operation, msg: Message, body: list[Node], header: list[Node]) -> dict[str, Any]:
        try:
            return self._decode_message(op, msg, body, header)
        except Exception as exc:
            _fell_back("decoding", op, exc)
            # Unusual content or invalid data: the generic codec gives the answer, or the error
            # with its JSON pointer.
            return self.codec.decode_message(op, msg, body, header)

    def _decode_message(self, op: Operation, msg: Message, body: list[Node], header: list[Node]) -> dict[str, Any]:
        if op.use == "encoded":
            raise _Retry
        out: dict[str, Any]
        shape = self._shapes.get(id(msg))
        if shape is None:
            shape = self._shapes[id(msg)] = _Shape(op, msg)
        wrapped = shape.wrapped
        if wrapped is not None:
            name = wrapped.element.qname.name
            node = body[0] if body and body[0].tag == shape.tag else None
            if node is None:  # qualification is not trusted: the first with the local name
                node = next((c for c in body if isinstance(c.tag, str) and _local(c.tag) == name), None)
                if node is None:
                    raise _Retry
            value = self.element_decoder(wrapped.element)(node)
            out = value if isinstance(value, dict) else {"value": value}
        else:
            out = {}
            container = body
            if op.style == "rpc":
                if not body:
                    raise _Retry
                container = [c for c in body[0] if isinstance(c.tag, str)]
            pool = _Pool(container)
            for part in msg.body_parts:
                nodes = pool.take(part.element)
                if not nodes:
                    if op.style == "rpc" or part.element.min_occurs > 0:
                        raise _Retry
                    continue
                out[part.name] = self._element_value(part.element, nodes)
        if shape.header_parts:
            hpool = _Pool(header)
            hdata: dict[str, Any] = {}
            for part in shape.header_parts:
                nodes = hpool.take(part.element)
                if nodes:
                    hdata[part.name] = self._element_value(part.element, nodes)
            if hdata:
                out[HEADERS_KEY] = hdata
        return out

    def _element_value(self, el: Element, nodes: list[Node]) -> Any:
        dec = self.element_decoder(el)
        if el.is_array:
            return [dec(n) for n in nodes]
        if len(nodes) > 1:
            raise _Retry
        return dec(nodes[0])

    def element_decoder(self, el: Element) -> Callable[[Node], Any]:
        dec = self._elements.get(id(el))
        if dec is None:
            dec = self._elements[id(el)] = self._compile_element(el)
        return dec

    def _compile_element(self, el: Element) -> Callable[[Node], Any]:
        codec = self.codec
        if el.substitutes:
            return lambda n: codec.decode_node(n, el, "")
        t = el.type
        nillable = el.nillable
        preset = el.fixed if el.fixed is not None else el.default
        if preset is not None and isinstance(t, SimpleType):
            try:
                value = from_lexical(t, preset, "")
            except DecodeError:
                value = None
            if not isinstance(value, (str, int, float, bool)):
                return lambda n: codec.decode_node(n, el, "")
            conv = self.type_decoder(t)

            def with_preset(n: Node) -> Any:
                nil = n.get(XSI_NIL)
                if nil is not None and (nil == "true" or nil == "1"):
                    if not nillable:
                        raise _Retry
                    return None
                if not n.text and not len(n):
                    return value
                return conv(n)

            return with_preset
        if isinstance(t, SimpleType):
            simple = _simple_decoder(t)
            if simple is None:

                def text(n: Node) -> Any:
                    nil = n.get(XSI_NIL)
                    if nil is not None and (nil == "true" or nil == "1"):
                        if not nillable:
                            raise _Retry
                        return None
                    return n.text or ""

                return text

            def simple_value(n: Node) -> Any:
                nil = n.get(XSI_NIL)
                if nil is not None and (nil == "true" or nil == "1"):
                    if not nillable:
                        raise _Retry
                    return None
                return simple(n.text or "")

            return simple_value
        if _ccodec is not None and isinstance(t, ComplexType):
            plan = self._plan(t)
            if plan is not None:
                return _ccodec.ElementPlan(plan, nillable)  # type: ignore[no-any-return]
        conv = self.type_decoder(t)

        def complex_value(n: Node) -> Any:
            nil = n.get(XSI_NIL)
            if nil is not None and (nil == "true" or nil == "1"):
                if not nillable:
                    raise _Retry
                return None
            return conv(n)

        return complex_value

    def type_decoder(self, t: XsdType) -> Callable[[Node], Any]:
        dec = self._types.get(id(t))
        if dec is None:
            if isinstance(t, SimpleType):
                simple = _simple_decoder(t)
                dec = (lambda n: n.text or "") if simple is None else (lambda n: simple(n.text or ""))
                self._types[id(t)] = dec
                return dec
            # Recursive types meet themselves while compiling: a forwarder stands in meanwhile.
            cell: list[Callable[[Node], Any]] = []
            self._types[id(t)] = lambda n: cell[0](n)
            dec = self._compile_complex(t)
            cell.append(dec)
            self._types[id(t)] = dec
        return dec

    def _compile_complex(self, t: ComplexType) -> Callable[[Node], Any]:
        codec = self.codec
        particles = _plain_particles(t)
        if particles is None:
            return lambda n: codec.decode_value(n, t, "")
        if _ccodec is not None:
            return self._plan(t).decode  # type: ignore[no-any-return]
        has_subtypes = bool(all_derived(t))
        _, layout = codec._layout(t)
        attrs = [(key, _tag(a.qname), a.qname.name if a.qname.namespace else None, _simple_decoder(a.type)) for key, a in layout]
        vt = t.value_type()
        vconv = _simple_decoder(vt) if vt is not None else None
        names = [p.qname.name for p in particles]
        keys = [key for key, _ in layout] + ["$value"] + names  # the generic codec's key order
        # Per particle: how to decode it. Simple elements without a default are decoded inline
        # (TEXT: the text itself; CONVERT: through a lexical converter), others by their decoder.
        by_local: dict[str, _Spec] = {}
        for i, p in enumerate(particles):
            conv: Callable[..., Any] | None = None
            kind = _DECODER
            if isinstance(p.type, SimpleType) and p.fixed is None and p.default is None:
                conv = _simple_decoder(p.type)
                kind = _TEXT if conv is None else _CONVERT
            if conv is None:
                conv = self.element_decoder(p)
            by_local[p.qname.name] = (p.qname.name, p.is_array, p.nillable, kind, conv, i)
        by_tag: dict[str, _Spec] = {}

        def decode(n: Node) -> dict[str, Any]:
            if has_subtypes and n.get(XSI_TYPE) is not None:
                return codec.decode_value(n, t, "")  # type: ignore[no-any-return]
            out: dict[str, Any] = {}
            for key, tag, alt, aconv in attrs:
                raw = n.get(tag)
                if raw is None and alt is not None:
                    raw = n.get(alt)
                if raw is not None:
                    out[key] = raw if aconv is None else aconv(raw)
            if vt is not None:
                text = n.text or ""
                out["$value"] = text if vconv is None else vconv(text)
            last = -1
            shuffled = False
            for c in n:
                tag = c.tag
                spec = by_tag.get(tag)
                if spec is None:
                    if not isinstance(tag, str):
                        continue
                    spec = by_local.get(_local(tag))
                    if spec is None:
                        raise _Retry  # an unexpected element
                    if len(by_tag) < _TAG_CACHE_LIMIT:
                        by_tag[tag] = spec
                name, is_array, nillable, kind, conv, i = spec
                if i < last:
                    shuffled = True  # out of schema order: keys are put back in order below
                last = i
                if kind is _DECODER:
                    v = conv(c)
                else:
                    nil = c.get(XSI_NIL)
                    if nil is not None and (nil == "true" or nil == "1"):
                        if not nillable:
                            raise _Retry
                        v = None
                    elif kind is _TEXT:
                        v = c.text or ""
                    else:
                        v = conv(c.text or "")
                if is_array:
                    items = out.get(name)
                    if items is None:
                        out[name] = [v]
                    else:
                        items.append(v)
                elif name in out:
                    raise _Retry  # a second occurrence of a single element
                else:
                    out[name] = v
            if shuffled:
                out = {k: out[k] for k in keys if k in out}
            return out

        return decode


    def _plan(self, t: ComplexType) -> Any:
        """The C decoder's plan for a type with plain particles (see ``_compile_complex``), or None
        for a type it cannot take."""
        c = _ccodec
        assert c is not None
        if id(t) in self._plans:
            return self._plans[id(t)]
        particles = _plain_particles(t)
        if particles is None:
            self._plans[id(t)] = None
            return None
        # Registered before it is filled: recursive types meet their own plan.
        plan = self._plans[id(t)] = c.TypePlan()
        codec = self.codec
        _, layout = codec._layout(t)
        attrs = [
            c.Attr(key, a.qname.namespace.encode() or None, a.qname.name.encode(), bool(a.qname.namespace), _simple_plan(a.type))
            for key, a in layout
        ]
        vt = t.value_type()
        specs = []
        for i, p in enumerate(particles):
            if isinstance(p.type, SimpleType) and p.fixed is None and p.default is None:
                specs.append(c.Particle(p.qname.name, p.is_array, p.nillable, i, simple=_simple_plan(p.type)))
                continue
            sub = self._plan(p.type) if isinstance(p.type, ComplexType) and not p.substitutes else None
            if sub is not None:
                specs.append(c.Particle(p.qname.name, p.is_array, p.nillable, i, plan=sub))
            else:
                specs.append(c.Particle(p.qname.name, p.is_array, p.nillable, i, decoder=self.element_decoder(p)))
        keys = (*(key for key, _ in layout), "$value", *(p.qname.name for p in particles))
        subtypes = (lambda n: codec.decode_value(n, t, "")) if all_derived(t) else None
        plan.fill(attrs, _simple_plan(vt) if vt is not None else None, specs, keys, subtypes)
        return plan


def generic_constructs(op: Operation, *, request: bool = False) -> list[str]:
    """What in an operation's reply (or, with ``request``, its request) the compiled codec hands
    to the generic codec (both are soapbridge's own; nothing falls back to zeep). Empty: the
    message is converted by compiled code only. Some entries apply only when the data uses them
    (a ``$type``, an optional wildcard)."""
    found: set[str] = set()
    msg = op.input if request else op.output
    if msg is None:
        return []
    if op.use == "encoded":
        found.add("SOAP encoding")
    if request and op.style != "document":
        found.add("rpc style")
    seen: set[int] = set()
    stack: list[XsdType] = [p.element.type for p in msg.parts]
    for p in msg.parts:
        if p.element.substitutes:
            found.add("substitution groups")
        if request and not p.element.substitutes and not _one_namespace(p.element):
            found.add("several namespaces in one subtree")

    def walk_group(g: Group) -> None:
        if g.is_array:
            found.add("repeated groups")
        for p in g.particles:
            if isinstance(p, Element):
                if p.substitutes:
                    found.add("substitution groups")
                    stack.extend(s.type for s in p.substitutes)
                stack.append(p.type)
            elif isinstance(p, Group):
                walk_group(p)
            else:
                found.add("xs:any")

    while stack:
        t = stack.pop()
        if id(t) in seen or not isinstance(t, ComplexType):
            continue
        seen.add(id(t))
        if t.soapenc_array_item is not None:
            found.add("SOAP-encoded arrays")
            stack.append(t.soapenc_array_item)
        if t.mixed:
            found.add("mixed content")
        if t.any_attribute_inherited():
            found.add("xs:anyAttribute")
        if all_derived(t):
            found.add("$type (derived types)" if request else "nodes with xsi:type")
            stack.extend(all_derived(t))
        if request and any(a.qname.namespace in _RESERVED_NS for a in t.all_attributes()):
            found.add("attributes in reserved namespaces")
        for g in t.content_chain():
            walk_group(g)
        if t.soapenc_array_item is None and not found.intersection({"xs:any", "repeated groups", "substitution groups"}):
            names = [p.qname.name for p in _plain_particles(t) or []]
            if len(set(names)) != len(names):
                found.add("repeated element names")
    return sorted(found)
