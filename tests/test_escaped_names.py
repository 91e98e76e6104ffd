"""WSDL names carrying XML name escapes (issue 11): .NET's XmlConvert.EncodeName writes a service
"WSF Schedule" as ``WSF_x0020_Schedule``. Routes decode them into a readable segment that needs no
percent-encoding, operationIds follow, the tag reads as the service's own name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

import bridge
from bridge.names import path_segment, xml_decode
from tests.conftest import mocked_bridge
from tests.test_spec_names import assert_generator_safe, corpus_entry

# What XmlConvert.EncodeName writes for these names (the .NET documentation's rules: a character
# not allowed in an XML name, or not at its start, is _xHHHH_; a "_x" that looks like an escape
# has its "_" escaped as _x005F_).
DOTNET = [
    ("Order Details", "Order_x0020_Details"),
    ("1stSailing", "_x0031_stSailing"),
    ("a_x0020_b", "a_x005F_x0020_b"),
    ("Rate%", "Rate_x0025_"),
    ("Ping.v2", "Ping.v2"),
]
SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")  # RFC 3986 unreserved: nothing to percent-encode


@pytest.mark.parametrize(("name", "encoded"), DOTNET)
def test_xml_decode_reads_dotnet_encoded_names(name: str, encoded: str) -> None:
    assert xml_decode(encoded) == name
    assert SEGMENT.fullmatch(path_segment(encoded))


def test_path_segments_are_readable() -> None:
    assert path_segment("WSF_x0020_Schedule") == "WSF_Schedule"
    assert path_segment("_x0031_stSailing") == "1stSailing"
    assert path_segment("Rate_x0025_") == "Rate_"
    assert path_segment("a_x005F_x0020_b") == "a_x0020_b"  # a literal "_x0020_", kept as written
    assert path_segment("Plain-Name.v2") == "Plain-Name.v2"
    assert path_segment("Bad_xD800_") == "Bad_xD800_"  # not a character: left as it is


def _op(name: str, reply: str) -> tuple[str, str, str, str]:
    message = (
        f'<wsdl:message name="{name}In"><wsdl:part name="parameters" element="tns:{name}"/></wsdl:message>'
        f'<wsdl:message name="{name}Out"><wsdl:part name="parameters" element="tns:{name}Response"/></wsdl:message>'
    )
    element = (
        f'<s:element name="{name}"><s:complexType><s:sequence><s:element name="day" type="s:int"/></s:sequence></s:complexType></s:element>'
        f'<s:element name="{name}Response"><s:complexType><s:sequence><s:element name="{reply}" type="s:int"/></s:sequence></s:complexType></s:element>'
    )
    port_op = f'<wsdl:operation name="{name}"><wsdl:input message="tns:{name}In"/><wsdl:output message="tns:{name}Out"/></wsdl:operation>'
    binding_op = (
        f'<wsdl:operation name="{name}"><soap:operation soapAction="http://ferry.example/{name}" style="document"/>'
        '<wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>'
    )
    return message, element, port_op, binding_op


# A .NET asmx-style WSDL: the service and port names escaped, and operations whose decoded names
# meet a plain one (Get_x0020_Sailings and Get_Sailings), start with a digit, or keep a ".".
OPS = {"Get_x0020_Sailings": "spaced", "Get_Sailings": "plain", "_x0031_stSailing": "first", "Ping_x002E_v2": "pong"}
PARTS = [_op(n, r) for n, r in OPS.items()]
WSDL = f"""<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions targetNamespace="http://ferry.example/" xmlns:tns="http://ferry.example/"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:s="http://www.w3.org/2001/XMLSchema">
  <wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="http://ferry.example/">
    {"".join(p[1] for p in PARTS)}
  </s:schema></wsdl:types>
  {"".join(p[0] for p in PARTS)}
  <wsdl:portType name="WSF_x0020_ScheduleSoap">{"".join(p[2] for p in PARTS)}</wsdl:portType>
  <wsdl:binding name="WSF_x0020_ScheduleSoap" type="tns:WSF_x0020_ScheduleSoap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>{"".join(p[3] for p in PARTS)}
  </wsdl:binding>
  <wsdl:service name="WSF_x0020_Schedule">
    <wsdl:port name="WSF_x0020_ScheduleSoap" binding="tns:WSF_x0020_ScheduleSoap"><soap:address location="http://127.0.0.1:1/"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""


def test_escaped_wsdl_names_give_readable_routes(tmp_path: Path) -> None:
    wsdl = tmp_path / "ferry.wsdl"
    wsdl.write_text(WSDL, encoding="utf-8")
    b = mocked_bridge(wsdl)
    spec = b.openapi()
    validate(spec)
    assert_generator_safe(spec)
    routes = {op.name: op.path for op in b.routed}
    assert routes == {
        "Get_Sailings": "/WSF_Schedule/Get_Sailings",  # a name without escapes keeps its segment
        "Get_x0020_Sailings": "/WSF_Schedule/Get_Sailings_2",
        "_x0031_stSailing": "/WSF_Schedule/1stSailing",
        "Ping_x002E_v2": "/WSF_Schedule/Ping.v2",
    }
    assert all(SEGMENT.fullmatch(seg) for path in spec["paths"] for seg in path.strip("/").split("/"))
    ops = [item["post"] for item in spec["paths"].values()]
    assert not [o["operationId"] for o in ops if "_x" in o["operationId"]]
    assert {o["operationId"] for o in ops} >= {"WSF_Schedule_Get_Sailings", "WSF_Schedule_Ping_v2", "WSF_Schedule_1stSailing"}
    assert {t for o in ops for t in o["tags"]} == {"WSF Schedule"} == {t["name"] for t in spec["tags"]}
    assert {o["x-soap"]["service"] for o in ops} == {"WSF_x0020_Schedule"}  # the WSDL's own name
    client = TestClient(b.asgi())
    for name, reply in OPS.items():
        r = client.post(routes[name], json={"day": 3})
        assert r.status_code == 200, r.text
        assert list(r.json()) == [reply]  # the route reached its own operation
    assert client.post("/WSF_x0020_Schedule/Get_Sailings", json={"day": 3}).status_code == 404


@pytest.mark.corpus
def test_corpus_ferry_routes_are_decoded() -> None:
    spec = bridge.load(corpus_entry("gowsdl-ferry")).openapi()
    validate(spec)
    assert_generator_safe(spec)
    assert spec["paths"] and all(p.startswith("/WSF_Schedule/") for p in spec["paths"])
    assert all(SEGMENT.fullmatch(seg) for path in spec["paths"] for seg in path.strip("/").split("/"))
    assert not [o["operationId"] for item in spec["paths"].values() for o in item.values() if "_x" in o["operationId"]]
    assert [t["name"] for t in spec["tags"]] == ["WSF Schedule"]
