"""A base type with derived types: one shared "base or any derived type" component, referenced from
every use site (issue 11), which must validate exactly what the anyOf written at each use site did.

The oracle is python-jsonschema (the bridge validates with jsonschema-rs): the same instances go
through the hoisted and the inlined schemas and must get the same verdicts.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import bridge
from bridge.codec import to_json_ready
from bridge.examples import message_example
from bridge.jsonschema import SchemaBuilder, reachable_components
from bridge.model import Operation
from bridge.openapi import message_schema

WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="Poly" targetNamespace="urn:poly" xmlns:tns="urn:poly"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:poly" elementFormDefault="qualified">
      <xsd:complexType name="Record">
        <xsd:sequence><xsd:element name="id" type="xsd:int"/></xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="Customer"><xsd:complexContent><xsd:extension base="tns:Record"><xsd:sequence>
        <xsd:element name="name" type="xsd:string"/>
        <xsd:element name="referrer" type="tns:Record" minOccurs="0"/>
      </xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:complexType name="VipCustomer"><xsd:complexContent><xsd:extension base="tns:Customer"><xsd:sequence>
        <xsd:element name="level" type="xsd:int"/>
      </xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:complexType name="Vendor"><xsd:complexContent><xsd:extension base="tns:Record"><xsd:sequence>
        <xsd:element name="code" type="xsd:string" minOccurs="0"/>
      </xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:complexType name="Shape" abstract="true">
        <xsd:sequence><xsd:element name="label" type="xsd:string" minOccurs="0"/></xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="Circle"><xsd:complexContent><xsd:extension base="tns:Shape"><xsd:sequence>
        <xsd:element name="radius" type="xsd:double"/>
      </xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:complexType name="Square"><xsd:complexContent><xsd:extension base="tns:Shape"><xsd:sequence>
        <xsd:element name="side" type="xsd:double"/>
      </xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:element name="Save"><xsd:complexType><xsd:sequence>
        <xsd:element name="record" type="tns:Record"/>
        <xsd:element name="others" type="tns:Record" minOccurs="0" maxOccurs="unbounded"/>
        <xsd:element name="maybe" type="tns:Record" nillable="true" minOccurs="0"/>
        <xsd:element name="shape" type="tns:Shape"/>
        <xsd:element name="shapes" type="tns:Shape" minOccurs="0" maxOccurs="3"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="SaveResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="saved" type="tns:Record"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="SaveIn"><wsdl:part name="parameters" element="tns:Save"/></wsdl:message>
  <wsdl:message name="SaveOut"><wsdl:part name="parameters" element="tns:SaveResponse"/></wsdl:message>
  <wsdl:portType name="PolyPort"><wsdl:operation name="Save">
    <wsdl:input message="tns:SaveIn"/><wsdl:output message="tns:SaveOut"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="PolyBinding" type="tns:PolyPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Save"><soap:operation soapAction="urn:poly#Save"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="PolyService"><wsdl:port name="PolyPort" binding="tns:PolyBinding">
    <soap:address location="http://example.invalid/poly"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""

TYPE_NAMES = ["Record", "Customer", "VipCustomer", "Vendor", "Shape", "Circle", "Square", "Other"]


@pytest.fixture(scope="module")
def poly(tmp_path_factory: pytest.TempPathFactory) -> bridge.Bridge:
    path = tmp_path_factory.mktemp("poly") / "poly.wsdl"
    path.write_text(WSDL, encoding="utf-8")
    return bridge.load(path)


def _validator(op: Operation, *, hoist: bool, response: bool = False) -> Draft202012Validator:
    builder = SchemaBuilder(hoist_polymorphism=hoist)
    msg = op.output if response else op.input
    assert msg is not None
    root = message_schema(builder, op, msg)
    schema = {**root, "components": {"schemas": reachable_components(root, builder.components)}}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _mutants(value: Any) -> list[Any]:
    """The value, and copies with one polymorphic object changed: each ``$type`` name, ``$type``
    removed, an undeclared member, a derived type's member beside another type."""
    out = [value]
    paths: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            if path:
                paths.append(path)
            for k, v in node.items():
                walk(v, [*path, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*path, i])

    walk(value, [])
    for path in paths:
        for change in [*(("$type", n) for n in TYPE_NAMES), ("$type", None), ("undeclared", 1), ("level", 3), ("radius", 1.5), ("name", "n")]:
            copy_ = copy.deepcopy(value)
            node = copy_
            for step in path:
                node = node[step]
            key, new = change
            if new is None:
                if key not in node:
                    continue
                del node[key]
            else:
                node[key] = new
            out.append(copy_)
    return out


def _type_const(branch: dict[str, Any], schemas: dict[str, Any]) -> str:
    """The ``$type`` a branch requires: beside its content, or (after the lint rewrite moved it off
    a ``$ref``) in its second ``allOf`` branch; a hoisted union's branch is a $ref to a component."""
    if set(branch) <= {"$ref", "unevaluatedProperties"}:
        branch = schemas[branch["$ref"].rsplit("/", 1)[-1]]
    for part in [branch, *branch.get("allOf", [])]:
        if "$type" in part.get("properties", {}):
            (name,) = part["properties"]["$type"]["enum"]  # one name (an enum, not const: docs/code-generators.md)
            return str(name)
    raise AssertionError(f"no $type in {branch}")


def test_each_base_is_one_shared_component(poly: bridge.Bridge) -> None:
    spec = poly.openapi()
    schemas = spec["components"]["schemas"]
    text = json.dumps(spec)
    for base, derived in (("Record", ["Record", "Customer", "VipCustomer", "Vendor"]), ("Shape", ["Circle", "Square"])):
        union = schemas[f"{base}_or_derived"]
        assert sorted(_type_const(b, schemas) for b in union["anyOf"]) == sorted(derived)
        assert all(b["unevaluatedProperties"] is False for b in union["anyOf"])
        # every use site refers to it; no use site spells the branches out again
        assert text.count(f'"#/components/schemas/{base}_or_derived"') >= 2
    assert text.count('"enum": ["VipCustomer"]') == 1


@pytest.mark.parametrize("response", [False, True], ids=["request", "response"])
def test_hoisted_schema_validates_what_the_inlined_one_did(poly: bridge.Bridge, response: bool) -> None:
    [op] = poly.routed
    msg = op.output if response else op.input
    assert msg is not None
    hoisted, inlined = _validator(op, hoist=True, response=response), _validator(op, hoist=False, response=response)
    assert "_or_derived" in json.dumps(hoisted.schema) and "_or_derived" not in json.dumps(inlined.schema)
    instances = {json.dumps(i, sort_keys=True): i for seed in range(12) for i in _mutants(to_json_ready(message_example(op, msg, seed)))}
    verdicts = {True: 0, False: 0}
    for text, instance in instances.items():
        ok = hoisted.is_valid(instance)
        assert ok == inlined.is_valid(instance), text
        verdicts[ok] += 1
    # both verdicts occur often, so the comparison says something
    assert verdicts[True] >= 10 and verdicts[False] >= 50, verdicts


def _many_derived_wsdl(n: int, uses: int) -> str:
    derived = "".join(
        f'<xsd:complexType name="Kind{i}"><xsd:complexContent><xsd:extension base="tns:Base"><xsd:sequence>'
        f'<xsd:element name="f{i}" type="xsd:string" minOccurs="0"/></xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>\n'
        for i in range(n)
    )
    fields = "".join(f'<xsd:element name="use{i}" type="tns:Base" minOccurs="0"/>' for i in range(uses))
    return (
        WSDL.replace("<xsd:element name=\"Save\">", f'<xsd:complexType name="Base" abstract="true"><xsd:sequence>'
                     f'<xsd:element name="id" type="xsd:int"/></xsd:sequence></xsd:complexType>\n{derived}'
                     f'<xsd:complexType name="Holder"><xsd:sequence>{fields}</xsd:sequence></xsd:complexType>\n<xsd:element name="Save">')
        .replace('<xsd:element name="record" type="tns:Record"/>', '<xsd:element name="record" type="tns:Record"/><xsd:element name="holder" type="tns:Holder"/>')
    )


def test_spec_size_stays_linear_in_the_schema(tmp_path: Path) -> None:
    """200 derived types used at 40 sites: the inlined form grew with types x sites."""
    path = tmp_path / "many.wsdl"
    path.write_text(_many_derived_wsdl(200, 40), encoding="utf-8")
    size = path.stat().st_size
    spec = bridge.load(path).openapi()
    assert len(json.dumps(spec)) < 2 * size
    [op] = bridge.load(path).routed
    inline = _validator(op, hoist=False).schema
    assert len(json.dumps(inline)) > 10 * size  # what hoisting saves here
