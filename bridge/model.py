"""The neutral service model: what a WSDL and its schemas say, free of zeep and of JSON.

Everything downstream (JSON Schema, codec, OpenAPI, REST app, mock) reads only these
dataclasses. The XSD reader and the WSDL loader are the only code that builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from . import namespaces

XSD_NS = namespaces.XSD
XSI_NS = namespaces.XSI

UNBOUNDED = None  # max_occurs value for maxOccurs="unbounded"


@dataclass(frozen=True, order=True)
class QName:
    """A qualified name; ``str()`` gives its Clark notation (``{namespace}name``)."""

    namespace: str  # "" for no namespace
    name: str

    def __str__(self) -> str:
        return f"{{{self.namespace}}}{self.name}" if self.namespace else self.name

    @classmethod
    def parse(cls, clark: str) -> QName:
        """The QName of a name in Clark notation (or a bare name: no namespace)."""
        if clark.startswith("{"):
            ns, _, local = clark[1:].partition("}")
            return cls(ns, local)
        return cls("", clark)


@dataclass
class Facets:
    """XSD constraining facets, as lexical strings where the XSD has them."""

    enumeration: list[str] | None = None
    patterns: list[list[str]] = field(default_factory=list)  # one list per derivation step (ANDed)
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_inclusive: str | None = None
    max_inclusive: str | None = None
    min_exclusive: str | None = None
    max_exclusive: str | None = None
    total_digits: int | None = None
    fraction_digits: int | None = None
    white_space: str | None = None  # preserve | replace | collapse

    def is_empty(self) -> bool:
        """Whether no facet is set."""
        return self == Facets()


#: WS-I Attachments Profile 1.0's swaRef: an xsd:anyURI holding a ``cid:`` URI that names a MIME part.
SWAREF = QName("http://ws-i.org/profiles/basic/1.1/xsd", "swaRef")


@dataclass(eq=False)
class SimpleType:
    """An atomic, list or union simple type.

    ``builtin`` is the local name of the XSD built-in it derives from (``int``,
    ``decimal``, ``dateTime``...), the most specific built-in in its chain. One exception:
    ``SWAREF`` (and any type derived from it) has ``base64Binary``, not ``anyURI``: its value is
    the content of the MIME part its ``cid:`` names, so it is base64 in JSON (``is_swaref``).
    """

    qname: QName | None
    builtin: str = "string"
    facets: Facets = field(default_factory=Facets)
    variety: Literal["atomic", "list", "union"] = "atomic"
    item_type: SimpleType | None = None  # list
    member_types: list[SimpleType] = field(default_factory=list)  # union
    base: SimpleType | None = None  # the user-defined base, if any
    doc: str | None = None


def is_swaref(t: SimpleType) -> bool:
    """Whether a simple type is WS-I's swaRef or derives from it."""
    st: SimpleType | None = t
    while st is not None:
        if st.qname == SWAREF:
            return True
        st = st.base
    return False


@dataclass(eq=False)
class Attribute:
    """An attribute declaration or use."""

    qname: QName  # namespace is "" for unqualified attributes
    type: SimpleType
    required: bool = False
    default: str | None = None
    fixed: str | None = None
    prohibited: bool = False


@dataclass(eq=False)
class Element:
    """An element declaration, global or local, with its occurrence bounds."""

    qname: QName  # namespace is "" for unqualified local elements
    type: ComplexType | SimpleType
    min_occurs: int = 1
    max_occurs: int | None = 1  # None: unbounded
    nillable: bool = False
    default: str | None = None
    fixed: str | None = None
    abstract: bool = False
    is_global: bool = False
    # Global elements that may stand in for this one (substitution group members).
    substitutes: list[Element] = field(default_factory=list)
    doc: str | None = None

    @property
    def is_array(self) -> bool:
        """Whether it may occur more than once (a JSON array)."""
        return self.max_occurs is None or self.max_occurs > 1


@dataclass(eq=False)
class Any:
    """xsd:any wildcard."""

    namespace: str = "##any"
    process_contents: str = "strict"
    min_occurs: int = 1
    max_occurs: int | None = 1

    @property
    def is_array(self) -> bool:
        """Whether it may occur more than once."""
        return self.max_occurs is None or self.max_occurs > 1


@dataclass(eq=False)
class Group:
    """A model group: sequence, choice or all."""

    kind: Literal["sequence", "choice", "all"]
    particles: list[Particle] = field(default_factory=list)
    min_occurs: int = 1
    max_occurs: int | None = 1

    @property
    def is_array(self) -> bool:
        """Whether the group may occur more than once."""
        return self.max_occurs is None or self.max_occurs > 1


Particle = Element | Group | Any


@dataclass(eq=False)
class ComplexType:
    """A complex type: a content model, attributes, or a simpleContent value, and its derivation."""

    qname: QName | None
    content: Group | None = None  # own content, including the base's for restrictions
    attributes: list[Attribute] = field(default_factory=list)
    any_attribute: bool = False
    # Extension: ``base`` holds inherited content; ``content``/``attributes`` hold only
    # what this type adds. Restriction: ``content``/``attributes`` are complete.
    base: ComplexType | None = None
    derivation: Literal["extension", "restriction"] | None = None
    simple_content: SimpleType | None = None  # the value type for simpleContent
    mixed: bool = False
    abstract: bool = False
    derived: list[ComplexType] = field(default_factory=list)  # known subtypes (for xsi:type)
    # SOAP-encoded array (soapenc:Array restriction): item type of the array.
    soapenc_array_item: ComplexType | SimpleType | None = None
    doc: str | None = None

    def all_attributes(self) -> list[Attribute]:
        """Attributes including inherited ones (extension chain)."""
        inherited = self.base.all_attributes() if self.base and self.derivation == "extension" else []
        return inherited + self.attributes

    def any_attribute_inherited(self) -> bool:
        """Whether it or a base it extends allows any attribute (``xsd:anyAttribute``)."""
        if self.any_attribute:
            return True
        return bool(self.base and self.derivation == "extension" and self.base.any_attribute_inherited())

    def content_chain(self) -> list[Group]:
        """Model groups in wire order: the base's first for extensions."""
        chain: list[Group] = []
        if self.base is not None and self.derivation == "extension":
            chain.extend(self.base.content_chain())
        if self.content is not None:
            chain.append(self.content)
        return chain

    def value_type(self) -> SimpleType | None:
        """The simpleContent value type, following the extension chain."""
        if self.simple_content is not None:
            return self.simple_content
        if self.base is not None:
            return self.base.value_type()
        return None


XsdType = ComplexType | SimpleType


# --- The WSDL side ---------------------------------------------------------------


@dataclass(eq=False)
class Part:
    """A message part, bound to the SOAP body or a SOAP header."""

    name: str
    element: Element  # doc style: the global element; rpc style: a synthetic local element
    location: Literal["body", "header"] = "body"


@dataclass(eq=False)
class Message:
    """A WSDL message: its parts, in order."""

    name: str
    parts: list[Part] = field(default_factory=list)
    # SOAP with Attachments: parts the binding puts in MIME parts (mime:multipartRelated/mime:content),
    # each with its media types. Modelled as body parts (JSON, codec); bridge.mime moves them on the wire.
    attachments: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def body_parts(self) -> list[Part]:
        """The parts bound to the SOAP Body."""
        return [p for p in self.parts if p.location == "body"]

    @property
    def header_parts(self) -> list[Part]:
        """The parts bound to SOAP headers."""
        return [p for p in self.parts if p.location == "header"]


@dataclass(eq=False)
class Fault:
    """A fault an operation declares."""

    name: str
    element: Element | None  # the detail element, if declared


@dataclass(eq=False)
class Operation:
    """One operation of one port: its SOAP binding, messages and faults, and the REST route it gets."""

    name: str
    service: str
    port: str
    binding: QName
    soap_version: Literal["1.1", "1.2"]
    style: Literal["document", "rpc"]
    use: Literal["literal", "encoded"]
    soap_action: str
    address: str | None
    input: Message
    output: Message | None  # None for one-way operations
    faults: list[Fault] = field(default_factory=list)
    # rpc style: namespace of the wrapper element (soap:body/@namespace)
    rpc_namespace: str = ""
    doc: str | None = None
    # Assigned by the REST layer's routing rules (see bridge.routing).
    operation_id: str = ""
    http_method: str = "POST"
    path: str = ""
    key: str = ""  # "Operation" or "Service.Port.Operation"
    query: tuple[str, ...] = ()  # fields taken from the query string (custom routes)
    # WS-Addressing Action of the request: wsam/wsaw:Action, else the soapAction, else the default pattern
    wsa_action: str = ""
    wsa_reply_action: str = ""  # of the reply: wsam/wsaw:Action on the output, else the default pattern
    wsa_policy: bool = False  # the binding's policy asks for WS-Addressing (wsaw:UsingAddressing, wsam:Addressing)
    mtom_policy: bool = False  # the binding's policy asks for MTOM (wsoma:OptimizedMimeSerialization)

    @property
    def qualified_name(self) -> str:
        """``Service.Port.Operation``: unique within the WSDL."""
        return f"{self.service}.{self.port}.{self.name}"


@dataclass(eq=False)
class Port:
    """A service's port: binding, kind, address and operations."""

    name: str
    service: str
    binding: QName
    port_type: QName
    kind: Literal["soap11", "soap12", "http", "other"]
    address: str | None
    operations: list[Operation] = field(default_factory=list)


@dataclass
class Skipped:
    """Something the loader could not model, and why. Never silent."""

    kind: Literal["operation", "port", "type", "schema", "binding"]
    name: str
    reason: str


@dataclass(eq=False)
class ServiceModel:
    """Everything loaded from one WSDL: its ports, global types and elements, source documents, and what was
    skipped."""

    location: str
    target_namespace: str
    ports: list[Port] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    types: dict[QName, XsdType] = field(default_factory=dict)  # named global types
    elements: dict[QName, Element] = field(default_factory=dict)  # global elements
    documents: dict[str, bytes] = field(default_factory=dict)  # every loaded document by URL
    notes: list[str] = field(default_factory=list)  # worth knowing, not a loss (e.g. zeep's drops)

    @property
    def operations(self) -> list[Operation]:
        """The operations of every port, in order."""
        return [op for port in self.ports for op in port.operations]


HEADERS_KEY = "$headers"


def unwrapped_part(op: Operation, msg: Message) -> Part | None:
    """The one body part whose element content *is* the JSON body (document/literal wrapped
    and bare single-element messages), or None when the body is keyed by part name."""
    parts = msg.body_parts
    if op.style != "document" or len(parts) != 1:
        return None
    t = parts[0].element.type
    if isinstance(t, ComplexType) and t.soapenc_array_item is None and not parts[0].element.is_array:
        return parts[0]
    return None
