"""XML <-> JSON over the model, following the conventions in ``bridge.jsonschema``.

Encoding trusts that the data already passed the operation's JSON Schema, but still raises
``ValidationError`` (never a crash) on values XML cannot carry. Decoding is lenient about
namespace qualification (servers get it wrong often) and strict about values: a reply that
does not fit its schema raises ``DecodeError``.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import xmltodict
from lxml import etree

from .errors import ValidationError, Violation
from .jsonschema import INT_RANGES, all_derived, attribute_key, element_keys, json_kind
from .model import (
    HEADERS_KEY,
    XSD_NS,
    XSI_NS,
    Attribute,
    ComplexType,
    Element,
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

SOAPENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSI_TYPE = f"{{{XSI_NS}}}type"
XSI_NIL = f"{{{XSI_NS}}}nil"


class DecodeError(Exception):
    """XML that does not fit the schema it should follow."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(f"{pointer or '/'}: {detail}")
        self.pointer = pointer
        self.detail = detail


def _tag(q: QName) -> str:
    return f"{{{q.namespace}}}{q.name}" if q.namespace else q.name


def _ptr(base: str, key: str | int) -> str:
    return f"{base}/{str(key).replace('~', '~0').replace('/', '~1')}"


# --- simple values ------------------------------------------------------------------


def to_lexical(t: SimpleType, value: Any, ptr: str) -> str:
    if t.variety == "list" and t.item_type is not None:
        if not isinstance(value, list):
            raise _invalid(ptr, "expected an array for an XSD list type")
        return " ".join(to_lexical(t.item_type, v, _ptr(ptr, i)) for i, v in enumerate(value))
    if t.variety == "union" and t.member_types:
        for m in t.member_types:
            try:
                return to_lexical(m, value, ptr)
            except ValidationError:
                continue
        raise _invalid(ptr, "value fits no member of the union type")
    kind = json_kind(t.builtin)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _invalid(ptr, "expected a boolean")
        return "true" if value else "false"
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
            raise _invalid(ptr, "expected an integer")
        if isinstance(value, (Decimal, float)) and value != int(value):
            raise _invalid(ptr, "expected an integer")
        return str(int(value))
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise _invalid(ptr, "expected a number")
        if t.builtin == "decimal":
            d = value if isinstance(value, Decimal) else Decimal(str(value))
            if not d.is_finite():
                raise _invalid(ptr, "xsd:decimal has no infinity or NaN")
            text = format(d, "f")
            return text
        f = float(value)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "INF" if f > 0 else "-INF"
        return format(value, "f") if isinstance(value, Decimal) else repr(f)
    if not isinstance(value, str):
        raise _invalid(ptr, "expected a string")
    return value


def _invalid(ptr: str, detail: str) -> ValidationError:
    return ValidationError(f"{ptr or '/'}: {detail}", [Violation(ptr, detail)])


def from_lexical(t: SimpleType, text: str, ptr: str) -> Any:
    if t.variety == "list" and t.item_type is not None:
        return [from_lexical(t.item_type, part, _ptr(ptr, i)) for i, part in enumerate(text.split())]
    if t.variety == "union" and t.member_types:
        last: DecodeError | None = None
        for m in t.member_types:
            try:
                value = from_lexical(m, text, ptr)
            except DecodeError as exc:
                last = exc
                continue
            if m.facets.enumeration is not None and text.strip() not in m.facets.enumeration:
                continue
            return value
        if last is not None:
            raise last
        return text
    b = t.builtin
    kind = json_kind(b)
    s = text.strip()
    try:
        if kind == "boolean":
            if s in ("true", "1"):
                return True
            if s in ("false", "0"):
                return False
            raise DecodeError(ptr, f"{s!r} is not an xsd:boolean")
        if kind == "integer":
            v = int(s)
            lo, hi = INT_RANGES[b]
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise DecodeError(ptr, f"{v} is out of range for xsd:{b}")
            return v
        if kind == "number":
            if b != "decimal" and s in ("INF", "-INF", "NaN"):
                raise DecodeError(ptr, f"xsd:{b} value {s} has no JSON representation")
            d = Decimal(s)
            if b == "decimal" and (t.facets.fraction_digits == 0 or ("." not in s and "e" not in s.lower())):
                return int(d)  # "91" stays 91, so XML -> JSON -> XML keeps the lexical form
            return float(d)
    except (ValueError, InvalidOperation):
        raise DecodeError(ptr, f"{s!r} is not a valid xsd:{b}") from None
    if b == "base64Binary":
        try:
            base64.b64decode("".join(s.split()), validate=True)
        except binascii.Error:
            raise DecodeError(ptr, "invalid base64") from None
        return "".join(s.split())
    if b in ("string", "anySimpleType") or b not in _COLLAPSED:
        return text
    return " ".join(text.split())


# Built-ins whose whiteSpace facet is "collapse": leading/trailing/double spaces carry no meaning.
_COLLAPSED = {
    "token", "language", "Name", "NCName", "ID", "IDREF", "IDREFS", "ENTITY", "ENTITIES", "NMTOKEN",
    "NMTOKENS", "QName", "NOTATION", "anyURI", "dateTime", "date", "time", "duration", "gYear",
    "gYearMonth", "gMonth", "gMonthDay", "gDay", "hexBinary", "base64Binary",
}  # fmt: skip


# --- complex values -----------------------------------------------------------------


class Codec:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self._keys: dict[int, tuple[set[str], list[tuple[str, Attribute]]]] = {}

    # layout of a complex type: element keys and (key, attribute) pairs
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
        values = value if el.is_array else [value]
        if el.is_array and not isinstance(value, list):
            raise _invalid(ptr, "expected an array")
        out = []
        for i, v in enumerate(values):
            p = _ptr(ptr, i) if el.is_array else ptr
            t = el.type
            derived = self._derived_for(t, v, p)
            nsmap: dict[str | None, str] = {}
            if derived is not None and derived.qname is not None:
                nsmap = {"xsi": XSI_NS, "t": derived.qname.namespace} if derived.qname.namespace else {"xsi": XSI_NS}
            elif encoded:
                nsmap = {"xsi": XSI_NS, "xsd": XSD_NS}
            tag = _tag(el.qname)
            node = etree.Element(tag, nsmap=nsmap or None) if parent is None else etree.SubElement(parent, tag, nsmap=nsmap or None)
            out.append(node)
            if v is None:
                if not el.nillable:
                    raise _invalid(p, "null is not allowed: the element is not nillable")
                node.set(XSI_NIL, "true")
                continue
            if derived is not None:
                assert derived.qname is not None
                node.set(XSI_TYPE, f"t:{derived.qname.name}" if derived.qname.namespace else derived.qname.name)
                t = derived
            elif encoded and isinstance(t, SimpleType):
                node.set(XSI_TYPE, f"xsd:{t.builtin}")
            self.encode_value(node, t, v, p)
        return out

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
        if isinstance(t, SimpleType):
            self._set_text(node, to_lexical(t, v, ptr), ptr)
            return
        if t.soapenc_array_item is not None:
            if not isinstance(v, list):
                raise _invalid(ptr, "expected an array")
            item_el = Element(QName("", "item"), t.soapenc_array_item, 0, None)
            for i, item in enumerate(v):
                self.encode_element(node, Element(item_el.qname, item_el.type), item, _ptr(ptr, i))
            return
        if not isinstance(v, dict):
            raise _invalid(ptr, "expected an object")
        ekeys, attrs = self._layout(t)
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
                if k.startswith("@") and k not in used and k[1:] not in ekeys:
                    used.add(k)
                    node.set(k[1:], str(val))
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
            raise _invalid(ptr, "expected an array of xmltodict-style objects")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or len(item) != 1:
                raise _invalid(_ptr(ptr, i), "each item must map one element name to its content")
            try:
                xml = xmltodict.unparse(item, full_document=False)
                node.append(etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True)))
            except Exception as exc:  # xmltodict/lxml raise assorted errors on bad names
                raise _invalid(_ptr(ptr, i), f"cannot be written as XML: {exc}") from None

    def _set_text(self, node: etree._Element, text: str, ptr: str) -> None:
        node.text = self._check_chars(text, ptr)

    @staticmethod
    def _check_chars(text: str, ptr: str) -> str:
        try:
            etree.Element("x").text = text
        except ValueError:
            raise _invalid(ptr, "contains characters that XML cannot carry (control characters or NUL)") from None
        return text

    # ---- decode -------------------------------------------------------------------

    def decode_element(self, nodes: list[etree._Element], el: Element, ptr: str) -> Any:
        if el.is_array:
            return [self.decode_node(n, el, _ptr(ptr, i)) for i, n in enumerate(nodes)]
        if len(nodes) > 1:
            raise DecodeError(ptr, f"{el.qname.name} occurs {len(nodes)} times but allows one")
        return self.decode_node(nodes[0], el, ptr)

    def decode_node(self, node: etree._Element, el: Element, ptr: str) -> Any:
        if node.get(XSI_NIL) in ("true", "1"):
            if not el.nillable:
                raise DecodeError(ptr, f"{el.qname.name} is nil but not nillable")
            return None
        return self.decode_value(node, el.type, ptr)

    def decode_value(self, node: etree._Element, t: XsdType, ptr: str) -> Any:
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
            item = Element(QName("", "item"), t.soapenc_array_item)
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
        vt = t.value_type()
        if vt is not None:
            out["$value"] = from_lexical(vt, node.text or "", _ptr(ptr, "$value"))
        children = _children(node)
        pool = _Pool(children)
        for g in t.content_chain():
            self._decode_group(pool, g, out, ptr)
        if pool.left:
            if _has_any(t):
                out["$any"] = [_to_generic(c) for c in pool.left]
            else:
                names = ", ".join(sorted({etree.QName(c).localname for c in pool.left}))
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
            return headers, self.encode_element(None, wrapped.element, data, "")
        parts = msg.body_parts
        unknown = set(data) - {p.name for p in parts}
        if unknown:
            raise ValidationError(
                "unknown field(s)", [Violation(_ptr("", k), "is not a part of this message") for k in sorted(unknown)]
            )
        children: list[etree._Element] = []
        for part in parts:
            if part.name not in data:
                if op.style == "rpc" or part.element.min_occurs > 0:
                    raise _invalid(_ptr("", part.name), "is required")
                continue
            children.extend(self.encode_element(None, part.element, data[part.name], _ptr("", part.name), encoded=encoded))
        if op.style == "rpc":
            name = op.name + ("Response" if response else "")
            wrapper = etree.Element(f"{{{op.rpc_namespace}}}{name}" if op.rpc_namespace else name, nsmap={"m": op.rpc_namespace} if op.rpc_namespace else None)
            if encoded:
                wrapper.set(f"{{{_env_ns(op)}}}encodingStyle", SOAPENC)
            wrapper.extend(children)
            return headers, [wrapper]
        return headers, children

    def decode_message(self, op: Operation, msg: Message, body: list[etree._Element], header: list[etree._Element]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        wrapped = unwrapped_part(op, msg)
        if wrapped is not None:
            matching = [c for c in body if _matches(c, wrapped.element.qname)]
            if not matching:
                got = body[0].tag if body else "an empty Body"
                raise DecodeError("", f"expected {wrapped.element.qname} in the SOAP Body, got {got}")
            value = self.decode_node(matching[0], wrapped.element, "")
            out = value if isinstance(value, dict) else {"value": value}
        else:
            container = body
            if op.style == "rpc":
                if not body:
                    raise DecodeError("", "empty SOAP Body, expected the rpc wrapper element")
                container = _children(body[0])
            pool = _Pool(container)
            for part in msg.body_parts:
                nodes = pool.take(part.element)
                if not nodes:
                    if op.style == "rpc" or part.element.min_occurs > 0:
                        raise DecodeError(_ptr("", part.name), "missing from the SOAP Body")
                    continue
                out[part.name] = self.decode_element(nodes, part.element, _ptr("", part.name))
        if msg.header_parts:
            hpool = _Pool(header)
            hdata: dict[str, Any] = {}
            for part in msg.header_parts:
                nodes = hpool.take(part.element)
                if nodes:
                    hdata[part.name] = self.decode_element(nodes, part.element, _ptr(_ptr("", HEADERS_KEY), part.name))
            if hdata:
                out[HEADERS_KEY] = hdata
        return out

    def decode_fault_detail(self, op: Operation, detail: list[etree._Element]) -> tuple[str | None, Any]:
        """Match a fault's detail against the operation's declared faults."""
        for node in detail:
            for f in op.faults:
                if f.element is not None and _matches(node, f.element.qname):
                    try:
                        return f.name, self.decode_node(node, f.element, "")
                    except DecodeError:
                        return f.name, _to_generic(node)
        if detail:
            return None, {k: v for c in detail for k, v in _to_generic(c).items()}
        return None, None


def to_json_ready(value: Any) -> Any:
    """Decimal -> int or float, recursively; everything else is already JSON-ready."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_ready(v) for v in value]
    return value


def _env_ns(op: Operation) -> str:
    return "http://schemas.xmlsoap.org/soap/envelope/" if op.soap_version == "1.1" else "http://www.w3.org/2003/05/soap-envelope"


def _children(node: etree._Element) -> list[etree._Element]:
    return [c for c in node if isinstance(c.tag, str)]


def _matches(node: etree._Element, q: QName) -> bool:
    qn = etree.QName(node)
    return qn.localname == q.name


def _has_any(t: ComplexType) -> bool:
    def walk(g: Group) -> bool:
        return any(isinstance(p, AnyParticle) or (isinstance(p, Group) and walk(p)) for p in g.particles)

    return any(walk(g) for g in t.content_chain())


def _to_generic(node: etree._Element) -> dict[str, Any]:
    parsed = xmltodict.parse(etree.tostring(node), process_namespaces=False, disable_entities=True)
    return dict(parsed)


class _Pool:
    """Children not yet consumed, matched by local name (qualification is not trusted)."""

    def __init__(self, children: list[etree._Element]) -> None:
        self.left = list(children)

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
