"""Component names and operationIds every code generator accepts (issue 11): ASCII letters,
digits and "_" only, unique case-insensitively, non-ASCII XSD names escaped reversibly with the
original in ``title``, local types named ``Parent_element``."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

import bridge
from bridge.names import ascii_name, decode_name
from tests.conftest import ROOT, SHARED

SAFE = re.compile(r"[A-Za-z0-9_]+")
REF = "#/components/schemas/"


def refs(node: Any) -> set[str]:
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if isinstance(n.get("$ref"), str):
                out.add(n["$ref"])
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return out


def assert_generator_safe(spec: dict[str, Any]) -> None:
    names = list(spec["components"]["schemas"])
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    for group in (names, ids):
        assert [n for n in group if not SAFE.fullmatch(n)] == []
        lower = [n.lower() for n in group]
        assert sorted({n for n in group if lower.count(n.lower()) > 1}) == []
    dangling = {r for r in refs(spec) if r.startswith(REF) and r[len(REF):] not in spec["components"]["schemas"]}
    assert dangling == set()


@pytest.mark.parametrize("text", ["КонтактнаяИнформация", "Parent.element", "a_x0041_b", "x\U0001d7ceý", "One-Time"])
def test_ascii_names_are_safe_and_non_ascii_reversible(text: str) -> None:
    name = ascii_name(text)
    assert SAFE.fullmatch(name)
    if text.isascii() and "_x" not in text:
        assert name == re.sub(r"[^A-Za-z0-9_]", "_", text)  # readable as it was
    else:
        assert decode_name(name) == text


def test_committed_specs_have_generator_safe_names() -> None:
    for path in sorted((ROOT / "openapi").glob("*.json")):
        assert_generator_safe(json.loads(path.read_text(encoding="utf-8")))


CLASHES = """<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions targetNamespace="urn:a" xmlns:tns="urn:a" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:a" elementFormDefault="qualified">
      <xsd:complexType name="DescribeLayout"><xsd:sequence>
        <xsd:element name="section"><xsd:complexType><xsd:sequence>
          <xsd:element name="label" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
      </xsd:sequence></xsd:complexType>
      <xsd:complexType name="Адрес"><xsd:sequence><xsd:element name="Страна" type="xsd:string"/>
        <xsd:element name="Дом" minOccurs="0"><xsd:complexType><xsd:sequence>
          <xsd:element name="n" type="xsd:int"/></xsd:sequence></xsd:complexType></xsd:element>
      </xsd:sequence></xsd:complexType>
      <xsd:element name="describeLayout"><xsd:complexType><xsd:sequence>
        <xsd:element name="layout" type="tns:DescribeLayout"/><xsd:element name="адрес" type="tns:Адрес"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="DescribeLayout"><xsd:complexType><xsd:sequence>
        <xsd:element name="n" type="xsd:int"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="problem"><xsd:complexType><xsd:sequence>
        <xsd:element name="code" type="xsd:int"/></xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="a"><wsdl:part name="parameters" element="tns:describeLayout"/></wsdl:message>
  <wsdl:message name="b"><wsdl:part name="parameters" element="tns:DescribeLayout"/></wsdl:message>
  <wsdl:message name="c"><wsdl:part name="parameters" element="tns:problem"/></wsdl:message>
  <wsdl:portType name="P">
    <wsdl:operation name="describeLayout"><wsdl:input message="tns:a"/><wsdl:output message="tns:c"/></wsdl:operation>
    <wsdl:operation name="DescribeLayout"><wsdl:input message="tns:b"/><wsdl:output message="tns:c"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="B" type="tns:P"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="describeLayout"><soap:operation soapAction="urn:a/describeLayout"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
    <wsdl:operation name="DescribeLayout"><soap:operation soapAction="urn:a/DescribeLayout"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="S"><wsdl:port name="Port" binding="tns:B"><soap:address location="http://127.0.0.1:1/"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""


def test_names_that_differ_by_case_or_script_stay_apart(tmp_path: Path) -> None:
    wsdl = tmp_path / "clashes.wsdl"
    wsdl.write_text(CLASHES, encoding="utf-8")
    b = bridge.load(wsdl)
    spec = b.openapi()
    validate(spec)
    assert_generator_safe(spec)
    schemas = spec["components"]["schemas"]

    def target(schema: dict[str, Any], *path: str) -> dict[str, Any]:
        for key in path:
            schema = schema["properties"][key]
        (ref,) = {r for r in refs(schema) if r.startswith(REF)}
        return dict(schemas[ref[len(REF):]])

    request = schemas[spec["paths"]["/S/describeLayout"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"][len(REF):]]
    element = target(request)
    layout = target(element, "layout")
    assert set(element["properties"]) == {"layout", "адрес"} and set(layout["properties"]) == {"section"}
    assert set(target(layout, "section")["properties"]) == {"label"}  # the local type has its own component
    address = target(element, "адрес")
    assert address["title"] == "Адрес"
    address_name = next(n for n, s in schemas.items() if s.get("title") == "Адрес")
    assert decode_name(address_name) == "Адрес"
    house = target(address, "Дом")  # a local type under a non-ASCII parent: escaped once
    assert house["title"] == "Адрес_Дом"
    assert next(n for n, s in schemas.items() if s.get("title") == "Адрес_Дом") == ascii_name("Адрес_Дом")
    # The element "problem" does not replace the RFC 9457 Problem the error responses use.
    assert {"type", "title", "status"} <= set(schemas["Problem"]["properties"])
    response = schemas[spec["paths"]["/S/describeLayout"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"][len(REF):]]
    assert set(target(response)["properties"]) == {"code"}
    # Operations whose names differ by case: both routed, distinct operationIds, both validate.
    ids = {op.name: op.operation_id for op in b.routed}
    assert ids["describeLayout"].lower() != ids["DescribeLayout"].lower()
    b.validate_input("DescribeLayout", {"n": 1})
    b.validate_input("describeLayout", {"layout": {"section": {"label": "x"}}, "адрес": {"Страна": "RU"}})


CORPUS = SHARED / "wsdl-corpus"
# Real WSDLs with the defects: element/type names differing by case (salesforce), Cyrillic type
# names (DeliveryService), many local anonymous types (whl), dotted operation names (omniture).
NAMED_CASES = ["salesforce-partner", "wsdltophp-DeliveryService", "wsdltophp-whl", "omniture-admin"]


def corpus_entry(case: str) -> Path:
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.skip(f"the corpus is not at {CORPUS}")
    rows = {r["case"]: r for r in csv.DictReader((CORPUS / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t")}
    return CORPUS / rows[case]["entry"]


@pytest.mark.corpus
@pytest.mark.parametrize("case", NAMED_CASES)
def test_corpus_names_are_generator_safe(case: str) -> None:
    spec = bridge.load(corpus_entry(case)).openapi()
    assert_generator_safe(spec)
    schemas = spec["components"]["schemas"]
    if case == "salesforce-partner":
        assert {"describeLayout", "DescribeLayout_partner_soap_sforce_com"} <= set(schemas)
    titled = {name: s["title"] for name, s in schemas.items() if "title" in s}
    if case == "wsdltophp-DeliveryService":
        assert "КонтактнаяИнформация" in titled.values()
    assert all(decode_name(name) == title for name, title in titled.items())
