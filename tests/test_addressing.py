"""WS-Addressing 1.0 request headers (issue 14), ``addressing: true``.

The headers are checked against the W3C WS-Addressing 2005/08 schema with xmlschema, and their
values against the WSDL read here with lxml and the rules of WS-Addressing 1.0 Metadata (explicit
wsam:Action, else the soapAction, else the default action pattern). The JAX-WS RI with addressing
required is the independent peer: tests/interop/test_addressing_jaxws.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlschema
from lxml import etree

import bridge
from bridge.errors import ConfigError
from bridge.recording import rest_request
from tests.conftest import SHARED, mock_transport, sample

WSA = "http://www.w3.org/2005/08/addressing"
WSAM = "http://www.w3.org/2007/05/addressing/metadata"
ENV = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}
PORTS = {"1.1": "CalculatorSoap", "1.2": "CalculatorSoap12"}
SCHEMA = Path(bridge.__file__).parent / "xsd" / "schemas" / "ws-addr-2005-08.xsd"
ENDPOINT = "https://svc-user:hunter22@svc.example:8443/calc?x=1"


@pytest.fixture(scope="module")
def wsa_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA))


class Capture(httpx.AsyncBaseTransport):
    """Keeps each request, and answers it with the generated mock."""

    def __init__(self, wsdl: Path) -> None:
        self.mock = mock_transport(wsdl)
        self.sent: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        self.bodies.append(await request.aread())
        return await self.mock.handle_async_request(request)


def send(wsdl: Path, version: str, times: int = 1, **settings: Any) -> Capture:
    capture = Capture(wsdl)
    b = bridge.load(wsdl, endpoint=ENDPOINT, ports={"CalculatorService": PORTS[version]}, transport=capture, cache_dir=None, **settings)

    async def run() -> None:
        for _ in range(times):
            await b.acall("Add", {"a": 1, "b": 2})

    asyncio.run(run())
    return capture


def wsa_headers(body: bytes, version: str) -> list[etree._Element]:
    root = etree.fromstring(body)
    header = root.find(f"{{{ENV[version]}}}Header")
    return [] if header is None else [h for h in header if etree.QName(h).namespace == WSA]


def soap_action_in_wsdl(wsdl: Path, operation: str) -> str:
    """The soapAction of the operation's SOAP binding, read from the WSDL here."""
    doc = etree.parse(str(wsdl))
    ns = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/"}
    return str(doc.xpath(f"//w:binding/w:operation[@name='{operation}']/s:operation/@soapAction", namespaces=ns)[0])


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_headers_are_valid_ws_addressing_and_carry_the_wsdl_action(version: str, wsa_schema: xmlschema.XMLSchema) -> None:
    capture = send(sample("calculator.wsdl"), version, times=2, addressing=True)
    action = soap_action_in_wsdl(sample("calculator.wsdl"), "Add")
    ids = []
    for request, body in zip(capture.sent, capture.bodies, strict=True):
        headers = wsa_headers(body, version)
        assert [etree.QName(h).localname for h in headers] == ["Action", "To", "MessageID", "ReplyTo"]
        for h in headers:
            wsa_schema.validate(h)  # each against its global element declaration
        by = {etree.QName(h).localname: h for h in headers}
        assert by["Action"].text == action
        assert by["To"].text == "https://svc.example:8443/calc?x=1"  # the endpoint without its credentials
        assert by["ReplyTo"].findtext(f"{{{WSA}}}Address") == f"{WSA}/anonymous"
        ids.append(by["MessageID"].text)
        must = "1" if version == "1.1" else "true"
        assert by["Action"].get(f"{{{ENV[version]}}}mustUnderstand") == must
        assert by["To"].get(f"{{{ENV[version]}}}mustUnderstand") == must
        # WS-Addressing SOAP Binding §3: the SOAP action, when given, is the wsa:Action
        if version == "1.1":
            assert request.headers["soapaction"] == f'"{action}"'
        else:
            assert f'action="{action}"' in request.headers["content-type"]
        assert b"hunter22" not in body
    assert len(set(ids)) == 2 and all(i is not None and i.startswith("urn:uuid:") for i in ids)


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = sample("calculator.wsdl").read_text()
    assert old in text
    path = tmp_path / "calculator.wsdl"
    path.write_text(text.replace(old, new, 1))
    return path


def test_an_explicit_wsam_action_wins_over_the_soap_action(tmp_path: Path) -> None:
    wsdl = _variant(
        tmp_path, '<wsdl:input message="tns:AddRequest"/>', f'<wsdl:input xmlns:wsam="{WSAM}" wsam:Action="urn:example:calc:Add" message="tns:AddRequest"/>'
    )
    capture = send(wsdl, "1.1", addressing=True)
    (action,) = [h.text for h in wsa_headers(capture.bodies[0], "1.1") if etree.QName(h).localname == "Action"]
    assert action == "urn:example:calc:Add"
    assert capture.sent[0].headers["soapaction"] == '"urn:example:calc:Add"'


def test_without_a_soap_action_the_default_action_pattern_is_used(tmp_path: Path) -> None:
    wsdl = _variant(tmp_path, 'soapAction="http://soapbridge.dev/samples/calculator/Add"', 'soapAction=""')
    capture = send(wsdl, "1.1", addressing=True)
    (action,) = [h.text for h in wsa_headers(capture.bodies[0], "1.1") if etree.QName(h).localname == "Action"]
    # WS-Addressing 1.0 Metadata §4.4.4: [target namespace]/[port type name]/[input name], the input
    # name defaulting to the operation's name + "Request" for a request-response operation
    assert action == "http://soapbridge.dev/samples/calculator/CalculatorPortType/AddRequest"


@pytest.mark.parametrize("setting", [{}, {"addressing": False}, {"addressing": "auto"}])
def test_no_addressing_headers_unless_configured_or_asked_for_by_the_wsdl(setting: dict[str, Any]) -> None:
    capture = send(sample("calculator.wsdl"), "1.1", **setting)  # its bindings have no addressing policy
    assert wsa_headers(capture.bodies[0], "1.1") == []


def test_addressing_must_be_true_false_or_auto() -> None:
    with pytest.raises(ConfigError, match="addressing: expected true, false or auto"):
        bridge.load(sample("calculator.wsdl"), addressing="yes")


# --- switched on by the WSDL's policy (addressing: auto, the default) --------------------------

PARTNER = SHARED / "wsdl-corpus" / "partnerservice" / "partner" / "PartnerService.local.wsdl"  # a real WCF WSDL


@pytest.fixture
def partner() -> Path:
    if not PARTNER.is_file():
        pytest.skip(f"{PARTNER} is not here (../shared is absent)")
    return PARTNER


def test_a_wcf_policy_with_using_addressing_switches_it_on(partner: Path, wsa_schema: xmlschema.XMLSchema) -> None:
    """PartnerService: its wsHttpBinding port references a wsp:Policy holding wsaw:UsingAddressing,
    its basicHttpBinding port none; each input carries a wsaw:Action (read here with lxml)."""
    doc = etree.parse(str(partner))
    wsaw = "http://www.w3.org/2006/05/addressing/wsdl"
    actions = {
        op.get("name"): op.find("{http://schemas.xmlsoap.org/wsdl/}input").get(f"{{{wsaw}}}Action")
        for op in doc.iterfind(".//{http://schemas.xmlsoap.org/wsdl/}portType/{http://schemas.xmlsoap.org/wsdl/}operation")
    }
    sent: dict[str, list[bytes]] = {}
    versions: dict[str, str] = {}
    for port in ("PartnerServiceWSEndPoint", "PartnerServiceBasicEndPoint"):
        capture = Capture(partner)
        b = bridge.load(partner, endpoint="http://svc.example/partner", ports={"PartnerService": port}, transport=capture, cache_dir=None)
        op = next(o for o in b.operations if o.name == "ValidateMember")
        asyncio.run(b.acall(op, rest_request(op, 0)["body"]))
        sent[port] = capture.bodies
        versions[port] = op.soap_version
    (ws_body,) = sent["PartnerServiceWSEndPoint"]
    headers = {etree.QName(h).localname: h for h in wsa_headers(ws_body, versions["PartnerServiceWSEndPoint"])}
    assert list(headers) == ["Action", "To", "MessageID", "ReplyTo"]
    assert headers["Action"].text == actions["ValidateMember"] == "http://tempuri.org/IPartnerService/ValidateMember"
    for h in headers.values():
        wsa_schema.validate(h)
    (basic_body,) = sent["PartnerServiceBasicEndPoint"]
    assert wsa_headers(basic_body, versions["PartnerServiceBasicEndPoint"]) == []


@pytest.mark.parametrize(
    ("assertion", "setting", "expected"),
    [
        ("<wsam:Addressing/>", {}, True),
        ('<wsam:Addressing wsp:Optional="true"/>', {}, False),  # supported, not required
        ("<wsam:Addressing/>", {"addressing": False}, False),  # the setting wins
    ],
)
def test_a_wsam_addressing_policy_assertion(tmp_path: Path, assertion: str, setting: dict[str, Any], expected: bool) -> None:
    policy = (
        f'<wsp:Policy xmlns:wsp="http://www.w3.org/ns/ws-policy" xmlns:wsam="{WSAM}"><wsp:ExactlyOne><wsp:All>'
        f"{assertion}</wsp:All></wsp:ExactlyOne></wsp:Policy>"
    )
    old = '<wsdl:binding name="CalculatorSoapBinding" type="tns:CalculatorPortType">'
    wsdl = _variant(tmp_path, old, old + policy)
    capture = send(wsdl, "1.1", **setting)
    assert bool(wsa_headers(capture.bodies[0], "1.1")) is expected


def test_recordings_stay_stable_with_addressing() -> None:
    """`soapbridge record` writes the same bytes on every run: the per-call MessageID is redacted."""
    from bridge.recording import canonical_xml

    first, second = send(sample("calculator.wsdl"), "1.1", times=2, addressing=True).bodies
    assert first != second  # two MessageIDs
    assert canonical_xml(first) == canonical_xml(second)
    assert "urn:uuid:" not in canonical_xml(first)
