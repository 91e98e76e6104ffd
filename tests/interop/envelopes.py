"""Every envelope the bridge sends in the interop tests is checked against the XSD, independently.

``RecordingTransport`` sits between the bridge's HTTP client and the network: it records each
outgoing request, checks it with an ``EnvelopeChecker`` and passes it on unchanged. The check does
not use the bridge's codec, model or mock: ``xmlschema`` validates the whole envelope against the
SOAP envelope schema (1.1: the W3C schema xmlschema ships; 1.2: the one in bridge/xsd/schemas) plus
the WSDL's own inline schemas, and the WSDL's bindings are read here with lxml to know what each
operation's body must be:

- document/literal: each Body child (and each header block) must be a global element of the WSDL's
  schemas; xmlschema then validates it strictly (the Body wildcard is ``lax``, so without this
  check an undeclared element would pass unvalidated);
- rpc/literal: the wrapper is the operation's name in ``soap:body/@namespace`` and its children
  are exactly the parts; a part declared with ``type=`` is validated as that type (the checker
  puts the declared ``xsi:type`` on a copy, as the wire carries none);
- rpc/encoded: the wrapper and part names as above, and every accessor's own ``xsi:type`` is
  validated (SOAP-encoded arrays against soap-encoding.xsd);
- the HTTP headers match the SOAP version (``text/xml`` + ``SOAPAction`` for 1.1,
  ``application/soap+xml; action=...`` for 1.2) and the action names the operation sent.

``checked_load`` is ``bridge.load`` with such a transport. ``tests/interop/conftest.py`` has an autouse fixture that fails a test if any envelope sent during
it broke these rules.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import xmlschema
from lxml import etree

import bridge
from bridge.wsdl import catalog

XSD = "http://www.w3.org/2001/XMLSchema"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = {"1.1": "http://schemas.xmlsoap.org/wsdl/soap/", "1.2": "http://schemas.xmlsoap.org/wsdl/soap12/"}
ENVELOPE = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}
CONTENT_TYPE = {"1.1": "text/xml", "1.2": "application/soap+xml"}


def _offline(url: str) -> str:
    local = catalog.lookup(url)
    return local.as_uri() if local is not None else url


def _qname(node: etree._Element, text: str) -> str:
    """A QName attribute value in Clark notation, resolved against the node's namespaces."""
    prefix, _, local = text.rpartition(":")
    ns = node.nsmap.get(prefix or None)
    return f"{{{ns}}}{local}" if ns else local


@dataclass(frozen=True)
class _Part:
    name: str
    element: str | None  # Clark notation
    type: str | None


@dataclass(frozen=True)
class _BoundOperation:
    name: str
    version: str  # "1.1" | "1.2"
    action: str
    style: str  # document | rpc
    use: str  # literal | encoded
    namespace: str  # soap:body/@namespace (rpc)
    parts: tuple[_Part, ...]


class EnvelopeChecker:
    """What a valid request envelope for one WSDL looks like, from the WSDL and its schemas alone."""

    def __init__(self, wsdl: Path) -> None:
        root = etree.parse(str(wsdl)).getroot()
        sources: list[str] = [etree.tostring(s).decode() for s in root.iter(f"{{{XSD}}}schema")]
        for ns in ENVELOPE.values():
            local = catalog.lookup(ns)
            assert local is not None, f"no local copy of the {ns} schema"
            sources.append(str(local))
        self.schema = xmlschema.XMLSchema10(sources, base_url=str(wsdl.parent) + "/", uri_mapper=_offline)
        self.operations = self._bound_operations(root)

    @staticmethod
    def _bound_operations(root: etree._Element) -> list[_BoundOperation]:
        tns = root.get("targetNamespace", "")
        messages = {
            f"{{{tns}}}{m.get('name')}": tuple(
                _Part(
                    p.get("name", ""),
                    _qname(p, p.get("element", "")) if p.get("element") else None,
                    _qname(p, p.get("type", "")) if p.get("type") else None,
                )
                for p in m.iterfind(f"{{{WSDL}}}part")
            )
            for m in root.iterfind(f"{{{WSDL}}}message")
        }
        port_types = {
            f"{{{tns}}}{pt.get('name')}": {
                op.get("name"): _qname(op, op.find(f"{{{WSDL}}}input").get("message", ""))
                for op in pt.iterfind(f"{{{WSDL}}}operation")
                if op.find(f"{{{WSDL}}}input") is not None
            }
            for pt in root.iterfind(f"{{{WSDL}}}portType")
        }
        out: list[_BoundOperation] = []
        for binding in root.iterfind(f"{{{WSDL}}}binding"):
            for version, ns in WSDL_SOAP.items():
                soap_binding = binding.find(f"{{{ns}}}binding")
                if soap_binding is None:
                    continue
                inputs = port_types.get(_qname(binding, binding.get("type", "")), {})
                for op in binding.iterfind(f"{{{WSDL}}}operation"):
                    soap_op = op.find(f"{{{ns}}}operation")
                    body = op.find(f"{{{WSDL}}}input/{{{ns}}}body")
                    name = op.get("name", "")
                    message = inputs.get(name, "")
                    parts = messages.get(message, ())
                    # the body carries soap:body/@parts, else every part no soap:header of this message takes
                    listed = body.get("parts") if body is not None else None
                    in_headers = {
                        h.get("part")
                        for h in op.iterfind(f"{{{WSDL}}}input/{{{ns}}}header")
                        if _qname(h, h.get("message", "")) == message
                    }
                    parts = tuple(p for p in parts if (p.name in listed.split() if listed is not None else p.name not in in_headers))
                    out.append(
                        _BoundOperation(
                            name=name,
                            version=version,
                            action=(soap_op.get("soapAction") if soap_op is not None else None) or "",
                            style=(soap_op.get("style") if soap_op is not None else None) or soap_binding.get("style") or "document",
                            use=(body.get("use") if body is not None else None) or "literal",
                            namespace=(body.get("namespace") if body is not None else None) or "",
                            parts=parts,
                        )
                    )
        return out

    def problems(self, body: bytes, content_type: str, soap_action: str | None) -> list[str]:
        """Everything wrong with one outgoing request; empty when it is valid."""
        try:
            doc = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            return [f"not well-formed XML: {exc}"]
        versions = [v for v, ns in ENVELOPE.items() if doc.tag == f"{{{ns}}}Envelope"]
        if not versions:
            return [f"the root is {doc.tag}, not a SOAP Envelope"]
        version = versions[0]
        ns = ENVELOPE[version]
        found: list[str] = []
        media_type, _, params = content_type.partition(";")
        if media_type.strip().lower() != CONTENT_TYPE[version]:
            found.append(f"SOAP {version} envelope sent as {content_type!r}")
        if version == "1.1":
            action = (soap_action or "").strip().strip('"')
            if soap_action is None:
                found.append("SOAP 1.1 request without a SOAPAction header")
        else:
            action = next(
                (v.strip().strip('"') for k, _, v in (p.partition("=") for p in params.split(";")) if k.strip().lower() == "action"),
                "",
            )
        body_node = doc.find(f"{{{ns}}}Body")
        children = [c for c in body_node if isinstance(c.tag, str)] if body_node is not None else []
        candidates = [op for op in self.operations if op.version == version and (not action or op.action == action)]
        op = self._operation_for(candidates, children)
        if op is None:
            found.append(f"no SOAP {version} operation of the WSDL has action {action!r} and this body")
            return found + self._schema_errors(doc)
        if op.style == "document":
            for child in children:
                if child.tag not in self.schema.maps.elements:
                    found.append(f"Body child {child.tag} is not a global element of the WSDL's schemas")
        else:
            doc = self._typed_copy(doc, op, found)
        header = doc.find(f"{{{ns}}}Header")
        for block in [] if header is None else [c for c in header if isinstance(c.tag, str)]:
            if block.tag not in self.schema.maps.elements:
                found.append(f"header block {block.tag} is not a global element of the WSDL's schemas")
        return found + self._schema_errors(doc)

    def _operation_for(self, candidates: list[_BoundOperation], children: list[etree._Element]) -> _BoundOperation | None:
        for op in candidates:
            if op.style == "rpc":
                if len(children) == 1 and children[0].tag == (f"{{{op.namespace}}}{op.name}" if op.namespace else op.name):
                    return op
            elif [c.tag for c in children] == [p.element for p in op.parts if p.element]:
                return op
        return None

    def _typed_copy(self, doc: etree._Element, op: _BoundOperation, found: list[str]) -> etree._Element:
        """rpc: check the accessors against the parts; give literal ``type=`` parts their xsi:type.

        Returns a copy of the envelope whose root declares the prefixes those xsi:type values use
        (xmlschema resolves xsi:type prefixes against the document's root)."""
        types = {p.type[1:].partition("}")[0] for p in op.parts if p.type and p.type.startswith("{")}
        extra = {f"chk{i}": ns for i, ns in enumerate(sorted(types))}
        root = etree.Element(doc.tag, nsmap={**doc.nsmap, **extra}, attrib=dict(doc.attrib))
        root.extend(etree.fromstring(etree.tostring(doc)))  # children of a deep copy
        prefix = {ns: p for p, ns in extra.items()}
        (wrapper,) = root.find(f"{{{ENVELOPE[op.version]}}}Body")
        accessors = [c for c in wrapper if isinstance(c.tag, str)]
        names = sorted(c.tag for c in accessors)  # the order may follow parameterOrder
        wanted = sorted(p.element if p.element else p.name for p in op.parts)
        if names != wanted:
            found.append(f"{op.name}: the rpc wrapper holds {names}, the parts are {wanted}")
        parts = {p.name: p for p in op.parts}
        for accessor in accessors:
            part = parts.get(accessor.tag)
            if part is None or part.type is None:
                continue
            if op.use == "encoded":
                if accessor.get(XSI_TYPE) is None:
                    found.append(f"{op.name}: rpc/encoded accessor {accessor.tag} has no xsi:type")
            elif accessor.get(XSI_TYPE) is None and part.type.startswith("{"):
                type_ns, _, local = part.type[1:].partition("}")
                accessor.set(XSI_TYPE, f"{prefix[type_ns]}:{local}")
        return root

    def _schema_errors(self, doc: etree._Element) -> list[str]:
        return [f"XSD: {_first_line(e)}" for e in self.schema.iter_errors(doc)]


def _first_line(error: xmlschema.XMLSchemaValidationError) -> str:
    path = error.path or ""
    return f"{path}: {error.reason}" if error.reason else str(error).splitlines()[0]


@functools.cache
def checker(wsdl: Path) -> EnvelopeChecker:
    return EnvelopeChecker(wsdl)


@dataclass
class Sent:
    url: str
    body: bytes
    content_type: str
    problems: list[str] = field(default_factory=list)


#: every request any RecordingTransport passed on, in order (the autouse fixture drains it)
SENT: list[Sent] = []
lock = threading.Lock()


class RecordingTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """Records and checks each outgoing SOAP request, then sends it over a real HTTP transport.

    Both sync and async, so ``Bridge.call`` and the REST app (``acall``) are both recorded."""

    def __init__(self, wsdl: Path) -> None:
        self.checker = checker(wsdl)
        self.inner_async = httpx.AsyncHTTPTransport()
        self.inner_sync = httpx.HTTPTransport()
        self.sent: list[Sent] = []

    def _record(self, request: httpx.Request, body: bytes) -> None:
        content_type = request.headers.get("content-type", "")
        record = Sent(str(request.url), body, content_type, self.checker.problems(body, content_type, request.headers.get("soapaction")))
        with lock:
            self.sent.append(record)
            SENT.append(record)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._record(request, await request.aread())
        return await self.inner_async.handle_async_request(request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._record(request, request.read())
        return self.inner_sync.handle_request(request)

    async def aclose(self) -> None:
        await self.inner_async.aclose()

    def close(self) -> None:
        self.inner_sync.close()

    def take(self) -> list[Sent]:
        """The requests recorded since the last take()."""
        with lock:
            taken, self.sent = self.sent, []
        return taken


def checked_load(wsdl: str | Path, **kwargs: Any) -> bridge.Bridge:
    """``bridge.load`` with a RecordingTransport: every envelope this bridge sends is checked."""
    return bridge.load(wsdl, transport=RecordingTransport(Path(wsdl)), **kwargs)
