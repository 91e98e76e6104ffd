"""XSD model -> JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it).

Conventions (the codec and the example generator follow the same ones):
- a complex type is an object; child elements and attributes are properties named by local
  name; an attribute whose name clashes with an element is ``@name``; simpleContent's value
  is ``$value``; a derived type sent in place of its base carries ``$type``;
- maxOccurs > 1 is always an array; minOccurs >= 1 is ``required``; nillable adds ``null``
  (under use="encoded" every part and soapenc:Array member is nillable: SOAP 1.1 section 5.1);
- xs:choice is a ``oneOf`` with one alternative per branch (plus "none" when the choice may be
  empty); a repeating group is an array of one object per occurrence under ``$choice``,
  ``$sequence`` or ``$all``;
- a substitution group member sent in place of its head goes under the head's key as an
  object naming it in ``$element`` (a simple or nil value in ``$value``); the head itself is
  sent as usual;
- xs:any content is ``$any``: a list of ``{local name: content}``, content being null, a string
  or an object of ``@xmlns`` (namespace), ``@name``/``@{namespace}name`` attributes, ``#text``
  and child names (see ``generic_element``); xs:anyAttribute allows ``@name`` and
  ``@{namespace}name`` keys;
- named types are components referenced by ``$ref``; components are open, and every place
  that uses one closes it with ``unevaluatedProperties: false`` so ``allOf`` inheritance works;
  anonymous complex types are components too, named after their element (``Parent_element``
  for local ones); names are ASCII and unique case-insensitively (``names.py``): a name taken
  in another namespace gets the namespace's last segment.
"""

from __future__ import annotations

import contextlib
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .model import XSD_NS, Attribute, ComplexType, Element, Group, QName, SimpleType, XsdType, is_swaref
from .model import Any as AnyParticle
from .names import NameTable, ascii_name, decode_name
from .xsd.lexical import (
    INT_RANGES,
    LIST_BUILTINS,
    PATTERNS,
    SPECIAL_FLOATS,
    XML_CHARS,
    json_kind,
    lexical_value,
    xsd_pattern,
)

JsonSchema = dict[str, Any]

INT_FORMATS = {"int": "int32", "long": "int64"}
# Decimal facets written as annotations: a fractional multipleOf is misread by validators that
# divide binary floats (see exact_decimals).
FRACTION_DIGITS = "x-xsd-fractionDigits"
TOTAL_DIGITS = "x-xsd-totalDigits"
# Free content (xs:any, xs:anyAttribute): element names, attribute keys and namespace URIs the
# codec can always write. Names are the ASCII subset of XML names.
XML_NAME = r"^[A-Za-z_][A-Za-z0-9._-]*$"
# Absolute URIs libxml2 accepts as namespace names: no percent-escapes, a plain host and port.
_PCHAR = r"[A-Za-z0-9\-._~!$&'()*+,;=:@]"
_URI = (
    rf"[A-Za-z][A-Za-z0-9+.-]*:(//[A-Za-z0-9\-._~]*(:[0-9]{{1,4}})?(/{_PCHAR}*)*|/?({_PCHAR}+(/{_PCHAR}*)*)?)"
    r"(\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?(#[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?"
)
NAMESPACE_URI = rf"^({_URI})?$"
ATTRIBUTE_KEY = rf"^@(?!xmlns$)(?!\{{http://www\.w3\.org/2000/xmlns/)(\{{{_URI}\}})?[A-Za-z_][A-Za-z0-9._-]*$"
# Code generators (openapi-python-client) read every schema as an object: "must be absent" is
# {"not": {}}, which is what the boolean schema false means.
ABSENT: JsonSchema = {"not": {}}


def type_tag(name: str) -> JsonSchema:
    """The "$type" a derived type's value carries: a one-value enum, the same as const, so that
    generators merging it with the base's enum of names through allOf can (a const they cannot).
    The title names the enum class generators make (openapi-python-client: the type's name and
    the title): without it, type T's would be "TType", which is also the class of an XSD type
    named TType (EWS has CalendarItemType and CalendarItemTypeType)."""
    return {"title": "xsi:type", "type": "string", "enum": [name]}


_GENERIC_CONTENT = object()  # keys for the free-content components
_GENERIC_ELEMENT = object()


def _num(value: str) -> int | float:
    if not math.isfinite(float(value)):
        raise ValueError(value)  # an INF bound: no JSON number
    d = Decimal(value)
    return int(d) if d == d.to_integral_value() and "." not in value and "E" not in value.upper() else float(d)


class SchemaBuilder:
    """Builds JSON Schemas for model types, collecting named types as components."""

    def __init__(self, ref_prefix: str = "#/components/schemas/", *, hoist_polymorphism: bool = True) -> None:
        self.ref_prefix = ref_prefix
        # False writes each base's anyOf of derived types at every use site, as before hoisting
        # (kept to measure the two and to test that they validate the same).
        self.hoist_polymorphism = hoist_polymorphism
        self.components: dict[str, JsonSchema] = {}
        self._names: dict[int, str] = {}  # id(type or element) -> component name
        self._taken = NameTable()
        self._objects: dict[int, Any] = {}  # keep ids stable while we hold them
        self._building: list[str] = []  # components being built, innermost last (names anonymous types)
        self._poly: dict[tuple[str, int], str] = {}  # id(base type) -> its "base or any derived type" component

    # --- naming -----------------------------------------------------------------

    def component_name(self, obj: ComplexType | SimpleType | Element, base: str, ns: str) -> str:
        """The component name for a type or element, the same on every call: ``base`` as ASCII, suffixed with
        the last segment of ``ns`` when it clashes (case-insensitively) with a name taken."""
        key = id(obj)
        if key in self._names:
            return self._names[key]
        name = ascii_name(base) or "Type"
        if name in self._taken:  # case-insensitively
            tail = [seg for seg in re.split(r"[/:#]", ns.rstrip("/")) if seg]
            name = self._taken.unique(f"{name}_{ascii_name(tail[-1]) if tail else 'noNamespace'}", sep="")
        else:
            self._taken.take(name)
        self._names[key] = name
        self._objects[key] = obj
        return name

    def reserve(self, names: list[str]) -> None:
        """Names the caller gives its own components: no type gets them, whatever the case."""
        for name in names:
            self._taken.take(name)

    def ref(self, name: str) -> JsonSchema:
        """A ``$ref`` to the component ``name``."""
        return {"$ref": self.ref_prefix + name}

    # --- types ------------------------------------------------------------------

    def type_schema(self, t: XsdType) -> JsonSchema:
        """Schema for a value of type ``t``: a $ref for named types, inline otherwise."""
        if isinstance(t, SimpleType):
            if t.qname is not None and t.qname.namespace != XSD_NS and self._worth_component(t):
                return self._named(t, t.qname, lambda: self.simple_schema(t))
            return self.simple_schema(t)
        if t.qname is not None and not (t.qname.namespace == XSD_NS and t.qname.name == "anyType"):
            return self._named(t, t.qname, lambda: self.complex_schema(t))
        return self.complex_schema(t)

    def _worth_component(self, t: SimpleType) -> bool:
        return True

    def _named(self, obj: Any, qname: QName, build: Any) -> JsonSchema:
        name = self.component_name(obj, qname.name, qname.namespace)
        if name not in self.components:
            self.components[name] = {}  # placeholder: recursion ends here
            self._building.append(name)
            try:
                built = build()
            finally:
                self._building.pop()
            # The name is escaped ASCII (see names.py): the title keeps the XSD name for readers.
            self.components[name] = built if qname.name.isascii() else {"title": qname.name, **built}
        return self.ref(name)

    def element_type_ref(self, el: Element) -> JsonSchema:
        """Anonymous complex types become components named after their element: a global
        element's name, or ``Parent_element`` for a local one (Parent: the enclosing component)."""
        t = el.type
        if isinstance(t, ComplexType) and t.qname is None and t.soapenc_array_item is None:
            if el.is_global or not self._building:
                return self._named(t, el.qname, lambda: self.complex_schema(t))
            # From the parent's XSD name, not its escaped one: escapes are not escaped twice.
            name = QName(el.qname.namespace, f"{decode_name(self._building[-1])}_{el.qname.name}")
            return self._named(t, name, lambda: self.complex_schema(t))
        return self.type_schema(t)

    def _one_item_enum(self, s: JsonSchema) -> JsonSchema:
        """An enumeration of one-item lists as a one-item array of an enumeration of items: the
        same values, but generators (openapi-python-client) cannot type an enum of arrays and
        drop every operation that uses one (whl's AvailabilityStatusType)."""
        values = s["enum"]
        if not all(isinstance(v, list) and len(v) == 1 for v in values) or s.get("minItems", 1) > 1:
            return s
        items = s["items"]
        if "$ref" in items:
            items = self.components.get(items["$ref"].rsplit("/", 1)[-1], {})
        if "enum" in items or not set(items) <= {"type", "pattern", "title", "description"}:
            return s
        one: JsonSchema = {**s, "items": {**items, "enum": [v[0] for v in values]}, "minItems": 1, "maxItems": min(s.get("maxItems", 1), 1)}
        del one["enum"]
        return one

    def simple_schema(self, t: SimpleType) -> JsonSchema:
        """The inline schema of a simple type: an array for a list, an ``anyOf`` of its members for a union, the
        facets as keywords."""
        if t.variety == "list" and t.item_type is not None:
            s: JsonSchema = {"type": "array", "items": self.simple_schema(t.item_type)}
            f = t.facets
            if f.length is not None:
                s["minItems"] = s["maxItems"] = f.length
            if f.min_length is not None:
                s["minItems"] = f.min_length
            if f.max_length is not None:
                s["maxItems"] = f.max_length
            if t.builtin in LIST_BUILTINS and "minItems" not in s:
                s["minItems"] = 1  # NMTOKENS, IDREFS, ENTITIES: minLength 1
            if f.enumeration is not None:
                s["enum"] = [lexical_value(t, e) for e in f.enumeration]
                s = self._one_item_enum(s)
            return self._doc(s, t.doc)
        if t.variety == "union" and t.member_types:
            branches = [self.simple_schema(m) for m in t.member_types]
            s = {"anyOf": branches}
            if t.facets.enumeration is not None:
                # Each value as the codec decodes it: by the first member type that accepts it.
                values = [lexical_value(t, e) for e in t.facets.enumeration]
                s = {"enum": [v for i, v in enumerate(values) if v not in values[:i]]}
            return self._doc(s, t.doc)
        return self._doc(self.atomic_schema(t), t.doc)

    def atomic_schema(self, t: SimpleType) -> JsonSchema:
        """The schema of an atomic simple type: its JSON type from the built-in, its facets as ``enum``,
        ranges, lengths and patterns."""
        b = t.builtin
        f = t.facets
        kind = json_kind(b)
        s: JsonSchema = {"type": kind}
        if f.enumeration is not None:
            values = list(dict.fromkeys(lexical_value(t, v) for v in f.enumeration))
            return {"type": kind, "enum": values} if kind != "number" else {"enum": values}
        if kind == "integer":
            lo, hi = INT_RANGES[b]
            lo = _max(lo, _bound(f.min_inclusive), _bound(f.min_exclusive, +1))
            hi = _min(hi, _bound(f.max_inclusive), _bound(f.max_exclusive, -1))
            if f.total_digits is not None:
                cap = 10**f.total_digits - 1
                lo, hi = _max(lo, -cap), _min(hi, cap)
            if lo is not None:
                s["minimum"] = lo
            if hi is not None:
                s["maximum"] = hi
            if b in INT_FORMATS:
                s["format"] = INT_FORMATS[b]
        elif kind == "number":
            for facet, key in (
                (f.min_inclusive, "minimum"),
                (f.max_inclusive, "maximum"),
                (f.min_exclusive, "exclusiveMinimum"),
                (f.max_exclusive, "exclusiveMaximum"),
            ):
                if facet is not None:
                    with contextlib.suppress(InvalidOperation, ValueError, OverflowError):  # a malformed facet is ignored, not fatal
                        s[key] = _num(facet)
            if b != "decimal":
                # Any finite JSON number (XML rounds it to the type's precision: xs:float takes
                # 3.4028235E38 as Java writes its maximum); INF, -INF and NaN as strings, where the
                # bounds allow them (NaN always: XSD 1.0 leaves it outside the order).
                s["format"] = b
                specials = [
                    v
                    for v in SPECIAL_FLOATS
                    if not (v == "INF" and ("maximum" in s or "exclusiveMaximum" in s))
                    and not (v == "-INF" and ("minimum" in s or "exclusiveMinimum" in s))
                ]
                return {"anyOf": [s, {"type": "string", "enum": specials}]}
            if f.fraction_digits == 0:
                s["multipleOf"] = 1
                s["type"] = "integer"
            elif f.fraction_digits is not None:
                # Not multipleOf 0.01: validators that divide binary floats (AJV, python-jsonschema)
                # reject one valid value in nine. An annotation; the bridge checks it exactly
                # (exact_decimals).
                s[FRACTION_DIGITS] = f.fraction_digits
            if f.total_digits is not None:
                # The loose bound (a value without fraction digits); the exact rule is one branch per
                # number of fraction digits, which needs a fractional multipleOf: an annotation too,
                # made exact by exact_decimals.
                bound = 10**f.total_digits  # one kind of bound per side: tools warn on minimum beside exclusiveMinimum
                if "maximum" not in s or s["maximum"] >= bound:
                    s.pop("maximum", None)
                    s["exclusiveMaximum"] = _min_num(s.get("exclusiveMaximum"), bound)
                if "minimum" not in s or s["minimum"] <= -bound:
                    s.pop("minimum", None)
                    s["exclusiveMinimum"] = _max_num(s.get("exclusiveMinimum"), -bound)
                if f.fraction_digits != 0:
                    s[TOTAL_DIGITS] = f.total_digits
        elif kind == "string":
            if b == "base64Binary":
                s["contentEncoding"] = "base64"
                if is_swaref(t):  # on the wire a cid: URI; here the content of the part it names
                    s["description"] = "WS-I swaRef: the content of the SOAP attachment (MIME part) it refers to, in base64; sent as a part of a multipart/related message, its cid: URI in the element."
            # The type's lexical space as a pattern; no "format": RFC 3339 refuses XSD dates
            # without a time zone, with 24:00:00 or with years beyond 9999.
            patterns: list[str] = [PATTERNS[b]] if b in PATTERNS else []
            for step in f.patterns:
                alternatives = [xsd_pattern(p) for p in step]
                patterns.append(alternatives[0] if len(alternatives) == 1 else "|".join(f"(?:{a})" for a in alternatives))
            if not patterns:
                patterns.append(XML_CHARS)  # XSD patterns range over XML characters already
            if len(patterns) == 1:
                s["pattern"] = patterns[0]
            else:
                s["allOf"] = [{"pattern": p} for p in patterns]
            if b in ("hexBinary", "base64Binary"):
                pass  # length facets count octets, not characters: documented, not enforced here
            else:
                if f.length is not None:
                    s["minLength"] = s["maxLength"] = f.length
                if f.min_length is not None:
                    s["minLength"] = f.min_length
                if f.max_length is not None:
                    s["maxLength"] = f.max_length
            for facet in ("min_inclusive", "max_inclusive", "min_exclusive", "max_exclusive"):
                v = getattr(f, facet)
                if v is not None:
                    s[f"x-xsd-{_camel(facet)}"] = v
        return s

    def type_use(self, t: XsdType, ref: JsonSchema | None = None, *, closed: bool = True) -> JsonSchema:
        """Schema where a value of ``t`` is used: components are open, so close objects here,
        and let a base type stand for its concrete derived types, told apart by ``$type``.
        ``closed=False`` leaves closing to the caller, which adds properties beside the content."""
        if not closed:
            return self._open_use(t, ref)
        s = ref if ref is not None else self.type_schema(t)
        if not isinstance(t, ComplexType) or t.soapenc_array_item is not None:
            return s
        if _is_anytype(t):  # free content: every type derives from it, so no "$type" branches
            return {**s, "unevaluatedProperties": False} if s.get("type") == "object" else s
        derived = [d for d in _all_derived(t) if not d.abstract and d.qname is not None]
        if not derived:
            if "$ref" not in s and s.get("type") != "object":
                return s
            shut: JsonSchema = {**s, "unevaluatedProperties": False}
            if t.base is not None and t.derivation is not None:
                # The base's "$type" property reaches this type through allOf: only its own name.
                own_type: JsonSchema = type_tag(t.qname.name) if t.qname is not None else dict(ABSENT)
                if set(s) == {"$ref"}:
                    # through the <Type>_own component: written inline at each use, generators name
                    # the model parent+property, which can be another type's name (whl: AddressType's
                    # StreetNmbr and the type AddressType_StreetNmbr)
                    own = self._tagged_component({"allOf": [s], "properties": {"$type": own_type}})
                    return {**own, "unevaluatedProperties": False}
                shut["properties"] = {**s.get("properties", {}), "$type": own_type}
            return shut
        if (t.abstract and len(derived) == 1) or not self.hoist_polymorphism:
            branches = self._poly_branches(t, s, derived)
            if len(branches) == 1:
                return {**branches[0], "unevaluatedProperties": False}
            return {"anyOf": [{**b, "unevaluatedProperties": False} for b in branches]}
        # Hoisted: one shared component per polymorphic base, referenced from every use site, so a
        # base with hundreds of derived types costs its anyOf once per spec instead of once per use.
        name = self._poly_name(t, s)
        if name not in self.components:
            self.components[name] = {}  # placeholder: a derived type that uses its base ends here
            # Each branch closed on its own: "$type" lets only one branch match, so this is the same as
            # closing the anyOf, and generators (schemathesis) can still model it with many branches.
            branches = [self._tagged_component(b) for b in self._poly_branches(t, s, derived)]
            self.components[name] = {"anyOf": [{**b, "unevaluatedProperties": False} for b in branches]}
        return self.ref(name)

    def _tagged_component(self, branch: JsonSchema) -> JsonSchema:
        """A branch of a hoisted union as a $ref to a component of its own (``<Type>_typed``, or
        ``<Type>_own`` for the base itself, whose "$type" may be left out): the same schema, but
        generators (openapi-python-client) cannot build a union component whose branches are
        inline allOf of a $ref, and drop every endpoint that reaches it."""
        refs = branch.get("allOf", [])
        if not (len(refs) == 1 and "$ref" in refs[0]):
            return branch
        target = refs[0]["$ref"].rsplit("/", 1)[-1]
        suffix = "_typed" if "required" in branch else "_own"
        key = (target + suffix, 0)
        if key not in self._poly:
            self._poly[key] = self._taken.unique(f"{target}{suffix}", sep="")
            self.components[self._poly[key]] = branch
        return self.ref(self._poly[key])

    def _poly_branches(self, t: ComplexType, s: JsonSchema, derived: list[ComplexType]) -> list[JsonSchema]:
        """The base itself (when concrete) and each concrete derived type, told apart by ``$type``."""
        branches: list[JsonSchema] = []
        if not t.abstract:
            own = t.qname.name if t.qname is not None else None
            branches.append({"allOf": [s], "properties": {"$type": type_tag(own)}} if own else s)
        for d in derived:
            assert d.qname is not None
            branches.append(
                {"allOf": [self.type_schema(d)], "properties": {"$type": type_tag(d.qname.name)}, "required": ["$type"]}
            )
        return branches

    def _poly_name(self, t: ComplexType, s: JsonSchema) -> str:
        """``<Base>_or_derived``, unique among component names."""
        key = ("poly", id(t))
        if key in self._poly:
            return self._poly[key]
        base = s["$ref"].rsplit("/", 1)[-1] if "$ref" in s else (t.qname.name if t.qname is not None else "Type")
        name = self._taken.unique(f"{base}_or_derived", sep="")  # case-insensitively, like every component
        self._poly[key] = name
        return name

    def _open_use(self, t: XsdType, ref: JsonSchema | None) -> JsonSchema:
        s = ref if ref is not None else self.type_schema(t)
        if isinstance(t, ComplexType) and t.soapenc_array_item is None and not _is_anytype(t):
            derived = [d for d in _all_derived(t) if not d.abstract and d.qname is not None]
            if derived:
                # The caller adds properties beside this content and closes the whole: the branches stay open here.
                branches = self._poly_branches(t, s, derived)
                return branches[0] if len(branches) == 1 else {"anyOf": branches}
        s = self.type_use(t, ref)
        return {k: v for k, v in s.items() if k != "unevaluatedProperties"}

    def element_schema(self, el: Element) -> JsonSchema:
        """Schema of an element's JSON value, including nillable, occurrence and the members
        of its substitution group."""
        members = [m for m in el.substitutes if not m.abstract]
        # An abstract head stands only for its members: its own type's schema (and the components it
        # would build, such as its polymorphic "_or_derived") would be used by nothing.
        s = self._occurrence_schema(el) if not (el.abstract and members) else {}
        if members:
            branches = ([] if el.abstract else [s]) + [self._member_ref(m) for m in members]
            s = branches[0] if len(branches) == 1 else {"oneOf": branches}
        if el.is_array:
            arr: JsonSchema = {"type": "array", "items": s}
            if el.min_occurs > 0:
                arr["minItems"] = el.min_occurs
            if el.max_occurs is not None:
                arr["maxItems"] = el.max_occurs
            s = arr
        if el.doc:
            s = {**s, "description": el.doc} if "$ref" not in s else {"allOf": [s], "description": el.doc}
        return s

    def _occurrence_schema(self, el: Element) -> JsonSchema:
        """One occurrence of the element itself: its type, nillable, fixed and default."""
        s = self.type_use(el.type, self.element_type_ref(el))
        if el.nillable:
            s = _nullable(s)
        if el.fixed is not None and isinstance(el.type, SimpleType):
            s = self._fixed(s, lexical_value(el.type, el.fixed))
        elif el.default is not None and isinstance(el.type, SimpleType):
            s = {**s, "default": lexical_value(el.type, el.default)}
        return s

    def _fixed(self, s: JsonSchema, value: Any) -> JsonSchema:
        """A fixed value of a simple type. Over a $ref to an enumeration that has the value, the
        const alone says the same; generators cannot take allOf of an enumeration (EWS's fixed
        Version attribute of RequestServerVersion)."""
        if "$ref" not in s:
            return {**s, "const": value}
        target = self.components.get(s["$ref"].rsplit("/", 1)[-1], {})
        if set(s) == {"$ref"} and set(target) <= {"type", "enum", "title", "description"} and value in target.get("enum", ()):
            return {"const": value}
        return {"allOf": [s], "const": value}

    def _member_ref(self, m: Element) -> JsonSchema:
        """A $ref to the member's schema, one component (``<member>_member``) per member element:
        generators (openapi-python-client) cannot build a union whose inline branch takes allOf of
        the model that holds it (a recursive substitution group: EWS's NotType), and the same
        member was written out again for every use of its head."""
        key = ("member:" + m.qname.name, id(m))
        if key not in self._poly:
            self._poly[key] = name = self._taken.unique(f"{ascii_name(m.qname.name)}_member", sep="")
            self.components[name] = {}  # placeholder: recursion ends here
            self.components[name] = self._member_schema(m)
        return self.ref(self._poly[key])

    def _member_schema(self, m: Element) -> JsonSchema:
        """A substitution group member sent in place of its head: an object that names the
        member element in ``$element``; a simple value (or null for nil) goes in ``$value``."""
        name: JsonSchema = {"const": m.qname.name}
        if isinstance(m.type, SimpleType):
            return {
                "type": "object",
                "properties": {"$element": name, "$value": self._occurrence_schema(m)},
                "required": ["$element", "$value"],
                "additionalProperties": False,
            }
        content = self.type_use(m.type, self.element_type_ref(m), closed=False)
        s: JsonSchema = {"type": "object", "allOf": [content], "properties": {"$element": name}, "required": ["$element"], "unevaluatedProperties": False}
        if m.nillable:
            nil = {"type": "object", "properties": {"$element": name, "$value": {"type": "null"}}, "required": ["$element", "$value"], "additionalProperties": False}
            s = {"anyOf": [s, nil]}
        return s

    def complex_schema(self, t: ComplexType) -> JsonSchema:
        """The object schema of a complex type (its component's body): elements and attributes as
        properties, an extension's base through ``allOf``."""
        if t.soapenc_array_item is not None:  # any member may be null (SOAP 1.1 section 5.1)
            return {"type": "array", "items": _nullable(self.type_use(t.soapenc_array_item))}
        props: dict[str, JsonSchema] = {}
        required: list[str] = []
        extras: list[JsonSchema] = []
        element_keys = {k for g in t.content_chain() for k in _element_keys(g)}
        # Extension: the base's content comes through allOf; restriction content is complete.
        own_groups = [t.content] if t.content is not None else []
        for g in own_groups:
            self._group(g, props, required, extras, top=True)
        for a in t.attributes:
            if a.prohibited:
                continue
            key = attribute_key(a, element_keys)
            props[key] = self._attribute_schema(a)
            if a.required:
                required.append(key)
        vt = t.simple_content
        if vt is not None:
            props["$value"] = self.type_schema(vt)
            required.append("$value")
        if t.any_attribute:
            # "@name" or "@{namespace}name"; attributes declared with an "@" key keep their own schema.
            declared = sorted(k[1:] for k in props if k.startswith("@"))
            key = ATTRIBUTE_KEY if not declared else ATTRIBUTE_KEY.replace("(?!xmlns$)", f"(?!(?:xmlns|{'|'.join(map(re.escape, declared))})$)")
            extras.append({"patternProperties": {key: {"type": "string", "pattern": XML_CHARS}}})
        s: JsonSchema = {"type": "object"}
        if t.base is not None and t.derivation == "extension" and not _is_anytype(t.base):
            s["allOf"] = [self.type_schema(t.base)]
        if props:
            s["properties"] = props
        if required:
            s["required"] = list(dict.fromkeys(required))
        merge_extras(s, extras)
        if t.derived:
            concrete = [d for d in _all_derived(t) if not d.abstract and d.qname is not None]
            if concrete:
                names = ([t.qname.name] if t.qname is not None and not t.abstract else []) + [d.qname.name for d in concrete if d.qname]
                s.setdefault("properties", {})["$type"] = {**type_tag(names[0]), "enum": names}
        elif t.abstract:
            pass
        if t.derived or (t.base is not None and t.derivation is not None):
            _declare_required(s)
        if t.mixed and vt is None and not props:
            s["properties"] = {"$text": {"type": "string"}}
        return self._doc(s, t.doc)

    def _group(
        self, g: Group, props: dict[str, JsonSchema], required: list[str], extras: list[JsonSchema], *, top: bool
    ) -> None:
        optional_group = g.min_occurs == 0
        if g.is_array:
            # A repeating group: kept as an array of objects, one per occurrence.
            key = f"${g.kind}"
            inner_props: dict[str, JsonSchema] = {}
            inner_req: list[str] = []
            inner_extras: list[JsonSchema] = []
            self._group(Group(g.kind, g.particles), inner_props, inner_req, inner_extras, top=False)
            item: JsonSchema = {"type": "object", "properties": inner_props, "additionalProperties": False}
            if inner_req:
                item["required"] = inner_req
            merge_extras(item, inner_extras)
            arr: JsonSchema = {"type": "array", "items": item}
            if g.min_occurs:
                arr["minItems"] = g.min_occurs
                required.append(key)
            if g.max_occurs is not None:
                arr["maxItems"] = g.max_occurs
            props[key] = arr
            return
        if g.kind == "choice":
            # One alternative per branch: its own constraints, at least one of its keys, and
            # none of the other branches' keys; plus "nothing" when the choice may be empty.
            branches: list[tuple[list[str], list[str], list[JsonSchema]]] = []
            for p in g.particles:
                bprops: dict[str, JsonSchema] = {}
                breq: list[str] = []
                bextras: list[JsonSchema] = []
                if isinstance(p, Element):
                    self._element_prop(p, bprops, breq)
                elif isinstance(p, Group):
                    self._group(p, bprops, breq, bextras, top=False)
                else:
                    self._any_prop(p, bprops, breq)
                for k, v in bprops.items():
                    props.setdefault(k, v)
                branches.append((list(bprops), breq, bextras))
            all_keys = sorted({k for keys, _, _ in branches for k in keys})
            alts: list[JsonSchema] = []
            emptiable = optional_group
            for p, (keys, breq, bextras) in zip(g.particles, branches, strict=True):
                emptiable = emptiable or can_be_empty(p)  # taking this branch may write nothing
                if not keys:
                    continue
                alt: JsonSchema = {}
                if breq:
                    alt["required"] = list(dict.fromkeys(breq))
                else:
                    alt["anyOf"] = [{"required": [k]} for k in keys]
                merge_extras(alt, bextras)
                others = [k for k in all_keys if k not in keys]
                if others:
                    alt["not"] = {"anyOf": [{"required": [k]} for k in others]}
                alts.append(alt)
            if alts and emptiable:
                alts.append({"not": {"anyOf": [{"required": [k]} for k in all_keys]}})
            if len(alts) > 1 or (alts and not emptiable):
                extras.append({"oneOf": alts})
            return
        inner_required = required if not optional_group else []
        inner_extras = extras if not optional_group else []
        before = set(props)
        for p in g.particles:
            if isinstance(p, Element):
                self._element_prop(p, props, inner_required)
            elif isinstance(p, Group):
                self._group(p, props, inner_required, inner_extras, top=False)
            else:
                self._any_prop(p, props, inner_required)
        if optional_group:
            # An optional sequence: absent altogether, or present with what it requires.
            keys = [k for k in props if k not in before]
            if keys and (inner_required or inner_extras):
                present: JsonSchema = {"required": list(dict.fromkeys(inner_required))} if inner_required else {}
                merge_extras(present, inner_extras)
                extras.append({"anyOf": [{"not": {"anyOf": [{"required": [k]} for k in keys]}}, present]})

    def _element_prop(self, el: Element, props: dict[str, JsonSchema], required: list[str]) -> None:
        key = el.qname.name
        if key in props:
            return
        props[key] = self.element_schema(el)
        if el.min_occurs > 0:
            required.append(key)

    def _any_prop(self, a: AnyParticle, props: dict[str, JsonSchema], required: list[str]) -> None:
        s: JsonSchema = {
            "type": "array",
            "items": self.generic_element(),
            "description": "Content allowed by xs:any: one {element name: content} object per element, in document order.",
        }
        if "$any" in props:  # a second wildcard in the same type shares the key: no bounds
            props["$any"] = s
            return
        if a.min_occurs > 0:
            s["minItems"] = a.min_occurs
            required.append("$any")
        if a.max_occurs is not None:
            s["maxItems"] = a.max_occurs
        props["$any"] = s

    def generic_element(self) -> JsonSchema:
        """Free XML content (xs:any) as JSON: ``{local name: content}`` per element, where content
        is null (empty), a string (text only) or an object of ``@xmlns`` (its namespace where it
        differs from the parent's), ``@name`` / ``@{namespace}name`` attributes, ``#text`` and
        child elements by local name (an array when a name repeats). See ``codec._to_generic``."""
        content = self.component_name(_GENERIC_CONTENT, "AnyXmlContent", "")  # type: ignore[arg-type]
        element = self.component_name(_GENERIC_ELEMENT, "AnyXmlElement", "")  # type: ignore[arg-type]
        if element not in self.components:
            ref = self.ref(content)
            self.components[content] = {
                "description": "Free XML content: null for an empty element, a string for text only, or an object "
                "with @xmlns (namespace URI), @name or @{namespace}name attributes, #text, and child elements "
                "by local name (an array when repeated).",
                "anyOf": [
                    {"type": "null"},
                    {"type": "string", "pattern": XML_CHARS},
                    {
                        "type": "object",
                        "properties": {
                            "@xmlns": {"type": "string", "pattern": NAMESPACE_URI},
                            "#text": {"type": "string", "pattern": XML_CHARS},
                        },
                        "patternProperties": {
                            ATTRIBUTE_KEY: {"type": "string", "pattern": XML_CHARS},
                            XML_NAME: {"anyOf": [ref, {"type": "array", "items": ref, "minItems": 1}]},
                        },
                        "additionalProperties": False,
                    },
                ],
            }
            self.components[element] = {
                "description": "One element of free XML content: {local name: content}.",
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "propertyNames": {"pattern": XML_NAME},
                "additionalProperties": ref,
            }
        return self.ref(element)

    def _attribute_schema(self, a: Attribute) -> JsonSchema:
        s = self.type_schema(a.type)
        if a.fixed is not None:
            value = lexical_value(a.type, a.fixed)
            s = self._fixed(s, value)
        elif a.default is not None:
            s = {**s, "default": lexical_value(a.type, a.default)}
        s = {**s, "xml": {"attribute": True, "name": a.qname.name}} if "$ref" not in s else {
            "allOf": [s],
            "xml": {"attribute": True, "name": a.qname.name},
        }
        return s

    @staticmethod
    def _doc(s: JsonSchema, doc: str | None) -> JsonSchema:
        if doc:
            s = {**s, "description": doc}
        return s


# --- helpers shared with the codec ----------------------------------------------


def can_be_empty(p: Element | Group | AnyParticle) -> bool:
    """Whether a particle may occur with no content at all (so a choice may be empty)."""
    if p.min_occurs == 0 or p.max_occurs == 0:
        return True
    if isinstance(p, Group):
        if p.kind == "choice":
            return not p.particles or any(can_be_empty(q) for q in p.particles)
        return all(can_be_empty(q) for q in p.particles)
    return False


def merge_extras(s: JsonSchema, extras: list[JsonSchema]) -> None:
    """Add constraints to an object schema; one that would overwrite a keyword goes to allOf."""
    for e in extras:
        e = dict(e)
        if "patternProperties" in e:
            s.setdefault("patternProperties", {}).update(e.pop("patternProperties"))
        if not e:
            continue
        # On an object, a choice (oneOf/anyOf) goes to allOf as well: the same constraint, but
        # generators (openapi-python-client) read an object with a oneOf beside its properties as a
        # union of the branches alone, and drop the properties.
        if any(k in s for k in e) or (s.get("type") == "object" and ("oneOf" in e or "anyOf" in e)):
            s.setdefault("allOf", []).append(e)
        else:
            s.update(e)


def attribute_key(a: Attribute, element_keys: set[str]) -> str:
    """An attribute's JSON key: its name, or ``@name`` when an element has that name or it starts with ``$``."""
    name = a.qname.name
    return f"@{name}" if name in element_keys or name.startswith("$") else name


def _element_keys(g: Group) -> list[str]:
    keys: list[str] = []
    for p in g.particles:
        if isinstance(p, Element):
            keys.append(p.qname.name)
        elif isinstance(p, Group) and not p.is_array:
            keys.extend(_element_keys(p))
    return keys


def element_keys(t: ComplexType) -> set[str]:
    """The JSON keys of ``t``'s elements, its bases' included (what attribute keys must not collide with)."""
    return {k for g in t.content_chain() for k in _element_keys(g)}


def _declare_required(s: JsonSchema) -> None:
    """Each anyOf/oneOf branch (of an xs:choice or optional group) declares the keys it requires
    (as {}: the object's own properties say what they hold). The same meaning; Redocly's
    no-required-schema-properties-undefined looks for a branch's required keys in the branch or in
    its outermost composing schema only, which for a type that is one branch of a polymorphic anyOf
    is that anyOf, where every branch would have to declare them."""
    for key in ("anyOf", "oneOf"):
        branches = s.get(key, ())
        for b in branches:
            if isinstance(b, dict):
                # a one-branch list is written into its parent (bridge.openapi._tidy): declare there
                target = s if len(branches) == 1 else b
                missing = [k for k in b.get("required", ()) if k not in target.get("properties", {})]
                if missing:
                    target["properties"] = {**target.get("properties", {}), **{k: {} for k in missing}}
                _declare_required(b)
    for b in s.get("allOf", ()):
        if isinstance(b, dict) and "$ref" not in b:
            _declare_required(b)


def _all_derived(t: ComplexType) -> list[ComplexType]:
    out: list[ComplexType] = []
    stack = list(t.derived)
    seen: set[int] = set()
    while stack:
        d = stack.pop(0)
        if id(d) in seen:
            continue
        seen.add(id(d))
        out.append(d)
        stack.extend(d.derived)
    return out


all_derived = _all_derived


def _is_anytype(t: ComplexType) -> bool:
    return t.qname is not None and t.qname.namespace == XSD_NS and t.qname.name == "anyType"


def _nullable(s: JsonSchema) -> JsonSchema:
    t = s.get("type")
    if "$ref" in s or t is None or "enum" in s or "allOf" in s:
        return {"anyOf": [s, {"type": "null"}]}
    if isinstance(t, list):
        return s if "null" in t else {**s, "type": [*t, "null"]}
    return {**s, "type": [t, "null"]}


def _bound(value: str | None, shift: int = 0) -> int | None:
    if value is None:
        return None
    try:
        d = Decimal(value)
    except InvalidOperation:
        return None
    if shift > 0:
        return int(d // 1) + 1 if d == d.to_integral_value() else int(-((-d) // 1))
    if shift < 0:
        return int(d) - 1 if d == d.to_integral_value() else int(d // 1)
    return int(d) if d == d.to_integral_value() else (int(-((-d) // 1)) if d > 0 else int(d // 1))


def _max(*values: int | None) -> int | None:
    vs = [v for v in values if v is not None]
    return max(vs) if vs else None


def _min(*values: int | None) -> int | None:
    vs = [v for v in values if v is not None]
    return min(vs) if vs else None


def _min_num(a: Any, b: Any) -> Any:
    return b if a is None else min(a, b)


def _max_num(a: Any, b: Any) -> Any:
    return b if a is None else max(a, b)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(r.title() for r in rest)


def reachable_components(root: Any, components: dict[str, JsonSchema], prefix: str = "#/components/schemas/") -> dict[str, JsonSchema]:
    """The components ``root`` refers to, transitively: a validator compiles only what it needs
    (compiling all of netsuite's 1,800 components per operation took gigabytes)."""
    out: dict[str, JsonSchema] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                name = ref[len(prefix):]
                if name not in out and name in components:
                    out[name] = components[name]
                    stack.append(components[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def exact_decimals(schema: Any) -> Any:
    """A copy of a schema in which the decimal annotations are exact again: ``x-xsd-fractionDigits``
    also as a ``multipleOf``, ``x-xsd-totalDigits`` as one branch per number of fraction digits (XSD:
    value = i * 10**-k with |i| < 10**totalDigits and k <= fractionDigits). For validators that compare
    decimals exactly (jsonschema_rs) and for generators (schemathesis)."""
    if isinstance(schema, list):
        return [exact_decimals(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: exact_decimals(v) for k, v in schema.items()}
    digits = schema.get(FRACTION_DIGITS)
    fd = digits if isinstance(digits, int) and not isinstance(digits, bool) and digits > 0 else None
    if fd is not None and "multipleOf" not in schema:
        out["multipleOf"] = float(Decimal(1).scaleb(-fd))
    td = schema.get(TOTAL_DIGITS)
    if isinstance(td, int) and not isinstance(td, bool) and td > 0:
        top = min(td, fd) if fd is not None else td
        branches = [
            {"multipleOf": 1 if k == 0 else float(Decimal(1).scaleb(-k)), "exclusiveMaximum": 10 ** (td - k), "exclusiveMinimum": -(10 ** (td - k))}
            for k in range(top + 1)
        ]
        if len(branches) > 1:
            out = {"allOf": [out, {"anyOf": branches}]} if "anyOf" in out else {**out, "anyOf": branches}
    return out
