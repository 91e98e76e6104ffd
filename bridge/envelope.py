"""SOAP 1.1 and 1.2 envelopes: building requests and faults, parsing replies and faults."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .errors import XmlError
from .xmlparse import parse_untrusted

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ENV_NS = {"1.1": SOAP11, "1.2": SOAP12}
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
SOAPENC11 = "http://schemas.xmlsoap.org/soap/encoding/"


def http_headers(version: str, action: str) -> dict[str, str]:
    if version == "1.2":
        ct = "application/soap+xml; charset=utf-8"
        if action:
            ct += f'; action="{action}"'
        return {"Content-Type": ct}
    return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}


def build(version: str, headers: list[etree._Element], body: list[etree._Element]) -> bytes:
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
    root = parse_untrusted(data, max_bytes=max_bytes, max_depth=max_depth, what=what)
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
    version: str
    code: str  # Clark notation
    category: str  # client | server
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
    children = env.body_children
    if not children:
        return None
    f = children[0]
    if f.tag not in _FAULTS:
        return None
    if env.version == "1.1":
        code_node = f.find("faultcode")
        if code_node is None:
            code_node = f.find(f"{{{SOAP11}}}faultcode")
        code = _resolve(code_node, code_node.text) if code_node is not None else ""
        reason = _text(f, "faultstring")
        actor = _text(f, "faultactor") or None
        detail_node = f.find("detail")
        if detail_node is None:
            detail_node = f.find(f"{{{SOAP11}}}detail")
        local = code.rsplit("}", 1)[-1]
        category = "client" if local.split(".")[0] == "Client" else "server"
        return FaultInfo("1.1", code, category, reason, [], actor, _elements(detail_node))
    code_node = f.find(f"{{{SOAP12}}}Code")
    value = code_node.find(f"{{{SOAP12}}}Value") if code_node is not None else None
    code = _resolve(value, value.text) if value is not None else ""
    subcodes: list[str] = []
    node = code_node
    while node is not None:
        sub = node.find(f"{{{SOAP12}}}Subcode")
        if sub is None:
            break
        sv = sub.find(f"{{{SOAP12}}}Value")
        if sv is not None:
            subcodes.append(_resolve(sv, sv.text))
        node = sub
    reason_node = f.find(f"{{{SOAP12}}}Reason")
    reason = ""
    if reason_node is not None:
        texts = reason_node.findall(f"{{{SOAP12}}}Text")
        reason = (texts[0].text or "").strip() if texts else ""
    role = f.find(f"{{{SOAP12}}}Role")
    local = code.rsplit("}", 1)[-1]
    category = "server" if local in ("Receiver", "VersionMismatch") else "client"
    return FaultInfo(
        "1.2",
        code,
        category,
        reason,
        subcodes,
        # an empty Role (spyne writes one) says no more than none, as an empty faultactor in 1.1
        ((role.text or "").strip() or None) if role is not None else None,
        _elements(f.find(f"{{{SOAP12}}}Detail")),
    )


def _text(node: etree._Element, name: str) -> str:
    child = node.find(name)
    if child is None:
        child = node.find(f"{{{SOAP11}}}{name}")
    return "".join(child.itertext()).strip() if child is not None else ""


def _elements(node: etree._Element | None) -> list[etree._Element]:
    return [] if node is None else [c for c in node if isinstance(c.tag, str)]


def build_fault(version: str, category: str, reason: str, detail: list[etree._Element] | None = None) -> bytes:
    ns = ENV_NS[version]
    env = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    body = etree.SubElement(env, f"{{{ns}}}Body")
    fault = etree.SubElement(body, f"{{{ns}}}Fault")
    if version == "1.1":
        etree.SubElement(fault, "faultcode").text = "soap:Client" if category == "client" else "soap:Server"
        etree.SubElement(fault, "faultstring").text = reason
        if detail:
            etree.SubElement(fault, "detail").extend(detail)
    else:
        code = etree.SubElement(fault, f"{{{ns}}}Code")
        etree.SubElement(code, f"{{{ns}}}Value").text = "soap:Sender" if category == "client" else "soap:Receiver"
        r = etree.SubElement(fault, f"{{{ns}}}Reason")
        t = etree.SubElement(r, f"{{{ns}}}Text")
        t.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        t.text = reason
        if detail:
            etree.SubElement(fault, f"{{{ns}}}Detail").extend(detail)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")
