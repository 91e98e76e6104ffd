"""The Python library API: load, operations, call, encode_request, decode_response, errors."""

from __future__ import annotations

import pytest
from lxml import etree

import bridge
from bridge import errors
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
    with pytest.raises(errors.ValidationError):
        b.encode_request("Echo", {"text": "bad\x00char"})


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
