"""XML <-> JSON over the model, following the conventions in ``bridge.jsonschema``.

Encoding trusts that the data already passed the operation's JSON Schema, but still raises
``ValidationError`` (never a crash) on values XML cannot carry. Decoding is lenient about
namespace qualification (servers get it wrong often) and strict about values: a reply that
does not fit its schema raises ``DecodeError``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from lxml import etree

from .errors import DecodeError, ValidationError, Violation
from .jsonschema import all_derived, attribute_key, element_keys
from .model import (
    HEADERS_KEY,
    XSD_NS,
    XSI_NS,
    Attribute,
    ComplexType,
    Element,
    Fault,
    Group,
    Message,
    Operation,
    QName,
    ServiceModel,
    SimpleType,
    XsdType,
    unwrapped_part,
)
from .model import (
    Any as AnyParticle,
)
from .namespaces import SOAP11_ENV, SOAP12_ENC, SOAP12_ENV, SOAPENC
from .xsd.lexical import from_lexical, to_lexical
from .xsd.lexical import invalid as _invalid

XSI_TYPE = f"{{{XSI_NS}}}type"
XSI_NIL = f"{{{XSI_NS}}}nil"
# SOAP 1.1-era stacks write nil as xsi:null="1", in the XSI namespaces of the 1999 and 2000 drafts;
# read in use="encoded" messages only, where every accessor may be null (SOAP 1.1 section 5.1).
_XSI_NULL = ("{http://www.w3.org/1999/XMLSchema-instance}null", "{http://www.w3.org/2000/10/XMLSchema-instance}null")
SOAPENC_ARRAY_TYPE = f"{{{SOAPENC}}}arrayType"
# Attributes of the XSI, SOAP envelope and SOAP encoding namespaces belong to the protocol,
# never to xs:anyAttribute content.
_PROTOCOL_ATTRIBUTES = tuple(
    f"{{{ns}}}"
    for ns in (
        XSI_NS,
        SOAPENC,
        SOAP12_ENC,
        SOAP11_ENV,
        SOAP12_ENV,
    )
)
# Characters outside XML 1.0's Char production: what lxml refuses to write (a regex is far
# cheaper than trying an lxml element per value).
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# True while the body of a use="encoded" message is written (every accessor then carries
# xsi:type, SOAP 1.1 section 5) or read (xsi:null is nil too). A context variable, so nested encode calls need no flag
# and concurrent threads or tasks do not see each other's setting.
_SOAP_ENCODED: ContextVar[bool] = ContextVar("soapbridge_soap_encoded", default=False)
# Set (to a list collecting what was relaxed, as "pointer: reason") while a reply is decoded under
# reply_validation lax or off: structural breaks of the WSDL are then kept past instead of raised.
# Values that do not parse stay errors: a wrong value passed on as typed JSON would be worse.
LAX: ContextVar[list[str] | None] = ContextVar("soapbridge_lax_decoding", default=None)


def _relax(ptr: str, reason: str) -> bool:
    """Records a structural break and says whether to keep past it (only when decoding laxly)."""
    relaxed = LAX.get()
    if relaxed is None:
        return False
    relaxed.append(f"{ptr or '/'}: {reason}")
    return True


def _tag(q: QName) -> str:
    return f"{{{q.namespace}}}{q.name}" if q.namespace else q.name


def _ptr(base: str, key: str | int) -> str:
    return f"{base}/{str(key).replace('~', '~0').replace('/', '~1')}"


# --- complex values -----------------------------------------------------------------


class Codec:
    """The generic codec: XML <-> JSON over the model, node by node; the reference the compiled codec falls back to."""

    def __init__(self, model: ServiceModel) -> None:
        """A codec for the types and operations of ``model``."""
        self.model = model
        self._keys: dict[int, tuple[set[str], list[tuple[str, Attribute]]]] = {}
        self._declared_cache: dict[int, set[str]] = {}
        self._shapes: dict[int, MessageShape] = {}

    # layout of a complex type: element keys and (key, attribute) pairs
    def _declared(self, t: ComplexType) -> set[str]:
        """Element names the type declares, cached per type: computed once, not per decoded node."""
        names = self._declared_cache.get(id(t))
        if names is None:
            names = self._declared_cache[id(t)] = _declared_names(t)
        return names

    def _layout(self, t: ComplexType) -> tuple[set[str], list[tuple[str, Attribute]]]:
        cached = self._keys.get(id(t))
        if cached is None:
            ekeys = element_keys(t)
            attrs = [(attribute_key(a, ekeys), a) for a in t.all_attributes() if not a.prohibited]
            cached = (ekeys, attrs)
            self._keys[id(t)] = cached
        return cached

    # ---- encode -------------------------------------------------------------------

    def encode_element(self, parent: etree._Element | None, el: Element, value: Any, ptr: str, *, encoded: bool = False) -> list[etree._Element]:
        """The element(s) for the JSON ``value`` (every item, for an array), appended to ``parent`` when given."""
        values = value if el.is_array else [value]
        if el.is_array and not isinstance(value, list):
            raise _invalid(ptr, "expected an array")
        out = []
        for i, v in enumerate(values):
            p = _ptr(ptr, i) if el.is_array else ptr
            target, v = self._substitute(el, v, p)  # a substitution group member named by "$element"
            t = target.type
            derived = self._derived_for(t, v, p)
            nsmap: dict[str | None, str] = {}
            type_prefix = ""
            enc_prefixes: dict[str, str] = {}
            if derived is not None and derived.qname is not None:
                nsmap = {"xsi": XSI_NS}
                if derived.qname.namespace:
                    type_prefix, declare = _type_prefix(parent, derived.qname.namespace)
                    if declare:
                        nsmap[type_prefix] = derived.qname.namespace
            elif encoded or _SOAP_ENCODED.get():
                nsmap, enc_prefixes = _encoded_nsmap(parent, _encoded_namespaces(t))
            tag = _tag(target.qname)
            node = etree.Element(tag, nsmap=nsmap or None) if parent is None else etree.SubElement(parent, tag, nsmap=nsmap or None)
            out.append(node)
            if v is None:
                if not target.nillable:
                    raise _invalid(p, "null is not allowed: the element is not nillable")
                if derived is None and (encoded or _SOAP_ENCODED.get()):
                    _set_encoded_type(node, t, None, enc_prefixes)  # as Axis writes a null: typed, then nil
                node.set(XSI_NIL, "true")
                continue
            if derived is not None:
                assert derived.qname is not None
                node.set(XSI_TYPE, f"{type_prefix}:{derived.qname.name}" if type_prefix else derived.qname.name)
                t = derived
            elif encoded or _SOAP_ENCODED.get():
                _set_encoded_type(node, t, v, enc_prefixes)
            self.encode_value(node, t, v, p)
        return out

    @staticmethod
    def _substitute(el: Element, v: Any, ptr: str) -> tuple[Element, Any]:
        """The element to write for one value: ``el`` itself, or the member of its substitution
        group named by ``"$element"`` with the rest of the value (``"$value"`` for a simple or nil one)."""
        if not el.substitutes or not isinstance(v, dict) or "$element" not in v:
            return el, v
        name = v["$element"]
        member = next((m for m in [el, *el.substitutes] if m.qname.name == name and not m.abstract), None)
        if member is None:
            names = ", ".join(m.qname.name for m in [el, *el.substitutes] if not m.abstract)
            raise _invalid(_ptr(ptr, "$element"), f"{name!r} is not an element that may stand for {el.qname.name} (one of: {names})")
        rest = {k: x for k, x in v.items() if k != "$element"}
        if isinstance(member.type, SimpleType) or rest == {"$value": None}:
            if set(rest) != {"$value"}:
                raise _invalid(ptr, f'{name} is written as {{"$element": "{name}", "$value": ...}}')
            return member, rest["$value"]
        return member, rest

    def _derived_for(self, t: XsdType, v: Any, ptr: str) -> ComplexType | None:
        if not isinstance(t, ComplexType) or not isinstance(v, dict) or "$type" not in v:
            return None
        name = v["$type"]
        if t.qname is not None and t.qname.name == name and not t.derived:
            return None
        for d in [t, *all_derived(t)]:
            if d.qname is not None and d.qname.name == name:
                return None if d is t else d
        raise _invalid(_ptr(ptr, "$type"), f"{name!r} is not {t.qname.name if t.qname else 'the type'} or a type derived from it")

    def encode_value(self, node: etree._Element, t: XsdType, v: Any, ptr: str) -> None:
        """Write the JSON value ``v`` of type ``t`` into ``node``: text, attributes and children."""
        if isinstance(t, SimpleType):
            self._set_text(node, to_lexical(t, v, ptr), ptr)
            return
        if t.soapenc_array_item is not None:
            if not isinstance(v, list):
                raise _invalid(ptr, "expected an array")
            item_el = Element(QName("", "item"), t.soapenc_array_item, 0, None, nillable=True)
            for i, item in enumerate(v):
                self.encode_element(node, Element(item_el.qname, item_el.type, nillable=True), item, _ptr(ptr, i))
            return
        if not isinstance(v, dict):
            raise _invalid(ptr, "expected an object")
        _, attrs = self._layout(t)
        used = {"$type"}
        for key, a in attrs:
            if key in v:
                used.add(key)
                node.set(_tag(a.qname), self._check_chars(to_lexical(a.type, v[key], _ptr(ptr, key)), _ptr(ptr, key)))
        vt = t.value_type()
        if vt is not None and "$value" in v:
            used.add("$value")
            self._set_text(node, to_lexical(vt, v["$value"], _ptr(ptr, "$value")), _ptr(ptr, "$value"))
        if t.mixed and "$text" in v:
            used.add("$text")
            self._set_text(node, str(v["$text"]), _ptr(ptr, "$text"))
        if t.any_attribute_inherited():
            for k, val in v.items():
                if k.startswith("@") and k not in used:  # xs:anyAttribute: "@name" or "@{namespace}name"
                    used.add(k)
                    _set_generic_attribute(node, k[1:], val, _ptr(ptr, k))
        for g in t.content_chain():
            self._encode_group(node, g, v, ptr, used)
        unknown = [k for k in v if k not in used]
        if unknown:
            raise ValidationError(
                f"{ptr or '/'}: unknown field(s) {', '.join(unknown)}",
                [Violation(_ptr(ptr, k), "is not a field of this type") for k in unknown],
            )

    def _encode_group(self, node: etree._Element, g: Group, v: dict[str, Any], ptr: str, used: set[str]) -> None:
        if g.is_array:
            key = f"${g.kind}"
            if key not in v:
                return
            used.add(key)
            items = v[key]
            if not isinstance(items, list):
                raise _invalid(_ptr(ptr, key), "expected an array")
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise _invalid(_ptr(_ptr(ptr, key), i), "expected an object")
                inner_used: set[str] = set()
                self._encode_group(node, Group(g.kind, g.particles), item, _ptr(_ptr(ptr, key), i), inner_used)
                extra = set(item) - inner_used
                if extra:
                    raise _invalid(_ptr(_ptr(ptr, key), i), f"unknown field(s) {', '.join(sorted(extra))}")
            return
        for p in g.particles:
            if isinstance(p, Element):
                key = p.qname.name
                if key in v and key not in used:
                    used.add(key)
                    self.encode_element(node, p, v[key], _ptr(ptr, key))
            elif isinstance(p, Group):
                self._encode_group(node, p, v, ptr, used)
            elif isinstance(p, AnyParticle) and "$any" in v and "$any" not in used:
                used.add("$any")
                self._encode_any(node, v["$any"], _ptr(ptr, "$any"))

    def _encode_any(self, node: etree._Element, items: Any, ptr: str) -> None:
        if not isinstance(items, list):
            raise _invalid(ptr, "expected an array of {element name: content} objects")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or len(item) != 1:
                raise _invalid(_ptr(ptr, i), "each item must map one element name to its content")
            ((name, content),) = item.items()
            _from_generic(node, name, content, "", _ptr(_ptr(ptr, i), name))

    def _set_text(self, node: etree._Element, text: str, ptr: str) -> None:
        node.text = self._check_chars(text, ptr)

    @staticmethod
    def _check_chars(text: str, ptr: str) -> str:
        if _NOT_XML_CHAR.search(text):
            raise _invalid(ptr, "contains characters that XML cannot carry (control characters or NUL)")
        return text

    # ---- decode -------------------------------------------------------------------

    def decode_element(self, nodes: list[etree._Element], el: Element, ptr: str) -> Any:
        """The JSON value of an element's occurrences (a list for an array); ``ptr`` names it in errors."""
        if el.is_array:
            return [self.decode_node(n, el, _ptr(ptr, i)) for i, n in enumerate(nodes)]
        if len(nodes) > 1 and not _relax(ptr, f"{el.qname.name} occurs {len(nodes)} times but allows one: kept the first"):
            raise DecodeError(ptr, f"{el.qname.name} occurs {len(nodes)} times but allows one")
        return self.decode_node(nodes[0], el, ptr)

    def decode_node(self, node: etree._Element, el: Element, ptr: str) -> Any:
        """The JSON value of one occurrence of ``el``: substitution group members, nil, defaults, then its type."""
        if el.substitutes:
            member = _member_of(node, el)
            if member is not None:  # a substitution group member: named by "$element"
                value = self.decode_node(node, member, ptr)
                if isinstance(value, dict) and isinstance(member.type, ComplexType):
                    return {"$element": member.qname.name, **value}
                return {"$element": member.qname.name, "$value": value}
        nil = node.get(XSI_NIL)
        if nil is None and _SOAP_ENCODED.get():
            nil = node.get(_XSI_NULL[0]) or node.get(_XSI_NULL[1])
        if nil in ("true", "1"):
            if not el.nillable and not _relax(ptr, f"{el.qname.name} is nil but not nillable: passed on as null"):
                raise DecodeError(ptr, f"{el.qname.name} is nil but not nillable")
            return None
        preset = el.fixed if el.fixed is not None else el.default
        if preset is not None and isinstance(el.type, SimpleType) and not node.text and not len(node):
            return from_lexical(el.type, preset, ptr)  # XSD: an empty element takes its default or fixed value
        return self.decode_value(node, el.type, ptr)

    def decode_value(self, node: etree._Element, t: XsdType, ptr: str) -> Any:
        """The JSON value of ``node`` as type ``t`` (or the derived type its xsi:type names)."""
        type_name: str | None = None
        xt = node.get(XSI_TYPE)
        if xt and isinstance(t, ComplexType):
            derived = self._resolve_xsi_type(node, xt, t)
            if derived is not None and derived is not t:
                t = derived
                type_name = derived.qname.name if derived.qname else None
        if isinstance(t, SimpleType):
            return from_lexical(t, node.text or "", ptr)
        if t.soapenc_array_item is not None:
            item = Element(QName("", "item"), t.soapenc_array_item, nillable=True)  # SOAP 1.1 section 5.1
            return [self.decode_node(c, item, _ptr(ptr, i)) for i, c in enumerate(_children(node))]
        out: dict[str, Any] = {}
        if type_name is not None:
            out["$type"] = type_name
        ekeys, attrs = self._layout(t)
        for key, a in attrs:
            raw = node.get(_tag(a.qname))
            if raw is None and a.qname.namespace:
                raw = node.get(a.qname.name)
            if raw is None:
                if a.fixed is not None or a.default is not None:
                    continue
                continue
            out[key] = from_lexical(a.type, raw, _ptr(ptr, key))
        if t.any_attribute_inherited():  # xs:anyAttribute: "@name" or "@{namespace}name"
            declared = {_tag(a.qname) for _, a in attrs} | {a.qname.name for _, a in attrs}
            for name, raw in node.attrib.items():
                if name not in declared and not name.startswith(_PROTOCOL_ATTRIBUTES):
                    out[f"@{name}"] = raw
        vt = t.value_type()
        if vt is not None:
            out["$value"] = from_lexical(vt, node.text or "", _ptr(ptr, "$value"))
        children = _children(node)
        pool = _Pool(children, self._declared(t))
        for g in t.content_chain():
            self._decode_group(pool, g, out, ptr)
        if pool.left:
            if _has_any(t) and "$any" not in out:
                out["$any"] = [_to_generic(c) for c in pool.left]
            else:
                names = ", ".join(sorted({etree.QName(c).localname for c in pool.left}))
                if not _relax(ptr, f"unexpected element(s) left out: {names}"):
                    raise DecodeError(ptr, f"unexpected element(s): {names}")
        if t.mixed and vt is None and not ekeys and (node.text or "").strip():
            out["$text"] = node.text
        return out

    def _resolve_xsi_type(self, node: etree._Element, value: str, base: ComplexType) -> ComplexType | None:
        prefix, _, local = value.rpartition(":")
        ns = node.nsmap.get(prefix or None, "")
        found = self.model.types.get(QName(ns or "", local))
        candidates = [base, *all_derived(base)]
        if isinstance(found, ComplexType) and any(found is c for c in candidates):
            return found
        for c in candidates:  # namespace-lenient fallback
            if c.qname is not None and c.qname.name == local:
                return c
        return None

    def _decode_group(self, pool: _Pool, g: Group, out: dict[str, Any], ptr: str, *, single: bool = False) -> None:
        # single: inside one occurrence of a repeating group, take one occurrence per element.
        if g.is_array and g.kind == "choice":
            self._decode_repeated_choice(pool, g, out, ptr)
            return
        if g.is_array:
            key = f"${g.kind}"
            items: list[dict[str, Any]] = []
            while True:
                item: dict[str, Any] = {}
                self._decode_group(pool, Group(g.kind, g.particles), item, _ptr(_ptr(ptr, key), len(items)), single=True)
                if not item:
                    break
                items.append(item)
                if g.max_occurs is not None and len(items) >= g.max_occurs:
                    break
            if items:
                out[key] = items
            return
        for p in g.particles:
            if isinstance(p, Element):
                nodes = pool.take(p, limit=(p.max_occurs or 1 if single else None))
                if nodes:
                    out[p.qname.name] = self.decode_element(nodes, p, _ptr(ptr, p.qname.name))
            elif isinstance(p, Group):
                self._decode_group(pool, p, out, ptr, single=single)
            elif isinstance(p, AnyParticle):
                nodes = pool.take_undeclared(limit=1 if single else None)
                if nodes:
                    out.setdefault("$any", []).extend(_to_generic(n) for n in nodes)

    def _decode_repeated_choice(self, pool: _Pool, g: Group, out: dict[str, Any], ptr: str) -> None:
        """A choice with maxOccurs > 1 in document order: each item holds one branch, and
        consecutive occurrences of an array branch stay in one item."""
        key = f"${g.kind}"
        branch_names = [_particle_names(p) for p in g.particles]
        items: list[dict[str, Any]] = []
        runs: list[tuple[int, list[etree._Element]]] = []
        for c in list(pool.left):
            local = etree.QName(c).localname
            b = next((i for i, names in enumerate(branch_names) if names is not None and local in names), None)
            if b is None:
                b = next((i for i, p in enumerate(g.particles) if isinstance(p, AnyParticle) and local not in pool.declared), None)
            if b is None:
                continue
            p = g.particles[b]
            if runs and runs[-1][0] == b and (not isinstance(p, Element) or p.is_array):
                runs[-1][1].append(c)
            else:
                runs.append((b, [c]))
        for b, nodes in runs:
            p = g.particles[b]
            item_ptr = _ptr(_ptr(ptr, key), len(items))
            pool.remove(nodes)
            item: dict[str, Any] = {}
            if isinstance(p, Element):
                item[p.qname.name] = self.decode_element(nodes, p, _ptr(item_ptr, p.qname.name))
            elif isinstance(p, AnyParticle):
                item["$any"] = [_to_generic(n) for n in nodes]
            else:
                sub = _Pool(nodes, pool.declared)
                self._decode_group(sub, p, item, item_ptr)
            items.append(item)
        if items:
            out[key] = items

    # ---- messages -----------------------------------------------------------------

    def encode_message(self, op: Operation, msg: Message, data: Any, *, response: bool = False) -> tuple[list[etree._Element], list[etree._Element]]:
        """JSON data -> (SOAP header elements, SOAP body elements)."""
        if not isinstance(data, dict):
            raise _invalid("", "expected a JSON object")
        data = dict(data)
        headers_data = data.pop(HEADERS_KEY, None) or {}
        headers: list[etree._Element] = []
        for part in msg.header_parts:
            if part.name in headers_data:
                headers.extend(self.encode_element(None, part.element, headers_data[part.name], _ptr(_ptr("", HEADERS_KEY), part.name)))
        unknown_headers = set(headers_data) - {p.name for p in msg.header_parts}
        if unknown_headers:
            raise _invalid(_ptr("", HEADERS_KEY), f"unknown header(s): {', '.join(sorted(unknown_headers))}")
        encoded = op.use == "encoded"
        wrapped = unwrapped_part(op, msg)
        if wrapped is not None:
            token = _SOAP_ENCODED.set(encoded)
            try:
                return headers, self.encode_element(None, wrapped.element, data, "", encoded=encoded)
            finally:
                _SOAP_ENCODED.reset(token)
        parts = msg.body_parts
        unknown = set(data) - {p.name for p in parts}
        if unknown:
            raise ValidationError(
                "unknown field(s)", [Violation(_ptr("", k), "is not a part of this message") for k in sorted(unknown)]
            )
        # rpc: the wrapper is made first and the accessors inside it, so QName values (xsi:type,
        # soapenc:arrayType) are written with prefixes that stay declared in the envelope.
        wrapper: etree._Element | None = None
        if op.style == "rpc":
            name = op.name + ("Response" if response else "")
            wrapper_nsmap: dict[str | None, str] = {"m": op.rpc_namespace} if op.rpc_namespace else {}
            if encoded:
                wrapper_nsmap.update({"xsi": XSI_NS, "xsd": XSD_NS, "soapenc": SOAPENC})
            wrapper = etree.Element(f"{{{op.rpc_namespace}}}{name}" if op.rpc_namespace else name, nsmap=wrapper_nsmap or None)
            if encoded:
                wrapper.set(f"{{{_env_ns(op)}}}encodingStyle", SOAPENC)
        children: list[etree._Element] = []
        token = _SOAP_ENCODED.set(encoded)
        try:
            for part in parts:
                if part.name not in data:
                    if op.style == "rpc" or part.element.min_occurs > 0:
                        raise _invalid(_ptr("", part.name), "is required")
                    continue
                children.extend(self.encode_element(wrapper, part.element, data[part.name], _ptr("", part.name), encoded=encoded))
        finally:
            _SOAP_ENCODED.reset(token)
        if wrapper is not None:
            return headers, [wrapper]
        return headers, children

    def decode_message(self, op: Operation, msg: Message, body: list[etree._Element], header: list[etree._Element]) -> dict[str, Any]:
        """The JSON object of a message from its SOAP Body and Header children; raises ``DecodeError``."""
        if op.use != "encoded":
            return self._decode_message(op, msg, body, header)
        token = _SOAP_ENCODED.set(True)
        try:
            return self._decode_message(op, msg, _inline_multirefs(body), header)
        finally:
            _SOAP_ENCODED.reset(token)

    def _decode_message(self, op: Operation, msg: Message, body: list[etree._Element], header: list[etree._Element]) -> dict[str, Any]:
        return read_message(self.shape(op, msg), body, header, self.decode_element)

    def shape(self, op: Operation, msg: Message) -> MessageShape:
        """The message's shape, worked out on first use (the WSDL reader makes each message for one operation)."""
        shape = self._shapes.get(id(msg))
        if shape is None:
            shape = self._shapes[id(msg)] = MessageShape(op, msg)
        return shape

    def decode_fault_detail(self, op: Operation, detail: list[etree._Element], *, undeclared: bool = False) -> tuple[str | None, Any]:
        """Match a fault's detail against the operation's declared faults: the first detail entry
        that is a declared fault's element, or that carries the xsi:type of a fault part declared
        by type (Axis 1.4 names that entry after the Java class). Entries beside it (Axis adds a
        stack trace and the host name) are never passed on; when nothing matches, the entries go
        out as generic JSON only if ``undeclared``."""
        for node in detail:
            f = _declared_fault(op, node) or _typed_fault(op, node)
            if f is not None and f.element is not None:
                try:
                    return f.name, self.decode_node(node, f.element, "")
                except DecodeError:
                    return f.name, _to_generic(node)
        if detail and undeclared:
            return None, {k: v for c in detail for k, v in _to_generic(c).items()}
        return None, None


ElementReader = Callable[[list[etree._Element], Element, str], Any]


class MessageShape:
    """What reading a message needs to know of it, worked out once per operation and message."""

    __slots__ = ("body_parts", "header_parts", "rpc", "tag", "wrapped")

    def __init__(self, op: Operation, msg: Message) -> None:
        """The shape of ``msg`` as ``op`` sends or receives it."""
        self.wrapped = unwrapped_part(op, msg)
        self.tag = _tag(self.wrapped.element.qname) if self.wrapped is not None else ""  # as the schema qualifies it
        self.body_parts = msg.body_parts
        self.header_parts = msg.header_parts
        self.rpc = op.style == "rpc"


def read_message(
    shape: MessageShape,
    body: list[etree._Element],
    header: list[etree._Element],
    element: ElementReader,
    *,
    error: Callable[[str, str], Exception] = DecodeError,
    relax: Callable[[str, str], bool] = _relax,
) -> dict[str, Any]:
    """The message loop both codecs run (``compiled.py`` too): the body and header parts of a
    message as one JSON object. ``element(nodes, el, ptr)`` decodes the nodes of one part; where
    the message does not fit, ``relax(ptr, reason)`` may keep past it, else ``error(ptr, message)``
    is raised (the compiled codec gives the message up instead)."""
    out: dict[str, Any]
    wrapped = shape.wrapped
    if wrapped is not None:
        node = body[0] if body and body[0].tag == shape.tag else None
        if node is None:  # qualification is not trusted: the first child with the local name
            name = wrapped.element.qname.name
            node = next((c for c in body if isinstance(c.tag, str) and _localname(c.tag) == name), None)
            if node is None:
                got = body[0].tag if body else "an empty Body"
                raise error("", f"expected {wrapped.element.qname} in the SOAP Body, got {got}")
        value = element([node], wrapped.element, "")
        out = value if isinstance(value, dict) else {"value": value}
    else:
        out = {}
        container = body
        if shape.rpc:
            if not body:
                raise error("", "empty SOAP Body, expected the rpc wrapper element")
            container = _children(body[0])
        pool = _Pool(container)
        for part in shape.body_parts:
            nodes = pool.take(part.element)
            if not nodes:
                if (shape.rpc or part.element.min_occurs > 0) and not relax(_ptr("", part.name), "missing from the SOAP Body: left out"):
                    raise error(_ptr("", part.name), "missing from the SOAP Body")
                continue
            out[part.name] = element(nodes, part.element, _ptr("", part.name))
    if shape.header_parts:
        hpool = _Pool(header)
        hdata: dict[str, Any] = {}
        for part in shape.header_parts:
            nodes = hpool.take(part.element)
            if nodes:
                hdata[part.name] = element(nodes, part.element, _ptr(_ptr("", HEADERS_KEY), part.name))
        if hdata:
            out[HEADERS_KEY] = hdata
    return out


def _localname(tag: str) -> str:
    return tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag


def to_json_ready(value: Any) -> Any:
    """Decimal -> int or float, recursively; everything else is already JSON-ready."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_ready(v) for v in value]
    return value


def _type_prefix(parent: etree._Element | None, namespace: str) -> tuple[str, bool]:
    """The prefix to write an xsi:type QName with, and whether the new element must declare it.

    A prefix already in scope for the namespace is reused: lxml drops a second declaration of
    an in-scope namespace when the tree is moved into the envelope, and the prefix in the
    attribute value would then be undeclared."""
    in_scope = parent.nsmap if parent is not None else {}
    for prefix, uri in in_scope.items():
        if prefix and uri == namespace:
            return prefix, False
    prefix, n = "t", 1
    while prefix in in_scope:
        prefix, n = f"t{n}", n + 1
    return prefix, True


def _encoded_type(t: XsdType) -> QName | None:
    """The xsi:type of a SOAP-encoded accessor of type ``t``: the declared type, the built-in
    of an anonymous simple type, soapenc:Array for an encoded array; None when nothing fits
    (anonymous complex types, anyType)."""
    if isinstance(t, SimpleType):
        if t.qname is not None:
            return t.qname
        return QName(XSD_NS, t.builtin) if t.variety == "atomic" else None
    if t.soapenc_array_item is not None:
        return QName(SOAPENC, "Array")
    if t.qname is not None and t.qname == QName(XSD_NS, "anyType"):
        return None
    return t.qname


def _array_item_type(t: XsdType) -> QName:
    """The item type named in soapenc:arrayType (xsd:anyType when it has no name)."""
    return _encoded_type(t) or QName(XSD_NS, "anyType")


def _encoded_namespaces(t: XsdType) -> list[str]:
    names = [_encoded_type(t)]
    if isinstance(t, ComplexType) and t.soapenc_array_item is not None:
        names.append(_array_item_type(t.soapenc_array_item))
    return [q.namespace for q in names if q is not None and q.namespace]


_FIXED_PREFIXES = {XSD_NS: "xsd", SOAPENC: "soapenc", XSI_NS: "xsi"}


def _encoded_nsmap(parent: etree._Element | None, namespaces: list[str]) -> tuple[dict[str | None, str], dict[str, str]]:
    """Declarations a new encoded accessor needs for its QName values, and the prefix of each
    namespace. xsd, xsi and soapenc always use those prefixes (the envelope declares xsd and xsi
    so; lxml drops a declaration the envelope repeats, and a different prefix would then dangle);
    other namespaces reuse a prefix in scope, else get a fresh one."""
    in_scope: dict[str | None, str] = dict(parent.nsmap) if parent is not None else {}
    nsmap: dict[str | None, str] = {}
    prefixes: dict[str, str] = {}
    for ns in [XSI_NS, *namespaces]:
        if ns in prefixes:
            continue
        fixed = _FIXED_PREFIXES.get(ns)
        if fixed is None:
            fixed = next((p for p, u in in_scope.items() if p and u == ns), None)
            if fixed is None:
                fixed, n = "t", 1
                while fixed in in_scope or fixed in nsmap:
                    fixed, n = f"t{n}", n + 1
        if in_scope.get(fixed) != ns:
            nsmap[fixed] = ns
        prefixes[ns] = fixed
    return nsmap, prefixes


def _set_encoded_type(node: etree._Element, t: XsdType, value: Any, prefixes: dict[str, str]) -> None:
    """xsi:type on an encoded accessor, and soapenc:arrayType="xsd:string[2]" on an encoded array."""

    def text(q: QName) -> str:
        return f"{prefixes[q.namespace]}:{q.name}" if q.namespace else q.name

    q = _encoded_type(t)
    if q is not None:
        node.set(XSI_TYPE, text(q))
    if isinstance(t, ComplexType) and t.soapenc_array_item is not None and isinstance(value, list):
        node.set(SOAPENC_ARRAY_TYPE, f"{text(_array_item_type(t.soapenc_array_item))}[{len(value)}]")


_MAX_HREF_DEPTH = 64
_MAX_HREF_ELEMENTS = 200_000  # multiRef sharing could otherwise expand exponentially


def _inline_multirefs(body: list[etree._Element]) -> list[etree._Element]:
    """SOAP 1.1 section 5 multi-reference values: every accessor with ``href="#id"`` is replaced
    by a copy of the element carrying that ``id`` (Axis writes complex values as top-level
    ``multiRef`` elements this way), and the referenced top-level elements leave the body.
    The input is not modified. Unknown ids and reference cycles raise ``DecodeError``."""
    if not any(isinstance(e.tag, str) and e.get("href") for top in body for e in top.iter()):
        return body
    body = [copy.deepcopy(top) for top in body]
    ids: dict[str, etree._Element] = {}
    for top in body:
        for e in top.iter():
            if isinstance(e.tag, str) and e.get("id") is not None:
                ids[e.get("id", "")] = e
    referenced: set[str] = set()
    budget = [max(_MAX_HREF_ELEMENTS, 10 * sum(1 for top in body for _ in top.iter()))]

    def expand(node: etree._Element, depth: int) -> None:
        for child in list(node):
            if not isinstance(child.tag, str):
                continue
            href = child.get("href")
            if href is not None:
                if not href.startswith("#") or href[1:] not in ids:
                    raise DecodeError("", f"href {href!r} points at no element of the SOAP Body")
                if depth >= _MAX_HREF_DEPTH:
                    raise DecodeError("", f"href {href!r}: references nest deeper than {_MAX_HREF_DEPTH} (a cycle?)")
                referenced.add(href[1:])
                value = copy.deepcopy(ids[href[1:]])
                budget[0] -= sum(1 for _ in value.iter())
                if budget[0] < 0:
                    raise DecodeError("", "multi-reference (href) values expand to too many elements")
                value.tag = child.tag
                for attr in ("id", f"{{{SOAPENC}}}root"):
                    value.attrib.pop(attr, None)
                for k, v in child.attrib.items():
                    if k != "href" and k not in value.attrib:
                        value.set(k, v)
                value.tail = child.tail
                node.replace(child, value)
                child = value
            expand(child, depth + 1 if href is not None else depth)

    for top in body:
        expand(top, 0)
    return [top for top in body if top.get("id") not in referenced]


def _env_ns(op: Operation) -> str:
    return SOAP11_ENV if op.soap_version == "1.1" else SOAP12_ENV


def _children(node: etree._Element) -> list[etree._Element]:
    return [c for c in node if isinstance(c.tag, str)]


def _declared_fault(op: Operation, node: etree._Element) -> Fault | None:
    """The declared fault whose detail element this is: by qualified name, else by local name alone
    when exactly one declared fault has it. Some stacks write the detail element unqualified
    (spyne serialises a fault's dict detail with no namespace), so the local name must do, but
    only where it cannot pick the wrong fault."""
    qn = etree.QName(node)
    declared = [(f, f.element.qname) for f in op.faults if f.element is not None]
    exact = QName(qn.namespace or "", qn.localname)
    for f, q in declared:
        if q == exact:
            return f
    same_name = [f for f, q in declared if q.name == qn.localname]
    return same_name[0] if len(same_name) == 1 else None


def _typed_fault(op: Operation, node: etree._Element) -> Fault | None:
    """The fault declared by type (``<part type=...>``) whose type the entry's xsi:type names: by
    qualified name, else by local name when exactly one such fault has it."""
    xt = node.get(XSI_TYPE)
    if not xt:
        return None
    prefix, _, local = xt.strip().rpartition(":")
    ns = node.nsmap.get(prefix or None) or ""
    # A part declared by type becomes a local (non-global) element named after the part.
    by_type = [(f, f.element.type.qname) for f in op.faults if f.element is not None and not f.element.is_global]
    for f, q in by_type:
        if q == QName(ns, local):
            return f
    same_name = [f for f, q in by_type if q is not None and q.name == local]
    return same_name[0] if len(same_name) == 1 else None


def _has_any(t: ComplexType) -> bool:
    def walk(g: Group) -> bool:
        return any(isinstance(p, AnyParticle) or (isinstance(p, Group) and walk(p)) for p in g.particles)

    return any(walk(g) for g in t.content_chain())


# --- free content (xs:any, undeclared fault details) ---------------------------------------
# One element is {local name: content}. Content is null (empty), a string (text only), or an
# object: "@xmlns" the element's namespace where it differs from its parent's (an item's
# parent has none), "@name" / "@{namespace}name" attributes, "#text" the text, and one key per
# child local name holding its content, or an array of contents when the name repeats.


def _to_generic(node: etree._Element, parent_ns: str = "") -> dict[str, Any]:
    return {etree.QName(node).localname: _generic_content(node, parent_ns)}


def _generic_content(node: etree._Element, parent_ns: str) -> Any:
    ns = etree.QName(node).namespace or ""
    out: dict[str, Any] = {}
    if ns != parent_ns:
        out["@xmlns"] = ns
    for name, value in node.attrib.items():
        out[f"@{name}"] = value  # lxml names namespaced attributes {namespace}name
    children = _children(node)
    text = node.text or ""
    if text and (not children or text.strip()):  # whitespace between elements is layout
        out["#text"] = text
    for c in children:
        key = etree.QName(c).localname
        value = _generic_content(c, ns)
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    if not out:
        return None
    if set(out) == {"#text"}:
        return out["#text"]
    return out


def _generic_text(value: Any, ptr: str) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    if not isinstance(value, (str, int, float)):
        raise _invalid(ptr, "expected a string")
    return Codec._check_chars(str(value), ptr)


def _set_generic_attribute(node: etree._Element, name: str, value: Any, ptr: str) -> None:
    text = _generic_text(value, ptr)
    try:
        node.set(name, text)
    except ValueError:
        raise _invalid(ptr, f"{name!r} is not a valid attribute name (use name or {{namespace}}name)") from None


def _from_generic(parent: etree._Element, name: str, content: Any, parent_ns: str, ptr: str) -> None:
    if isinstance(content, list):
        for i, c in enumerate(content):
            _from_generic(parent, name, c, parent_ns, _ptr(ptr, i))
        return
    ns = content.get("@xmlns", parent_ns) if isinstance(content, dict) else parent_ns
    if not isinstance(ns, str):
        raise _invalid(_ptr(ptr, "@xmlns"), "expected a namespace URI")
    try:
        node = etree.SubElement(parent, f"{{{ns}}}{name}" if ns else name)
    except ValueError as exc:
        raise _invalid(ptr, f"cannot be written as an XML element: {exc}") from None
    if content is None:
        return
    if not isinstance(content, dict):
        node.text = _generic_text(content, ptr)
        return
    for key, value in content.items():
        if key == "@xmlns":
            continue
        if key == "#text":
            node.text = _generic_text(value, _ptr(ptr, key))
        elif key.startswith("@"):
            _set_generic_attribute(node, key[1:], value, _ptr(ptr, key))
        else:
            _from_generic(node, key, value, ns, _ptr(ptr, key))


def _member_of(node: etree._Element, head: Element) -> Element | None:
    """The substitution group member ``node`` is, or None when it is the head itself."""
    qn = etree.QName(node)
    if qn.localname == head.qname.name and (qn.namespace or "") == head.qname.namespace:
        return None
    same = [m for m in head.substitutes if m.qname.name == qn.localname]
    exact = [m for m in same if m.qname.namespace == (qn.namespace or "")]
    if exact or same:
        return (exact or same)[0]
    return None


def _particle_names(p: Element | Group | AnyParticle) -> set[str] | None:
    """Local names a particle can start with; None for a wildcard."""
    if isinstance(p, Element):
        return {p.qname.name} | {s.qname.name for s in p.substitutes}
    if isinstance(p, Group):
        names: set[str] = set()
        for q in p.particles:
            sub = _particle_names(q)
            if sub is not None:
                names |= sub
        return names
    return None


def _declared_names(t: ComplexType) -> set[str]:
    names: set[str] = set()
    for g in t.content_chain():
        names |= _particle_names(g) or set()
    return names


class _Pool:
    """Children not yet consumed, matched by local name (qualification is not trusted)."""

    def __init__(self, children: list[etree._Element], declared: set[str] | None = None) -> None:
        self.left = list(children)
        self.declared = declared or set()  # element names the type declares: never wildcard content

    def remove(self, nodes: list[etree._Element]) -> None:
        ids = {id(c) for c in nodes}
        self.left = [c for c in self.left if id(c) not in ids]

    def take_undeclared(self, limit: int | None = None) -> list[etree._Element]:
        taken = [c for c in self.left if etree.QName(c).localname not in self.declared]
        if limit is not None:
            taken = taken[:limit]
        self.remove(taken)
        return taken

    def take(self, el: Element, limit: int | None = None) -> list[etree._Element]:
        names = {el.qname.name} | {s.qname.name for s in el.substitutes}
        taken = [c for c in self.left if etree.QName(c).localname in names]
        if limit is not None:
            taken = taken[:limit]
        if taken:
            ids = {id(c) for c in taken}
            self.left = [c for c in self.left if id(c) not in ids]
        return taken


Decoder = Callable[[etree._Element], Any]
