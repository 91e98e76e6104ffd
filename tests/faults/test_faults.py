"""Faults and broken replies as independent stacks send them, through the REST app.

The envelopes below are written to reproduce what those stacks put on the wire (see the comments at
each one); none comes from the bridge's own encoder or mock. The Axis faults match what the live
Axis 1.4 peer sends (tests/interop/test_axis_faults.py), SOAP::Lite's 1.2 envelope with 1.1 Fault
children is tested live in tests/interop/test_soaplite.py; these run without the peers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from starlette.testclient import TestClient

import bridge
from tests.conftest import sample

AXIS_WSDL = Path(__file__).parent / "axis_interop.wsdl"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
HOST = "build-host-7.corp.example"

# Axis 1.4, a declared checked exception (interop.InteropFault, a bean with code and reason) thrown
# by the service: Server.userException, the detail entry named after the Java class with the fault
# part's type in xsi:type, then Axis's own entries (the exception's stack trace, the host name).
AXIS_DECLARED = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>soapenv:Server.userException</faultcode>
   <faultstring>interop.InteropFault</faultstring>
   <detail>
    <interop.InteropFault xsi:type="ns1:InteropFault" xmlns:ns1="http://interop">
     <code xsi:type="xsd:int">42</code>
     <reason xsi:type="soapenc:string" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">the answer</reason>
    </interop.InteropFault>
    <ns2:stackTrace xmlns:ns2="http://xml.apache.org/axis/">interop.InteropFault
	at interop.InteropImpl.fail(InteropImpl.java:12)
	at sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
	at org.apache.axis.providers.java.RPCProvider.invokeMethod(RPCProvider.java:397)</ns2:stackTrace>
    <ns3:hostname xmlns:ns3="http://xml.apache.org/axis/">{HOST}</ns3:hostname>
   </detail>
  </soapenv:Fault>
 </soapenv:Body>
</soapenv:Envelope>"""

# Axis 1.4, an exception the WSDL does not declare (a NullPointerException in the service).
AXIS_UNDECLARED = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>soapenv:Server.userException</faultcode>
   <faultstring>java.lang.NullPointerException</faultstring>
   <detail>
    <ns1:stackTrace xmlns:ns1="http://xml.apache.org/axis/">java.lang.NullPointerException
	at interop.InteropImpl.fail(InteropImpl.java:14)</ns1:stackTrace>
    <ns2:hostname xmlns:ns2="http://xml.apache.org/axis/">{HOST}</ns2:hostname>
   </detail>
  </soapenv:Fault>
 </soapenv:Body>
</soapenv:Envelope>"""

# Axis 1.4 breaking its own WSDL in a reply: nil on the non-nillable int "count" (a null Integer),
# an array the bean type does not declare written as <tags><tags>, "name" twice, and "size" left out.
AXIS_BROKEN_ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <ns1:itemResponse soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:interop">
   <itemReturn xsi:type="ns2:Item" xmlns:ns2="http://interop">
    <count xsi:type="xsd:int" xsi:nil="true"/>
    <name xsi:type="xsd:string">widget</name>
    <name xsi:type="xsd:string">widget-again</name>
    <tags><tags>s3cret-tag</tags><tags>other</tags></tags>
   </itemReturn>
  </ns1:itemResponse>
 </soapenv:Body>
</soapenv:Envelope>"""


def _gsoap_12_children_in_11_envelope(code: str, prefix_ns: str) -> str:
    """gSOAP's fault writer picks the 1.2 element names from soap->version and the namespace from its
    namespace table, so a server that mixes them answers a 1.1 request with Code/Reason/Detail
    inside a 1.1 envelope, bound to whichever namespace its table gives SOAP-ENV."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP11}" xmlns:f="{prefix_ns}" xmlns:ns1="http://soapbridge.dev/samples/calculator">
 <SOAP-ENV:Body>
  <SOAP-ENV:Fault>
   <f:Code><f:Value>f:{code}</f:Value></f:Code>
   <f:Reason><f:Text xml:lang="en">division by zero</f:Text></f:Reason>
   <f:Detail><ns1:DivisionByZeroFault><ns1:dividend>5</ns1:dividend><ns1:message>no</ns1:message></ns1:DivisionByZeroFault></f:Detail>
  </SOAP-ENV:Fault>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


def _client(wsdl: Path, reply: str, status: int = 500, **settings: Any) -> TestClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=reply.encode(), headers={"Content-Type": "text/xml; charset=utf-8"})

    b = bridge.load(wsdl, endpoint="http://peer.invalid/soap", transport=httpx.MockTransport(answer), cache_dir=None, **settings)
    return TestClient(b.asgi())


def _validator(c: TestClient, path: str, status: int) -> Any:
    spec = c.get("/openapi.json").json()
    schema = spec["paths"][path]["post"]["responses"][str(status)]["content"]["application/problem+json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})


@pytest.fixture
def axis_declared() -> Iterator[TestClient]:
    with _client(AXIS_WSDL, AXIS_DECLARED) as c:
        yield c


def test_type_based_fault_part_is_matched_by_xsi_type(axis_declared: TestClient) -> None:
    r = axis_declared.post("/InteropService/fail", json={"code": 42})
    assert r.status_code == 502, r.text  # Server.userException: a server fault, typed
    p = r.json()
    assert p["type"] == "urn:soapbridge:problem:soap-fault:server"
    assert p["faultcode"] == f"{{{SOAP11}}}Server.userException"
    assert p["fault"] == "InteropFault"
    assert p["detail_data"] == {"code": 42, "reason": "the answer"}
    _validator(axis_declared, "/InteropService/fail", 502).validate(p)


def test_stack_trace_and_host_name_beside_a_declared_fault_never_reach_rest(axis_declared: TestClient) -> None:
    r = axis_declared.post("/InteropService/fail", json={"code": 42})
    assert "stackTrace" not in r.text and "InteropImpl.java" not in r.text and HOST not in r.text


def test_undeclared_detail_is_dropped_by_default() -> None:
    with _client(AXIS_WSDL, AXIS_UNDECLARED) as c:
        r = c.post("/InteropService/fail", json={"code": 1})
    assert r.status_code == 502, r.text
    p = r.json()
    assert p["fault"] is None and p["detail_data"] is None
    assert p["detail"] == "java.lang.NullPointerException"
    assert HOST not in r.text and "InteropImpl.java" not in r.text


def test_fault_detail_all_passes_undeclared_detail_on() -> None:
    with _client(AXIS_WSDL, AXIS_UNDECLARED, fault_detail="all") as c:
        r = c.post("/InteropService/fail", json={"code": 1})
    assert r.status_code == 502, r.text
    p = r.json()
    assert p["fault"] is None
    assert p["detail_data"]["hostname"]["#text"] == HOST
    assert "InteropImpl.java:14" in p["detail_data"]["stackTrace"]["#text"]


def test_fault_detail_setting_is_checked() -> None:
    with pytest.raises(bridge.ConfigError, match="fault_detail"):
        bridge.load(AXIS_WSDL, fault_detail="some", cache_dir=None)


@pytest.mark.parametrize(("code", "status", "category"), [("Sender", 422, "client"), ("Receiver", 502, "server")])
@pytest.mark.parametrize("children_ns", [SOAP12, SOAP11], ids=["children-in-1.2-ns", "children-in-1.1-ns"])
def test_soap12_fault_children_in_a_soap11_envelope(code: str, status: int, category: str, children_ns: str) -> None:
    with _client(sample("calculator.wsdl"), _gsoap_12_children_in_11_envelope(code, children_ns)) as c:
        r = c.post("/CalculatorService/Divide", json={"dividend": 5, "divisor": 0})
    assert r.status_code == status, r.text
    p = r.json()
    assert p["type"] == f"urn:soapbridge:problem:soap-fault:{category}"
    assert p["faultcode"] == f"{{{children_ns}}}{code}"
    assert p["detail"] == "division by zero"
    assert p["fault"] == "DivisionByZero" and p["detail_data"] == {"dividend": 5, "message": "no"}


@pytest.mark.parametrize("env_ns", [SOAP11, SOAP12])
def test_a_fault_with_no_code_is_a_bad_reply(env_ns: str) -> None:
    reply = f'<e:Envelope xmlns:e="{env_ns}"><e:Body><e:Fault><faultstring>x</faultstring></e:Fault></e:Body></e:Envelope>'
    with _client(sample("calculator.wsdl"), reply) as c:
        r = c.post("/CalculatorService/Divide", json={"dividend": 5, "divisor": 0})
    assert r.status_code == 502, r.text
    p = r.json()
    assert p["type"] == "urn:soapbridge:problem:upstream:bad_reply"
    assert "no fault code" in p["detail"]


# ---- reply_validation: lax keeps what fits ----------------------------------------------------


def test_strict_refuses_a_reply_that_breaks_the_wsdl() -> None:
    with _client(AXIS_WSDL, AXIS_BROKEN_ITEM, status=200) as c:
        r = c.post("/InteropService/item", json={"name": "widget"})
    assert r.status_code == 502, r.text
    assert r.json()["type"] == "urn:soapbridge:problem:upstream:bad_reply"


@pytest.mark.parametrize("mode", ["lax", "off"])
def test_lax_and_off_keep_what_fits(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="soapbridge"), _client(AXIS_WSDL, AXIS_BROKEN_ITEM, status=200, reply_validation=mode) as c:
        r = c.post("/InteropService/item", json={"name": "widget"})
    assert r.status_code == 200, r.text
    # nil passed on as null, the undeclared element left out, the missing one absent
    assert r.json() == {"itemReturn": {"count": None, "name": "widget"}}
    logged = caplog.text
    assert "/itemReturn/count" in logged and "nil" in logged
    assert "unexpected element(s) left out: tags" in logged
    assert "/itemReturn/name: name occurs 2 times but allows one: kept the first" in logged
    assert "s3cret" not in logged and "widget" not in logged  # paths and reasons, never values
    if mode == "lax":
        assert "/itemReturn: breaks required (size missing)" in logged  # the schema check reports the missing element
    else:
        assert "size" not in logged


def test_lax_still_refuses_values_that_do_not_parse() -> None:
    reply = AXIS_BROKEN_ITEM.replace('<count xsi:type="xsd:int" xsi:nil="true"/>', "<count>many</count>")
    with _client(AXIS_WSDL, reply, status=200, reply_validation="lax") as c:
        r = c.post("/InteropService/item", json={"name": "widget"})
    assert r.status_code == 502, r.text
    assert "/itemReturn/count" in r.json()["detail"]
