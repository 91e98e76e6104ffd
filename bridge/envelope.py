"""SOAP 1.1 and 1.2 envelopes: building requests and faults, parsing replies and faults."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from . import namespaces
from .errors import FaultCategory, XmlError
from .xmlparse import parse_untrusted

SOAP11 = namespaces.SOAP11_ENV
SOAP12 = namespaces.SOAP12_ENV
XSI = namespaces.XSI
XSD = namespaces.XSD
SOAPENC11 = namespaces.SOAPENC
ENV_NS = {"1.1": SOAP11, "1.2": SOAP12}


def http_headers(version: str, action: str) -> dict[str, str]:
    """The HTTP headers a request of this SOAP version carries: the action in ``SOAPAction`` (1.1) or in the
    Content-Type (1.2)."""
    if version == "1.2":
        ct = "application/soap+xml; charset=utf-8"
        if action:
            ct += f'; action="{action}"'
        return {"Content-Type": ct}
    return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}


def build(version: str, headers: list[etree._Element], body: list[etree._Element]) -> bytes:
    """A serialised envelope of this SOAP version holding these header and body elements."""
    ns = ENV_NS[version]
    env = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns, "xsi": XSI, "xsd": XSD})
    if headers:
        h = etree.SubElement(env, f"{{{ns}}}Header")
        h.extend(headers)
    b = etree.SubElement(env, f"{{{ns}}}Body")
    b.extend(body)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


@dataclass
class Envelope:
    """A parsed SOAP envelope: its version, Header and Body, and their child elements."""

    version: str
    header: etree._Element | None
    body: etree._Element
    body_children: list[etree._Element] = field(init=False)  # elements only: no comments or PIs
    header_children: list[etree._Element] = field(init=False)

    def __post_init__(self) -> None:
        self.body_children = [c for c in self.body if isinstance(c.tag, str)]
        self.header_children = [] if self.header is None else [c for c in self.header if isinstance(c.tag, str)]


# Tags compared as strings: on a small reply, etree.QName and find() cost as much as the parse.
_ROOTS = {f"{{{ns}}}Envelope": (version, f"{{{ns}}}Header", f"{{{ns}}}Body") for version, ns in ENV_NS.items()}
_FAULTS = (f"{{{SOAP11}}}Fault", f"{{{SOAP12}}}Fault")


def parse(data: bytes, *, max_bytes: int, max_depth: int, what: str = "SOAP message") -> Envelope:
    """Parses untrusted bytes as a SOAP 1.1 or 1.2 envelope; raises ``XmlError`` for unsafe or malformed XML,
    another root element, or no Body."""
    return from_root(parse_untrusted(data, max_bytes=max_bytes, max_depth=max_depth, what=what), what)


def from_root(root: etree._Element, what: str = "SOAP message") -> Envelope:
    """An envelope from a parsed root element (``parse`` without the parse; bridge.mime's MTOM replies)."""
    known = _ROOTS.get(root.tag)  # type: ignore[call-overload]
    if known is None:
        raise XmlError(f"{what} is not a SOAP envelope (root element {root.tag})")
    version, header_tag, body_tag = known
    header = body = None
    for c in root:  # the first Header and the first Body, as find() would give
        tag = c.tag
        if tag == body_tag and body is None:
            body = c
        elif tag == header_tag and header is None:
            header = c
    if body is None:
        raise XmlError(f"{what} has no SOAP Body")
    return Envelope(version, header, body)


@dataclass
class FaultInfo:
    """A SOAP 1.1 or 1.2 Fault as read from an envelope, in one shape."""

    version: str
    code: str  # Clark notation
    category: FaultCategory
    reason: str
    subcodes: list[str] = field(default_factory=list)
    actor: str | None = None
    detail: list[etree._Element] = field(default_factory=list)


def _resolve(node: etree._Element, text: str | None) -> str:
    text = (text or "").strip()
    if ":" in text:
        prefix, local = text.split(":", 1)
        ns = node.nsmap.get(prefix)
        return f"{{{ns}}}{local}" if ns else text
    ns = node.nsmap.get(None)
    return f"{{{ns}}}{text}" if ns else text


def find_fault(env: Envelope) -> FaultInfo | None:
    """The Fault of a reply, if it is one. Its children are read in the shape they come in, which
    is not always the envelope's: SOAP::Lite answers a SOAP 1.2 request with a 1.2 envelope around
    1.1 children (faultcode, faultstring, detail), and gSOAP can send 1.2 children (Code, Reason,
    Detail) in a 1.1 envelope. Raises ``XmlError`` for a Fault that has neither code."""
    children = env.body_children
    if not children:
        return None
    f = children[0]
    if f.tag not in _FAULTS:
        return None
    has11 = _child(f, "faultcode") is not None
    has12 = _child(f, "Code") is not None
    if env.version == "1.1" and not has11 and has12:
        info = _fault12(f)
    elif env.version == "1.2" and not has12 and has11:
        info = _fault11(f)
    else:
        info = _fault11(f) if env.version == "1.1" else _fault12(f)
    if not info.code:
        raise XmlError(
            f"the SOAP {env.version} Fault has no fault code (neither faultcode nor Code/Value), so it cannot be told"
            " a client fault from a server fault"
        )
    return info


def _fault11(f: etree._Element) -> FaultInfo:
    code_node = _child(f, "faultcode")
    code = _resolve(code_node, code_node.text) if code_node is not None else ""
    reason = _text(f, "faultstring")
    actor = _text(f, "faultactor") or None
    local = code.rsplit("}", 1)[-1]
    # "Sender" too: a 1.2 code name in 1.1 children (a stack mixing the versions) is still the client's
    category: FaultCategory = "client" if local.split(".")[0] in ("Client", "Sender") else "server"
    return FaultInfo("1.1", code, category, reason, [], actor, _elements(_child(f, "detail")))


def _fault12(f: etree._Element) -> FaultInfo:
    code_node = _child(f, "Code")
    value = _child(code_node, "Value") if code_node is not None else None
    code = _resolve(value, value.text) if value is not None else ""
    subcodes: list[str] = []
    node = code_node
    while node is not None:
        sub = _child(node, "Subcode")
        if sub is None:
            break
        sv = _child(sub, "Value")
        if sv is not None:
            subcodes.append(_resolve(sv, sv.text))
        node = sub
    reason_node = _child(f, "Reason")
    reason = ""
    if reason_node is not None:
        text = _child(reason_node, "Text")
        reason = (text.text or "").strip() if text is not None else ""
    role = _child(f, "Role")
    local = code.rsplit("}", 1)[-1]
    category: FaultCategory = "server" if local in ("Receiver", "VersionMismatch") else "client"
    return FaultInfo(
        "1.2",
        code,
        category,
        reason,
        subcodes,
        # an empty Role (spyne writes one) says no more than none, as an empty faultactor in 1.1
        ((role.text or "").strip() or None) if role is not None else None,
        _elements(_child(f, "Detail")),
    )


def _child(node: etree._Element, name: str) -> etree._Element | None:
    """A Fault's child by local name: in the envelope namespace of its own version (1.2's
    Code/Reason/Detail, and 1.1's faultcode/... as some stacks qualify them), unqualified (as 1.1
    says and SOAP::Lite writes even in 1.2), or in the other version's namespace (gSOAP writes the
    1.2 names with whatever namespace its table binds to SOAP-ENV)."""
    for tag in (f"{{{SOAP12}}}{name}", name, f"{{{SOAP11}}}{name}"):
        child = node.find(tag)
        if child is not None:
            return child
    return None


def _text(node: etree._Element, name: str) -> str:
    child = _child(node, name)
    return "".join(child.itertext()).strip() if child is not None else ""


def _elements(node: etree._Element | None) -> list[etree._Element]:
    return [] if node is None else [c for c in node if isinstance(c.tag, str)]


def build_fault(
    version: str,
    category: FaultCategory,
    reason: str,
    detail: list[etree._Element] | None = None,
    *,
    subcode: tuple[str, str, list[str]] | None = None,
    headers: list[etree._Element] | None = None,
) -> bytes:
    """``subcode`` (prefix, namespace, local names): nested SOAP 1.2 Subcodes, and in SOAP 1.1 the
    faultcode itself (the innermost), as WS-Addressing's SOAP binding (§6) and the JAX-WS RI send them."""
    ns = ENV_NS[version]
    nsmap = {"soap": ns}
    if subcode is not None:
        nsmap[subcode[0]] = subcode[1]
    env = etree.Element(f"{{{ns}}}Envelope", nsmap=nsmap)  # type: ignore[arg-type]
    if headers:
        etree.SubElement(env, f"{{{ns}}}Header").extend(headers)
    body = etree.SubElement(env, f"{{{ns}}}Body")
    fault = etree.SubElement(body, f"{{{ns}}}Fault")
    if version == "1.1":
        code = "soap:Client" if category == "client" else "soap:Server"
        etree.SubElement(fault, "faultcode").text = f"{subcode[0]}:{subcode[2][-1]}" if subcode is not None else code
        etree.SubElement(fault, "faultstring").text = reason
        if detail:
            etree.SubElement(fault, "detail").extend(detail)
    else:
        code = etree.SubElement(fault, f"{{{ns}}}Code")
        etree.SubElement(code, f"{{{ns}}}Value").text = "soap:Sender" if category == "client" else "soap:Receiver"
        parent = code
        for name in subcode[2] if subcode is not None else []:
            parent = etree.SubElement(parent, f"{{{ns}}}Subcode")
            etree.SubElement(parent, f"{{{ns}}}Value").text = f"{subcode[0]}:{name}"  # type: ignore[index]
        r = etree.SubElement(fault, f"{{{ns}}}Reason")
        t = etree.SubElement(r, f"{{{ns}}}Text")
        t.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        t.text = reason
        if detail:
            etree.SubElement(fault, f"{{{ns}}}Detail").extend(detail)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


WSA = namespaces.WSA
WSA_ANONYMOUS = f"{WSA}/anonymous"


def add_addressing(envelope: bytes, version: str, action: str, to: str, message_id: str) -> bytes:
    """The request envelope with WS-Addressing 1.0 headers (SOAP binding, §3): Action, To,
    MessageID and an anonymous ReplyTo (the reply comes back on the HTTP response). Action and To
    carry mustUnderstand, as WCF and the JAX-WS RI send them: a service that ignored them would
    dispatch on something else."""
    root = etree.fromstring(envelope, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    ns = ENV_NS[version]
    header = root.find(f"{{{ns}}}Header")
    if header is None:
        header = etree.Element(f"{{{ns}}}Header")
        root.insert(0, header)
    must = "1" if version == "1.1" else "true"
    values = [("Action", action, True), ("To", to, True), ("MessageID", message_id, False)]
    for i, (name, text, understand) in enumerate(values):
        el = etree.Element(f"{{{WSA}}}{name}", nsmap={"wsa": WSA})
        el.text = text
        if understand:
            el.set(f"{{{ns}}}mustUnderstand", must)
        header.insert(i, el)
    reply_to = etree.Element(f"{{{WSA}}}ReplyTo", nsmap={"wsa": WSA})
    etree.SubElement(reply_to, f"{{{WSA}}}Address").text = WSA_ANONYMOUS
    header.insert(len(values), reply_to)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
