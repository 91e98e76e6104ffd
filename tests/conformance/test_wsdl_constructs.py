"""Issue #3: the WSDL constructs, each proven end to end, and the offline schema catalogue.

Every construct is checked three ways: the model and the OpenAPI spec; the wire (the request
envelope from ``encode_request``, XML assertions on it, decoded back to the same JSON); and at
least one REST call through the app with the generated mock behind it. The fixtures are in
``tests/conformance/wsdl/wsdl_*``; the conformance table (docs/conformance.md) maps each construct to its
test here.
"""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import xmlschema
import zeep.wsdl
from lxml import etree
from openapi_spec_validator import validate
from starlette.testclient import TestClient

import bridge
from bridge.cli import main as cli_main
from bridge.envelope import SOAP11, SOAP12
from bridge.mock import MockService
from bridge.model import XSD_NS, XSI_NS, ComplexType, Element, QName, SimpleType
from bridge.wsdl import catalog
from bridge.wsdl.loader import load_model, zeep_settings
from bridge.wsdl.transport import LoaderTransport
from tests.conftest import mock_transport, mocked_bridge

HERE = Path(__file__).resolve().parent / "wsdl"
SOAPENC = "http://schemas.xmlsoap.org/soap/encoding/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XSI_TYPE = f"{{{XSI_NS}}}type"
ARRAY_TYPE = f"{{{SOAPENC}}}arrayType"


def fixture(name: str) -> Path:
    path = HERE / name
    assert path.exists(), path
    return path


# --- helpers ------------------------------------------------------------------------------


class Recorder(httpx.AsyncBaseTransport):
    """The in-process mock, recording every request the bridge sends it."""

    def __init__(self, wsdl: Path, **mock: Any) -> None:
        self.inner = mock_transport(wsdl, **mock)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


def recorded_bridge(wsdl: Path, **settings: Any) -> tuple[bridge.Bridge, Recorder]:
    mock = settings.pop("mock", {})
    rec = Recorder(wsdl, **mock)
    settings.setdefault("endpoint", "http://mock.invalid/soap")
    return bridge.load(wsdl, transport=rec, **settings), rec


def wire(b: bridge.Bridge, operation: str, data: dict[str, Any]) -> tuple[etree._Element, list[etree._Element], list[etree._Element]]:
    """encode_request, parsed back from bytes: (envelope, body children, header children); and
    the XML -> JSON half of the round trip is asserted here."""
    op = b.operation(operation)
    envelope = etree.fromstring(b.encode_request(op, data))
    ns = SOAP11 if op.soap_version == "1.1" else SOAP12
    assert envelope.tag == f"{{{ns}}}Envelope"
    body = [c for c in envelope.find(f"{{{ns}}}Body") if isinstance(c.tag, str)]
    header_el = envelope.find(f"{{{ns}}}Header")
    headers = [c for c in header_el if isinstance(c.tag, str)] if header_el is not None else []
    assert b.codec.decode_message(op, op.input, body, headers) == data
    return envelope, body, headers


def reply_round_trip(b: bridge.Bridge, operation: str, data: dict[str, Any]) -> dict[str, Any]:
    """The mock answers the encoded request; the reply decodes and re-encodes to the same XML."""
    op = b.operation(operation)
    mock = MockService(b.model)
    ctype = "application/soap+xml" if op.soap_version == "1.2" else "text/xml"
    status, reply, _ = mock.handle(b.encode_request(op, data), ctype, op.soap_action, None)
    assert status == 200, reply
    decoded = b.decode_response(op, reply)
    body = etree.fromstring(reply).find(f"{{{SOAP11 if op.soap_version == '1.1' else SOAP12}}}Body")
    assert op.output is not None
    _, again = b.codec.encode_message(op, op.output, decoded, response=True)
    assert [_canonical(e) for e in again] == [_canonical(e) for e in body if isinstance(e.tag, str)]  # XML -> JSON -> XML
    return decoded


def _canonical(n: etree._Element) -> Any:
    """Prefix-free: tags and attribute names as Clark names, QName-valued attributes resolved."""
    attrs = []
    for k, v in sorted(n.attrib.items()):
        if k in (XSI_TYPE, ARRAY_TYPE) and ":" in v:
            prefix, _, local = v.partition(":")
            v = f"{{{n.nsmap.get(prefix)}}}{local}"
        attrs.append((k, v))
    return (n.tag, attrs, (n.text or "").strip(), [_canonical(c) for c in n if isinstance(c.tag, str)])


def qname_value(node: etree._Element, attr: str) -> QName:
    """A QName-valued attribute (xsi:type, soapenc:arrayType) resolved against the node's scope."""
    value = node.get(attr)
    assert value, f"{node.tag} has no {attr}"
    prefix, _, local = value.rpartition(":")
    assert prefix in node.nsmap, f"prefix {prefix!r} of {value!r} is not declared on {node.tag}"
    return QName(node.nsmap[prefix], local)


def request_example(spec: dict[str, Any], path: str) -> Any:
    return spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["example"]


def inspect(capsys: pytest.CaptureFixture[str], wsdl: Path, *extra: str) -> str:
    capsys.readouterr()
    assert cli_main(["inspect", str(wsdl), *extra]) == 0
    return capsys.readouterr().out


def particle(t: ComplexType, name: str) -> Element:
    for g in t.content_chain():
        for p in g.particles:
            if isinstance(p, Element) and p.qname.name == name:
                return p
    raise AssertionError(f"no element {name} in {t.qname}")


def operation_names(spec: dict[str, Any]) -> set[str]:
    return {op["operationId"] for item in spec["paths"].values() for op in item.values()}


# --- 1. well-known schemas, offline -------------------------------------------------------

OURS = sorted((Path(catalog.__file__).resolve().parents[1] / "xsd" / "schemas").glob("*.xsd"))


def test_catalogue_entries_all_resolve_to_shipped_files() -> None:
    assert catalog.known_urls() == sorted(catalog._ENTRIES)  # every entry has its file
    names = {p.name for p in OURS}
    assert {
        "xmlmime.xsd",
        "ws-addr-2005-08.xsd",
        "ws-addr-2004-08.xsd",
        "oasis-wss-wssecurity-secext-1.0.xsd",
        "oasis-wss-wssecurity-utility-1.0.xsd",
        "soap12-envelope.xsd",
        "XMLSchema-builtins.xsd",
    } <= names
    # the usual spellings of one URL find the same file
    for variant in ("https://www.w3.org/2005/05/xmlmime", "http://www.w3.org/2005/05/xmlmime/", " HTTP://WWW.W3.ORG/2005/05/xmlmime "):
        assert catalog.lookup(variant) == catalog.lookup("http://www.w3.org/2005/05/xmlmime")
    assert catalog.lookup("http://www.w3.org/2000/09/xmldsig#") is not None
    assert catalog.lookup("http://example.com/unknown.xsd") is None


@pytest.mark.parametrize("path", OURS, ids=lambda p: p.name)
def test_shipped_schema_is_valid_xsd_and_says_what_it_implements(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    head = text[: text.index("<xs") if "<xs:schema" in text else text.index("<xsd:schema")]
    assert "Written for soapbridge" in head
    assert re.search(r"(Recommendation|Note|Standard|Submission)", head), "names the specification and its version"

    def offline(url: str) -> str:
        local = catalog.lookup(url)
        assert local is not None or not url.startswith("http"), f"{path.name} imports {url}, which is not in the catalogue"
        return local.as_uri() if local is not None else url

    schema = xmlschema.XMLSchema10(str(path), uri_mapper=offline)
    tns = etree.parse(str(path)).getroot().get("targetNamespace")
    assert catalog.lookup(tns) is not None, "the namespace itself is a catalogue key"
    if path.name != "XMLSchema-builtins.xsd":
        assert schema.types or schema.elements or schema.attributes


# namespace, schemaLocation (None: namespace only), kind of component used, its local name
WELL_KNOWN = [
    ("http://www.w3.org/2005/05/xmlmime", None, "type", "base64Binary"),
    ("http://www.w3.org/2005/05/xmlmime", "http://www.w3.org/2005/05/xmlmime", "attribute", "contentType"),
    ("http://www.w3.org/2005/05/xmlmime", "https://www.w3.org/2005/05/xmlmime/", "type", "hexBinary"),
    ("http://www.w3.org/2005/05/xmlmime", "http://www.w3.org/2005/05/xmlmime.xsd", "type", "base64Binary"),
    ("http://www.w3.org/2005/08/addressing", None, "element", "ReplyTo"),
    ("http://www.w3.org/2005/08/addressing", "http://www.w3.org/2006/03/addressing/ws-addr.xsd", "type", "EndpointReferenceType"),
    ("http://www.w3.org/2005/08/addressing", "https://www.w3.org/2005/08/addressing/ws-addr.xsd", "element", "MessageID"),
    ("http://schemas.xmlsoap.org/ws/2004/08/addressing", None, "element", "ReplyTo"),
    ("http://schemas.xmlsoap.org/ws/2004/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing/", "type", "EndpointReferenceType"),
    (catalog.WSSE, None, "element", "Security"),
    (catalog.WSSE, catalog.WSSE, "element", "UsernameToken"),
    (catalog.WSSE, catalog.WSSE.replace("http:", "https:"), "type", "BinarySecurityTokenType"),
    (catalog.WSU, None, "element", "Timestamp"),
    (catalog.WSU, catalog.WSU, "type", "AttributedDateTime"),
    ("http://www.w3.org/XML/1998/namespace", None, "attribute", "lang"),
    ("http://www.w3.org/XML/1998/namespace", "http://www.w3.org/2001/xml.xsd", "attribute", "lang"),
    ("http://www.w3.org/XML/1998/namespace", "https://www.w3.org/2009/01/xml.xsd", "attribute", "space"),
    ("http://www.w3.org/2000/09/xmldsig#", None, "element", "Signature"),
    ("http://www.w3.org/2000/09/xmldsig#", "http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd", "type", "KeyInfoType"),
    (SOAPENC, None, "type", "string"),
    (SOAPENC, "http://schemas.xmlsoap.org/soap/encoding", "type", "int"),
    ("http://schemas.xmlsoap.org/soap/envelope/", "http://schemas.xmlsoap.org/soap/envelope/", "element", "Fault"),
    ("http://www.w3.org/2003/05/soap-envelope", None, "element", "Upgrade"),
    ("http://www.w3.org/2003/05/soap-envelope", "http://www.w3.org/2003/05/soap-envelope/", "type", "faultreason"),
    ("http://schemas.xmlsoap.org/wsdl/", "http://schemas.xmlsoap.org/wsdl/", "type", "tDefinitions"),
    (XSD_NS, "http://www.w3.org/2001/XMLSchema.xsd", "type", "dateTime"),
]

TEMPLATE = """<?xml version="1.0"?>
<wsdl:definitions targetNamespace="urn:t" xmlns:tns="urn:t" xmlns:w="{ns}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:t" elementFormDefault="qualified">
      <xsd:import namespace="{ns}"{location}/>
      <xsd:element name="Use">
        <xsd:complexType>
          <xsd:sequence>{element}<xsd:element name="id" type="xsd:string"/></xsd:sequence>{attribute}
        </xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="M"><wsdl:part name="p" element="tns:Use"/></wsdl:message>
  <wsdl:portType name="PT"><wsdl:operation name="Use"><wsdl:input message="tns:M"/><wsdl:output message="tns:M"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:PT"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Use"><soap:operation soapAction="Use"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation></wsdl:binding>
  <wsdl:service name="S"><wsdl:port name="P" binding="tns:B"><soap:address location="http://127.0.0.1:9/"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""


def _wsdl_using(tmp_path: Path, ns: str, location: str | None, kind: str, name: str) -> Path:
    element = attribute = ""
    if kind == "type":
        element = f'<xsd:element name="v" type="w:{name}"/>'
    elif kind == "element":
        element = f'<xsd:element ref="w:{name}"/>'
    else:
        attribute = f'<xsd:attribute ref="w:{name}"/>'
    text = TEMPLATE.format(
        ns=ns, location=f' schemaLocation="{location}"' if location else "", element=element, attribute=attribute
    )
    if ns == XML_NS:  # the xml prefix is predeclared and may not be bound again
        text = text.replace(f' xmlns:w="{ns}"', "").replace('"w:', '"xml:')
    path = tmp_path / "use.wsdl"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("ns", "location", "kind", "name"), WELL_KNOWN, ids=lambda v: v if v else "no-location")
def test_well_known_import_loads_offline_and_resolves(tmp_path: Path, ns: str, location: str | None, kind: str, name: str) -> None:
    wsdl = _wsdl_using(tmp_path, ns, location, kind, name)
    model = load_model(wsdl, allow_network=False)
    assert not [s for s in model.skipped], model.skipped
    if location:  # zeep loads explicit imports too: it must have found every document offline
        assert not model.notes, model.notes
    use = model.elements[QName("urn:t", "Use")].type
    assert isinstance(use, ComplexType)
    if kind == "attribute":
        attr = next(a for a in use.all_attributes() if a.qname == QName(ns, name))
        assert attr.type.qname != QName(XSD_NS, "anySimpleType")
        return
    el = particle(use, "v" if kind == "type" else name)
    if kind == "element":
        assert el.qname == QName(ns, name)
        assert QName(ns, name) in model.elements
    if ns in (SOAPENC, XSD_NS):
        assert isinstance(el.type, SimpleType) and el.type.builtin == name  # soapenc types are the XSD built-ins
    else:
        assert el.type.qname != QName(XSD_NS, "anyType"), "the type resolved"
        if kind == "type":
            assert el.type is model.types[QName(ns, name)]


def test_well_known_fixture_end_to_end() -> None:
    """xmime, xml:lang, WS-Addressing (both), WS-Security, XML-DSig, soapenc and the SOAP 1.2
    envelope in one operation: spec, wire, REST."""
    wsdl = fixture("wsdl_wellknown.wsdl")
    b = mocked_bridge(wsdl)
    assert b.model.skipped == []
    spec = b.openapi()
    validate(spec)
    req = spec["components"]["schemas"]["WellKnownService_UploadRequest"]
    assert set(req["allOf"][1]["properties"]["$headers"]["properties"]) == {"security", "action", "messageId"}  # beside the wrapper's $ref
    data = {
        "file": {"$value": "aGVsbG8=", "contentType": "text/plain"},
        "title": {"$value": "hello", "lang": "en"},
        "digest": "ZGlnZXN0",
        "label": "l",
        "Created": {"$value": "2024-01-01T00:00:00Z", "Id": "c1"},
        "$headers": {
            "security": {},
            "action": {"$value": "urn:soapbridge:conformance:wellknown/Upload"},
            "messageId": {"$value": "urn:uuid:1"},
        },
    }
    _, body, headers = wire(b, "Upload", data)
    assert [h.tag for h in headers] == [
        f"{{{catalog.WSSE}}}Security",
        "{http://www.w3.org/2005/08/addressing}Action",
        "{http://schemas.xmlsoap.org/ws/2004/08/addressing}MessageID",
    ]
    upload = body[0]
    ns = "urn:soapbridge:conformance:wellknown"
    assert upload.find(f"{{{ns}}}file").get("{http://www.w3.org/2005/05/xmlmime}contentType") == "text/plain"
    assert upload.find(f"{{{ns}}}title").get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert upload.find(f"{{{catalog.WSU}}}Created").get(f"{{{catalog.WSU}}}Id") == "c1"
    with TestClient(b.asgi()) as c:
        r = c.post("/WellKnownService/Upload", json=data)
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["stored"], bool)
    assert "Address" in r.json()["location"]


UNKNOWN = "http://schemas.example.com/private/types.xsd"


@pytest.mark.parametrize("how", ["xsd:import", "xsd:include", "wsdl:import"])
def test_unknown_http_schema_fails_clearly(tmp_path: Path, how: str) -> None:
    wsdl = tmp_path / "remote.wsdl"
    text = TEMPLATE.format(ns="urn:x", location="", element="", attribute="")
    if how == "xsd:import":
        text = text.replace('<xsd:import namespace="urn:x"/>', f'<xsd:import namespace="urn:x" schemaLocation="{UNKNOWN}"/>')
    elif how == "xsd:include":
        text = text.replace('<xsd:import namespace="urn:x"/>', f'<xsd:include schemaLocation="{UNKNOWN}"/>')
    else:
        text = text.replace("<wsdl:types>", f'<wsdl:import namespace="urn:x" location="{UNKNOWN}"/><wsdl:types>')
    wsdl.write_text(text, encoding="utf-8")
    with pytest.raises(bridge.WsdlError) as err:
        bridge.load(wsdl)
    message = str(err.value)
    assert UNKNOWN in message and "--allow-network" in message and "network loading is off" in message
    # the command line says the same in one line
    assert cli_main(["inspect", str(wsdl)]) == 1


def test_unknown_namespace_without_location_is_only_skipped(tmp_path: Path) -> None:
    """A namespace imported without schemaLocation is a hint, not a promise: unused, it costs
    nothing; the attempt is recorded as a Skipped schema, never fetched over the network."""
    wsdl = tmp_path / "hint.wsdl"
    wsdl.write_text(TEMPLATE.format(ns="http://schemas.example.com/hint", location="", element="", attribute=""), encoding="utf-8")
    model = load_model(wsdl)
    assert [op.name for op in model.operations] == ["Use"]
    assert [s.kind for s in model.skipped] == ["schema"]
    assert "without schemaLocation" in model.skipped[0].reason


# --- 2a. imports ----------------------------------------------------------------------------

IMPORTS = "urn:soapbridge:conformance:imports"


def test_imports_includes_redefine_and_cycles_offline(capsys: pytest.CaptureFixture[str]) -> None:
    wsdl = fixture("wsdl_imports/main.wsdl")
    b = mocked_bridge(wsdl)
    m = b.model
    assert m.skipped == []
    # every document was read once, cycles included (main <-> abstract, a.xsd <-> b.xsd)
    names = sorted(Path(u).name for u in m.documents)
    assert names == sorted(["main.wsdl", "abstract.wsdl", "note.xsd", "a.xsd", "b.xsd", "money.xsd", "person.xsd", "extra.xsd"])
    # the components of each document, in the right namespaces
    assert QName("urn:soapbridge:conformance:a", "Address") in m.types  # xsd:import
    assert QName("urn:soapbridge:conformance:b", "Country") in m.types  # imported by a.xsd (cycle)
    assert QName(IMPORTS, "Money") in m.types  # chameleon xsd:include, in the includer's namespace
    assert QName("urn:soapbridge:conformance:note", "Note") in m.elements  # wsdl:import of a bare .xsd
    assert QName("urn:soapbridge:conformance:extra", "Extra") in m.elements  # xsd:import under wsdl:types
    person = m.types[QName(IMPORTS, "Person")]  # xsd:redefine: the original extended with email
    assert isinstance(person, ComplexType) and person.derivation == "extension"
    assert person.base is not None and person.base.derived == []  # a redefinition is not a subtype
    op = b.operation("Register")
    assert op.input.parts[0].element.qname == QName(IMPORTS, "Register")  # messages from the imported WSDL
    # zeep has no xsd:redefine; the note says soapbridge read it anyway
    assert any("redefine" in n for n in m.notes)

    spec = b.openapi()
    validate(spec)
    person_schema = spec["components"]["schemas"]["Person"]
    assert "email" in {k for b in [person_schema, *person_schema.get("allOf", [])] for k in b.get("properties", {})}
    original = [v for k, v in spec["components"]["schemas"].items() if k.startswith("Person") and k != "Person"]
    assert original and all("$type" not in v.get("properties", {}) for v in original)  # no choice of "Person" or "Person"

    data = {
        "person": {"name": "Ada", "email": "ada@example.com"},
        "address": {"street": "1 Loop", "country": {"code": "GB"}},
        "fee": {"$value": 12.5, "currency": "EUR"},
        "Extra": 7,
        "Note": "hi",
    }
    _, body, _ = wire(b, "Register", data)
    reg = body[0]
    assert reg.tag == f"{{{IMPORTS}}}Register"
    assert [c.tag for c in reg] == [
        f"{{{IMPORTS}}}person",
        f"{{{IMPORTS}}}address",
        f"{{{IMPORTS}}}fee",
        "{urn:soapbridge:conformance:extra}Extra",
        "{urn:soapbridge:conformance:note}Note",
    ]
    address = reg[1]
    assert [c.tag for c in address] == ["{urn:soapbridge:conformance:a}street", "{urn:soapbridge:conformance:a}country"]
    assert address[1][0].tag == "{urn:soapbridge:conformance:b}code"
    assert [c.tag for c in reg[0]] == [f"{{{IMPORTS}}}name", f"{{{IMPORTS}}}email"]  # base content first

    reply = reply_round_trip(b, "Register", data)
    assert set(reply) == {"id", "country"}
    with TestClient(b.asgi()) as c:
        r = c.post("/ImportsService/Register", json=data)
        assert r.status_code == 200, r.text
        assert re.fullmatch(r"[A-Z]{2}", r.json()["country"]["code"])
        bad = c.post("/ImportsService/Register", json={**data, "address": {"street": "x", "country": {"code": "gb"}}})
        assert bad.status_code == 400  # the pattern of a:Code, two documents away, is enforced
    assert "skipped (" not in inspect(capsys, wsdl)


def test_xsd_import_straight_under_wsdl_types(tmp_path: Path) -> None:
    """Some toolkits write xsd:import as a child of wsdl:types; soapbridge reads it as a schema
    would (zeep ignores it: see the silent-drop test)."""
    model = load_model(fixture("wsdl_zeep_drop.wsdl"))
    assert QName("urn:soapbridge:conformance:zeepdrop:model", "Order") in model.types
    model = load_model(fixture("wsdl_imports/main.wsdl"))
    assert model.elements[QName("urn:soapbridge:conformance:extra", "Extra")].type.builtin == "int"  # type: ignore[union-attr]


# --- 2b. services, ports and bindings -------------------------------------------------------


def test_multiple_services_ports_and_bindings(capsys: pytest.CaptureFixture[str]) -> None:
    wsdl = fixture("wsdl_services.wsdl")
    b, rec = recorded_bridge(wsdl, endpoint=None)
    routes = {(op.service, op.port, op.name): op.path for op in b.routed}
    assert routes == {
        ("TimeService", "ClockPort", "GetTime"): "/TimeService/ClockPort/GetTime",
        ("TimeService", "AdminPort", "GetTime"): "/TimeService/AdminPort/GetTime",
        ("TimeService", "AdminPort", "Reset"): "/TimeService/Reset",
        ("MirrorService", "MirrorPort", "GetTime"): "/MirrorService/GetTime",
    }
    assert len({op.operation_id for op in b.routed}) == 4
    spec = b.openapi()
    validate(spec)
    assert set(spec["paths"]) == set(routes.values())
    out = inspect(capsys, wsdl)
    assert "service TimeService" in out and "service MirrorService" in out
    assert "port AdminPort (SOAP 1.1) http://127.0.0.1:9/time/admin" in out

    admin = b.operation("TimeService.AdminPort.GetTime")
    _, body, _ = wire(b, "TimeService.AdminPort.GetTime", {"server": "s1"})
    assert body[0].tag == "{urn:soapbridge:conformance:services}GetAdminTime"
    assert admin.soap_action == "urn:admin/GetTime"
    with TestClient(b.asgi()) as c:
        clock = c.post("/TimeService/ClockPort/GetTime", json={"zone": "UTC"})
        adm = c.post("/TimeService/AdminPort/GetTime", json={"server": "s1"})
        reset = c.post("/TimeService/Reset", json={"hard": False})
        mirror = c.post("/MirrorService/GetTime", json={"zone": "CET"})
    assert [r.status_code for r in (clock, adm, reset, mirror)] == [200] * 4
    assert set(clock.json()) == {"time"} and set(mirror.json()) == {"time"}
    assert isinstance(adm.json()["epoch"], int)
    # each call went to the port's own address, with its own SOAPAction
    assert [(str(r.url), r.headers["soapaction"]) for r in rec.requests] == [
        ("http://127.0.0.1:9/time/clock", '"urn:clock/GetTime"'),
        ("http://127.0.0.1:9/time/admin", '"urn:admin/GetTime"'),
        ("http://127.0.0.1:9/time/admin", '"urn:admin/Reset"'),
        ("http://127.0.0.1:9/mirror", '"urn:clock/GetTime"'),
    ]


def test_wsdl_without_service_needs_an_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    wsdl = fixture("wsdl_no_service.wsdl")
    model = load_model(wsdl)
    [port] = model.ports
    assert (port.service, port.name, port.address) == ("Service", "DirectorySoap", None)
    assert any("no wsdl:service" in n and "endpoint" in n for n in model.notes)
    assert not any("zeep" in n for n in model.notes)  # zeep's bindings are compared, not its (absent) services
    out = inspect(capsys, wsdl)
    assert "service Service" in out and "port DirectorySoap (SOAP 1.1) (no address)" in out
    assert "POST /Service/Lookup" in out and "no wsdl:service" in out

    # without an endpoint: the library and the REST API say what is missing
    plain = bridge.load(wsdl, transport=mock_transport(wsdl))
    with pytest.raises(bridge.UpstreamError, match=r"no endpoint address: pass endpoint= or --backend"):
        asyncio.run(plain.acall("Lookup", {"key": "k"}))
    with TestClient(plain.asgi()) as c:
        r = c.post("/Service/Lookup", json={"key": "k"})
    assert r.status_code == 503 and "endpoint" in r.json()["detail"]

    # with one, it is used
    b, rec = recorded_bridge(wsdl, endpoint="http://directory.invalid/soap")
    spec = b.openapi()
    validate(spec)
    assert list(spec["paths"]) == ["/Service/Lookup"]
    wire(b, "Lookup", {"key": "k"})
    with TestClient(b.asgi()) as c:
        r = c.post("/Service/Lookup", json={"key": "k"})
    assert r.status_code == 200, r.text
    assert [str(req.url) for req in rec.requests] == ["http://directory.invalid/soap"]


def test_dual_soap11_and_soap12_bindings() -> None:
    wsdl = fixture("wsdl_dual_soap.wsdl")
    b, rec = recorded_bridge(wsdl)
    assert [(op.port, op.soap_version) for op in b.model.operations] == [("EchoSoap12", "1.2"), ("EchoSoap", "1.1")]
    [routed] = b.routed  # one route for the interface, served by SOAP 1.1
    assert (routed.path, routed.soap_version) == ("/EchoService/Echo", "1.1")
    assert list(b.openapi()["paths"]) == ["/EchoService/Echo"]
    env11, _, _ = wire(b, "EchoService.EchoSoap.Echo", {"text": "a"})
    env12, _, _ = wire(b, "EchoService.EchoSoap12.Echo", {"text": "a"})
    assert env11.tag == f"{{{SOAP11}}}Envelope" and env12.tag == f"{{{SOAP12}}}Envelope"
    with TestClient(b.asgi()) as c:
        r = c.post("/EchoService/Echo", json={"text": "rest"})
    assert r.status_code == 200 and set(r.json()) == {"text"}
    # both ports callable through the library
    assert set(asyncio.run(b.acall("EchoService.EchoSoap12.Echo", {"text": "v12"}))) == {"text"}
    assert set(asyncio.run(b.acall("EchoService.EchoSoap.Echo", {"text": "v11"}))) == {"text"}
    kinds = [(r.headers["content-type"].split(";")[0], r.headers.get("soapaction")) for r in rec.requests]
    assert kinds == [
        ("text/xml", '"urn:soapbridge:conformance:dual/Echo"'),
        ("application/soap+xml", None),
        ("text/xml", '"urn:soapbridge:conformance:dual/Echo"'),
    ]
    assert 'action="urn:soapbridge:conformance:dual/Echo"' in rec.requests[1].headers["content-type"]
    # ports= picks the SOAP 1.2 port for the route instead
    b12 = mocked_bridge(wsdl, ports={"EchoService": "EchoSoap12"})
    [routed12] = b12.routed
    assert (routed12.path, routed12.soap_version) == ("/EchoService/Echo", "1.2")
    with TestClient(b12.asgi()) as c:
        assert c.post("/EchoService/Echo", json={"text": "x"}).status_code == 200


# --- 2c. styles -----------------------------------------------------------------------------


def test_document_literal_wrapped() -> None:
    wsdl = fixture("wsdl_doc_wrapped.wsdl")
    b = mocked_bridge(wsdl)
    op = b.operation("Search")
    assert (op.style, op.use) == ("document", "literal")
    spec = b.openapi()
    validate(spec)
    search = spec["components"]["schemas"]["Search"]
    assert search["required"] == ["query"] and search["properties"]["tag"]["type"] == "array"
    data = {"query": "soap", "limit": 5, "tag": ["a", "b"]}
    _, body, _ = wire(b, "Search", data)
    ns = "urn:soapbridge:conformance:wrapped"
    assert body[0].tag == f"{{{ns}}}Search"
    assert [c.tag for c in body[0]] == [f"{{{ns}}}query", f"{{{ns}}}limit", f"{{{ns}}}tag", f"{{{ns}}}tag"]
    reply = reply_round_trip(b, "Search", data)
    assert isinstance(reply["total"], int)
    with TestClient(b.asgi()) as c:
        r = c.post("/SearchService/Search", json={"query": "q"})
    assert r.status_code == 200 and isinstance(r.json()["total"], int)


def test_document_literal_bare() -> None:
    wsdl = fixture("wsdl_doc_bare.wsdl")
    b = mocked_bridge(wsdl)
    ns = "urn:soapbridge:conformance:bare"
    spec = b.openapi()
    validate(spec)
    schemas = spec["components"]["schemas"]
    # a part whose element is a simple type: keyed by part name
    convert = schemas["BareService_ConvertRequest"]
    assert convert["required"] == ["amount"]
    amount = convert["properties"]["amount"]
    amount = schemas[amount["$ref"].rsplit("/", 1)[1]] if "$ref" in amount else amount
    assert amount["type"] == "number" and amount["minimum"] == 0
    _, body, _ = wire(b, "Convert", {"amount": 12.5})
    assert [(c.tag, c.text) for c in body] == [(f"{{{ns}}}Amount", "12.5")]
    assert set(reply_round_trip(b, "Convert", {"amount": 12.5})) == {"converted"}
    # two body parts: keyed by part name, in message order on the wire
    data = {"from": {"iban": "DE00", "holder": "Ada"}, "amount": 3}
    _, body, _ = wire(b, "Transfer", data)
    assert [c.tag for c in body] == [f"{{{ns}}}Account", f"{{{ns}}}Amount"]
    assert set(schemas["BareService_TransferRequest"]["required"]) == {"from", "amount"}
    receipt = reply_round_trip(b, "Transfer", data)
    assert set(receipt) == {"reference", "booked"}  # one complex part: its content, like wrapped
    # one complex part not named after the operation: still its content
    _, body, _ = wire(b, "PlaceOrder", {"item": ["x", "y"]})
    assert body[0].tag == f"{{{ns}}}Order" and len(body[0]) == 2
    assert set(reply_round_trip(b, "PlaceOrder", {"item": ["x"]})) == {"id"}
    with TestClient(b.asgi()) as c:
        r1 = c.post("/BareService/Convert", json={"amount": 1.25})
        r2 = c.post("/BareService/Transfer", json=data)
        r3 = c.post("/BareService/PlaceOrder", json={"item": ["x"]})
        r4 = c.post("/BareService/Convert", json={"amount": -1})
    assert (r1.status_code, r2.status_code, r3.status_code) == (200, 200, 200), (r1.text, r2.text, r3.text)
    assert set(r1.json()) == {"converted"} and isinstance(r2.json()["booked"], bool) and isinstance(r3.json()["id"], int)
    assert r4.status_code == 400  # minInclusive of the simple element


def test_rpc_literal() -> None:
    wsdl = fixture("wsdl_rpc_literal.wsdl")
    b = mocked_bridge(wsdl)
    op = b.operation("Distance")
    assert (op.style, op.use, op.rpc_namespace) == ("rpc", "literal", "urn:soapbridge:conformance:geo-wire")
    assert [p.name for p in op.input.parts] == ["from", "to", "unit"]  # parameterOrder
    spec = b.openapi()
    validate(spec)
    assert spec["components"]["schemas"]["GeoService_DistanceRequest"]["required"] == ["from", "to", "unit"]
    data = {"from": {"x": 0.0, "y": 0.0}, "to": {"x": 3.0, "y": 4.0}, "unit": "m"}
    _, body, _ = wire(b, "Distance", data)
    wrapper = body[0]
    assert wrapper.tag == "{urn:soapbridge:conformance:geo-wire}Distance"
    assert [c.tag for c in wrapper] == ["from", "to", "unit"]  # unqualified accessors
    assert [c.tag for c in wrapper[0]] == ["x", "y"]  # no elementFormDefault: unqualified
    assert wrapper.get(f"{{{SOAP11}}}encodingStyle") is None and wrapper[2].get(XSI_TYPE) is None
    reply = reply_round_trip(b, "Distance", data)
    assert set(reply) == {"distance", "unit"}
    with TestClient(b.asgi()) as c:
        r = c.post("/GeoService/Distance", json=data)
    assert r.status_code == 200 and isinstance(r.json()["distance"], float)


RPCENC = "urn:soapbridge:conformance:rpcenc"


def test_rpc_encoded_with_soap_encoded_arrays() -> None:
    wsdl = fixture("wsdl_rpc_encoded.wsdl")
    b = mocked_bridge(wsdl)
    op = b.operation("FindPeople")
    assert (op.style, op.use) == ("rpc", "encoded")
    names_type = op.input.parts[0].element.type
    assert isinstance(names_type, ComplexType) and isinstance(names_type.soapenc_array_item, SimpleType)
    spec = b.openapi()
    validate(spec)
    req = spec["components"]["schemas"]["RpcEncodedService_FindPeopleRequest"]
    # The soapenc:Array of xsd:string is a JSON array of strings (null: xsi:nil), not an object.
    assert req["properties"]["names"]["anyOf"][0] == {"$ref": "#/components/schemas/ArrayOfString"}
    array_of_string = spec["components"]["schemas"]["ArrayOfString"]
    assert array_of_string["type"] == "array" and array_of_string["items"]["type"] == ["string", "null"]
    # array items are closed where they are used: an unknown field in a Person is a 400, not dropped
    reply_schema = {"$ref": "#/components/schemas/RpcEncodedService_FindPeopleResponse", "components": spec["components"]}
    reply_check = jsonschema_rs.Draft202012Validator(reply_schema)
    person = {"name": "ann", "age": 3}
    assert reply_check.is_valid({"people": [person], "oldest": person})
    assert not reply_check.is_valid({"people": [{**person, "extra": 1}], "oldest": person})

    # the request: wrapper with encodingStyle, xsi:type on every accessor, arrayType on arrays
    data = {"names": ["ann", "bob"], "minAge": 3}
    _, body, _ = wire(b, "FindPeople", data)
    wrapper = body[0]
    assert wrapper.tag == f"{{{RPCENC}}}FindPeople"
    assert wrapper.get(f"{{{SOAP11}}}encodingStyle") == SOAPENC
    names_el, min_age = list(wrapper)
    assert qname_value(names_el, XSI_TYPE) == QName(SOAPENC, "Array")
    assert names_el.get(ARRAY_TYPE).endswith("[2]")
    prefix = names_el.get(ARRAY_TYPE).split(":")[0]
    assert names_el.nsmap[prefix] == XSD_NS and names_el.get(ARRAY_TYPE) == f"{prefix}:string[2]"
    assert [qname_value(i, XSI_TYPE) for i in names_el] == [QName(XSD_NS, "string")] * 2
    assert [i.text for i in names_el] == ["ann", "bob"]
    assert qname_value(min_age, XSI_TYPE) == QName(XSD_NS, "int")

    # the reply: an array of structs and a struct, typed the same way
    mock = MockService(b.model)
    status, reply, _ = mock.handle(b.encode_request(op, data), "text/xml", op.soap_action, None)
    assert status == 200
    rbody = etree.fromstring(reply).find(f"{{{SOAP11}}}Body")[0]
    people, oldest = list(rbody)
    assert qname_value(people, XSI_TYPE) == QName(SOAPENC, "Array")
    item_type = people.get(ARRAY_TYPE)
    assert QName(people.nsmap[item_type.split(":")[0]], item_type.split(":")[1]) == QName(RPCENC, f"Person[{len(people)}]")
    assert {qname_value(i, XSI_TYPE) for i in people} == {QName(RPCENC, "Person")}
    assert qname_value(oldest, XSI_TYPE) == QName(RPCENC, "Person")
    assert qname_value(oldest[0], XSI_TYPE) == QName(XSD_NS, "string")
    decoded = b.decode_response(op, reply)
    assert isinstance(decoded["people"], list) and set(decoded["oldest"]) == {"name", "age"}

    # empty arrays and both directions through REST
    _, body, _ = wire(b, "Join", {"words": [], "separator": ","})
    assert body[0][0].get(ARRAY_TYPE).endswith("string[0]") and len(body[0][0]) == 0
    with TestClient(b.asgi()) as c:
        join = c.post("/RpcEncodedService/Join", json={"words": ["a", "b"], "separator": "-"})
        split = c.post("/RpcEncodedService/Split", json={"text": "a b"})
        people_r = c.post("/RpcEncodedService/FindPeople", json=data)
    assert join.status_code == 200 and isinstance(join.json()["result"], str)
    assert split.status_code == 200 and all(isinstance(w, str) for w in split.json()["words"])
    assert people_r.status_code == 200 and all(isinstance(p["age"], int) for p in people_r.json()["people"])


AXIS_MULTIREF = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <ns1:FindPeopleResponse soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:soapbridge:conformance:rpcenc">
   <people xsi:type="soapenc:Array" soapenc:arrayType="ns2:Person[2]" xmlns:ns2="urn:soapbridge:conformance:rpcenc"
       xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">
    <item href="#id0"/>
    <item href="#id1"/>
   </people>
   <oldest href="#id1"/>
  </ns1:FindPeopleResponse>
  <multiRef id="id0" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="ns3:Person"
      xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns3="urn:soapbridge:conformance:rpcenc">
   <name xsi:type="xsd:string">ann</name>
   <age href="#id2"/>
  </multiRef>
  <multiRef id="id1" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="ns4:Person"
      xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns4="urn:soapbridge:conformance:rpcenc">
   <name xsi:type="xsd:string">bob</name>
   <age xsi:type="xsd:int">40</age>
  </multiRef>
  <multiRef id="id2" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="xsd:int"
      xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">33</multiRef>
 </soapenv:Body>
</soapenv:Envelope>"""


def test_rpc_encoded_multiref_replies_are_resolved() -> None:
    """Axis 1 writes rpc/encoded values as top-level multiRef elements referenced by href."""
    b = bridge.load(fixture("wsdl_rpc_encoded.wsdl"))
    assert b.decode_response("FindPeople", AXIS_MULTIREF.encode()) == {
        "people": [{"name": "ann", "age": 33}, {"name": "bob", "age": 40}],
        "oldest": {"name": "bob", "age": 40},
    }
    dangling = AXIS_MULTIREF.replace('href="#id2"', 'href="#nowhere"')
    with pytest.raises(bridge.UpstreamError, match="points at no element"):
        b.decode_response("FindPeople", dangling.encode())
    cyclic = AXIS_MULTIREF.replace('<age href="#id2"/>', '<age href="#id0"/>')
    with pytest.raises(bridge.UpstreamError, match=r"nest deeper|too many"):
        b.decode_response("FindPeople", cyclic.encode())


# SOAP 1.1 section 5.1: any encoded accessor may be null. Replies and requests captured from
# Apache Axis 1.4 (server: tests/interop/axis/NullService.java; client: Axis's dynamic Call),
# for the WSDL that Axis generated from that class (wsdl_rpc_encoded_nulls.wsdl).
AXIS_NS = "urn:soapbridge:interop:axis"
_AXIS_ENV = (
    '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{}'
    "</soapenv:Body></soapenv:Envelope>"
)
_AXIS_OP = '<ns1:{op} soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:soapbridge:interop:axis">{body}</ns1:{op}>'
_SOAPENC_DECL = 'xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"'
AXIS_NULL_REPLIES = {
    "nothing": _AXIS_OP.format(op="nothingResponse", body=f'<nothingReturn xsi:type="soapenc:string" xsi:nil="true" {_SOAPENC_DECL}/>'),
    "noNumber": _AXIS_OP.format(op="noNumberResponse", body=f'<noNumberReturn xsi:type="soapenc:int" xsi:nil="true" {_SOAPENC_DECL}/>'),
    "noItem": _AXIS_OP.format(op="noItemResponse", body='<noItemReturn xsi:type="ns1:Item" xsi:nil="true"/>'),
    "names": _AXIS_OP.format(
        op="namesResponse",
        body=f'<namesReturn soapenc:arrayType="soapenc:string[3]" xsi:type="soapenc:Array" {_SOAPENC_DECL}>'
        '<namesReturn xsi:type="soapenc:string">name1</namesReturn><namesReturn xsi:type="soapenc:string" xsi:nil="true"/>'
        '<namesReturn xsi:type="soapenc:string">name3</namesReturn></namesReturn>',
    ),
}
AXIS_NULL_EXPECTED = {
    "nothing": {"nothingReturn": None},
    "noNumber": {"noNumberReturn": None},
    "noItem": {"noItemReturn": None},
    "names": {"namesReturn": ["name1", None, "name3"]},
}
AXIS_CLIENT_REQUESTS = [  # what Axis's own client sends for echo(null), echoArray({"a", null}), echoArray(null)
    (
        "echo",
        _AXIS_OP.format(op="echo", body=f'<s xsi:type="soapenc:string" xsi:nil="true" {_SOAPENC_DECL}/>'),
        {"s": None},
    ),
    (
        "echoArray",
        _AXIS_OP.format(
            op="echoArray",
            body=f'<a soapenc:arrayType="ns1:ArrayOf_soapenc_string[2]" xsi:type="soapenc:Array" {_SOAPENC_DECL}>'
            '<a xsi:type="xsd:string">a</a><a xsi:type="ns1:ArrayOf_soapenc_string" xsi:nil="true"/></a>',
        ),
        {"a": ["a", None]},
    ),
    ("echoArray", _AXIS_OP.format(op="echoArray", body='<a xsi:type="ns1:ArrayOf_soapenc_string" xsi:nil="true"/>'), {"a": None}),
]


def _axis_body(xml: str) -> list[etree._Element]:
    return [c for c in etree.fromstring(_AXIS_ENV.format(xml).encode()).find(f"{{{SOAP11}}}Body") if isinstance(c.tag, str)]


def test_rpc_encoded_null_replies_from_axis() -> None:
    """Axis answers a null String, Integer or bean return, and a null array member, with xsi:nil:
    decoded as JSON null by the generic and the compiled codec, and allowed by the reply's spec."""
    b = mocked_bridge(fixture("wsdl_rpc_encoded_nulls.wsdl"))
    assert b.settings.reply_validation == "strict"
    spec = b.openapi()
    validate(spec)
    for name, reply in AXIS_NULL_REPLIES.items():
        op = b.operation(name)
        assert op.use == "encoded" and op.output is not None
        envelope = _AXIS_ENV.format(reply).encode()
        assert b.decode_response(op, envelope) == AXIS_NULL_EXPECTED[name]  # compiled codec, then the spec check
        assert b.codec.decode_message(op, op.output, _axis_body(reply), []) == AXIS_NULL_EXPECTED[name]
        assert b.compiled.decode_message(op, op.output, _axis_body(reply), []) == AXIS_NULL_EXPECTED[name]
        check = jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/NullServiceService_{name}Response", "components": spec["components"]})
        assert check.is_valid(AXIS_NULL_EXPECTED[name])
    # through REST, with the reply checked strictly against the spec
    replies = {f'"{n}"': _AXIS_ENV.format(r) for n, r in AXIS_NULL_REPLIES.items()}

    def upstream(request: httpx.Request) -> httpx.Response:
        wrapper = etree.fromstring(request.content).find(f"{{{SOAP11}}}Body")[0]
        return httpx.Response(200, text=replies[f'"{etree.QName(wrapper).localname}"'], headers={"Content-Type": "text/xml; charset=utf-8"})

    rest = bridge.load(fixture("wsdl_rpc_encoded_nulls.wsdl"), endpoint="http://axis.invalid/axis/services/NullService", transport=httpx.MockTransport(upstream))
    with TestClient(rest.asgi()) as c:
        for name, expected in AXIS_NULL_EXPECTED.items():
            r = c.post(f"/NullServiceService/{name}", json={})
            assert r.status_code == 200, r.text
            assert r.json() == expected


def test_rpc_encoded_null_requests() -> None:
    """``{"s": null}`` and null array members are written as xsi:nil="true" (typed, as Axis writes
    them), the envelope is valid against soap-encoding.xsd, and what Axis's client sends decodes."""
    from tests.interop.envelopes import EnvelopeChecker

    wsdl = fixture("wsdl_rpc_encoded_nulls.wsdl")
    b = mocked_bridge(wsdl)
    checker = EnvelopeChecker(wsdl)
    spec = b.openapi()
    for name, data in [("echo", {"s": None}), ("echoArray", {"a": ["name1", None, "name3"]}), ("echoArray", {"a": None})]:
        check = jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/NullServiceService_{name}Request", "components": spec["components"]})
        assert check.is_valid(data)
        envelope, body, _ = wire(b, name, data)  # decodes back to data
        assert checker.problems(etree.tostring(envelope), "text/xml; charset=utf-8", '""') == []
        (accessor,) = body[0]
        if data.get("a"):
            assert accessor.get(ARRAY_TYPE).endswith("string[3]")
            assert [(m.get(f"{{{XSI_NS}}}nil"), m.text) for m in accessor] == [(None, "name1"), ("true", None), (None, "name3")]
            assert qname_value(accessor[1], XSI_TYPE) == QName(XSD_NS, "string")
        else:
            assert accessor.get(f"{{{XSI_NS}}}nil") == "true" and len(accessor) == 0 and not accessor.text
            assert qname_value(accessor, XSI_TYPE) == (QName(XSD_NS, "string") if name == "echo" else QName(SOAPENC, "Array"))
    for name, request, expected in AXIS_CLIENT_REQUESTS:
        op = b.operation(name)
        assert b.codec.decode_message(op, op.input, _axis_body(request), []) == expected
        status, _, _ = MockService(b.model).handle(_AXIS_ENV.format(request).encode(), "text/xml", op.soap_action, None)
        assert status == 200
    with TestClient(b.asgi()) as c:
        echo = c.post("/NullServiceService/echo", json={"s": None})
        members = c.post("/NullServiceService/echoArray", json={"a": ["x", None]})
        wrong = c.post("/NullServiceService/echo", json={"s": 1})
    assert echo.status_code == 200 and members.status_code == 200, (echo.text, members.text)
    assert wrong.status_code == 400
    # literal rpc parts stay as declared: not nillable
    literal = bridge.load(fixture("wsdl_rpc_literal.wsdl"), endpoint="http://mock.invalid/soap")
    assert not any(p.element.nillable for p in literal.operation("Distance").input.parts)


SOAP_1999 = """<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"
    xmlns:xsi="http://www.w3.org/{year}/XMLSchema-instance" xmlns:xsd="http://www.w3.org/{year}/XMLSchema"
    SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
 <SOAP-ENV:Body>
  <ns1:{op}Response xmlns:ns1="urn:soapbridge:interop:axis">{body}</ns1:{op}Response>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


@pytest.mark.parametrize("year", ["1999", "2000/10"])
def test_rpc_encoded_xsi_null_of_soap_1_1_era_stacks(year: str) -> None:
    """Apache SOAP 2.x and early SOAP::Lite wrote nil as ``xsi:null="1"`` in the 1999 (or 2000/10)
    XSI namespace: read as null, for a part and for an array member."""
    b = bridge.load(fixture("wsdl_rpc_encoded_nulls.wsdl"))
    nothing = SOAP_1999.format(year=year, op="nothing", body='<nothingReturn xsi:type="xsd:string" xsi:null="1"/>')
    item = SOAP_1999.format(year=year, op="noItem", body='<noItemReturn xsi:type="ns1:Item" xsi:null="true"/>')
    names = SOAP_1999.format(
        year=year,
        op="names",
        body='<namesReturn xsi:type="SOAP-ENC:Array" SOAP-ENC:arrayType="xsd:string[3]"><item xsi:type="xsd:string">a</item>'
        '<item xsi:type="xsd:string" xsi:null="1"/><item xsi:type="xsd:string" xsi:null="0">c</item></namesReturn>',
    )
    assert b.decode_response("nothing", nothing.encode()) == {"nothingReturn": None}
    assert b.decode_response("noItem", item.encode()) == {"noItemReturn": None}
    assert b.decode_response("names", names.encode()) == {"namesReturn": ["a", None, "c"]}


# --- 2d. HTTP bindings ----------------------------------------------------------------------


def test_http_only_wsdl_fails_and_says_why() -> None:
    with pytest.raises(bridge.WsdlError, match=r"only HTTP GET/POST bindings \(1 operation\(s\)\)"):
        bridge.load(fixture("wsdl_http_only.wsdl"))


def test_http_ports_are_reported_and_soap_ports_served(capsys: pytest.CaptureFixture[str]) -> None:
    wsdl = fixture("wsdl_http_mixed.wsdl")
    b = mocked_bridge(wsdl)
    assert [(p.name, p.kind, len(p.operations)) for p in b.model.ports] == [
        ("RatesHttpGet", "http", 0),
        ("RatesSoap", "soap11", 1),
        ("RatesHttpPost", "http", 0),
    ]
    skipped = {s.name: s.reason for s in b.model.skipped}
    assert set(skipped) == {"Rates.RatesHttpGet.GetRate", "Rates.RatesHttpPost.GetRate"}
    for reason in skipped.values():
        assert reason == "HTTP GET/POST bindings are not supported; GetRate is served through the SOAP port RatesSoap"
    out = inspect(capsys, wsdl)
    assert "port RatesHttpGet (HTTP)" in out
    assert "operation Rates.RatesHttpPost.GetRate: HTTP GET/POST bindings are not supported" in out
    listed = json.loads(inspect(capsys, wsdl, "--json"))
    assert {s["name"] for s in listed["skipped"]} == set(skipped)
    assert [o["key"] for o in listed["operations"]] == ["GetRate"]
    spec = b.openapi()
    validate(spec)
    assert list(spec["paths"]) == ["/Rates/GetRate"]
    _, body, _ = wire(b, "GetRate", {"currency": "EUR"})
    assert body[0].tag == "{urn:soapbridge:conformance:http}GetRate"
    with TestClient(b.asgi()) as c:
        r = c.post("/Rates/GetRate", json={"currency": "EUR"})
    assert r.status_code == 200 and set(r.json()) == {"GetRateResult"}


# --- 2e. faults and headers -----------------------------------------------------------------

BANK = "urn:soapbridge:conformance:bank"


def test_soap_headers_per_operation_input_and_output() -> None:
    wsdl = fixture("wsdl_faults_headers.wsdl")
    b = mocked_bridge(wsdl)
    withdraw, balance = b.operation("Withdraw"), b.operation("Balance")
    assert [(p.name, p.location) for p in withdraw.input.parts] == [("parameters", "body"), ("auth", "header"), ("trace", "header")]
    assert withdraw.output is not None and [p.name for p in withdraw.output.header_parts] == ["quota"]
    assert balance.input.header_parts == []
    spec = b.openapi()
    validate(spec)
    schemas = spec["components"]["schemas"]
    assert set(schemas["BankService_WithdrawRequest"]["allOf"][1]["properties"]["$headers"]["properties"]) == {"auth", "trace"}
    assert set(schemas["BankService_WithdrawResponse"]["allOf"][1]["properties"]["$headers"]["properties"]) == {"quota"}
    assert "$headers" not in json.dumps(schemas["BankService_BalanceRequest"])

    data = {"account": "A-1", "amount": 10, "$headers": {"auth": {"apiKey": "k"}, "trace": "t-1"}}
    _, body, headers = wire(b, "Withdraw", data)
    assert [h.tag for h in headers] == [f"{{{BANK}}}Auth", f"{{{BANK}}}Trace"]
    assert [c.tag for c in body] == [f"{{{BANK}}}Withdraw"]  # trace left the body (soap:body parts=)
    reply = reply_round_trip(b, "Withdraw", data)
    assert set(reply["$headers"]) == {"quota"}
    with TestClient(b.asgi()) as c:
        r = c.post("/BankService/Withdraw", json=data)
        missing = c.post("/BankService/Withdraw", json={"account": "A-1", "amount": 10, "$headers": {"nope": 1}})
        plain = c.post("/BankService/Balance", json={"account": "A-1"})
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["$headers"]["quota"]["remaining"], int)
    assert missing.status_code == 400
    assert plain.status_code == 200 and "$headers" not in plain.json()


@pytest.mark.parametrize(
    ("fault", "detail_keys"),
    [("InsufficientFunds", {"balance", "requested"}), ("AccountLocked", {"account", "until", "permanent"})],
)
def test_every_declared_fault_is_typed(fault: str, detail_keys: set[str]) -> None:
    wsdl = fixture("wsdl_faults_headers.wsdl")
    b = bridge.load(wsdl, endpoint="http://mock.invalid/soap", transport=mock_transport(wsdl, faults={"Withdraw": fault}))
    op = b.operation("Withdraw")
    assert [(f.name, f.element.qname.name if f.element else None) for f in op.faults] == [
        ("InsufficientFunds", "InsufficientFundsFault"),
        ("AccountLocked", "AccountLockedFault"),
    ]
    spec = b.openapi()
    responses = spec["paths"]["/BankService/Withdraw"]["post"]["responses"]
    for status in ("422", "502"):  # a declared fault may come with a Client or a Server code
        assert "BankService_WithdrawFault" in json.dumps(responses[status]), status
    declared = json.dumps(spec["components"]["schemas"]["BankService_WithdrawFault"])
    assert "InsufficientFundsFault" in declared and "AccountLockedFault" in declared
    # the wire: the mock's fault envelope decodes to the declared fault with a typed detail
    mock = MockService(b.model, faults={"Withdraw": fault})
    data = {"account": "A-1", "amount": 10}
    status, reply, _ = mock.handle(b.encode_request(op, data), "text/xml", op.soap_action, None)
    assert status == 500
    with pytest.raises(bridge.SoapFault) as err:
        b.decode_response(op, reply)
    assert err.value.name == fault and set(err.value.detail) == detail_keys
    # REST: 422 with the fault's name and typed detail_data
    with TestClient(b.asgi()) as c:
        r = c.post("/BankService/Withdraw", json=data)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["fault"] == fault and set(problem["detail_data"]) == detail_keys
    if fault == "AccountLocked":
        assert isinstance(problem["detail_data"]["permanent"], bool)
        assert re.fullmatch(r"-?\d{4,}-\d\d-\d\d.*", problem["detail_data"]["until"])
    else:
        assert all(isinstance(problem["detail_data"][k], (int, float)) for k in detail_keys)


# --- 2f. operations zeep drops silently -----------------------------------------------------


def test_operations_zeep_drops_silently_are_served_and_noted(capsys: pytest.CaptureFixture[str]) -> None:
    wsdl = fixture("wsdl_zeep_drop.wsdl")
    # the reproduction: zeep itself loses GetOrder (with nothing but warnings) and keeps Ping
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        document = zeep.wsdl.Document(str(wsdl), LoaderTransport(), settings=zeep_settings())
    said = [str(w.message) for w in caught]
    assert any("contains an invalid part ('order')" in w for w in said)
    assert any("wsdl:operation 'GetOrder' was not found" in w for w in said)
    assert set(document.bindings["{urn:soapbridge:conformance:zeepdrop}OrdersBinding"]._operations) == {"Ping"}

    b = mocked_bridge(wsdl)
    assert sorted(op.name for op in b.operations) == ["GetOrder", "Ping"]
    [note] = b.model.notes
    assert "zeep silently drops 1 of its 2 operation(s)" in note and note.rstrip().split("serves: ")[1].startswith("GetOrder")
    assert "GetOrderResponse" in note and "'order'" in note  # zeep's reason: the part it cannot resolve
    out = inspect(capsys, wsdl)
    assert "notes (1), nothing lost:" in out and "  - binding OrdersBinding" in out and "1 note(s)" in out
    assert json.loads(inspect(capsys, wsdl, "--json"))["notes"] == [note]

    _, body, _ = wire(b, "GetOrder", {"id": 7})
    assert body[0].tag == "{urn:soapbridge:conformance:zeepdrop}GetOrder" and body[0][0].tag == "id"
    assert set(reply_round_trip(b, "GetOrder", {"id": 7})["order"]) == {"id", "status"}
    with TestClient(b.asgi()) as c:
        r = c.post("/OrdersService/GetOrder", json={"id": 7})
    assert r.status_code == 200 and isinstance(r.json()["order"]["id"], int)


# --- 2g. errors stay per operation ----------------------------------------------------------


def test_one_broken_operation_does_not_sink_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    wsdl = fixture("wsdl_broken_op.wsdl")
    b = mocked_bridge(wsdl)
    assert [op.name for op in b.operations] == ["Good", "AlsoGood"]
    skipped = {s.name: s.reason for s in b.model.skipped}
    assert skipped == {
        "MixedService.MixedSoap.Broken": "part 'parameters' refers to element {urn:soapbridge:conformance:broken}Undefined, which is not defined",
        "MixedService.MixedSoap.Orphan": "binding operation not in portType {urn:soapbridge:conformance:broken}MixedPortType",
    }
    out = inspect(capsys, wsdl)
    assert "skipped (2):" in out and "operation MixedService.MixedSoap.Broken: part 'parameters' refers to element" in out
    spec = b.openapi()
    validate(spec)
    assert set(spec["paths"]) == {"/MixedService/Good", "/MixedService/AlsoGood"}
    assert "Broken" not in json.dumps(spec)
    with pytest.raises(bridge.OperationNotFound, match="no operation named 'Broken'"):
        b.operation("Broken")
    wire(b, "Good", {"n": 1})
    with TestClient(b.asgi()) as c:
        assert c.post("/MixedService/Good", json={"n": 1}).status_code == 200
        assert c.post("/MixedService/AlsoGood", json={"n": 2}).status_code == 200
        assert c.post("/MixedService/Broken", json={}).status_code == 404


def test_zero_operations_is_a_wsdl_error_that_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    wsdl = fixture("wsdl_no_operations.wsdl")
    with pytest.raises(bridge.WsdlError) as err:
        bridge.load(wsdl)
    message = str(err.value)
    assert "yields no callable SOAP operation" in message
    assert "urn:soapbridge:conformance:published-elsewhere" in message and "Request, which is not defined" in message
    capsys.readouterr()
    assert cli_main(["inspect", str(wsdl)]) == 1
    err_line = capsys.readouterr().err
    assert err_line.startswith("soapbridge: ") and err_line.count("\n") == 1


def test_conformance_tables_name_only_tests_that_exist() -> None:
    """The conformance tables (docs/conformance.md): one row per construct, each naming a test that exists."""
    root = Path(__file__).resolve().parents[2]
    page = (root / "docs" / "conformance.md").read_text(encoding="utf-8")
    assert "## XSD constructs" in page and "## WSDL constructs" in page
    rows = [line for line in page.splitlines() if line.startswith("| ") and not line.startswith(("| construct", "| ---"))]
    assert len(rows) >= 45
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 3 and all(cells), row
        named = re.findall(r"`(?:twc|([\w/.]+\.py))::(\w+)`", cells[2])
        assert named, f"no test named in: {row}"
        for path, name in named:
            source = (root / path).read_text(encoding="utf-8") if path else Path(__file__).read_text(encoding="utf-8")
            assert re.search(rf"^def {name}\(", source, re.M), f"{path or 'twc'}::{name} does not exist"


SIBLINGS_WSDL = """<?xml version="1.0"?>
<wsdl:definitions targetNamespace="urn:t" xmlns:tns="urn:t" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types><xsd:schema targetNamespace="urn:t" elementFormDefault="qualified">
    <xsd:complexType name="BaseRequest"><xsd:sequence><xsd:element name="id" type="xsd:string"/></xsd:sequence></xsd:complexType>
    <xsd:complexType name="ARequest"><xsd:complexContent><xsd:extension base="tns:BaseRequest">
      <xsd:sequence><xsd:element name="a" type="xsd:string" minOccurs="0"/></xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
    <xsd:complexType name="BRequest"><xsd:complexContent><xsd:extension base="tns:BaseRequest">
      <xsd:sequence><xsd:element name="b" type="xsd:string" minOccurs="0"/></xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
    <xsd:element name="DoA" type="tns:ARequest"/>
    <xsd:element name="DoAResponse" type="xsd:string"/>
    <xsd:element name="Auth" type="xsd:string"/>
  </xsd:schema></wsdl:types>
  <wsdl:message name="In"><wsdl:part name="parameters" element="tns:DoA"/></wsdl:message>
  <wsdl:message name="Out"><wsdl:part name="parameters" element="tns:DoAResponse"/></wsdl:message>
  <wsdl:message name="AuthHeader"><wsdl:part name="auth" element="tns:Auth"/></wsdl:message>
  <wsdl:portType name="P"><wsdl:operation name="DoA"><wsdl:input message="tns:In"/><wsdl:output message="tns:Out"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:P"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="DoA"><soap:operation soapAction="urn:t/DoA"/>
      <wsdl:input><soap:body use="literal"/><soap:header message="tns:AuthHeader" part="auth" use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation></wsdl:binding>
  <wsdl:service name="S"><wsdl:port name="Port" binding="tns:B"><soap:address location="http://localhost/s"/></wsdl:port></wsdl:service>
</wsdl:definitions>"""


def test_wrapped_element_beside_headers_keeps_its_own_type(tmp_path: Path) -> None:
    """An element whose type has siblings (ARequest, BRequest extend one base) stays ARequest in
    the request body even when "$headers" sits beside it (found on royalmail-shipping-v2)."""
    wsdl = tmp_path / "siblings.wsdl"
    wsdl.write_text(SIBLINGS_WSDL, encoding="utf-8")
    b = bridge.load(wsdl)
    op = b.operation("DoA")
    ok = {"id": "1", "a": "x", "$headers": {"auth": "k"}}
    b.validate_input(op, ok)
    b.validate_input(op, {**ok, "$type": "ARequest"})
    for bad, why in (({**ok, "$type": "BRequest"}, 'is not one of "ARequest"'), ({**ok, "b": "y"}, "'b' was unexpected"), ({**ok, "other": 1}, "'other' was unexpected")):
        with pytest.raises(bridge.ValidationError) as refused:
            b.validate_input(op, bad)
        assert any(why in v.detail for v in refused.value.violations), refused.value.violations
