"""Reads XML Schema documents into the neutral model (``bridge.model``).

How it works
------------
1. Collect. Starting from the given ``xs:schema`` elements, every ``xs:include``,
   ``xs:redefine`` and ``xs:import`` is followed. Each URL is loaded and parsed once; each
   document is registered once per (URL, effective target namespace), so a chameleon schema
   included into two namespaces is registered twice and import cycles terminate. Global
   components are only indexed here (QName -> XML element + document context).
   Imports without ``schemaLocation`` are resolved afterwards against the namespaces present;
   for a namespace still missing, the namespace URI itself is offered to the loader (the
   catalogue of well-known schemas answers to namespace URIs), and a failure there is recorded.
2. Build. Components are built lazily and memoised, so each is read once (O(size)). A complex
   type is built in two steps: its *header* (derivation, attributes, simple content) at once
   when first referenced, its particles later from a work queue. References to a type only
   need the header, so recursive and mutually recursive types make cyclic object graphs.
   Bases are built before the types derived from them, deepest first, so nothing recurses
   much deeper than the XML nesting.

Errors
------
A problem in one component (an unknown type, group, element or attribute reference, a
malformed definition, a circular derivation) is recorded in ``SchemaSet.skipped`` with the
component, its document URL and the missing QName; the reference is replaced by ``anyType``
(``anySimpleType`` where a simple type is required, a lax wildcard for a missing group) and
reading carries on.

``WsdlError`` is raised only when
 - a document cannot be parsed at all (not well-formed, has a DOCTYPE, is not a schema), or
 - an ``xs:include`` or ``xs:redefine`` document cannot be loaded. These are fatal by choice:
   an included document is part of the *same* schema, so without it the schema is silently
   incomplete; a wrong relative path is the usual cause and must be fixed, not papered over.
A failed ``xs:import`` is *not* fatal: imports name other namespaces, very often well-known
schemas that may be unavailable offline, so the failure becomes a ``Skipped(kind="schema")``
and only the references into that namespace fall back to ``anyType`` (each recorded too).

Modelling choices
-----------------
- Derivation from ``xs:anyType`` (explicit or implied) is not recorded as a base: every
  type derives from it, and its wildcard content would otherwise swallow the extension's.
  Built-ins are shared objects: their ``derived`` lists are never appended to.
- List and union types have ``builtin="anySimpleType"`` (their base in the XSD spec); the
  built-in list types ``NMTOKENS``, ``IDREFS`` and ``ENTITIES`` keep their own names.
- Attributes with ``use="prohibited"`` stay in the list with ``prohibited=True``.
- ``soapenc`` (SOAP 1.1 encoding) types are always aliases of the XSD built-ins, and
  ``soapenc:Array`` / ``soapenc:Struct`` are anyType-like types owned by the schema set,
  whether or not the soap-encoding schema document was loaded. Global attributes of the
  ``xml``, ``soapenc`` and ``wsdl`` namespaces (``xml:lang``, ``soapenc:arrayType``...) have
  built-in stand-ins used when their schema is absent.
- ``xs:any/@namespace`` is kept as written (``##other``, ``##targetNamespace``...).
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin

from lxml import etree

from bridge import namespaces
from bridge.errors import WsdlError, XmlError
from bridge.model import (
    SWAREF,
    XSD_NS,
    Any,
    Attribute,
    ComplexType,
    Element,
    Facets,
    Group,
    QName,
    SimpleType,
    Skipped,
    XsdType,
)
from bridge.xmlparse import parse_untrusted

from .builtins import (
    ANY_SIMPLE_TYPE,
    ANY_TYPE,
    BUILTIN_SIMPLE_TYPES,
    SOAPENC_NS,
    any_content,
    builtin_type,
    soapenc_alias,
)

Loader = Callable[[str], bytes]  # absolute URL or path -> document bytes; raises if missing

# Limits for fetched documents (no DTD, no entities, no network: see bridge.xmlparse).
MAX_SCHEMA_BYTES = 64 * 1024 * 1024
MAX_SCHEMA_DEPTH = 256

WSDL_NS = namespaces.WSDL
XML_NS = namespaces.XML

_XS = "{" + XSD_NS + "}"
XS_SCHEMA = _XS + "schema"
XS_ANNOTATION = _XS + "annotation"
XS_DOCUMENTATION = _XS + "documentation"
XS_INCLUDE = _XS + "include"
XS_IMPORT = _XS + "import"
XS_REDEFINE = _XS + "redefine"
XS_SIMPLE_TYPE = _XS + "simpleType"
XS_COMPLEX_TYPE = _XS + "complexType"
XS_ELEMENT = _XS + "element"
XS_ATTRIBUTE = _XS + "attribute"
XS_GROUP = _XS + "group"
XS_ATTRIBUTE_GROUP = _XS + "attributeGroup"
XS_ANY_ATTRIBUTE = _XS + "anyAttribute"
XS_SEQUENCE = _XS + "sequence"
XS_CHOICE = _XS + "choice"
XS_ALL = _XS + "all"
XS_ANY = _XS + "any"
XS_SIMPLE_CONTENT = _XS + "simpleContent"
XS_COMPLEX_CONTENT = _XS + "complexContent"
XS_EXTENSION = _XS + "extension"
XS_RESTRICTION = _XS + "restriction"
XS_LIST = _XS + "list"
XS_UNION = _XS + "union"
XS_NOTATION = _XS + "notation"
WSDL_DEFINITIONS = "{" + WSDL_NS + "}definitions"
WSDL_TYPES = "{" + WSDL_NS + "}types"
WSDL_ARRAY_TYPE = "{" + WSDL_NS + "}arrayType"

GroupKind = Literal["sequence", "choice", "all"]
_COMPOSITORS: dict[str, GroupKind] = {XS_SEQUENCE: "sequence", XS_CHOICE: "choice", XS_ALL: "all"}
Kind = Literal["type", "element", "attribute", "group", "attributeGroup"]
_GLOBAL_KINDS: dict[str, Kind] = {
    XS_SIMPLE_TYPE: "type",
    XS_COMPLEX_TYPE: "type",
    XS_ELEMENT: "element",
    XS_ATTRIBUTE: "attribute",
    XS_GROUP: "group",
    XS_ATTRIBUTE_GROUP: "attributeGroup",
}
_KIND_WORDS = {
    "type": "type",
    "element": "element",
    "attribute": "attribute",
    "group": "group",
    "attributeGroup": "attribute group",
}
# Top-level children we read elsewhere or deliberately ignore.
_IGNORED_TOP = {XS_ANNOTATION, XS_NOTATION, _XS + "defaultOpenContent"}
# Children of a restriction that are not facets.
_NOT_FACETS = {XS_ANNOTATION, XS_SIMPLE_TYPE, XS_ATTRIBUTE, XS_ATTRIBUTE_GROUP, XS_ANY_ATTRIBUTE}
_INT_FACETS = {
    "length": "length",
    "minLength": "min_length",
    "maxLength": "max_length",
    "totalDigits": "total_digits",
    "fractionDigits": "fraction_digits",
}
# Bounds: setting one clears the inherited bound of the other kind on the same side.
_BOUND_FACETS = {
    "minInclusive": ("min_inclusive", "min_exclusive"),
    "minExclusive": ("min_exclusive", "min_inclusive"),
    "maxInclusive": ("max_inclusive", "max_exclusive"),
    "maxExclusive": ("max_exclusive", "max_inclusive"),
}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # 2+ chars, so C:\ is not a scheme


def _stand_in_attributes() -> dict[QName, Attribute]:
    """Global attributes of namespaces whose schema is often absent but whose meaning is fixed."""
    st = BUILTIN_SIMPLE_TYPES
    space = SimpleType(qname=None, builtin="NCName", facets=Facets(enumeration=["default", "preserve"]))
    return {
        QName(XML_NS, "lang"): Attribute(QName(XML_NS, "lang"), st["language"]),
        QName(XML_NS, "space"): Attribute(QName(XML_NS, "space"), space),
        QName(XML_NS, "base"): Attribute(QName(XML_NS, "base"), st["anyURI"]),
        QName(XML_NS, "id"): Attribute(QName(XML_NS, "id"), st["ID"]),
        QName(SOAPENC_NS, "arrayType"): Attribute(QName(SOAPENC_NS, "arrayType"), st["string"]),
        QName(SOAPENC_NS, "offset"): Attribute(QName(SOAPENC_NS, "offset"), st["string"]),
        QName(SOAPENC_NS, "position"): Attribute(QName(SOAPENC_NS, "position"), st["string"]),
        QName(SOAPENC_NS, "root"): Attribute(QName(SOAPENC_NS, "root"), st["boolean"]),
        QName(WSDL_NS, "arrayType"): Attribute(QName(WSDL_NS, "arrayType"), st["string"]),
    }


_STAND_IN_ATTRIBUTES = _stand_in_attributes()


@dataclass
class SchemaSet:
    """Every global component of a set of schemas, built into the neutral model."""

    types: dict[QName, XsdType] = field(default_factory=dict)  # named global types
    elements: dict[QName, Element] = field(default_factory=dict)  # global elements
    attributes: dict[QName, Attribute] = field(default_factory=dict)  # global attributes
    skipped: list[Skipped] = field(default_factory=list)
    groups: dict[QName, Group] = field(default_factory=dict)  # named model groups
    attribute_groups: dict[QName, list[Attribute]] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)  # every loaded document by URL
    target_namespaces: set[str] = field(default_factory=set)
    # Per-set soapenc:Array / soapenc:Struct (they collect ``derived`` subtypes).
    soapenc_types: dict[str, ComplexType] = field(default_factory=dict)

    def get_type(self, qname: QName) -> XsdType:
        """A user type or an XSD built-in (``soapenc`` names included); KeyError if unknown."""
        found = self.types.get(qname)
        if found is not None:
            return found
        if qname.namespace == XSD_NS:
            builtin = builtin_type(qname.name)
            if builtin is not None:
                return builtin
        elif qname.namespace == SOAPENC_NS:
            special = self.soapenc_types.get(qname.name) or soapenc_alias(qname.name)
            if special is not None:
                return special
        raise KeyError(qname)

    def get_element(self, qname: QName) -> Element:
        """The global element ``qname``; raises ``KeyError`` when the schemas have none."""
        return self.elements[qname]


def read_schemas(schemas: list[tuple[etree._Element, str]], load: Loader) -> SchemaSet:
    """Read ``(xs:schema element, base URL of its document)`` pairs, e.g. the inline schemas
    of a WSDL's ``wsdl:types``, with everything they include, import and redefine.

    ``load`` fetches a document by absolute URL or path. Raises ``WsdlError`` only for a
    document that cannot be parsed or a required include that cannot be loaded; every other
    problem is recorded in ``SchemaSet.skipped``.
    """
    reader = _Reader(load)
    reader.collect(schemas)
    reader.build()
    return reader.result


# --- internals ---------------------------------------------------------------------


@dataclass(eq=False)
class _Doc:
    """One schema document as registered: its namespace and form defaults."""

    url: str
    tns: str
    qualified_elements: bool
    qualified_attributes: bool
    chameleon: bool  # included without a targetNamespace: "" in references means tns


@dataclass(eq=False)
class _Entry:
    """A global component before it is built."""

    kind: Kind
    qname: QName
    el: etree._Element
    doc: _Doc
    original: _Entry | None = None  # the definition an xs:redefine replaces


@dataclass(eq=False)
class _Ctx:
    """Where we are: the global component being built, for references and messages."""

    doc: _Doc
    kind: Kind
    name: str
    entry: _Entry | None = None  # the global entry (redefine self-references need it)


class _LoadFailed(Exception):
    """The loader could not produce a document (its own exception is the cause)."""


class _Reader:
    def __init__(self, load: Loader) -> None:
        self._load = load
        self.result = SchemaSet()
        self.result.soapenc_types = {
            "Array": ComplexType(QName(SOAPENC_NS, "Array"), content=any_content(), any_attribute=True),
            "Struct": ComplexType(QName(SOAPENC_NS, "Struct"), content=any_content(), any_attribute=True),
        }
        self._index: dict[Kind, dict[QName, _Entry]] = {
            "type": {},
            "element": {},
            "attribute": {},
            "group": {},
            "attributeGroup": {},
        }
        self._roots: dict[str, list[etree._Element]] = {}  # parsed documents by URL
        self._load_failures: dict[str, _LoadFailed] = {}
        self._registered: set[tuple[str, str]] = set()  # (URL, effective tns)
        self._imports: deque[tuple[str, str, str]] = deque()  # (url, namespace, importer url)
        self._ns_imports: list[tuple[str, str]] = []  # (namespace, importer url)
        self._failed_namespaces: set[str] = set()
        self._substitutions: list[tuple[_Entry, str]] = []  # (member, substitutionGroup value)
        self._seen_skips: set[tuple[str, str]] = set()
        # built components, keyed by entry
        self._types: dict[_Entry, XsdType] = {}
        self._elements: dict[_Entry, Element] = {}
        self._attributes: dict[_Entry, Attribute] = {}
        self._groups: dict[_Entry, Group] = {}
        self._attribute_groups: dict[_Entry, tuple[list[Attribute], bool]] = {}
        self._busy: set[_Entry] = set()  # entries being built: meeting one again is a cycle
        self._content_queue: deque[tuple[ComplexType, etree._Element, _Ctx, bool]] = deque()

    # --- reporting -------------------------------------------------------------------

    def _skip(self, ctx: _Ctx, problem: str) -> None:
        reason = f"{_KIND_WORDS[ctx.kind]} {ctx.name} in {ctx.doc.url}: {problem}"
        self._record(Skipped(kind="type", name=ctx.name, reason=reason))

    def _skip_schema(self, url: str, reason: str) -> None:
        self._record(Skipped(kind="schema", name=url, reason=reason))

    def _record(self, skipped: Skipped) -> None:
        key = (skipped.name, skipped.reason)
        if key not in self._seen_skips:
            self._seen_skips.add(key)
            self.result.skipped.append(skipped)

    def _missing(self, what: str, qname: QName) -> str:
        if qname.namespace in self.result.target_namespaces or qname.namespace == XSD_NS:
            return f"unknown {what} {qname}"
        where = f"namespace {qname.namespace!r}" if qname.namespace else "no namespace"
        return f"unknown {what} {qname} (no schema in the set defines {where})"

    # --- phase 1: collecting documents -------------------------------------------------

    def collect(self, schemas: list[tuple[etree._Element, str]]) -> None:
        for root, url in schemas:
            if root.tag != XS_SCHEMA:
                raise WsdlError(f"{url}: expected an xs:schema element, found {root.tag}")
            self._registered.add((url, root.get("targetNamespace", "")))
        for root, url in schemas:
            self._register_schema(root, url, None)
        self._drain_imports()
        # Imports without schemaLocation: resolved by namespaces already present, else offered
        # to the loader by namespace URI (the well-known catalogue answers those).
        tried: set[str] = set()
        while self._ns_imports:
            namespace, importer = self._ns_imports.pop(0)
            if namespace in self.result.target_namespaces or namespace in tried:
                continue
            tried.add(namespace)
            self._import_by_namespace(namespace, importer)
            self._drain_imports()

    def _drain_imports(self) -> None:
        while self._imports:
            url, namespace, importer = self._imports.popleft()
            try:
                roots = self._fetch(url)
            except _LoadFailed as exc:
                self._failed_namespaces.add(namespace)
                self._skip_schema(url, f"cannot load {url}, imported by {importer} for namespace {namespace!r}: {exc}")
                continue
            for root in roots:
                tns = root.get("targetNamespace", "")
                if tns != namespace:
                    self._skip_schema(
                        url,
                        f"{url}, imported by {importer} for namespace {namespace!r}, "
                        f"has targetNamespace {tns!r}; read under its own namespace",
                    )
                if (url, tns) not in self._registered:
                    self._registered.add((url, tns))
                    self._register_schema(root, url, None)

    def _import_by_namespace(self, namespace: str, importer: str) -> None:
        # Namespaces the reader stands in for need no document.
        quiet = namespace in (SOAPENC_NS, XML_NS, WSDL_NS)
        if not namespace or namespace in self._failed_namespaces:
            return
        try:
            roots = self._fetch(namespace)
        except Exception as exc:  # includes WsdlError: a namespace URI is not a promised document
            if not quiet:
                self._failed_namespaces.add(namespace)
                self._skip_schema(
                    namespace,
                    f"namespace {namespace!r} is imported by {importer} without schemaLocation, "
                    f"no schema in the set defines it, and it could not be loaded: {exc}",
                )
            return
        for root in roots:
            tns = root.get("targetNamespace", "")
            if (namespace, tns) not in self._registered:
                self._registered.add((namespace, tns))
                self._register_schema(root, namespace, None)

    def _fetch(self, url: str) -> list[etree._Element]:
        """The xs:schema elements of the document at ``url``, loaded and parsed once."""
        cached = self._roots.get(url)
        if cached is not None:
            return cached
        failure = self._load_failures.get(url)
        if failure is not None:
            raise failure  # each URL is asked for once, even when it failed
        try:
            data = self._load(url)
        except Exception as exc:  # the loader's own error types are unknown to us
            failure = _LoadFailed(str(exc) or type(exc).__name__)
            self._load_failures[url] = failure
            raise failure from exc
        try:
            root = parse_untrusted(data, max_bytes=MAX_SCHEMA_BYTES, max_depth=MAX_SCHEMA_DEPTH, what=f"schema document {url}")
        except XmlError as exc:
            raise WsdlError(str(exc)) from None
        if root.tag == XS_SCHEMA:
            roots = [root]
        elif root.tag == WSDL_DEFINITIONS:  # some schemas point at the WSDL itself
            roots = [s for t in root if t.tag == WSDL_TYPES for s in t if s.tag == XS_SCHEMA]
        else:
            raise WsdlError(f"{url} is not an XML Schema document (its root is {root.tag})")
        self._roots[url] = roots
        self.result.documents[url] = data
        return roots

    def _register_schema(self, root: etree._Element, url: str, including_tns: str | None) -> None:
        own_tns = root.get("targetNamespace")
        chameleon = own_tns is None and bool(including_tns)
        tns = including_tns if chameleon and including_tns else (own_tns or "")
        if tns == XSD_NS:
            return  # the schema for schemas: the built-ins stand for it
        doc = _Doc(
            url=url,
            tns=tns,
            qualified_elements=root.get("elementFormDefault") == "qualified",
            qualified_attributes=root.get("attributeFormDefault") == "qualified",
            chameleon=chameleon,
        )
        self.result.target_namespaces.add(tns)
        for child in root:
            tag = child.tag
            if not isinstance(tag, str) or tag in _IGNORED_TOP:
                continue
            kind = _GLOBAL_KINDS.get(tag)
            if kind is not None:
                self._register(kind, child, doc)
            elif tag == XS_INCLUDE:
                self._include(child, doc, None)
            elif tag == XS_REDEFINE:
                self._include(child, doc, child)
            elif tag == XS_IMPORT:
                namespace = child.get("namespace", "")
                if namespace == XSD_NS:
                    continue
                location = child.get("schemaLocation", "").strip()
                if location:
                    self._imports.append((_join(url, location), namespace, url))
                else:
                    self._ns_imports.append((namespace, url))
            else:
                self._skip_schema(url, f"{url}: unexpected top-level {_local(tag)} in xs:schema ignored")

    def _register(self, kind: Kind, el: etree._Element, doc: _Doc, redefines: bool = False) -> None:
        name = el.get("name")
        if not name:
            self._skip_schema(doc.url, f"{doc.url}: a global {_local(el.tag)} without a name is ignored")
            return
        qname = QName(doc.tns, name.strip())
        if (
            kind == "type"
            and qname.namespace == SOAPENC_NS
            and (name in self.result.soapenc_types or soapenc_alias(name) is not None)
        ):
            return  # the reader's own soapenc types stand for these
        index = self._index[kind]
        previous = index.get(qname)
        if redefines:
            if previous is None:
                self._skip_schema(doc.url, f"{doc.url}: xs:redefine of {_KIND_WORDS[kind]} {qname}, which is not defined")
            index[qname] = _Entry(kind, qname, el, doc, original=previous)
        elif previous is None:
            index[qname] = _Entry(kind, qname, el, doc)
            if kind == "element" and el.get("substitutionGroup"):
                self._substitutions.append((index[qname], el.get("substitutionGroup", "")))
        else:
            self._skip_schema(
                doc.url,
                f"{_KIND_WORDS[kind]} {qname} is defined again in {doc.url}; "
                f"the first definition, in {previous.doc.url}, is used",
            )

    def _include(self, el: etree._Element, doc: _Doc, redefine: etree._Element | None) -> None:
        what = "xs:redefine" if redefine is not None else "xs:include"
        location = el.get("schemaLocation", "").strip()
        if not location:
            self._skip_schema(doc.url, f"{doc.url}: {what} without schemaLocation ignored")
            return
        url = _join(doc.url, location)
        try:
            roots = self._fetch(url)
        except _LoadFailed as exc:
            raise WsdlError(f"cannot load {url}, the {what} of {doc.url}: {exc}") from exc
        for root in roots:
            own_tns = root.get("targetNamespace")
            if own_tns is not None and own_tns != doc.tns:
                self._skip_schema(
                    url,
                    f"{url}, the {what} of {doc.url}, has targetNamespace {own_tns!r} "
                    f"instead of {doc.tns!r}; read under its own namespace",
                )
            key = (url, own_tns if own_tns is not None else doc.tns)
            if key not in self._registered:
                self._registered.add(key)
                self._register_schema(root, url, doc.tns)
        if redefine is not None:
            for child in redefine:
                kind = _GLOBAL_KINDS.get(child.tag) if isinstance(child.tag, str) else None
                if kind in ("type", "group", "attributeGroup"):
                    self._register(kind, child, doc, redefines=True)

    # --- phase 2: building -----------------------------------------------------------

    def build(self) -> None:
        result = self.result
        for qname, entry in self._index["type"].items():
            result.types[qname] = self._build_type(entry)
            self._drain_content()
        for qname, entry in self._index["attribute"].items():
            result.attributes[qname] = self._global_attribute(entry)
        for qname, entry in self._index["attributeGroup"].items():
            result.attribute_groups[qname] = self._attribute_group(entry)[0]
        for qname, entry in self._index["element"].items():
            result.elements[qname] = self._global_element(entry)
            self._drain_content()
        for qname, entry in self._index["group"].items():
            group = self._named_group(entry)
            if group is not None:
                result.groups[qname] = group
            self._drain_content()
        self._link_substitution_groups()

    def _drain_content(self) -> None:
        queue = self._content_queue
        while queue:
            ct, parent, ctx, soapenc_array = queue.popleft()
            try:
                self._fill_content(ct, parent, ctx, soapenc_array)
            except Exception as exc:  # a bug or a shape we did not foresee: isolate it
                self._skip(ctx, f"malformed content ({exc!r}); anyType used instead")
                _make_any(ct)

    # references

    def _qname(self, text: str, el: etree._Element, ctx: _Ctx) -> QName | None:
        prefix, sep, local = text.strip().partition(":")
        if not sep:
            prefix, local = "", prefix
        namespace = el.nsmap.get(prefix or None)
        if namespace is None:
            if prefix == "xml":
                namespace = XML_NS
            elif prefix:
                self._skip(ctx, f"the prefix {prefix!r} of {text.strip()!r} is not declared")
                return None
            else:
                namespace = ""
        if not namespace and ctx.doc.chameleon:
            namespace = ctx.doc.tns
        return QName(namespace, local)

    def _find_type(self, qname: QName) -> XsdType | None:
        if qname.namespace == XSD_NS:
            return builtin_type(qname.name)
        if qname.namespace == SOAPENC_NS:
            special = self.result.soapenc_types.get(qname.name) or soapenc_alias(qname.name)
            if special is not None:
                return special
        entry = self._index["type"].get(qname)
        return self._build_type(entry) if entry is not None else None

    def _type_ref(self, text: str, el: etree._Element, ctx: _Ctx) -> XsdType:
        qname = self._qname(text, el, ctx)
        if qname is None:
            return ANY_TYPE
        found = self._find_type(qname)
        if found is None:
            self._skip(ctx, self._missing("type", qname) + "; anyType used instead")
            return ANY_TYPE
        return found

    def _simple_ref(self, text: str, el: etree._Element, ctx: _Ctx) -> SimpleType:
        qname = self._qname(text, el, ctx)
        if qname is None:
            return ANY_SIMPLE_TYPE
        entry = self._index["type"].get(qname)
        if entry is not None and entry in self._busy and entry not in self._types:
            self._skip(ctx, f"circular simple type definition through {qname}; anySimpleType used instead")
            return ANY_SIMPLE_TYPE
        found = self._find_type(qname)
        if isinstance(found, SimpleType):
            return found
        if found is None:
            self._skip(ctx, self._missing("type", qname) + "; anySimpleType used instead")
        else:
            self._skip(ctx, f"{qname} is a complex type where a simple type is required; anySimpleType used")
        return ANY_SIMPLE_TYPE

    def _build_type(self, entry: _Entry) -> XsdType:
        built = self._types.get(entry)
        if built is not None:
            return built
        # Build unbuilt bases first, the deepest one first, so that a long derivation chain
        # never turns into deep recursion: each header then finds its base ready.
        chain: list[_Entry] = []
        seen = {entry}
        base = self._declared_base(entry)
        while base is not None and base not in self._types and base not in self._busy and base not in seen:
            chain.append(base)
            seen.add(base)
            base = self._declared_base(base)
        for base in reversed(chain):
            self._build_one_type(base)
        return self._build_one_type(entry)

    def _declared_base(self, entry: _Entry) -> _Entry | None:
        """The user type ``entry`` derives from by restriction or extension, read off the XML."""
        el = entry.el
        holder = el
        if el.tag == XS_COMPLEX_TYPE:
            holder = next((c for c in el if c.tag == XS_SIMPLE_CONTENT or c.tag == XS_COMPLEX_CONTENT), None)
            if holder is None:
                return None
        derivation = next((c for c in holder if c.tag in (XS_RESTRICTION, XS_EXTENSION)), None)
        text = derivation.get("base") if derivation is not None else None
        if not text or derivation is None:
            return None
        qname = self._qname(text, derivation, _Ctx(entry.doc, "type", str(entry.qname), entry))
        if qname is None:
            return None
        return _original(entry, qname) or self._index["type"].get(qname)

    def _build_one_type(self, entry: _Entry) -> XsdType:
        built = self._types.get(entry)
        if built is not None:
            return built
        ctx = _Ctx(entry.doc, "type", str(entry.qname), entry)
        if entry.el.tag == XS_COMPLEX_TYPE:
            ct = ComplexType(qname=entry.qname)
            self._types[entry] = ct  # before the header: references to it may appear below
            self._complex_header(ct, entry.el, ctx, entry)
            return ct
        self._busy.add(entry)
        try:
            st = self._simple_type(entry.el, ctx, entry.qname, entry)
        except Exception as exc:
            self._skip(ctx, f"malformed simple type ({exc!r}); anySimpleType used instead")
            st = SimpleType(qname=entry.qname, builtin="anySimpleType")
        finally:
            self._busy.discard(entry)
        self._types[entry] = st
        return st

    # simple types

    def _simple_type(self, el: etree._Element, ctx: _Ctx, qname: QName | None, entry: _Entry | None = None) -> SimpleType:
        result: SimpleType | None = None
        for child in el:
            tag = child.tag
            if tag == XS_RESTRICTION:
                base = self._simple_base(child, ctx, qname, entry)
                result = self._restrict(base, child, ctx, qname)
                break
            if tag == XS_LIST:
                item_text = child.get("itemType")
                if item_text:
                    item = self._simple_ref(item_text, child, ctx)
                else:
                    inline = _first(child, XS_SIMPLE_TYPE)
                    if inline is None:
                        self._skip(ctx, "xs:list without itemType; anySimpleType items used")
                        item = ANY_SIMPLE_TYPE
                    else:
                        item = self._simple_type(inline, ctx, None)
                result = SimpleType(qname=qname, builtin="anySimpleType", variety="list", item_type=item)
                break
            if tag == XS_UNION:
                members = [self._simple_ref(t, child, ctx) for t in child.get("memberTypes", "").split()]
                members += [self._simple_type(c, ctx, None) for c in child if c.tag == XS_SIMPLE_TYPE]
                if not members:
                    self._skip(ctx, "xs:union without member types; anySimpleType used")
                result = SimpleType(qname=qname, builtin="anySimpleType", variety="union", member_types=members)
                break
        if result is None:
            self._skip(ctx, "simpleType without restriction, list or union; anySimpleType used")
            result = SimpleType(qname=qname, builtin="anySimpleType")
        if qname == SWAREF and result.variety == "atomic":
            result.builtin = "base64Binary"  # the content of the part its cid: names (model.SimpleType)
        result.doc = _doc(el)
        return result

    def _simple_base(self, restriction: etree._Element, ctx: _Ctx, qname: QName | None, entry: _Entry | None) -> SimpleType:
        base_text = restriction.get("base")
        if base_text:
            base_q = self._qname(base_text, restriction, ctx)
            original = _original(entry, base_q) if base_q is not None else None
            if original is not None:
                built = self._build_type(original)
                if isinstance(built, SimpleType):
                    return built
            return self._simple_ref(base_text, restriction, ctx)
        inline = _first(restriction, XS_SIMPLE_TYPE)
        if inline is not None:
            return self._simple_type(inline, ctx, None)
        self._skip(ctx, "xs:restriction without base or inline simpleType; anySimpleType used")
        return ANY_SIMPLE_TYPE

    def _restrict(self, base: SimpleType, restriction: etree._Element, ctx: _Ctx, qname: QName | None) -> SimpleType:
        """A simple type restricting ``base`` with the facets under ``restriction``."""
        inherited = base.facets
        facets = Facets(
            enumeration=list(inherited.enumeration) if inherited.enumeration is not None else None,
            patterns=list(inherited.patterns),  # inner lists are never mutated, share them
            length=inherited.length,
            min_length=inherited.min_length,
            max_length=inherited.max_length,
            min_inclusive=inherited.min_inclusive,
            max_inclusive=inherited.max_inclusive,
            min_exclusive=inherited.min_exclusive,
            max_exclusive=inherited.max_exclusive,
            total_digits=inherited.total_digits,
            fraction_digits=inherited.fraction_digits,
            white_space=inherited.white_space,
        )
        enumeration: list[str] = []
        patterns: list[str] = []
        for child in restriction:
            tag = child.tag
            if not isinstance(tag, str) or tag in _NOT_FACETS:
                continue
            name = _local(tag)
            value = child.get("value")
            if not tag.startswith(_XS):
                self._skip(ctx, f"unexpected {tag} in xs:restriction ignored")
            elif value is None:
                self._skip(ctx, f"facet {name} without a value ignored")
            elif name == "enumeration":
                enumeration.append(value)
            elif name == "pattern":
                patterns.append(value)
            elif name in _INT_FACETS:
                try:
                    setattr(facets, _INT_FACETS[name], int(value.strip()))
                except ValueError:
                    self._skip(ctx, f"facet {name}={value!r} is not an integer; ignored")
            elif name in _BOUND_FACETS:
                this, other = _BOUND_FACETS[name]
                setattr(facets, this, value.strip())
                setattr(facets, other, None)
            elif name == "whiteSpace":
                facets.white_space = value.strip()
            else:
                self._skip(ctx, f"unsupported facet {name} ignored")
        if enumeration:
            facets.enumeration = enumeration  # a restriction's enumeration replaces the base's
        if patterns:
            facets.patterns.append(patterns)  # ORed within a step, ANDed across steps
        return SimpleType(
            qname=qname,
            builtin=base.builtin,
            facets=facets,
            variety=base.variety,
            item_type=base.item_type,
            member_types=list(base.member_types),
            base=base if _is_user_type(base) else None,
        )

    # complex types

    def _complex_header(self, ct: ComplexType, el: etree._Element, ctx: _Ctx, entry: _Entry | None) -> None:
        """Everything but the particles, which go to the content queue."""
        if entry is not None:
            self._busy.add(entry)
        try:
            self._complex_header_body(ct, el, ctx, entry)
        except Exception as exc:  # a bug or a shape we did not foresee: isolate it
            self._skip(ctx, f"malformed complex type ({exc!r}); anyType used instead")
            _make_any(ct)
        finally:
            if entry is not None:
                self._busy.discard(entry)

    def _complex_header_body(self, ct: ComplexType, el: etree._Element, ctx: _Ctx, entry: _Entry | None) -> None:
        ct.abstract = _bool(el.get("abstract"))
        ct.mixed = _bool(el.get("mixed"))
        ct.doc = _doc(el)
        body = None
        for child in el:
            if child.tag == XS_SIMPLE_CONTENT or child.tag == XS_COMPLEX_CONTENT:
                body = child
                break
        if body is None:
            ct.attributes, ct.any_attribute = self._attribute_uses(el, ctx)
            self._content_queue.append((ct, el, ctx, False))
            return
        derivation = None
        for child in body:
            if child.tag == XS_EXTENSION or child.tag == XS_RESTRICTION:
                derivation = child
                break
        if derivation is None:
            self._skip(ctx, f"{_local(body.tag)} without extension or restriction; anyType used")
            _make_any(ct)
            return
        is_extension = derivation.tag == XS_EXTENSION
        base = self._derivation_base(derivation, ctx, entry)
        own_attributes, ct.any_attribute = self._attribute_uses(derivation, ctx)
        if body.tag == XS_COMPLEX_CONTENT:
            if body.get("mixed") is not None:
                ct.mixed = _bool(body.get("mixed"))
            soapenc_array = False
            if isinstance(base, SimpleType):
                self._skip(ctx, f"complexContent cannot derive from the simple type {base.qname}; base ignored")
            elif base is not None and base is not ANY_TYPE:
                self._set_base(ct, base, "extension" if is_extension else "restriction")
                soapenc_array = not is_extension and base is self.result.soapenc_types["Array"]
                if is_extension and base.mixed and body.get("mixed") is None and el.get("mixed") is None:
                    ct.mixed = True  # an extension must be mixed like its base (XSD 1.0, 3.4.6)
            ct.attributes = own_attributes
            if ct.base is not None and not is_extension:
                ct.attributes = _restrict_attributes(ct.base.all_attributes(), own_attributes)
            self._content_queue.append((ct, derivation, ctx, soapenc_array))
            return
        # simpleContent
        if base is None:
            value: SimpleType = ANY_SIMPLE_TYPE
        elif isinstance(base, SimpleType):
            value = base
        else:
            found = base.value_type()
            if found is None:
                if base is not ANY_TYPE and not base.mixed:
                    self._skip(ctx, f"simpleContent base {base.qname} has no simple content; anySimpleType used")
                found = ANY_SIMPLE_TYPE
            value = found
            if base is not ANY_TYPE:
                self._set_base(ct, base, "extension" if is_extension else "restriction")
        if is_extension:
            ct.simple_content = value
            ct.attributes = own_attributes
        else:
            inline = _first(derivation, XS_SIMPLE_TYPE)
            if inline is not None:
                value = self._simple_type(inline, ctx, None)
            has_facets = any(isinstance(c.tag, str) and c.tag not in _NOT_FACETS for c in derivation)
            ct.simple_content = self._restrict(value, derivation, ctx, None) if has_facets else value
            base_attributes = ct.base.all_attributes() if ct.base is not None else []
            ct.attributes = _restrict_attributes(base_attributes, own_attributes)

    def _derivation_base(self, derivation: etree._Element, ctx: _Ctx, entry: _Entry | None) -> XsdType | None:
        text = derivation.get("base")
        if not text:
            self._skip(ctx, f"xs:{_local(derivation.tag)} without a base; anyType used")
            return None
        qname = self._qname(text, derivation, ctx)
        if qname is None:
            return None
        original = _original(entry, qname)
        if original is not None:
            return self._build_type(original)
        base_entry = self._index["type"].get(qname)
        if base_entry is not None and base_entry in self._busy:
            self._skip(ctx, f"circular derivation through {qname}; base ignored")
            return None
        found = self._find_type(qname)
        if found is None:
            self._skip(ctx, self._missing("type", qname) + " as base; anyType used instead")
            return ANY_TYPE
        return found

    @staticmethod
    def _set_base(ct: ComplexType, base: ComplexType, derivation: Literal["extension", "restriction"]) -> None:
        # Callers never pass anyType: built-ins are shared and must not collect subtypes.
        ct.base = base
        ct.derivation = derivation
        if ct.qname is None or ct.qname != base.qname:  # an xs:redefine replaces its base, it is no subtype
            base.derived.append(ct)

    def _anonymous_complex(self, el: etree._Element, ctx: _Ctx) -> ComplexType:
        ct = ComplexType(qname=None)
        self._complex_header(ct, el, ctx, None)
        return ct

    def _fill_content(self, ct: ComplexType, parent: etree._Element, ctx: _Ctx, soapenc_array: bool) -> None:
        for child in parent:
            tag = child.tag
            if tag in _COMPOSITORS:
                ct.content = self._model_group(child, ctx)
                break
            if tag == XS_GROUP:
                ct.content = self._group_ref(child, ctx)
                break
        if soapenc_array:
            ct.soapenc_array_item = self._soapenc_item(ct, parent, ctx)

    def _soapenc_item(self, ct: ComplexType, restriction: etree._Element, ctx: _Ctx) -> XsdType:
        for el in restriction:
            if el.tag != XS_ATTRIBUTE:
                continue
            array_type = el.get(WSDL_ARRAY_TYPE)
            if array_type is None:  # tolerate the attribute in another namespace
                array_type = next((v for k, v in el.attrib.items() if str(k).endswith("}arrayType")), None)
            if array_type is None:
                continue
            text = array_type.strip()
            type_text, _, dims = text.partition("[")
            item = self._type_ref(type_text, el, ctx)
            # "T[][2]": the last brackets are this array's; earlier ones make T[] the item.
            for _ in range(dims.count("[")):
                inner = ComplexType(qname=None, content=any_content(), soapenc_array_item=item)
                self._set_base(inner, self.result.soapenc_types["Array"], "restriction")
                item = inner
            return item
        content = ct.content
        if content is not None and len(content.particles) == 1 and isinstance(content.particles[0], Element):
            return content.particles[0].type
        self._skip(ctx, "soapenc:Array restriction without wsdl:arrayType or a single item element; anyType items")
        return ANY_TYPE

    # particles

    def _model_group(self, el: etree._Element, ctx: _Ctx) -> Group:
        low, high = self._occurs(el, ctx)
        group = Group(_COMPOSITORS[el.tag], [], low, high)
        particles = group.particles
        for child in el:
            tag = child.tag
            if tag == XS_ELEMENT:
                element = self._local_element(child, ctx)
                if element is not None:
                    particles.append(element)
            elif tag in _COMPOSITORS:
                particles.append(self._model_group(child, ctx))
            elif tag == XS_GROUP:
                particles.append(self._group_ref(child, ctx))
            elif tag == XS_ANY:
                low, high = self._occurs(child, ctx)
                particles.append(
                    Any(
                        namespace=child.get("namespace", "##any").strip() or "##any",
                        process_contents=child.get("processContents", "strict"),
                        min_occurs=low,
                        max_occurs=high,
                    )
                )
            elif isinstance(tag, str) and tag != XS_ANNOTATION:
                self._skip(ctx, f"unexpected {_local(tag)} in xs:{group.kind} ignored")
        return group

    def _group_ref(self, el: etree._Element, ctx: _Ctx) -> Group:
        low, high = self._occurs(el, ctx)
        text = el.get("ref")
        qname = self._qname(text, el, ctx) if text else None
        definition: Group | None = None
        if qname is not None:
            original = _original(ctx.entry, qname) if ctx.kind == "group" else None
            entry = original or self._index["group"].get(qname)
            if entry is None:
                self._skip(ctx, self._missing("group", qname) + "; a lax wildcard used instead")
            else:
                definition = self._named_group(entry)
        elif not text:
            self._skip(ctx, "xs:group without ref; a lax wildcard used instead")
        if definition is None:
            return Group("sequence", [Any(min_occurs=0, max_occurs=None, process_contents="lax")], low, high)
        return Group(definition.kind, list(definition.particles), low, high)

    def _named_group(self, entry: _Entry) -> Group | None:
        built = self._groups.get(entry)
        if built is not None:
            return built
        ctx = _Ctx(entry.doc, "group", str(entry.qname), entry)
        if entry in self._busy:
            self._skip(ctx, "the group contains itself; a lax wildcard used instead")
            return None
        compositor = next((c for c in entry.el if c.tag in _COMPOSITORS), None)
        if compositor is None:
            self._skip(ctx, "xs:group without sequence, choice or all; empty sequence used")
            group = Group("sequence")
        else:
            self._busy.add(entry)
            try:
                group = self._model_group(compositor, ctx)
            except Exception as exc:
                self._skip(ctx, f"malformed group ({exc!r}); a lax wildcard used instead")
                group = any_content()
            finally:
                self._busy.discard(entry)
            group.min_occurs, group.max_occurs = 1, 1  # occurs belong to each reference
        self._groups[entry] = group
        return group

    def _occurs(self, el: etree._Element, ctx: _Ctx) -> tuple[int, int | None]:
        low_text = el.get("minOccurs")
        high_text = el.get("maxOccurs")
        low: int = 1
        high: int | None = 1
        if low_text is None and high_text is None:
            return low, high
        try:
            if low_text is not None:
                low = int(low_text.strip())
            if high_text is not None:
                stripped = high_text.strip()
                high = None if stripped == "unbounded" else int(stripped)
        except ValueError:
            self._skip(ctx, f"bad occurrence bounds minOccurs={low_text!r} maxOccurs={high_text!r}; 1..1 used")
            return 1, 1
        return low, high

    # elements

    def _local_element(self, el: etree._Element, ctx: _Ctx) -> Element | None:
        low, high = self._occurs(el, ctx)
        ref = el.get("ref")
        if ref:
            qname = self._qname(ref, el, ctx)
            if qname is None:
                return None
            entry = self._index["element"].get(qname)
            if entry is None:
                if qname.namespace != XSD_NS:  # e.g. .NET DataSets: <s:element ref="s:schema"/>
                    self._skip(ctx, self._missing("element", qname) + "; an anyType element used instead")
                return Element(qname, ANY_TYPE, low, high, is_global=True)
            target = self._global_element(entry)
            # A new particle: the declaration's properties with the reference's occurs.
            return Element(
                qname=target.qname,
                type=target.type,
                min_occurs=low,
                max_occurs=high,
                nillable=target.nillable,
                default=target.default,
                fixed=target.fixed,
                abstract=target.abstract,
                is_global=True,
                substitutes=target.substitutes,  # shared: filled once all elements are known
                doc=target.doc,
            )
        name = el.get("name")
        if not name:
            self._skip(ctx, "local xs:element without name or ref ignored")
            return None
        form = el.get("form")
        qualified = form == "qualified" if form else ctx.doc.qualified_elements
        return Element(
            qname=QName(ctx.doc.tns if qualified else "", name.strip()),
            type=self._element_type(el, ctx) or ANY_TYPE,
            min_occurs=low,
            max_occurs=high,
            nillable=_bool(el.get("nillable")),
            default=el.get("default"),
            fixed=el.get("fixed"),
            doc=_doc(el),
        )

    def _element_type(self, el: etree._Element, ctx: _Ctx) -> XsdType | None:
        text = el.get("type")
        if text:
            return self._type_ref(text, el, ctx)
        for child in el:
            if child.tag == XS_COMPLEX_TYPE:
                return self._anonymous_complex(child, ctx)
            if child.tag == XS_SIMPLE_TYPE:
                return self._simple_type(child, ctx, None)
        return None

    def _global_element(self, entry: _Entry) -> Element:
        built = self._elements.get(entry)
        if built is not None:
            return built
        el = entry.el
        ctx = _Ctx(entry.doc, "element", str(entry.qname), entry)
        element = Element(
            qname=entry.qname,
            type=ANY_TYPE,
            min_occurs=1,
            max_occurs=1,
            nillable=_bool(el.get("nillable")),
            default=el.get("default"),
            fixed=el.get("fixed"),
            abstract=_bool(el.get("abstract")),
            is_global=True,
            doc=_doc(el),
        )
        self._elements[entry] = element
        self._busy.add(entry)
        try:
            found = self._element_type(el, ctx)
            if found is None and el.get("substitutionGroup"):
                found = self._head_type(el, ctx)
            element.type = found or ANY_TYPE
        except Exception as exc:
            self._skip(ctx, f"malformed element ({exc!r}); anyType used instead")
        finally:
            self._busy.discard(entry)
        return element

    def _head_type(self, el: etree._Element, ctx: _Ctx) -> XsdType | None:
        """The type of an untyped member: its substitution group head's."""
        heads = el.get("substitutionGroup", "").split()
        if not heads:
            return None
        qname = self._qname(heads[0], el, ctx)
        head = self._index["element"].get(qname) if qname is not None else None
        if head is None:
            return None  # reported when substitution groups are linked
        if head in self._busy:
            self._skip(ctx, f"circular substitution group through {qname}; anyType used")
            return None
        return self._global_element(head).type

    def _link_substitution_groups(self) -> None:
        members: dict[_Entry, list[_Entry]] = {}
        for member, text in self._substitutions:
            ctx = _Ctx(member.doc, "element", str(member.qname), member)
            for head_text in text.split():
                qname = self._qname(head_text, member.el, ctx)
                if qname is None:
                    continue
                head = self._index["element"].get(qname)
                if head is None:
                    self._skip(ctx, self._missing("substitution group head", qname) + "; membership ignored")
                    continue
                members.setdefault(head, []).append(member)
        for head, direct in members.items():
            # Transitively: members of members may stand in for the head too.
            seen: set[_Entry] = {head}
            order: list[_Entry] = []
            stack = list(reversed(direct))
            while stack:
                member = stack.pop()
                if member in seen:
                    continue
                seen.add(member)
                order.append(member)
                stack.extend(reversed(members.get(member, [])))
            head_element = self._global_element(head)
            head_element.substitutes.extend(self._global_element(m) for m in order)

    # attributes

    def _attribute_uses(self, parent: etree._Element, ctx: _Ctx) -> tuple[list[Attribute], bool]:
        attributes: list[Attribute] = []
        any_attribute = False
        for child in parent:
            tag = child.tag
            if tag == XS_ATTRIBUTE:
                attribute = self._local_attribute(child, ctx)
                if attribute is not None:
                    attributes.append(attribute)
            elif tag == XS_ATTRIBUTE_GROUP:
                group_attributes, group_any = self._attribute_group_ref(child, ctx)
                attributes.extend(group_attributes)
                any_attribute = any_attribute or group_any
            elif tag == XS_ANY_ATTRIBUTE:
                any_attribute = True
        return _dedupe_attributes(attributes), any_attribute

    def _local_attribute(self, el: etree._Element, ctx: _Ctx) -> Attribute | None:
        use = el.get("use", "optional").strip()
        ref = el.get("ref")
        if ref:
            qname = self._qname(ref, el, ctx)
            if qname is None:
                return None
            entry = self._index["attribute"].get(qname)
            if entry is not None:
                target = self._global_attribute(entry)
            elif qname in _STAND_IN_ATTRIBUTES:
                target = _STAND_IN_ATTRIBUTES[qname]
            else:
                self._skip(ctx, self._missing("attribute", qname) + "; anySimpleType used instead")
                target = Attribute(qname, ANY_SIMPLE_TYPE)
            return Attribute(
                qname=target.qname,
                type=target.type,
                required=use == "required",
                default=el.get("default", target.default),
                fixed=el.get("fixed", target.fixed),
                prohibited=use == "prohibited",
            )
        name = el.get("name")
        if not name:
            self._skip(ctx, "xs:attribute without name or ref ignored")
            return None
        form = el.get("form")
        qualified = form == "qualified" if form else ctx.doc.qualified_attributes
        return Attribute(
            qname=QName(ctx.doc.tns if qualified else "", name.strip()),
            type=self._attribute_type(el, ctx),
            required=use == "required",
            default=el.get("default"),
            fixed=el.get("fixed"),
            prohibited=use == "prohibited",
        )

    def _attribute_type(self, el: etree._Element, ctx: _Ctx) -> SimpleType:
        text = el.get("type")
        if text:
            return self._simple_ref(text, el, ctx)
        inline = _first(el, XS_SIMPLE_TYPE)
        return self._simple_type(inline, ctx, None) if inline is not None else ANY_SIMPLE_TYPE

    def _global_attribute(self, entry: _Entry) -> Attribute:
        built = self._attributes.get(entry)
        if built is not None:
            return built
        ctx = _Ctx(entry.doc, "attribute", str(entry.qname), entry)
        try:
            value_type = self._attribute_type(entry.el, ctx)
        except Exception as exc:
            self._skip(ctx, f"malformed attribute ({exc!r}); anySimpleType used instead")
            value_type = ANY_SIMPLE_TYPE
        attribute = Attribute(
            qname=entry.qname,
            type=value_type,
            default=entry.el.get("default"),
            fixed=entry.el.get("fixed"),
        )
        self._attributes[entry] = attribute
        return attribute

    def _attribute_group_ref(self, el: etree._Element, ctx: _Ctx) -> tuple[list[Attribute], bool]:
        text = el.get("ref")
        if not text:
            self._skip(ctx, "xs:attributeGroup without ref ignored")
            return [], False
        qname = self._qname(text, el, ctx)
        if qname is None:
            return [], True
        original = _original(ctx.entry, qname) if ctx.kind == "attributeGroup" else None
        entry = original or self._index["attributeGroup"].get(qname)
        if entry is None:
            self._skip(ctx, self._missing("attribute group", qname) + "; any attribute allowed instead")
            return [], True
        return self._attribute_group(entry)

    def _attribute_group(self, entry: _Entry) -> tuple[list[Attribute], bool]:
        built = self._attribute_groups.get(entry)
        if built is not None:
            return built
        ctx = _Ctx(entry.doc, "attributeGroup", str(entry.qname), entry)
        if entry in self._busy:
            self._skip(ctx, "the attribute group contains itself; the inner reference ignored")
            return [], False
        self._busy.add(entry)
        try:
            built = self._attribute_uses(entry.el, ctx)
        except Exception as exc:
            self._skip(ctx, f"malformed attribute group ({exc!r}); any attribute allowed instead")
            built = ([], True)
        finally:
            self._busy.discard(entry)
        self._attribute_groups[entry] = built
        return built


# --- small helpers -------------------------------------------------------------------


def _join(base: str, location: str) -> str:
    """Resolve a schemaLocation against the URL or path of the document that names it."""
    location = location.strip()
    if _SCHEME.match(location):
        return location
    if _SCHEME.match(base):
        return urljoin(base, location)
    if os.path.isabs(location):
        return os.path.normpath(location)
    return os.path.normpath(os.path.join(os.path.dirname(base), location))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _bool(value: str | None) -> bool:
    return value is not None and value.strip() in ("true", "1")


def _first(el: etree._Element, tag: str) -> etree._Element | None:
    for child in el:
        if child.tag == tag:
            return child
    return None


def _doc(el: etree._Element) -> str | None:
    """The text of the first xs:documentation of the component, stripped."""
    for child in el:
        if child.tag == XS_ANNOTATION:
            for item in child:
                if item.tag == XS_DOCUMENTATION:
                    text = "".join(item.itertext()).strip()
                    return text or None
        elif isinstance(child.tag, str):
            return None  # xs:annotation comes first or not at all
    return None


def _original(entry: _Entry | None, qname: QName) -> _Entry | None:
    """Inside an xs:redefine of ``entry``, a reference to its own name means the original."""
    return entry.original if entry is not None and entry.qname == qname else None


def _is_user_type(st: SimpleType) -> bool:
    return st.qname is None or st.qname.namespace != XSD_NS


def _dedupe_attributes(attributes: list[Attribute]) -> list[Attribute]:
    seen: set[QName] = set()
    unique: list[Attribute] = []
    for attribute in attributes:
        if attribute.qname not in seen:
            seen.add(attribute.qname)
            unique.append(attribute)
    return unique


def _restrict_attributes(base: list[Attribute], own: list[Attribute]) -> list[Attribute]:
    """A restriction's attributes: the base's, each replaced by its redeclaration if any."""
    own_by_name = {a.qname: a for a in own}
    merged = [own_by_name.pop(a.qname, a) for a in base]
    merged.extend(a for a in own if a.qname in own_by_name)
    return merged


def _make_any(ct: ComplexType) -> None:
    """Turn a type we could not read into anyType, in place (others may hold it already)."""
    ct.content = any_content()
    ct.attributes = []
    ct.any_attribute = True
    ct.mixed = True
    ct.base = None
    ct.derivation = None
    ct.simple_content = None


__all__ = ["Loader", "SchemaSet", "read_schemas"]
