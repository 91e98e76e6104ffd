"""WS-Addressing 1.0 request headers (issue 14), ``addressing: true``.

The headers are checked against the W3C WS-Addressing 2005/08 schema with xmlschema, and their
values against the WSDL read here with lxml and the rules of WS-Addressing 1.0 Metadata (explicit
wsam:Action, else the soapAction, else the default action pattern). The JAX-WS RI with addressing
required is the independent peer: tests/interop/test_addressing_jaxws.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlschema
from lxml import etree

import bridge
from bridge.errors import ConfigError
from bridge.mock import MockService
from bridge.recording import rest_request
from bridge.wsdl.loader import load_model
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


# --- the mock that requires WS-Addressing (`soapbridge mock --require-addressing`) ----------------
# The faults' codes are those of WS-Addressing 1.0 SOAP Binding §6.4 (what the JAX-WS RI sends, compared
# in tests/interop/test_addressing_jaxws.py); the reply Action is WS-Addressing 1.0 Metadata §4.4.4's
# default pattern, written out here from wsdl/calculator.wsdl by hand.

CALC = "http://soapbridge.dev/samples/calculator"
ADD_REPLY_ACTION = f"{CALC}/CalculatorPortType/AddResponse"


def rest(version: str, addressing: bool) -> httpx.Response:
    wsdl = sample("calculator.wsdl")
    b = bridge.load(
        wsdl, endpoint="http://svc.example/calc", ports={"CalculatorService": PORTS[version]},
        transport=mock_transport(wsdl, addressing=True), addressing=addressing, cache_dir=None,
    )  # fmt: skip
    from starlette.testclient import TestClient

    return TestClient(b.asgi()).post("/CalculatorService/Add", json={"a": 1, "b": 2})


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_bridge_with_addressing_passes_the_mock_that_requires_it(version: str) -> None:
    r = rest(version, True)
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["result"], int)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_mock_refuses_the_bridge_without_addressing(version: str) -> None:
    r = rest(version, False)
    assert r.status_code in (422, 502), r.text
    assert f"{{{WSA}}}MessageAddressingHeaderRequired" in [r.json()["faultcode"], *r.json()["subcodes"]]


def mock_post(version: str, action: str, headers: str) -> tuple[int, etree._Element]:
    body = (
        f'<S:Envelope xmlns:S="{ENV[version]}" xmlns:wsa="{WSA}"><S:Header>{headers}</S:Header>'
        f'<S:Body><c:Add xmlns:c="{CALC}"><c:a>1</c:a><c:b>2</c:b></c:Add></S:Body></S:Envelope>'
    ).encode()
    ct = "text/xml" if version == "1.1" else f'application/soap+xml; action="{action}"'
    status, reply, _ = MockService(load_model(sample("calculator.wsdl")), addressing=True).handle(body, ct, action, None)
    return status, etree.fromstring(reply)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_an_action_the_operation_does_not_have_is_action_not_supported(version: str) -> None:
    headers = "<wsa:Action>urn:other</wsa:Action><wsa:To>http://svc.example/calc</wsa:To><wsa:MessageID>urn:uuid:1</wsa:MessageID>"
    status, reply = mock_post(version, "urn:other", headers)
    assert status == 500
    ns = {"S": ENV[version], "wsa": WSA}
    if version == "1.1":
        code = reply.find("S:Body/S:Fault/faultcode", ns)
        assert code is not None and code.text is not None
        assert code.text.split(":")[1] == "ActionNotSupported" and code.nsmap[code.text.split(":")[0]] == WSA
        problem = reply.find("S:Header/wsa:FaultDetail/wsa:ProblemAction/wsa:Action", ns)
    else:
        assert reply.findtext("S:Body/S:Fault/S:Code/S:Value", namespaces=ns) == "soap:Sender"
        sub = reply.find("S:Body/S:Fault/S:Code/S:Subcode/S:Value", ns)
        assert sub is not None and sub.text == "wsa:ActionNotSupported" and sub.nsmap["wsa"] == WSA
        problem = reply.find("S:Body/S:Fault/S:Detail/wsa:ProblemAction/wsa:Action", ns)
    assert problem is not None and problem.text == "urn:other"
    assert reply.findtext("S:Header/wsa:Action", namespaces=ns) == f"{WSA}/fault"
    assert reply.findtext("S:Header/wsa:RelatesTo", namespaces=ns) == "urn:uuid:1"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_mock_s_reply_headers_are_valid_and_relate_to_the_request(version: str, wsa_schema: xmlschema.XMLSchema) -> None:
    action = soap_action_in_wsdl(sample("calculator.wsdl"), "Add")
    headers = f"<wsa:Action>{action}</wsa:Action><wsa:To>http://svc.example/calc</wsa:To><wsa:MessageID>urn:uuid:42</wsa:MessageID>"
    status, reply = mock_post(version, action, headers)
    assert status == 200
    found = {etree.QName(h).localname: h for h in reply.find(f"{{{ENV[version]}}}Header") if etree.QName(h).namespace == WSA}
    for h in found.values():
        wsa_schema.validate(etree.tostring(h))
    assert found["Action"].text == ADD_REPLY_ACTION
    assert found["RelatesTo"].text == "urn:uuid:42"
    assert found["To"].text == f"{WSA}/anonymous"


def test_cli_call_with_addressing_against_the_mock_that_requires_it(tmp_path: Path) -> None:
    """`soapbridge mock --require-addressing` and `soapbridge call --config` (addressing: true), as subprocesses."""
    import subprocess

    from tests.test_cli import CLI, Running

    (tmp_path / "on.yaml").write_text("addressing: true\n")
    (tmp_path / "off.yaml").write_text("addressing: false\n")
    mock = Running("mock", "calculator", "--port", "0", "--require-addressing", until="operations on")
    try:
        url = next(w for w in mock.text.split() if w.startswith("http://"))
        call = [CLI, "call", "calculator", "Add", "--data", '{"a": 2, "b": 3}', "--backend", url]
        ok = subprocess.run([*call, "--config", str(tmp_path / "on.yaml")], capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0, ok.stderr
        assert isinstance(json.loads(ok.stdout)["result"], int)
        refused = subprocess.run([*call, "--config", str(tmp_path / "off.yaml")], capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0
        assert "MessageAddressingHeaderRequired" in refused.stdout + refused.stderr
    finally:
        mock.stop()
