"""The Python library API: load, operations, call, encode_request, decode_response, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from lxml import etree

import bridge
from bridge import errors
from bridge.mock import MockService
from tests.conftest import ServerThread, sample

CALC_NS = "http://soapbridge.dev/samples/calculator"


def test_operations_describe_every_port() -> None:
    b = bridge.load(sample("calculator.wsdl"))
    ops = b.operations
    assert len(ops) == 6  # 3 operations on a SOAP 1.1 and a SOAP 1.2 port
    add = b.operation("Add")
    assert (add.service, add.port, add.name) == ("CalculatorService", "CalculatorSoap", "Add")
    assert add.soap_version == "1.1" and add.style == "document"
    assert (add.http_method, add.path, add.operation_id) == ("POST", "/CalculatorService/Add", "CalculatorService_Add")
    add12 = b.operation("CalculatorService.CalculatorSoap12.Add")
    assert add12.soap_version == "1.2"
    assert add12.path == ""  # the SOAP 1.1 port serves the REST route: no duplicate
    assert len({op.operation_id for op in ops}) == 6


def test_port_choice_is_configurable() -> None:
    b = bridge.load(sample("calculator.wsdl"), ports={"CalculatorService": "CalculatorSoap12"})
    assert b.operation("Add").soap_version == "1.2"
    with pytest.raises(errors.ConfigError, match="not a SOAP port"):
        bridge.load(sample("calculator.wsdl"), ports={"CalculatorService": "Nope"})


def test_unknown_operation() -> None:
    b = bridge.load(sample("calculator.wsdl"))
    with pytest.raises(errors.OperationNotFound, match="Multiply"):
        b.operation("Multiply")


def test_encode_request_is_a_soap_envelope() -> None:
    b = bridge.load(sample("calculator.wsdl"))
    xml = etree.fromstring(b.encode_request("Add", {"a": 1, "b": 2}))
    assert xml.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    add = xml.find(f".//{{{CALC_NS}}}Add")
    assert add is not None
    assert [c.text for c in add] == ["1", "2"]
    xml12 = etree.fromstring(b.encode_request("CalculatorService.CalculatorSoap12.Add", {"a": 1, "b": 2}))
    assert xml12.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope"


def test_encode_request_validates() -> None:
    b = bridge.load(sample("calculator.wsdl"))
    with pytest.raises(errors.ValidationError) as info:
        b.encode_request("Add", {"a": "x"})
    pointers = [v.pointer for v in info.value.violations]
    assert "/a" in pointers and len(pointers) >= 2
    with pytest.raises(errors.ValidationError) as control:
        b.encode_request("Echo", {"text": "bad\x00char"})
    assert [v.pointer for v in control.value.violations] == ["/text"]  # U+0000 is no XML character


def test_decode_response_and_fault() -> None:
    b = bridge.load(sample("calculator.wsdl"))
    reply = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
      <c:AddResponse xmlns:c="{CALC_NS}"><c:result>42</c:result></c:AddResponse></s:Body></s:Envelope>""".encode()
    assert b.decode_response("Add", reply) == {"result": 42}
    fault = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
      <faultcode>s:Client</faultcode><faultstring>division by zero</faultstring>
      <detail><c:DivisionByZeroFault xmlns:c="{CALC_NS}"><c:dividend>1.5</c:dividend><c:message>no</c:message></c:DivisionByZeroFault></detail>
      </s:Fault></s:Body></s:Envelope>""".encode()
    with pytest.raises(bridge.SoapFault) as info:
        b.decode_response("Divide", fault)
    f = info.value
    assert f.category == "client" and f.reason == "division by zero"
    assert f.code == "{http://schemas.xmlsoap.org/soap/envelope/}Client"
    assert f.name == "DivisionByZero"
    assert f.detail == {"dividend": 1.5, "message": "no"}


def test_unqualified_fault_detail_is_matched_by_local_name() -> None:
    """spyne writes a dict detail with no namespace and refines the code (Client.Name / a subcode)."""
    b = bridge.load(sample("calculator.wsdl"))
    detail = "<DivisionByZeroFault><dividend>2.5</dividend><message>no</message></DivisionByZeroFault>"
    fault11 = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
      <faultcode>s:Client.DivisionByZero</faultcode><faultstring>division by zero</faultstring><faultactor></faultactor>
      <detail>{detail}</detail></s:Fault></s:Body></s:Envelope>""".encode()
    fault12 = f"""<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><e:Fault>
      <e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>DivisionByZero</e:Value></e:Subcode></e:Code>
      <e:Reason><e:Text xml:lang="en">division by zero</e:Text></e:Reason><e:Role></e:Role>
      <e:Detail>{detail}</e:Detail></e:Fault></e:Body></e:Envelope>""".encode()
    for op, reply in (("Divide", fault11), ("CalculatorService.CalculatorSoap12.Divide", fault12)):
        with pytest.raises(bridge.SoapFault) as info:
            b.decode_response(op, reply)
        f = info.value
        assert (f.name, f.category, f.detail) == ("DivisionByZero", "client", {"dividend": 2.5, "message": "no"})
        assert f.actor is None  # an empty faultactor / Role is no actor, in both versions
    assert f.subcodes == ["DivisionByZero"]


TWO_PROBLEMS = """<?xml version="1.0"?>
<wsdl:definitions targetNamespace="urn:a" xmlns:tns="urn:a" xmlns:b="urn:b" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:b" elementFormDefault="qualified">
      <xsd:element name="Problem"><xsd:complexType><xsd:sequence>
        <xsd:element name="code" type="xsd:int"/></xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
    <xsd:schema targetNamespace="urn:a" elementFormDefault="qualified">
      <xsd:element name="Problem"><xsd:complexType><xsd:sequence>
        <xsd:element name="text" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="Go"><xsd:complexType><xsd:sequence/></xsd:complexType></xsd:element>
      <xsd:element name="GoResponse"><xsd:complexType><xsd:sequence/></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="Go"><wsdl:part name="parameters" element="tns:Go"/></wsdl:message>
  <wsdl:message name="GoResponse"><wsdl:part name="parameters" element="tns:GoResponse"/></wsdl:message>
  <wsdl:message name="ProblemA"><wsdl:part name="fault" element="tns:Problem"/></wsdl:message>
  <wsdl:message name="ProblemB"><wsdl:part name="fault" element="b:Problem"/></wsdl:message>
  <wsdl:portType name="P"><wsdl:operation name="Go"><wsdl:input message="tns:Go"/><wsdl:output message="tns:GoResponse"/>
    <wsdl:fault name="ProblemA" message="tns:ProblemA"/><wsdl:fault name="ProblemB" message="tns:ProblemB"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:P"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Go"><soap:operation soapAction="urn:a/Go"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>
      <wsdl:fault name="ProblemA"><soap:fault name="ProblemA" use="literal"/></wsdl:fault>
      <wsdl:fault name="ProblemB"><soap:fault name="ProblemB" use="literal"/></wsdl:fault></wsdl:operation></wsdl:binding>
  <wsdl:service name="S"><wsdl:port name="Port" binding="tns:B"><soap:address location="http://127.0.0.1:1/"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""


def test_fault_detail_is_matched_by_qualified_name_first(tmp_path: Path) -> None:
    """Two declared faults whose elements share a local name: the namespace decides, and an
    unqualified detail element, which could be either, is not given a fault name."""
    wsdl = tmp_path / "two-problems.wsdl"
    wsdl.write_text(TWO_PROBLEMS)
    b = bridge.load(wsdl)

    def fault(detail: str) -> bridge.SoapFault:
        reply = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
          <faultcode>s:Client</faultcode><faultstring>no</faultstring><detail>{detail}</detail>
          </s:Fault></s:Body></s:Envelope>""".encode()
        with pytest.raises(bridge.SoapFault) as info:
            b.decode_response("Go", reply)
        return info.value

    b_fault = fault('<p:Problem xmlns:p="urn:b"><p:code>7</p:code></p:Problem>')
    assert (b_fault.name, b_fault.detail) == ("ProblemB", {"code": 7})  # ProblemA is declared first
    a_fault = fault('<p:Problem xmlns:p="urn:a"><p:text>t</p:text></p:Problem>')
    assert (a_fault.name, a_fault.detail) == ("ProblemA", {"text": "t"})
    either = fault("<Problem><code>7</code></Problem>")
    assert either.name is None and either.detail is None  # fault_detail "declared": untyped detail is dropped
    b = bridge.load(wsdl, fault_detail="all")
    either = fault("<Problem><code>7</code></Problem>")
    assert either.name is None and either.detail == {"Problem": {"code": "7"}}


def test_one_transport_serves_call_and_acall() -> None:
    """A transport that is both sync and async (here httpx.MockTransport) carries both kinds of call."""
    mock = MockService(bridge.load(sample("calculator.wsdl")).model)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["soapaction"])
        status, body, content_type = mock.handle(request.read(), request.headers["content-type"], request.headers["soapaction"], None)
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    with bridge.load(sample("calculator.wsdl"), endpoint="http://mock.invalid/", transport=httpx.MockTransport(answer)) as b:
        assert set(b.call("Add", {"a": 1, "b": 2})) == {"result"}
        assert set(asyncio.run(b.acall("Echo", {"text": "x"}))) == {"text"}
    assert seen == ['"http://soapbridge.dev/samples/calculator/Add"', '"http://soapbridge.dev/samples/calculator/Echo"']


def test_decode_rejects_a_reply_that_breaks_the_wsdl() -> None:
    b = bridge.load(sample("calculator.wsdl"))
    reply = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
      <c:AddResponse xmlns:c="{CALC_NS}"><c:result>forty</c:result></c:AddResponse></s:Body></s:Envelope>""".encode()
    with pytest.raises(bridge.UpstreamError, match="does not match the WSDL") as info:
        b.decode_response("Add", reply)
    assert info.value.kind == "bad_reply"


def test_call_over_http_with_sync_client(calculator_mock_server: ServerThread) -> None:
    with bridge.load(sample("calculator.wsdl"), endpoint=calculator_mock_server.url + "/") as b:
        result = b.call("Add", {"a": 1, "b": 2})
        assert isinstance(result["result"], int)
        result = b.call("CalculatorService.CalculatorSoap12.Divide", {"dividend": 10, "divisor": 4})
        assert isinstance(result["quotient"], float)


def test_call_results_are_json_ready(calculator_mock_server: ServerThread) -> None:
    import json

    with bridge.load(sample("orders.wsdl"), endpoint=calculator_mock_server.url + "/") as b:
        # the calculator mock cannot answer an orders request: a fault, not a crash
        with pytest.raises(bridge.SoapFault) as info:
            b.call("GetOrder", {"orderId": "1"})
        assert info.value.category == "client"
    json.dumps(info.value.detail)


def test_missing_wsdl_is_a_wsdl_error(tmp_path: object) -> None:
    with pytest.raises(bridge.WsdlError, match="not found"):
        bridge.load("/nonexistent/service.wsdl")


def test_url_needs_network_permission() -> None:
    with pytest.raises(bridge.WsdlError, match="network loading is off"):
        bridge.load("http://127.0.0.1:1/service?wsdl")


def test_unknown_setting_is_a_config_error() -> None:
    with pytest.raises(bridge.ConfigError, match="read_timout"):
        bridge.load(sample("calculator.wsdl"), read_timout=3)
    with pytest.raises(bridge.ConfigError, match="reply_validation"):
        bridge.load(sample("calculator.wsdl"), reply_validation="sometimes")


def test_all_errors_share_one_base() -> None:
    for name in ("WsdlError", "ValidationError", "SoapFault", "UpstreamError", "ConfigError", "XmlError"):
        assert issubclass(getattr(bridge, name), bridge.BridgeError)
