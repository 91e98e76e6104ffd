"""WSDL 1.1 reader: definitions, messages, port types, bindings and services -> the model.

It reads the same documents zeep loaded (see ``loader``), so nothing zeep drops silently is
lost here; every operation or port that cannot be modelled becomes a ``Skipped`` entry.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlparse

from lxml import etree

from ..errors import WsdlError
from ..model import (
    Element,
    Fault,
    Message,
    Operation,
    Part,
    Port,
    QName,
    ServiceModel,
    Skipped,
)
from ..namespaces import WSA_WSDL, WSDL, WSDL_MIME, WSOMA, WSP, WSU, XSD
from ..namespaces import WSDL_HTTP as HTTP
from ..namespaces import WSDL_SOAP11 as SOAP11
from ..namespaces import WSDL_SOAP12 as SOAP12
from ..xsd.reader import SchemaSet, read_schemas

SYNTHETIC_SERVICE = "Service"  # the service of a WSDL that declares bindings but no wsdl:service

Load = Callable[[str], bytes]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_comments=True
    )


def parse_document(data: bytes, url: str) -> etree._Element:
    """Parses a WSDL or XSD document safely; raises ``WsdlError`` for malformed XML or a DOCTYPE."""
    try:
        root = etree.fromstring(data, parser=_parser(), base_url=url)
    except etree.XMLSyntaxError as exc:
        raise WsdlError(f"{url} is not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise WsdlError(f"{url} has a DOCTYPE; DTDs are refused")
    return root


def resolve_qname(node: etree._Element, value: str | None) -> QName | None:
    """A prefixed name (``tns:Order``) resolved against ``node``'s namespaces, or None for an empty value;
    raises ``WsdlError`` for an unknown prefix."""
    if not value:
        return None
    value = value.strip()
    if ":" in value:
        prefix, local = value.split(":", 1)
        ns = node.nsmap.get(prefix)
        if ns is None:
            raise WsdlError(f"unknown namespace prefix {prefix!r} in {value!r} (line {node.sourceline})")
        return QName(ns, local)
    return QName(node.nsmap.get(None, "") or "", value)


@dataclass
class _AbstractOp:
    name: str
    input: QName | None
    output: QName | None
    faults: list[tuple[str, QName]]
    doc: str | None
    parameter_order: list[str] | None
    action: str = ""  # the input's WS-Addressing Action: explicit (wsam/wsaw:Action) or the default pattern
    action_explicit: bool = False
    reply_action: str = ""  # the output's, the same way (what a service puts in a reply's wsa:Action)


@dataclass
class _Defs:
    messages: dict[QName, etree._Element] = field(default_factory=dict)
    port_types: dict[QName, etree._Element] = field(default_factory=dict)
    policies: dict[str, etree._Element] = field(default_factory=dict)  # wsp:Policy by its Id
    bindings: dict[QName, etree._Element] = field(default_factory=dict)
    services: list[etree._Element] = field(default_factory=list)
    schemas: list[tuple[etree._Element, str]] = field(default_factory=list)
    target_namespace: str = ""


def _doc(node: etree._Element) -> str | None:
    d = node.find(f"{{{WSDL}}}documentation")
    if d is None:
        return None
    text = "".join(d.itertext()).strip()
    return text or None


class WsdlReader:
    """Builds the service model from WSDL 1.1 documents, fetched through ``load``."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.defs = _Defs()
        self.skipped: list[Skipped] = []
        self._seen: set[str] = set()
        self._non_soap: list[tuple[str, str, Skipped]] = []  # (service, operation, its Skipped)

    # --- documents --------------------------------------------------------------

    def read(self, url: str) -> ServiceModel:
        """The model of the WSDL at ``url`` and everything it imports; raises ``WsdlError`` when it is not a
        WSDL 1.1 document."""
        root = parse_document(self.load(url), url)
        if root.tag != f"{{{WSDL}}}definitions":
            if root.tag.endswith("}definitions") and "wsdl" in root.tag:
                raise WsdlError(f"{url}: WSDL 2.0 is not supported, only WSDL 1.1 ({root.tag})")
            raise WsdlError(f"{url} is not a WSDL 1.1 document (root element {root.tag})")
        self.defs.target_namespace = root.get("targetNamespace", "")
        self._read_definitions(root, url)
        schemas = read_schemas(self.defs.schemas, self.load)
        model = ServiceModel(location=url, target_namespace=self.defs.target_namespace)
        model.skipped.extend(schemas.skipped)
        model.types = dict(schemas.types)
        model.elements = dict(schemas.elements)
        self._build_ports(model, schemas)
        self._point_to_soap_ports(model)
        model.skipped.extend(self.skipped)
        return model

    def _read_definitions(self, root: etree._Element, url: str) -> None:
        if url in self._seen:
            return
        self._seen.add(url)
        for ns in WSP:
            for policy in root.iter(f"{{{ns}}}Policy"):
                pid = policy.get(f"{{{WSU}}}Id") or policy.get("Id") or policy.get("{http://www.w3.org/XML/1998/namespace}id")
                if pid:
                    self.defs.policies.setdefault(pid, policy)
        for imp in root.findall(f"{{{WSDL}}}import"):
            location = imp.get("location")
            if not location:
                continue
            target = urljoin(url, location) if urlparse(location).scheme == "" else location
            try:
                data = self.load(target)
            except WsdlError as exc:
                raise WsdlError(f"{url} imports {location}: {exc}") from None
            child = parse_document(data, target)
            if child.tag == f"{{{WSDL}}}definitions":
                self._read_definitions(child, target)
            elif child.tag == f"{{{XSD}}}schema":
                # A wsdl:import of a schema document: allowed by some toolkits.
                self.defs.schemas.append((child, target))
        types = root.find(f"{{{WSDL}}}types")
        if types is not None:
            for schema in types.findall(f"{{{XSD}}}schema"):
                self.defs.schemas.append((schema, url))
            stray = types.findall(f"{{{XSD}}}import") + types.findall(f"{{{XSD}}}include")
            if stray:
                # Some toolkits put xsd:import straight under wsdl:types; read it as a schema would.
                wrapper = etree.Element(f"{{{XSD}}}schema", nsmap=types.nsmap)
                for node in stray:
                    wrapper.append(copy.deepcopy(node))
                self.defs.schemas.append((wrapper, url))
        tns = root.get("targetNamespace", "")
        for kind, store in (
            ("message", self.defs.messages),
            ("portType", self.defs.port_types),
            ("binding", self.defs.bindings),
        ):
            for node in root.findall(f"{{{WSDL}}}{kind}"):
                store[QName(tns, node.get("name", ""))] = node
        self.defs.services.extend(root.findall(f"{{{WSDL}}}service"))

    # --- services and ports -----------------------------------------------------

    def _build_ports(self, model: ServiceModel, schemas: SchemaSet) -> None:
        services = self.defs.services
        if not services:
            # Bindings only: expose every binding under a synthetic service.
            for bq in self.defs.bindings:
                self._add_port(model, schemas, SYNTHETIC_SERVICE, bq.name, bq, None)
            if self.defs.bindings:
                model.notes.append(
                    f"the WSDL has no wsdl:service: each binding is served as a port of a service named "
                    f"{SYNTHETIC_SERVICE!r} (routes /{SYNTHETIC_SERVICE}/...), and as no address is given, calls need "
                    "an endpoint (endpoint= / --backend)"
                )
            return
        for service in services:
            sname = service.get("name", "Service")
            for port in service.findall(f"{{{WSDL}}}port"):
                pname = port.get("name", "")
                try:
                    port_binding = resolve_qname(port, port.get("binding"))
                except WsdlError as exc:
                    self.skipped.append(Skipped("port", f"{sname}.{pname}", str(exc)))
                    continue
                address = None
                for ns in (SOAP11, SOAP12, HTTP):
                    a = port.find(f"{{{ns}}}address")
                    if a is not None:
                        address = a.get("location")
                if port_binding is None:
                    self.skipped.append(Skipped("port", f"{sname}.{pname}", "port has no binding attribute"))
                    continue
                self._add_port(model, schemas, sname, pname, port_binding, address)

    def _point_to_soap_ports(self, model: ServiceModel) -> None:
        """An operation skipped on an HTTP port but served on a SOAP port of the same service
        (the .asmx pattern) says where it is served."""
        for sname, oname, skipped in self._non_soap:
            serving = [
                p.name for p in model.ports if p.service == sname and any(op.name == oname for op in p.operations)
            ]
            if serving:
                skipped.reason = skipped.reason.removesuffix("; use a SOAP port")
                skipped.reason += f"; {oname} is served through the SOAP port {' and '.join(serving)}"

    def _add_port(
        self, model: ServiceModel, schemas: SchemaSet, sname: str, pname: str, bq: QName, address: str | None
    ) -> None:
        binding = self.defs.bindings.get(bq)
        if binding is None:
            self.skipped.append(Skipped("port", f"{sname}.{pname}", f"binding {bq} is not defined"))
            return
        ptq = resolve_qname(binding, binding.get("type"))
        port_type = self.defs.port_types.get(ptq) if ptq else None
        if port_type is None or ptq is None:
            self.skipped.append(Skipped("port", f"{sname}.{pname}", f"portType {ptq} of binding {bq} is not defined"))
            return
        soap_binding = binding.find(f"{{{SOAP11}}}binding")
        kind = "soap11"
        if soap_binding is None:
            soap_binding = binding.find(f"{{{SOAP12}}}binding")
            kind = "soap12"
        if soap_binding is None:
            kind = "http" if binding.find(f"{{{HTTP}}}binding") is not None else "other"
        port = Port(name=pname, service=sname, binding=bq, port_type=ptq, kind=kind, address=address)  # type: ignore[arg-type]
        model.ports.append(port)
        abstract_ops = self._abstract_ops(port_type)
        if kind in ("http", "other"):
            what = "HTTP GET/POST bindings" if kind == "http" else "non-SOAP bindings"
            for op in abstract_ops:
                skipped = Skipped("operation", f"{sname}.{pname}.{op.name}", f"{what} are not supported; use a SOAP port")
                self.skipped.append(skipped)
                self._non_soap.append((sname, op.name, skipped))
            return
        assert soap_binding is not None
        soap_ns = SOAP11 if kind == "soap11" else SOAP12
        default_style = soap_binding.get("style", "document")
        wsa_policy = self._requires_addressing(binding)
        mtom_policy = self._requires_mtom(binding)
        by_name = {op.name: op for op in abstract_ops}
        bound: set[str] = set()
        for bop in binding.findall(f"{{{WSDL}}}operation"):
            oname = bop.get("name", "")
            full = f"{sname}.{pname}.{oname}"
            aop = by_name.get(oname)
            if aop is None:
                self.skipped.append(Skipped("operation", full, f"binding operation not in portType {ptq}"))
                continue
            if oname in bound:
                self.skipped.append(Skipped("operation", full, "overloaded operation name; only the first is served"))
                continue
            bound.add(oname)
            try:
                bound_op = self._operation(bop, aop, soap_ns, default_style, schemas, port, address)
            except (WsdlError, KeyError) as exc:
                reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
                self.skipped.append(Skipped("operation", full, str(reason)))
                continue
            bound_op.wsa_policy = wsa_policy
            bound_op.mtom_policy = mtom_policy
            port.operations.append(bound_op)
        for aop in abstract_ops:
            if aop.name not in bound:
                self.skipped.append(
                    Skipped("operation", f"{sname}.{pname}.{aop.name}", f"not bound in binding {bq.name}")
                )

    def _abstract_ops(self, port_type: etree._Element) -> list[_AbstractOp]:
        ops = []
        for node in port_type.findall(f"{{{WSDL}}}operation"):
            inp = node.find(f"{{{WSDL}}}input")
            out = node.find(f"{{{WSDL}}}output")
            faults = [
                (f.get("name", ""), q)
                for f in node.findall(f"{{{WSDL}}}fault")
                if (q := resolve_qname(f, f.get("message"))) is not None
            ]
            order = node.get("parameterOrder")
            explicit = self._explicit_action(inp)
            reply_explicit = self._explicit_action(out)
            ops.append(
                _AbstractOp(
                    name=node.get("name", ""),
                    input=resolve_qname(inp, inp.get("message")) if inp is not None else None,
                    output=resolve_qname(out, out.get("message")) if out is not None else None,
                    faults=faults,
                    doc=_doc(node),
                    parameter_order=order.split() if order else None,
                    action=explicit or self._default_action(port_type, node, inp, out),
                    action_explicit=explicit is not None,
                    reply_action=(reply_explicit or self._default_action(port_type, node, out, None, "Response")) if out is not None else "",
                )
            )
        return ops

    def _policies(self, binding: etree._Element) -> list[etree._Element]:
        """The binding itself and every wsp:Policy it references by wsp:PolicyReference: where
        its assertions (WS-Addressing, MTOM) may stand."""
        policies: list[etree._Element] = [binding]
        for ns in WSP:
            for ref in binding.iter(f"{{{ns}}}PolicyReference"):
                found = self.defs.policies.get((ref.get("URI") or "").lstrip("#"))
                if found is not None:
                    policies.append(found)
        return policies

    def _requires_addressing(self, binding: etree._Element) -> bool:
        """Whether the binding asks for WS-Addressing: a wsaw:UsingAddressing (not wsdl:required="false")
        or a wsam:Addressing policy assertion that is not wsp:Optional, in the binding or in a
        policy it references (as WCF and Metro write them)."""
        policies = self._policies(binding)
        for node in policies:
            for el in node.iter():
                if not isinstance(el.tag, str):
                    continue
                q = etree.QName(el)
                using = q.localname == "UsingAddressing" and q.namespace in WSA_WSDL[1:]
                if using and el.get(f"{{{WSDL}}}required", "true").strip().lower() not in ("false", "0"):
                    return True
                assertion = q.localname == "Addressing" and q.namespace == WSA_WSDL[0]
                if assertion and not any(el.get(f"{{{ns}}}Optional", "false").strip().lower() in ("true", "1") for ns in WSP):
                    return True
        return False

    def _requires_mtom(self, binding: etree._Element) -> bool:
        """Whether the binding's policy (inline or referenced) has a wsoma:OptimizedMimeSerialization
        assertion that is not wsp:Optional (WS-MTOMPolicy §3, as Metro and WCF write it)."""
        policies = self._policies(binding)
        for node in policies:
            for el in node.iter(f"{{{WSOMA}}}OptimizedMimeSerialization"):
                if not any(el.get(f"{{{ns}}}Optional", "false").strip().lower() in ("true", "1") for ns in WSP):
                    return True
        return False

    @staticmethod
    def _explicit_action(msg: etree._Element | None) -> str | None:
        """A wsam/wsaw:Action on a portType operation's input or output."""
        return next((msg.get(f"{{{ns}}}Action") for ns in WSA_WSDL if msg is not None and msg.get(f"{{{ns}}}Action")), None)

    def _default_action(
        self, port_type: etree._Element, op: etree._Element, inp: etree._Element | None, out: etree._Element | None, suffix: str = "Request"
    ) -> str:
        """WS-Addressing 1.0 Metadata §4.4.4: [target namespace][delimiter][port type name][delimiter][message name],
        the message name defaulting to the operation's name + "Request" (an input with an output) or "Response"
        (an output: pass it as ``inp``, with ``suffix="Response"``)."""
        tns = self.defs.target_namespace or ""
        delim = ":" if tns.startswith("urn:") else "/"
        name = (inp.get("name") if inp is not None else None) or op.get("name", "") + (suffix if out is not None or suffix == "Response" else "")
        return f"{tns.rstrip(delim)}{delim}{port_type.get('name', '')}{delim}{name}"

    # --- operations -------------------------------------------------------------

    def _operation(
        self,
        bop: etree._Element,
        aop: _AbstractOp,
        soap_ns: str,
        default_style: str,
        schemas: SchemaSet,
        port: Port,
        address: str | None,
    ) -> Operation:
        soap_op = bop.find(f"{{{soap_ns}}}operation")
        style = (soap_op.get("style") if soap_op is not None else None) or default_style
        action = (soap_op.get("soapAction") if soap_op is not None else None) or ""
        if style not in ("document", "rpc"):
            raise WsdlError(f"unknown style {style!r}")
        bin_ = bop.find(f"{{{WSDL}}}input")
        bout = bop.find(f"{{{WSDL}}}output")
        if aop.input is None:
            raise WsdlError("notification operations (output only) cannot be called")
        input_msg, use, rpc_ns = self._message(aop.input, bin_, soap_ns, style, schemas, aop.parameter_order)
        output_msg = None
        if aop.output is not None:
            output_msg, _, _ = self._message(aop.output, bout, soap_ns, style, schemas, aop.parameter_order)
        faults = []
        for fname, fq in aop.faults:
            fnode = self.defs.messages.get(fq)
            element = None
            if fnode is not None:
                parts = fnode.findall(f"{{{WSDL}}}part")
                if parts:
                    element = self._part_element(parts[0], "document", schemas)
            faults.append(Fault(name=fname, element=element))
        return Operation(
            name=aop.name,
            service=port.service,
            port=port.name,
            binding=port.binding,
            soap_version="1.1" if soap_ns == SOAP11 else "1.2",
            style=style,  # type: ignore[arg-type]
            use=use,  # type: ignore[arg-type]
            soap_action=action,
            wsa_action=aop.action if aop.action_explicit or not action else action,
            wsa_reply_action=aop.reply_action,
            address=address,
            input=input_msg,
            output=output_msg,
            faults=faults,
            rpc_namespace=rpc_ns or self.defs.target_namespace,
            doc=aop.doc,
        )

    def _message(
        self,
        mq: QName,
        bnode: etree._Element | None,
        soap_ns: str,
        style: str,
        schemas: SchemaSet,
        parameter_order: list[str] | None,
    ) -> tuple[Message, str, str]:
        mnode = self.defs.messages.get(mq)
        if mnode is None:
            raise WsdlError(f"message {mq} is not defined")
        attachments: dict[str, tuple[str, ...]] = {}
        related = bnode.find(f"{{{WSDL_MIME}}}multipartRelated") if bnode is not None else None
        if related is not None:  # SwA (WSDL 1.1 §5): soap:body and soap:header in one mime:part, the attachments in others
            for mpart in related.findall(f"{{{WSDL_MIME}}}part"):
                if mpart.find(f"{{{soap_ns}}}body") is not None:
                    bnode = mpart
                for content in mpart.findall(f"{{{WSDL_MIME}}}content"):
                    name = content.get("part", "")
                    if name:
                        attachments[name] = (*attachments.get(name, ()), content.get("type") or "application/octet-stream")
        body = bnode.find(f"{{{soap_ns}}}body") if bnode is not None else None
        use = (body.get("use") if body is not None else None) or "literal"
        rpc_ns = (body.get("namespace") if body is not None else None) or ""
        body_parts_attr = body.get("parts") if body is not None else None
        part_nodes = mnode.findall(f"{{{WSDL}}}part")
        if style == "rpc" and parameter_order:
            rank = {n: i for i, n in enumerate(parameter_order)}
            part_nodes.sort(key=lambda p: rank.get(p.get("name", ""), len(rank)))
        header_refs: list[tuple[QName, str]] = []
        if bnode is not None:
            for h in bnode.findall(f"{{{soap_ns}}}header"):
                hq = resolve_qname(h, h.get("message"))
                ref = (hq, h.get("part", ""))
                if hq is not None and ref not in header_refs:  # ms-ews declares one header twice
                    header_refs.append(ref)  # type: ignore[arg-type]
        same_message_headers = {p for q, p in header_refs if q == mq}
        body_names = set(body_parts_attr.split()) if body_parts_attr is not None else None
        if body_names is not None:
            body_names |= set(attachments)  # modelled as body parts: the wire moves them (bridge.mime)
        message = Message(name=mq.name, attachments=attachments)
        for pnode in part_nodes:
            pname = pnode.get("name", "")
            if pname in same_message_headers:
                continue
            if body_names is not None and pname not in body_names:
                continue
            message.parts.append(Part(pname, self._part_element(pnode, style, schemas, encoded=use == "encoded"), "body"))
        for hq, hpart in header_refs:
            hnode = self.defs.messages.get(hq)
            if hnode is None:
                raise WsdlError(f"header message {hq} is not defined")
            for pnode in hnode.findall(f"{{{WSDL}}}part"):
                if pnode.get("name") == hpart:
                    # Headers are always document-style elements.
                    message.parts.append(Part(hpart, self._part_element(pnode, "document", schemas), "header"))
                    break
            else:
                raise WsdlError(f"header part {hpart!r} not found in message {hq}")
        return message, use, rpc_ns

    def _part_element(self, pnode: etree._Element, style: str, schemas: SchemaSet, *, encoded: bool = False) -> Element:
        pname = pnode.get("name", "")
        eq = resolve_qname(pnode, pnode.get("element"))
        if eq is not None:
            try:
                return schemas.get_element(eq)
            except KeyError:
                raise WsdlError(f"part {pname!r} refers to element {eq}, which is not defined") from None
        tq = resolve_qname(pnode, pnode.get("type"))
        if tq is None:
            raise WsdlError(f"part {pname!r} has neither element nor type")
        try:
            t = schemas.get_type(tq)
        except KeyError:
            raise WsdlError(f"part {pname!r} refers to type {tq}, which is not defined") from None
        # rpc parts (and doc parts by type) are unqualified accessor elements named after the part.
        # SOAP 1.1 section 5.1 lets any encoded accessor be null, and a part cannot say nillable.
        return Element(qname=QName("", pname), type=t, min_occurs=1, max_occurs=1, nillable=encoded)
