"""The compiled codec's inner loops in pure Python: the stand-in for ``_ccodec`` when it is not built.

This module has the interface of the C module (``_ccodec.pyx``, typed in ``_ccodec.pyi``): the same
classes, constructors, methods and constants, as msgpack's ``fallback.py`` has that of its
extension. ``compiled.py`` builds one plan per type (``TypePlan``, ``Simple``, ``Attr``,
``Particle`` to decode; ``TypeWriter``, ``Child``, ``Lexical``, ``ElementWriter`` to encode) with
whichever module is in force, and cannot tell them apart.

Where the C loops walk libxml2's nodes and convert the plain lexical forms themselves, this module
turns each filled plan into one closure over local variables (what the interpreter runs fastest)
and calls the Python converters the plans carry for every value. A plan it cannot follow raises
``Unhandled``, and the caller hands the whole message to the generic codec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from lxml import etree

_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_XSI_NIL = _XSI + "nil"
_XSI_TYPE = _XSI + "type"
_TAG_CACHE_LIMIT = 256  # distinct tags remembered per type; a hostile reply cannot grow it further

Node: TypeAlias = etree._Element
Decoder: TypeAlias = Callable[[Node], Any]
Writer: TypeAlias = Callable[[list[str], Any], None]
TypeWrite: TypeAlias = Callable[[list[str], str, str, Any], None]


class Unhandled(Exception):
    """Content the plan does not cover: the message goes to the generic codec."""


# Simple kinds: how a text becomes a JSON value (the C loop converts some itself; here the
# converter does all but TEXT).
TEXT, INTEGER, BOOLEAN, NUMBER, CONVERT, COLLAPSE = 0, 1, 2, 3, 4, 7
# Particle kinds beyond the simple ones: a complex element with a plan; any element through a
# Python decoder that takes an lxml element.
ELEMENT, NODE = 5, 6
# Lexical kinds, for encoding (the C writer writes some without calling the Python writer).
L_TEXT, L_INT, L_OTHER, L_ATTR, L_DECIMAL, L_DOUBLE = 0, 1, 2, 3, 4, 5
# How a child element is written: a string, another simple value, a complex value through its
# type's writer, anything else (arrays, substitution groups) through its element's writer.
W_STRING, W_SIMPLE, W_COMPLEX, W_WRITER = 0, 1, 2, 3

_NIL_END = ' xsi:nil="true"/>'
_MISSING = object()
# Particle kinds inside the decoding closure, compared by identity.
_K_TEXT, _K_CONVERT, _K_PLAN, _K_NODE = "text", "convert", "plan", "node"


def _local(tag: str) -> str:
    return tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag


def _same(s: str) -> str:
    return s


def _is_nil(n: Node) -> bool:
    nil = n.get(_XSI_NIL)
    return nil is not None and (nil == "true" or nil == "1")


# ---- decode ---------------------------------------------------------------------------


class Simple:
    """A simple type's text -> JSON value: ``conv`` gives it (None: the text itself)."""

    __slots__ = ("conv", "convert", "hi", "is_decimal", "kind", "lo", "whole")

    def __init__(
        self,
        kind: int,
        conv: Callable[[str], Any] | None = None,
        lo: int | None = None,
        hi: int | None = None,
        is_decimal: bool = False,
        whole: bool = False,
    ) -> None:
        """Take the plan; ``lo``, ``hi``, ``is_decimal`` and ``whole`` only steer the C loop's shortcuts."""
        self.kind = kind
        self.conv = conv
        self.lo, self.hi, self.is_decimal, self.whole = lo, hi, is_decimal, whole
        # convert(text) -> value, the method the C class has: here the converter itself.
        self.convert: Callable[[str], Any] = _same if conv is None else conv


class Attr:
    """An attribute of a complex type: its JSON key, its name, its simple type's plan."""

    __slots__ = ("alt", "key", "simple", "tag")

    def __init__(self, key: str, namespace: str, name: str, simple: Simple) -> None:
        """Looked up as ``{namespace}name``, then (qualification is not trusted) as ``name``."""
        self.key = key
        self.tag = f"{{{namespace}}}{name}" if namespace else name
        self.alt = name if namespace else None
        self.simple = simple


class Particle:
    """A child element of a complex type, with how to decode it: ``simple``, ``plan`` or ``decoder``."""

    __slots__ = ("decoder", "index", "is_array", "kind", "name", "nillable", "plan", "simple")

    def __init__(
        self,
        name: str,
        is_array: bool,
        nillable: bool,
        index: int,
        simple: Simple | None = None,
        plan: TypePlan | None = None,
        decoder: Decoder | None = None,
    ) -> None:
        """``index`` is the particle's place in schema order."""
        self.name = name
        self.is_array = is_array
        self.nillable = nillable
        self.index = index
        self.simple = simple
        self.plan = plan
        self.decoder = decoder
        if plan is not None:
            self.kind = ELEMENT
        elif decoder is not None:
            self.kind = NODE
        else:
            assert simple is not None
            self.kind = simple.kind


def _unfilled(n: Node) -> Any:
    raise Unhandled("a plan used before it was filled")


class TypePlan:
    """One complex type with plain content: its attributes, simpleContent value and elements."""

    __slots__ = ("run",)

    def __init__(self) -> None:
        """An empty plan: registered first, so that recursive types meet their own plan."""
        self.run: Decoder = _unfilled

    def fill(
        self,
        attrs: list[Attr],
        value: Simple | None,
        particles: list[Particle],
        keys: tuple[str, ...],
        subtypes: Decoder | None,
    ) -> None:
        """Complete the plan: ``keys`` is the generic codec's key order; ``subtypes`` decodes a node carrying xsi:type."""
        self.run = _type_decoder(attrs, value, particles, keys, subtypes)

    def decode(self, el: Node) -> dict[str, Any]:
        """An lxml element of this type -> its JSON object."""
        return self.run(el)  # type: ignore[no-any-return]


def _plan_runner(plan: TypePlan) -> Decoder:
    """``plan.run``, or for a plan not filled yet (a recursive type meeting itself) a forwarder to it."""
    if plan.run is not _unfilled:
        return plan.run
    return lambda n: plan.run(n)


def _type_decoder(
    attrs: list[Attr], value: Simple | None, particles: list[Particle], keys: tuple[str, ...], subtypes: Decoder | None
) -> Decoder:
    attr_specs = [(a.key, a.tag, a.alt, a.simple.conv) for a in attrs]
    has_value = value is not None
    vconv = value.conv if value is not None else None
    # Per particle, by local name: (name, is_array, nillable, kind, function, index).
    by_local: dict[str, tuple[str, bool, bool, str, Any, int]] = {}
    for p in particles:
        fn: Any
        if p.plan is not None:
            kind, fn = _K_PLAN, _plan_runner(p.plan)
        elif p.decoder is not None:
            kind, fn = _K_NODE, p.decoder
        else:
            assert p.simple is not None
            fn = p.simple.conv
            kind = _K_TEXT if fn is None else _K_CONVERT
        by_local[p.name] = (p.name, p.is_array, p.nillable, kind, fn, p.index)
    by_tag: dict[str, tuple[str, bool, bool, str, Any, int]] = {}

    def decode(n: Node) -> dict[str, Any]:
        if subtypes is not None and n.get(_XSI_TYPE) is not None:
            return subtypes(n)  # type: ignore[no-any-return]
        out: dict[str, Any] = {}
        for key, tag, alt, aconv in attr_specs:
            raw = n.get(tag)
            if raw is None and alt is not None:
                raw = n.get(alt)
            if raw is not None:
                out[key] = raw if aconv is None else aconv(raw)
        if has_value:
            text = n.text or ""
            out["$value"] = text if vconv is None else vconv(text)
        last = -1
        shuffled = False
        for c in n:
            tag = c.tag
            spec = by_tag.get(tag)  # type: ignore[arg-type]
            if spec is None:
                if not isinstance(tag, str):
                    continue  # a comment or processing instruction
                spec = by_local.get(_local(tag))
                if spec is None:
                    raise Unhandled("an unexpected element")
                if len(by_tag) < _TAG_CACHE_LIMIT:
                    by_tag[tag] = spec
            name, is_array, nillable, kind, fn, i = spec
            if i < last:
                shuffled = True  # out of schema order: keys are put back in order below
            last = i
            if kind is _K_NODE:
                v = fn(c)
            else:
                nil = c.get(_XSI_NIL)
                if nil is not None and (nil == "true" or nil == "1"):
                    if not nillable:
                        raise Unhandled("nil on an element that is not nillable")
                    v = None
                elif kind is _K_TEXT:
                    v = c.text or ""
                elif kind is _K_CONVERT:
                    v = fn(c.text or "")
                else:
                    v = fn(c)
            if is_array:
                items = out.get(name)
                if items is None:
                    out[name] = [v]
                else:
                    items.append(v)
            elif name in out:
                raise Unhandled("a second occurrence of a single element")
            else:
                out[name] = v
        if shuffled:
            out = {k: out[k] for k in keys if k in out}
        return out

    return decode


class ElementPlan:
    """An element of a complex type with a plan: xsi:nil, then the type."""

    __slots__ = ("nillable", "plan")

    def __init__(self, plan: TypePlan, nillable: bool) -> None:
        """The element's type plan and whether it is nillable."""
        self.plan = plan
        self.nillable = nillable

    def __call__(self, el: Node) -> dict[str, Any] | None:
        """An lxml element -> its JSON object, or None when it is nil."""
        if _is_nil(el):
            if not self.nillable:
                raise Unhandled("nil on an element that is not nillable")
            return None
        return self.plan.run(el)  # type: ignore[no-any-return]


# ---- encode ---------------------------------------------------------------------------


class Lexical:
    """A simple value -> its escaped lexical form, as the Python writer ``fn`` gives it."""

    __slots__ = ("fn", "kind")

    def __init__(self, kind: int, fn: Callable[[Any], str]) -> None:
        """``kind`` (an ``L_`` constant) only steers the C writer's shortcuts."""
        self.kind = kind
        self.fn = fn


class Child:
    """A child element of a complex type, as its type's writer writes it (see ``W_STRING`` and co)."""

    __slots__ = ("closed", "fn", "key", "lexical", "mode", "nil", "nillable", "opened")

    def __init__(
        self,
        key: str,
        mode: int,
        opened: str,
        closed: str,
        nil: str,
        nillable: bool,
        lexical: Lexical | None = None,
        fn: Any = None,
    ) -> None:
        """``opened``/``closed`` are its tags, ``nil`` its whole nil form; ``fn`` a type or element writer."""
        self.key = key
        self.mode = mode
        self.opened = opened
        self.closed = closed
        self.nil = nil
        self.nillable = nillable
        self.lexical = lexical
        self.fn = fn


def _unfilled_writer(out: list[str], start: str, close: str, v: Any) -> None:
    raise Unhandled("a writer used before it was filled")


class TypeWriter:
    """Writes an element of one complex type: attributes, simpleContent or child elements."""

    __slots__ = ("write",)

    def __init__(self) -> None:
        """An empty writer: registered first, so that recursive types meet their own writer."""
        self.write: TypeWrite = _unfilled_writer

    def fill(self, attrs: list[tuple[str, str, Lexical]], value: Lexical | None, children: list[Child]) -> None:
        """Complete the writer: attributes as (key, ' name="', Lexical), the simpleContent value, the children."""
        self.write = _type_writer(attrs, value, children)

    def __call__(self, out: list[str], start: str, close: str, v: Any) -> None:
        """Append the element for the JSON object ``v`` to ``out``, between ``start`` (open) and ``close``."""
        self.write(out, start, close, v)


def _type_write(fn: Any) -> TypeWrite:
    """The function a type writer child calls: a filled writer's own, else a forwarder."""
    if isinstance(fn, TypeWriter):
        if fn.write is not _unfilled_writer:
            return fn.write
        return lambda out, start, close, v: fn.write(out, start, close, v)
    return fn  # type: ignore[no-any-return]


def _element_write(fn: Any) -> Writer:
    return fn.write if isinstance(fn, ElementWriter) else fn  # type: ignore[no-any-return]


def _type_writer(attrs: list[tuple[str, str, Lexical]], value: Lexical | None, children: list[Child]) -> TypeWrite:
    attr_specs = [(key, head, lexical.fn) for key, head, lexical in attrs]
    vwrite = value.fn if value is not None else None
    specs: list[tuple[str, int, str, str, str, bool, Any]] = []
    for c in children:
        fn: Any = None
        if c.mode == W_SIMPLE:
            assert c.lexical is not None
            fn = c.lexical.fn
        elif c.mode == W_COMPLEX:
            fn = _type_write(c.fn)
        elif c.mode == W_WRITER:
            fn = _element_write(c.fn)
        specs.append((c.key, c.mode, c.opened, c.closed, c.nil, c.nillable, fn))

    def write(out: list[str], start: str, close: str, v: Any) -> None:
        if type(v) is not dict or "$type" in v:
            raise Unhandled("an object without $type was expected")
        used = 0
        for key, head, lexical in attr_specs:
            a = v.get(key, _MISSING)
            if a is not _MISSING:
                used += 1
                start += head + lexical(a) + '"'
        if vwrite is not None:
            text = v.get("$value", _MISSING)
            if text is not _MISSING:
                out.append(start + ">" + vwrite(text) + close)
                if used + 1 != len(v):
                    raise Unhandled("unknown fields")
                return
        mark = len(out)
        out.append(start + ">")
        for key, mode, opened, closed, nil, nillable, fn in specs:
            c = v.get(key, _MISSING)
            if c is _MISSING:
                continue
            used += 1
            if c is None and mode != W_WRITER:
                if not nillable:
                    raise Unhandled("null on an element that is not nillable")
                out.append(nil)
            elif mode == W_STRING:
                if type(c) is not str:
                    raise Unhandled("a string was expected")
                if "&" in c or "<" in c or ">" in c or "\r" in c:  # four tests cost less than one regex search
                    c = c.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
                out.append(opened + c + closed)
            elif mode == W_SIMPLE:
                out.append(opened + fn(c) + closed)
            elif mode == W_COMPLEX:
                fn(out, opened, closed, c)
            else:
                fn(out, c)
        if used != len(v):
            raise Unhandled("unknown fields")
        if len(out) == mark + 1:
            out[mark] = start + "/>"
        else:
            out.append(close)

    return write


class ElementWriter:
    """Writes an element (every occurrence, for an array) from its JSON value."""

    __slots__ = ("write",)

    def __init__(self, start: str, close: str, nil: bool, is_array: bool, lexical: Lexical | None = None, tw: Any = None) -> None:
        """``start`` is the open tag without its ``>``; a simple type has ``lexical``, a complex one ``tw``."""
        self.write: Writer = _element_writer(start, close, nil, is_array, lexical, tw)

    def __call__(self, out: list[str], v: Any) -> None:
        """Append the element(s) for the JSON value ``v`` to ``out``."""
        self.write(out, v)


def _element_writer(start: str, close: str, nil: bool, is_array: bool, lexical: Lexical | None, tw: Any) -> Writer:
    one: Writer
    if lexical is not None:
        fn = lexical.fn
        opened = start + ">"

        def simple(out: list[str], v: Any) -> None:
            if v is None:
                if not nil:
                    raise Unhandled("null on an element that is not nillable")
                out.append(start + _NIL_END)
            else:
                out.append(opened + fn(v) + close)

        one = simple
    else:
        write = _type_write(tw)

        def complex_(out: list[str], v: Any) -> None:
            if v is None:
                if not nil:
                    raise Unhandled("null on an element that is not nillable")
                out.append(start + _NIL_END)
            else:
                write(out, start, close, v)

        one = complex_
    if not is_array:
        return one

    def many(out: list[str], v: Any) -> None:
        if type(v) is not list:
            raise Unhandled("an array was expected")
        for item in v:
            one(out, item)

    return many
