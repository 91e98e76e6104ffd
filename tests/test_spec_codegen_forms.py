"""The spec's forms chosen for code generators (issue 11, openapi-python-client) mean what the
plainer forms did: python-jsonschema, an oracle we did not write, gives the same verdict on good and
bad instances for the spec as written and for the spec rewritten to the plainer forms:

- a key that must be absent is ``{"not": {}}`` (the plainer form: the boolean schema ``false``);
- a derived type's ``$type`` is a one-value enum (plainer: ``const``);
- an object's choice (oneOf/anyOf) sits in ``allOf`` beside its properties (plainer: beside them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import bridge
from tests.test_polymorphism import WSDL as POLY_WSDL

# A choice of two elements inside a type derived from a base (poly's Record), and an optional
# sequence that needs both of its elements.
CHOICE_TYPES = """
      <xsd:complexType name="Pick"><xsd:complexContent><xsd:extension base="tns:Record"><xsd:sequence>
        <xsd:choice><xsd:element name="left" type="xsd:int"/><xsd:element name="right" type="xsd:string"/></xsd:choice>
        <xsd:sequence minOccurs="0"><xsd:element name="from" type="xsd:int"/><xsd:element name="to" type="xsd:int"/></xsd:sequence>
      </xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
      <xsd:element name="Save">"""
WSDL = POLY_WSDL.replace('      <xsd:element name="Save">', CHOICE_TYPES, 1).replace(
    '<xsd:element name="shape" type="tns:Shape"/>', '<xsd:element name="shape" type="tns:Shape"/><xsd:element name="pick" type="tns:Pick" minOccurs="0"/>'
)


def plainer(node: Any) -> Any:
    """The spec with the three forms written the plain way."""
    if isinstance(node, list):
        return [plainer(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node == {"not": {}}:
        return False
    out = {k: plainer(v) for k, v in node.items()}
    tag = out.get("properties", {}).get("$type")
    if isinstance(tag, dict) and tag.get("type") == "string" and len(tag.get("enum", ())) == 1:
        out["properties"]["$type"] = {"const": tag["enum"][0]}
    if "properties" in out:
        for sub in [s for s in out.get("allOf", []) if isinstance(s, dict) and set(s) <= {"oneOf", "anyOf"}]:
            if set(sub) & set(out):
                continue
            out["allOf"].remove(sub)
            out.update(sub)
        if out.get("allOf") == []:
            del out["allOf"]
    return out


# What XSD says of each instance below (written from the schema's meaning, not from our output).
EXPECTED = [True, True, False, False, True, False, False, False, True, False, True, True, False, False, False, False, False, False]


def instances() -> list[Any]:
    record = {"id": 1}
    pick = {"id": 2, "$type": "Pick", "left": 1}
    good = {"record": record, "shape": {"$type": "Circle", "radius": 1.0}}
    variants = [
        good,
        {**good, "record": pick},
        {**good, "record": {**pick, "right": "x"}},  # both branches of the choice
        {**good, "record": {"id": 2, "$type": "Pick"}},  # neither
        {**good, "record": {**pick, "from": 1, "to": 2}},
        {**good, "record": {**pick, "from": 1}},  # the optional sequence half there
        {**good, "record": {**pick, "$type": "Vendor"}},  # the wrong $type for its content
        {**good, "record": {"id": 3, "$type": "Vip"}},
        {**good, "record": {**record, "$type": "Record"}},
        {**good, "record": {**record, "extra": 1}},
        {**good, "pick": {"id": 4, "right": "r"}},
        {**good, "pick": {"id": 4, "right": "r", "$type": "Pick"}},
        {**good, "pick": {"id": 4, "right": "r", "$type": "Record"}},
        {**good, "pick": {"id": 4, "left": 1, "right": "r"}},
        {**good, "pick": {"id": 4}},
        {**good, "shape": {"$type": "Shape", "label": "x"}},
        {**good, "shape": {"$type": "Square", "radius": 1.0}},
        {"shape": good["shape"]},
    ]
    return variants


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path: Path = tmp_path_factory.mktemp("forms") / "forms.wsdl"
    path.write_text(WSDL, encoding="utf-8")
    return bridge.load(path).openapi()


def test_the_forms_are_there(spec: dict[str, Any]) -> None:
    """The rewrite below is not empty: each of the three forms occurs in this spec."""
    text = json.dumps(spec)
    assert '{"not": {}}' in text and '"enum": ["Pick"]' in text
    pick = spec["components"]["schemas"]["Pick"]
    assert "oneOf" not in json.dumps({k: v for k, v in pick.items() if k != "allOf"})
    assert plainer(spec) != spec
    assert "false" not in json.dumps({k: v for k, v in spec["components"]["schemas"].items()}).replace('"unevaluatedProperties": false', "").replace('"additionalProperties": false', "")


def test_the_forms_validate_what_the_plainer_forms_do(spec: dict[str, Any]) -> None:
    plain = plainer(spec)
    request = spec["paths"]["/PolyService/Save"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    ours = Draft202012Validator({**request, "components": spec["components"]})
    theirs = Draft202012Validator({**request, "components": plain["components"]})
    verdicts = [(ours.is_valid(i), theirs.is_valid(i)) for i in instances()]
    assert [i for i, (a, b) in zip(instances(), verdicts, strict=True) if a != b] == []
    assert [a for a, _ in verdicts] == EXPECTED


def test_an_enumeration_of_one_item_lists_keeps_its_values() -> None:
    """An XSD list type enumerated with one-token values (whl's AvailabilityStatusType) becomes a
    one-item array of an enumeration of tokens: python-jsonschema accepts and rejects the same."""
    from bridge.jsonschema import SchemaBuilder

    plain = {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "minItems": 1, "enum": [["open"], ["close"]]}
    ours = SchemaBuilder()._one_item_enum(dict(plain))
    assert "enum" not in ours and ours["items"]["enum"] == ["open", "close"]
    cases = [["open"], ["close"], ["open", "close"], [], ["shut"], "open", ["Open"], [["open"]], None]
    verdicts = [(Draft202012Validator(ours).is_valid(c), Draft202012Validator(plain).is_valid(c)) for c in cases]
    assert [c for c, (a, b) in zip(cases, verdicts, strict=True) if a != b] == []
    assert [a for a, _ in verdicts] == [True, True, False, False, False, False, False, False, False]
