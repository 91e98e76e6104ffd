"""The compiled codec: each type of the model becomes, once, a plan that converts XML to JSON (and
JSON to envelope bytes) with no per-node dispatch over the model.

It covers the constructs real services use most: sequences, choices and all groups of elements,
attributes, simpleContent, nil, defaults, arrays, nested types. Anything else (wildcards,
repeated groups, substitution groups, xsi:type on a type with subtypes, SOAP encoding) is handed,
node by node, to the generic ``Codec``, which is the reference: when the compiled path meets
anything unexpected, including invalid data, the whole message is converted again by the generic
codec, so errors carry the same JSON pointers and messages and the output never differs.

One layout, two loops. This module works out each type's layout once (``_Layout``: attributes
with their JSON keys, the simpleContent value, the element particles, the key order) and builds
from it the plans the inner loops follow: ``TypePlan`` to decode, ``TypeWriter`` to encode, with
``Simple`` and ``Lexical`` for the lexical forms. The loops come from one of two modules with the
same interface: ``_ccodec`` (C, ``_ccodec.pyx``: decoding walks libxml2's nodes without a Python
proxy per node, encoding writes the text without the interpreter) or ``_pycodec`` (pure Python,
the stand-in when the extension is not built). The choice is made once, at import (``LOOPS``);
``SOAPBRIDGE_NO_EXTENSIONS=1`` forces the Python loops (as ``AIOHTTP_NO_EXTENSIONS`` does), a
``CompiledCodec(codec, loops=...)`` takes either; ``c_loops()`` says which run, and each fallback
to the generic codec is logged at DEBUG. See docs/architecture-codec.md.
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

from . import _pycodec
from .codec import XSI_NIL, Codec, MessageShape, read_message
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
_no_c_why: str = ""
if os.environ.get(NO_EXTENSIONS_ENV, "") not in ("", "0"):
    _ccodec, _no_c_why = None, f"{NO_EXTENSIONS_ENV} is set"
else:
    try:
        from . import _ccodec  # the inner loops in C (bridge/_ccodec.pyx)
    except ImportError:  # not built (no compiler at install time): the Python loops stand in
        _ccodec, _no_c_why = None, "bridge._ccodec is not built: the install had no C compiler or lxml headers"

# The inner loops every CompiledCodec uses unless given others: chosen once, here.
LOOPS: ModuleType = _ccodec if _ccodec is not None else _pycodec


def c_loops() -> str:
    """``yes`` when the codec's inner loops run in C, else ``no (why)`` (the Python loops decode
    about 3.5 times slower)."""
    if _ccodec is not None and LOOPS is _ccodec:
        return "yes"
    return f"no ({_no_c_why or 'the pure-Python loops were chosen'})"


def _fell_back(what: str, op: Operation, exc: Exception) -> None:
    # The exception's class only: a message may quote request or reply data.
    log.debug("compiled codec: %s %s falls back to the generic codec (%s)", what, op.key, type(exc).__name__)


Node: TypeAlias = etree._Element
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class _Retry(Exception):
    """The compiled path leaves this message to the generic codec."""


# What the compiled path raises when it gives a message up: here, or in either loop module.
GIVE_UP: tuple[type[Exception], ...] = (_Retry, _pycodec.Unhandled) + ((_ccodec.Unhandled,) if _ccodec is not None else ())


def _refuse(ptr: str, message: str) -> Exception:
    return _Retry()


def _never(ptr: str, reason: str) -> bool:
    return False


# ---- the layout of a type, once ----------------------------------------------------------


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


class _Layout:
    """What both directions and both loops need of a complex type with plain content, worked out
    once: the attributes with their JSON keys (``Codec._layout``), the simpleContent type, the
    element particles in wire order, the generic codec's key order, whether it has subtypes."""

    __slots__ = ("attrs", "encodable", "has_subtypes", "keys", "particles", "value")

    def __init__(self, codec: Codec, t: ComplexType, particles: list[Element]) -> None:
        _, self.attrs = codec._layout(t)
        self.value = t.value_type()
        self.particles = particles
        self.keys = (*(key for key, _ in self.attrs), "$value", *(p.qname.name for p in particles))
        self.has_subtypes = bool(all_derived(t))
        # The text encoder writes no attribute of a reserved namespace (xsi:type and the like).
        self.encodable = not any(a.qname.namespace in _RESERVED_NS for a in t.all_attributes())


def _generic_simple(t: SimpleType) -> Callable[[str], Any]:
    return lambda s: from_lexical(t, s, "")


def _simple(loops: ModuleType, t: SimpleType) -> Any:
    """A simple type's decoding plan (``loops.Simple``): the Python converter, lexical form ->
    JSON value as ``lexical.from_lexical`` gives it, and the kind, which lets the C loop convert
    the common forms (plain integers, decimals, booleans, collapsed strings) itself. A value the
    converter refuses raises ``_Retry``: the generic codec then reports it with its pointer."""
    if t.variety != "atomic":
        return loops.Simple(loops.CONVERT, _generic_simple(t))
    b = t.builtin
    kind = json_kind(b)
    if kind == "string":
        ws = white_space(t)
        if b == "base64Binary" or ws == "replace":
            return loops.Simple(loops.CONVERT, _generic_simple(t))
        if ws == "preserve":
            return loops.Simple(loops.TEXT)
        return loops.Simple(loops.COLLAPSE, lambda s: normalize(t, s))  # " ".join(s.split()), in C when it changes nothing
    if kind == "boolean":

        def boolean(s: str) -> bool:
            v = _BOOLEANS.get(s.strip(" \t\n\r"))
            if v is None:
                raise _Retry
            return v

        return loops.Simple(loops.BOOLEAN, boolean)
    if kind == "integer":

        def integer(s: str) -> int:
            try:
                return parse_integer(b, s)
            except DecodeError:
                raise _Retry from None

        lo, hi = INT_RANGES[b]
        return loops.Simple(loops.INTEGER, integer, lo, hi)  # plain digits in C, the rest through the converter
    if kind == "number":
        whole = t.facets.fraction_digits == 0

        def number(s: str) -> int | float | str:
            try:
                return parse_number(b, s, whole=whole)
            except DecodeError:
                raise _Retry from None

        return loops.Simple(loops.NUMBER, number, is_decimal=b == "decimal", whole=whole)
    return loops.Simple(loops.CONVERT, _generic_simple(t))


# ---- encode: lexical forms -------------------------------------------------------------
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


def _lexical(loops: ModuleType, t: SimpleType, attr: bool) -> Any:
    """A simple type's writing plan (``loops.Lexical``): the Python writer, JSON value -> escaped
    lexical form as ``lexical.to_lexical`` writes it (raising on anything the generic codec would
    refuse), and the kind, which lets the C writer write strings and numbers itself."""
    kind = json_kind(t.builtin) if t.variety == "atomic" else ""
    if kind == "string" and attr:

        def attribute(v: Any) -> str:
            if type(v) is not str:
                raise _Retry
            return _escape_attr(v) if _SPECIAL_ATTR.search(v) else v

        return loops.Lexical(loops.L_ATTR, attribute)
    if kind == "string":
        return loops.Lexical(loops.L_TEXT, _text)
    if kind == "integer":
        # Numbers are written in ASCII digits, signs, points and exponents: nothing to escape.
        return loops.Lexical(loops.L_INT, lambda v: str(v) if type(v) is int else to_lexical(t, v, ""))
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

        return loops.Lexical(loops.L_DECIMAL, decimal)
    if kind == "number":
        return loops.Lexical(loops.L_DOUBLE, lambda v: repr(v) if type(v) is float and math.isfinite(v) else to_lexical(t, v, ""))
    if kind == "boolean":

        def boolean(v: Any) -> str:
            if v is True:
                return "true"
            if v is False:
                return "false"
            raise _Retry

        return loops.Lexical(loops.L_OTHER, boolean)
    escape = _escape_attr if attr else _escape_text
    return loops.Lexical(loops.L_OTHER, lambda v: escape(to_lexical(t, v, "")))


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


def _retry_writer(out: list[str], v: Any) -> None:
    raise _Retry


def _retry_type_writer(out: list[str], start: str, close: str, v: Any) -> None:
    raise _Retry


_Shape = MessageShape  # what bridge/streaming.py reads of a message (wrapped, tag)


class CompiledCodec:
    """Decoders and encoders compiled per type on first use, over the generic ``Codec`` they fall back to."""

    def __init__(self, codec: Codec, loops: ModuleType | None = None) -> None:
        """Plans are built on first use and followed by ``loops`` (``_ccodec`` or ``_pycodec``; default ``LOOPS``)."""
        self.codec = codec
        self.loops: ModuleType = LOOPS if loops is None else loops
        self._layouts: dict[int, _Layout | None] = {}
        self._simples: dict[int, Any] = {}  # loops.Simple per simple type
        self._lexicals: dict[tuple[int, bool], Any] = {}  # loops.Lexical per simple type and place
        self._plans: dict[int, Any] = {}  # loops.TypePlan, or None for a type it cannot take
        self._elements: dict[int, Callable[[Node], Any]] = {}
        self._parts: dict[int, tuple[Callable[[Node], Any], bool]] = {}  # per message part: decoder, is_array
        self._type_writers: dict[int, Any] = {}  # loops.TypeWriter, or _retry_type_writer
        self._element_writers: dict[int, _Writer] = {}
        self._root_writers: dict[int, _Writer] = {}

    def layout(self, t: ComplexType) -> _Layout | None:
        """The type's layout, or None when its content needs the generic codec."""
        if id(t) in self._layouts:
            return self._layouts[id(t)]
        particles = _plain_particles(t)
        layout = self._layouts[id(t)] = _Layout(self.codec, t, particles) if particles is not None else None
        return layout

    def simple(self, t: SimpleType) -> Any:
        """The simple type's decoding plan, a ``loops.Simple``."""
        s = self._simples.get(id(t))
        if s is None:
            s = self._simples[id(t)] = _simple(self.loops, t)
        return s

    def lexical(self, t: SimpleType, *, attr: bool) -> Any:
        """The simple type's writing plan for element text or (``attr``) an attribute value, a ``loops.Lexical``."""
        w = self._lexicals.get((id(t), attr))
        if w is None:
            w = self._lexicals[(id(t), attr)] = _lexical(self.loops, t, attr)
        return w

    # ---- decode -------------------------------------------------------------------

    def decode_message(self, op: Operation, msg: Message, body: list[Node], header: list[Node]) -> dict[str, Any]:
        """The message's JSON object, as ``Codec.decode_message`` gives it (which it falls back to)."""
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
        return read_message(self.codec.shape(op, msg), body, header, self._element_value, error=_refuse, relax=_never)

    def _element_value(self, nodes: list[Node], el: Element, ptr: str) -> Any:
        part = self._parts.get(id(el))
        if part is None:
            part = self._parts[id(el)] = (self.element_decoder(el), el.is_array)
        dec, is_array = part
        if is_array:
            return [dec(n) for n in nodes]
        if len(nodes) > 1:
            raise _Retry
        return dec(nodes[0])

    def element_decoder(self, el: Element) -> Callable[[Node], Any]:
        """The element's decoder: an lxml element -> its JSON value (None when nil)."""
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
        if isinstance(t, ComplexType):
            plan = self.type_plan(t)
            if plan is not None:
                return self.loops.ElementPlan(plan, nillable)  # type: ignore[no-any-return]

            def complex_value(n: Node) -> Any:
                nil = n.get(XSI_NIL)
                if nil is not None and (nil == "true" or nil == "1"):
                    if not nillable:
                        raise _Retry
                    return None
                return codec.decode_value(n, t, "")

            return complex_value
        convert = self.simple(t).convert
        preset = el.fixed if el.fixed is not None else el.default
        value: Any = _MISSING
        if preset is not None:
            try:
                value = from_lexical(t, preset, "")
            except DecodeError:
                value = None
            if not isinstance(value, (str, int, float, bool)):
                return lambda n: codec.decode_node(n, el, "")

        def simple_value(n: Node) -> Any:
            nil = n.get(XSI_NIL)
            if nil is not None and (nil == "true" or nil == "1"):
                if not nillable:
                    raise _Retry
                return None
            if value is not _MISSING and not n.text and not len(n):
                return value  # XSD: an empty element takes its default or fixed value
            return convert(n.text or "")

        return simple_value

    def type_plan(self, t: ComplexType) -> Any:
        """The type's decoding plan (a ``loops.TypePlan``), or None for a type that needs the generic codec."""
        if id(t) in self._plans:
            return self._plans[id(t)]
        layout = self.layout(t)
        if layout is None:
            self._plans[id(t)] = None
            return None
        loops = self.loops
        # Registered before it is filled: recursive types meet their own plan.
        plan = self._plans[id(t)] = loops.TypePlan()
        attrs = [loops.Attr(key, a.qname.namespace, a.qname.name, self.simple(a.type)) for key, a in layout.attrs]
        specs = []
        for i, p in enumerate(layout.particles):
            if isinstance(p.type, SimpleType) and p.fixed is None and p.default is None:
                specs.append(loops.Particle(p.qname.name, p.is_array, p.nillable, i, simple=self.simple(p.type)))
                continue
            sub = self.type_plan(p.type) if isinstance(p.type, ComplexType) and not p.substitutes else None
            if sub is not None:
                specs.append(loops.Particle(p.qname.name, p.is_array, p.nillable, i, plan=sub))
            else:  # a default or fixed value, or content for the generic codec
                specs.append(loops.Particle(p.qname.name, p.is_array, p.nillable, i, decoder=self.element_decoder(p)))
        codec = self.codec
        subtypes = (lambda n: codec.decode_value(n, t, "")) if layout.has_subtypes else None
        plan.fill(attrs, self.simple(layout.value) if layout.value is not None else None, specs, layout.keys, subtypes)
        return plan

    # ---- encode -------------------------------------------------------------------

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
            w = self._element_writers[id(el)] = _retry_writer if el.substitutes else self._writer_for(el, f"<{_qualified(el.qname)}", nil=el.nillable)
        return w

    def _writer_for(self, el: Element, start: str, *, nil: bool) -> _Writer:
        """The writer of an element (every occurrence, for an array), a ``loops.ElementWriter``."""
        close = f"</{_qualified(el.qname)}>"
        if isinstance(el.type, SimpleType):
            return self.loops.ElementWriter(start, close, nil, el.is_array, lexical=self.lexical(el.type, attr=False))  # type: ignore[no-any-return]
        return self.loops.ElementWriter(start, close, nil, el.is_array, tw=self.type_writer(el.type))  # type: ignore[no-any-return]

    def type_writer(self, t: ComplexType) -> Any:
        """The type's writer (a ``loops.TypeWriter``), or one that gives the message up for a type
        that needs the generic codec. Single elements are written inline (strings, other simple
        values, complex values through their type's writer), arrays by the element's writer."""
        w = self._type_writers.get(id(t))
        if w is not None:
            return w
        layout = self.layout(t)
        if layout is None or not layout.encodable:
            w = self._type_writers[id(t)] = _retry_type_writer
            return w
        loops = self.loops
        # Registered before it is filled: recursive types meet their own writer.
        w = self._type_writers[id(t)] = loops.TypeWriter()
        attrs = [(key, f' {_qualified(a.qname)}="', self.lexical(a.type, attr=True)) for key, a in layout.attrs]
        children = []
        for p in layout.particles:
            tag = _qualified(p.qname)
            nil = f"<{tag}{_NIL}"
            if p.is_array or p.substitutes:
                children.append(loops.Child(p.qname.name, loops.W_WRITER, "", "", "", False, fn=self.element_writer(p)))
            elif isinstance(p.type, SimpleType):
                lexical = self.lexical(p.type, attr=False)
                mode = loops.W_STRING if lexical.kind == loops.L_TEXT else loops.W_SIMPLE
                children.append(loops.Child(p.qname.name, mode, f"<{tag}>", f"</{tag}>", nil, p.nillable, lexical=lexical))
            else:
                children.append(loops.Child(p.qname.name, loops.W_COMPLEX, f"<{tag}", f"</{tag}>", nil, p.nillable, fn=self.type_writer(p.type)))
        w.fill(attrs, self.lexical(layout.value, attr=False) if layout.value is not None else None, children)
        return w


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
