"""Schema shapes Redocly's recommended ruleset misjudges, and the forms the spec uses instead (issue 11).

Redocly CLI checks examples with its own AJV fork (@redocly/ajv), which by default (the rule's
allowAdditionalProperties: false) closes every schema with properties to the keys it evaluates. Where
those keys depend on the instance (patternProperties, or a oneOf/anyOf branch that declares keys), it
closes the schema even when it is reached by $ref as one allOf branch among others, so it rejects what
the other branches declare: a derived type's keys beside a base with xs:anyAttribute, "$headers" beside
a message whose choice writes "absent" as properties {k: false}. Its no-required-schema-properties-undefined
looks for a branch's required keys only in the branch and in the outermost composing schema (a
polymorphic anyOf, where every branch would have to declare them). The spec avoids each shape without
changing what validates: python-jsonschema is the oracle for both (docs/spec-lint.md)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import bridge
from bridge.codec import to_json_ready
from bridge.examples import message_example
from bridge.jsonschema import _declare_required
from bridge.openapi import _tidy, _wrap_dynamic
from tests.conftest import SAMPLES_CONFIG
from tests.test_spec_lint import LINT, _need

WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="Shapes" targetNamespace="urn:shapes" xmlns:tns="urn:shapes"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:shapes" elementFormDefault="qualified">
      <xsd:complexType name="Event">
        <xsd:sequence><xsd:element name="time" type="xsd:string"/></xsd:sequence>
        <xsd:anyAttribute processContents="lax"/>
      </xsd:complexType>
      <xsd:complexType name="MoveEvent"><xsd:complexContent><xsd:extension base="tns:Event"><xsd:sequence>
        <xsd:element name="from" type="xsd:string"/>
        <xsd:choice><xsd:element name="to" type="xsd:string"/><xsd:element name="lost" type="xsd:boolean"/></xsd:choice>
      </xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:complexType name="Path"><xsd:sequence><xsd:element name="p" type="xsd:string"/></xsd:sequence></xsd:complexType>
      <xsd:complexType name="FieldPath"><xsd:complexContent><xsd:extension base="tns:Path"><xsd:sequence>
        <xsd:element name="field" type="xsd:string"/></xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:complexType name="UnusedPath"><xsd:complexContent><xsd:extension base="tns:Path"><xsd:sequence>
        <xsd:element name="unused" type="xsd:string"/></xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:element name="AnyPath" type="tns:Path" abstract="true"/>
      <xsd:element name="Field" type="tns:FieldPath" substitutionGroup="tns:AnyPath"/>
      <xsd:element name="Auth"><xsd:complexType><xsd:sequence>
        <xsd:element name="user" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="Record"><xsd:complexType><xsd:sequence>
        <xsd:element name="requestID" type="xsd:string"/>
        <xsd:choice><xsd:element name="search" type="xsd:string"/><xsd:element name="id" type="xsd:string"/></xsd:choice>
        <xsd:element name="event" type="tns:Event" maxOccurs="2"/>
        <xsd:element ref="tns:AnyPath" minOccurs="0"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="RecordResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="events" type="tns:Event" minOccurs="0" maxOccurs="unbounded"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="RecordIn"><wsdl:part name="parameters" element="tns:Record"/><wsdl:part name="auth" element="tns:Auth"/></wsdl:message>
  <wsdl:message name="RecordOut"><wsdl:part name="parameters" element="tns:RecordResponse"/></wsdl:message>
  <wsdl:portType name="ShapesPort"><wsdl:operation name="Record">
    <wsdl:input message="tns:RecordIn"/><wsdl:output message="tns:RecordOut"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="ShapesBinding" type="tns:ShapesPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Record"><soap:operation soapAction="urn:shapes#Record"/>
      <wsdl:input><soap:header message="tns:RecordIn" part="auth" use="literal"/><soap:body parts="parameters" use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="ShapesService"><wsdl:port name="ShapesPort" binding="tns:ShapesBinding">
    <soap:address location="http://example.invalid/shapes"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""

# Written by hand from the XSD above: a MoveEvent (a derived type beside a base with xs:anyAttribute)
# with an attribute, and each branch of its choice.
MOVES = [
    {"$type": "MoveEvent", "time": "t", "from": "a", "to": "b", "@flag": "x"},
    {"$type": "MoveEvent", "time": "t", "from": "a", "lost": True},
]


def test_redocly_accepts_every_example_of_the_shapes_it_misjudged(tmp_path: Path) -> None:
    redocly = _need("redocly")
    wsdl = tmp_path / "shapes.wsdl"
    wsdl.write_text(WSDL, encoding="utf-8")
    b = bridge.load(wsdl, config=SAMPLES_CONFIG)
    spec = b.openapi()
    components = spec["components"]
    (op,) = b.routed
    post = spec["paths"][op.path]["post"]
    request: list[Any] = [to_json_ready(message_example(op, op.input, seed)) for seed in range(8)]
    request += [{**request[0], "event": [move]} for move in MOVES]
    assert op.output is not None
    response: list[Any] = [to_json_ready(message_example(op, op.output, seed)) for seed in range(8)]
    response += [{"events": MOVES}]
    for media, values in ((post["requestBody"]["content"]["application/json"], request),
                          (post["responses"]["200"]["content"]["application/json"], response)):  # fmt: skip
        oracle = jsonschema.Draft202012Validator({**media["schema"], "components": components})
        assert [v for v in values if not oracle.is_valid(v)] == []
        del media["example"]
        media["examples"] = {f"e{i}": {"value": v} for i, v in enumerate(values)}
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(spec))
    r = subprocess.run(
        [str(redocly), "lint", "--config", str(LINT / "redocly.yaml"), "--format", "json", str(path)],
        capture_output=True, text=True, timeout=300, cwd=LINT,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )  # fmt: skip
    report, _ = json.JSONDecoder().raw_decode(r.stdout[r.stdout.index("{") :])
    assert [(p["ruleId"], p["message"], p["location"][0]["pointer"]) for p in report["problems"]] == []
    # the message body beside "$headers", with a choice: its fixed part and its choice in two allOf branches
    record = components["schemas"]["Record"]
    assert "properties" not in record and "properties" in record["allOf"][0] and "oneOf" in record["allOf"][-1]
    # the derived type no member of the substitution group uses is not written (no-unused-components)
    assert "UnusedPath" not in components["schemas"] and "Path_or_derived" not in components["schemas"]


# Each rewrite, on schemas and instances that tell the forms apart: python-jsonschema's verdicts before and after.
R = "#/components/schemas/"
ANY_ATTR = {"^@": {"type": "string"}}
REWRITE_CASES: list[tuple[dict[str, Any], dict[str, Any], list[Any]]] = [
    # a base with anyAttribute (properties and patternProperties) and a derived type beside it
    (
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "patternProperties": ANY_ATTR},
        {"unevaluatedProperties": False, "allOf": [{"$ref": R + "T"}, {"properties": {"d": {"type": "integer"}}}]},
        [{"a": 1}, {"a": 1, "d": 2}, {"a": 1, "@x": "s"}, {"a": 1, "@x": 1}, {"a": 1, "z": 0}, {"d": 1}, {"a": "1"}, [], "s"],
    ),
    # a choice whose branches declare what they require, with a description kept beside
    (
        {
            "type": "object",
            "description": "kept",
            "properties": {"x": {"type": "integer"}, "y": {"type": "string"}},
            "oneOf": [
                {"required": ["x"], "properties": {"x": {}, "y": False}},
                {"required": ["y"], "properties": {"y": {}, "x": False}},
            ],
        },
        {"unevaluatedProperties": False, "allOf": [{"$ref": R + "T"}, {"properties": {"h": {}}}]},
        [{"x": 1}, {"y": "s"}, {"x": 1, "y": "s"}, {}, {"x": "1"}, {"x": 1, "h": 0}, {"x": 1, "z": 0}, None],
    ),
    # already one allOf of its own, and additionalProperties: nothing is dynamic, nothing moves
    (
        {"type": "object", "properties": {"a": {}}, "patternProperties": ANY_ATTR, "additionalProperties": False},
        {"$ref": R + "T"},
        [{"a": 1}, {"@x": "s"}, {"b": 1}, {"@x": 1}],
    ),
]


@pytest.mark.parametrize(("component", "use", "instances"), REWRITE_CASES)
def test_wrapping_a_dynamic_component_keeps_what_validates(component: dict[str, Any], use: dict[str, Any], instances: list[Any]) -> None:
    after = copy.deepcopy(component)
    _wrap_dynamic(after)
    if "additionalProperties" in component:
        assert after == component
    else:
        assert "properties" not in after and "patternProperties" not in after and len(after["allOf"]) >= 2
        assert after.get("description") == component.get("description")
    verdicts = []
    for t in (component, after):
        v = jsonschema.Draft202012Validator({**use, "components": {"schemas": {"T": t}}})
        verdicts.append([v.is_valid(i) for i in instances])
    assert verdicts[0] == verdicts[1]


def test_declaring_required_keys_in_branches_keeps_what_validates() -> None:
    schema = {
        "type": "object",
        "properties": {"x": {"type": "integer"}, "y": {"type": "string"}, "z": {}},
        "allOf": [{"$ref": R + "U"}, {"anyOf": [{"required": ["x", "y"]}, {"oneOf": [{"required": ["z"]}, {"required": ["y"]}]}]}],
    }  # fmt: skip
    after = copy.deepcopy(schema)
    _declare_required(after)
    assert after["allOf"][1]["anyOf"][0]["properties"] == {"x": {}, "y": {}}
    assert [b["properties"] for b in after["allOf"][1]["anyOf"][1]["oneOf"]] == [{"z": {}}, {"y": {}}]
    assert after["allOf"][0] == {"$ref": R + "U"}
    instances = [{"x": 1, "y": "s"}, {"x": 1}, {"z": 1}, {}, {"x": "1", "y": "s"}, {"x": 1, "y": "s", "q": 0}, 3, {"y": "s", "z": 1}, {"y": "s"}]
    verdicts = []
    for s in (schema, after):
        closed = {"unevaluatedProperties": False, "allOf": [s], "components": {"schemas": {"U": {"type": "object"}}}}
        v = jsonschema.Draft202012Validator(closed)
        verdicts.append([v.is_valid(i) for i in instances])
    assert verdicts[0] == verdicts[1]
    assert verdicts[0] == [True, False, True, False, False, False, False, False, True]


def test_a_one_branch_list_declares_in_its_parent_and_is_still_written_directly() -> None:
    """A choice branch that requires "any of" one key is a one-branch anyOf: the key is declared in
    the branch that _tidy writes it into, so no one-branch anyOf is left (no-illogical-composition-keywords)."""
    schema = {
        "type": "object",
        "properties": {"u": {}, "d": {}},
        "oneOf": [{"anyOf": [{"required": ["u"]}], "properties": {"d": False}}, {"anyOf": [{"required": ["d"]}], "properties": {"u": False}}],
    }
    _declare_required(schema)
    _tidy(schema)
    assert schema["oneOf"] == [
        {"properties": {"d": False, "u": {}}, "required": ["u"]},
        {"properties": {"u": False, "d": {}}, "required": ["d"]},
    ]
