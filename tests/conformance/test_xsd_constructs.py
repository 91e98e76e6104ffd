"""Issue #3's XSD constructs, each proven end to end on its own fixture (``wsdl/xsd_*.wsdl``).

For every construct:
(a) the JSON Schema has the shape docs/conformance.md promises, checked on good and bad instances
    with jsonschema_rs against the generated spec;
(b) the wire: JSON -> ``Bridge.encode_request`` -> XML (names, namespaces, xsi:type, xsi:nil,
    attributes, order asserted) -> validated with xmlschema against the fixture's own XSD ->
    ``Codec.decode_message`` -> the same JSON; and XML -> JSON -> XML gives the same XML
    modulo prefixes. The reply direction goes through ``Bridge.decode_response``.
Every fixture is also called through the REST app with the generated mock behind it, and
schemathesis runs over all of them (``test_xsd_contract``).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
import xmlschema
from lxml import etree
from starlette.testclient import TestClient

import bridge
from bridge.codec import to_json_ready
from bridge.envelope import SOAP11, build
from bridge.examples import message_example
from bridge.jsonschema import ATTRIBUTE_KEY, XML_CHARS, exact_decimals, xsd_pattern
from bridge.openapi import XML_STRING_SCHEMA
from tests.conftest import mocked_bridge
from tests.test_contract import CHECKS

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "wsdl"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
XSI_NIL = f"{{{XSI}}}nil"
ALL = sorted(p.name for p in FIXTURES.glob("xsd_*.wsdl"))


def ns(key: str) -> str:
    return f"urn:soapbridge:conformance:{key}"


# --- harness -----------------------------------------------------------------------------


@functools.cache
def loaded(name: str) -> bridge.Bridge:
    return bridge.load(FIXTURES / name)


@functools.cache
def spec(name: str) -> dict[str, Any]:
    return loaded(name).openapi()


def components(name: str) -> dict[str, Any]:
    return spec(name)["components"]["schemas"]


def one_of(schema: dict[str, Any]) -> list[Any]:
    """A schema's oneOf, written directly or (for an object with properties, so that generators keep
    them) as its allOf's one branch: the same constraint either way."""
    if "oneOf" in schema:
        return list(schema["oneOf"])
    [branch] = [b for b in schema.get("allOf", ()) if "oneOf" in b]
    return list(branch["oneOf"])


def deref(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A component's schema for a $ref to it, else the schema itself."""
    ref = schema.get("$ref", "")
    return components(name)[ref.rsplit("/", 1)[1]] if ref.startswith("#/components/schemas/") else schema


def own(schema: dict[str, Any], key: str) -> Any:
    """``schema[key]``, or where the spec writes a member's own keys: in the allOf branch beside the
    $ref to its type (so that generators and Redocly read them)."""
    if key in schema:
        return schema[key]
    [value] = [branch[key] for branch in schema.get("allOf", ()) if key in branch and "$ref" not in branch]
    return value


def validator(name: str, component: str) -> Any:
    # as the bridge reads the spec: fractionDigits, an annotation there, checked exactly
    schema = exact_decimals({"$ref": f"#/components/schemas/{component}", "components": spec(name)["components"]})
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def request_validator(name: str) -> Any:
    op = loaded(name).operations[0]
    return validator(name, f"{op.operation_id}Request")


def assert_valid(v: Any, *instances: Any) -> None:
    for instance in instances:
        errors = [e.message for e in v.iter_errors(instance)]
        assert not errors, f"{json.dumps(instance)} should be valid: {errors}"


def assert_invalid(v: Any, *instances: Any) -> None:
    for instance in instances:
        assert not v.is_valid(instance), f"{json.dumps(instance)} should be invalid"


@functools.cache
def xsd(name: str) -> xmlschema.XMLSchema:
    """The fixture's inline schemas (and what they include) as one xmlschema schema set."""
    root = etree.parse(str(FIXTURES / name)).getroot()
    sources = [etree.tostring(s).decode() for s in root.iter(f"{{{XSD}}}schema")]
    return xmlschema.XMLSchema(sources, base_url=str(FIXTURES) + "/")


def canonical(node: etree._Element) -> Any:
    """Prefix-free structure of an element: (tag, attributes with xsi:type resolved, text, children)."""
    attrs = []
    for k, v in sorted(node.attrib.items()):
        if k == XSI_TYPE:
            prefix, _, local = v.rpartition(":")
            v = f"{{{node.nsmap.get(prefix or None, '')}}}{local}"
        attrs.append((k, v))
    text = (node.text or "").strip()
    return (node.tag, tuple(attrs), text, tuple(canonical(c) for c in node if isinstance(c.tag, str)))


def body_child(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope)
    body = root.find(f"{{{SOAP11}}}Body")
    assert body is not None and len(body) == 1
    return body[0]


def wire(name: str, data: dict[str, Any], *, reply: bool = True) -> etree._Element:
    """JSON -> XML -> JSON and XML -> JSON -> XML through the request, and (by default) the same
    content through the reply. Returns the request's body element, for assertions on the XML."""
    b = loaded(name)
    op = b.operations[0]
    assert op.output is not None
    data = to_json_ready(data)
    # Request: the public encoder validates the JSON first.
    request = body_child(b.encode_request(op, data))
    xsd(name).validate(request)  # an independent validator agrees the XML is valid
    decoded = b.codec.decode_message(op, op.input, [request], [])
    assert decoded == data  # JSON -> XML -> JSON
    _, again = b.codec.encode_message(op, op.input, decoded)
    assert [canonical(e) for e in again] == [canonical(request)]  # XML -> JSON -> XML
    if reply:
        _, body = b.codec.encode_message(op, op.output, data, response=True)
        envelope = build(op.soap_version, [], body)
        xsd(name).validate(body_child(envelope))
        assert b.decode_response(op, envelope) == data  # the reply schema accepts it too
    return request


def child_tags(node: etree._Element) -> list[str]:
    return [c.tag for c in node if isinstance(c.tag, str)]


# --- every fixture: loads cleanly, examples round-trip, REST call through the mock -----------


@pytest.mark.parametrize("name", ALL)
def test_fixture_loads_cleanly(name: str) -> None:
    b = loaded(name)
    assert b.model.skipped == []
    assert [op.name for op in b.operations] == [b.operations[0].name] and b.operations[0].name.startswith("Echo")
    text = json.dumps(spec(name))  # finite, serialisable
    assert len(text) < 200_000


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("seed", range(6))
def test_examples_round_trip(name: str, seed: int) -> None:
    b = loaded(name)
    op = b.operations[0]
    data = to_json_ready(message_example(op, op.input, seed))
    assert_valid(request_validator(name), data)
    wire(name, data)


@pytest.mark.parametrize("name", ALL)
def test_rest_call_through_mock(name: str) -> None:
    b = mocked_bridge(FIXTURES / name)
    op = b.operations[0]
    client = TestClient(b.asgi())
    data = to_json_ready(message_example(op, op.input, 3))
    r = client.post(op.path, json=data)
    assert r.status_code == 200, r.text
    assert_valid(validator(name, f"{op.operation_id}Response"), r.json())
    bad = client.post(op.path, json={**data, "noSuchField": 1})
    assert bad.status_code == 400


def decode_xml(name: str, xml: str) -> dict[str, Any]:
    """XML -> JSON -> XML by hand: decode a request element, check it is schema-valid XML and
    JSON, and that encoding the JSON again gives the same XML modulo prefixes."""
    b = loaded(name)
    op = b.operations[0]
    node = etree.fromstring(xml)
    xsd(name).validate(node)
    data = b.codec.decode_message(op, op.input, [node], [])
    assert_valid(request_validator(name), data)
    _, again = b.codec.encode_message(op, op.input, data)
    assert [canonical(e) for e in again] == [canonical(node)]
    return data


# --- schemathesis over every fixture: REST app + mock, positive and negative data ------------------

CONTRACT_EXAMPLES = 15


def _contract_test(name: str) -> Any:
    b = mocked_bridge(FIXTURES / name)
    # the served spec, with fractionDigits (annotated there) generated as the bridge checks it
    schema = schemathesis.openapi.from_dict(exact_decimals(b.openapi()))
    schema.app = b.asgi()
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=CONTRACT_EXAMPLES,
        deterministic=True,
    )

    @pytest.mark.slow
    @schema.parametrize()
    def test(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    return test


# One test per fixture: test_xsd_contract_choice, test_xsd_contract_any, ...
for _name in ALL:
    _key = _name.removeprefix("xsd_").removesuffix(".wsdl")
    globals()[f"test_xsd_contract_{_key}"] = _contract_test(_name)


# --- choice --------------------------------------------------------------------------------

CHOICE = "xsd_choice.wsdl"


def test_choice_schema_accepts_exactly_one_branch() -> None:
    c = components(CHOICE)
    assert [set(alt["required"]) for alt in one_of(c["Plain"])] == [{"byId"}, {"byName"}]
    v = request_validator(CHOICE)
    assert_valid(v, {"plain": {"byId": 1}}, {"plain": {"byName": "x"}})
    assert_invalid(v, {"plain": {}}, {"plain": {"byId": 1, "byName": "x"}}, {"plain": {"byId": "1"}})
    # choice inside a sequence: the sequence's own elements stay required
    assert_valid(v, {"inSequence": {"before": "b", "email": "e", "after": 1}})
    assert_invalid(
        v,
        {"inSequence": {"before": "b", "after": 1}},
        {"inSequence": {"before": "b", "email": "e", "phone": "p", "after": 1}},
        {"inSequence": {"email": "e", "after": 1}},
    )
    # optional choice: none or one
    assert_valid(v, {"optional": {"label": "l"}}, {"optional": {"label": "l", "y": 2}})
    assert_invalid(v, {"optional": {"label": "l", "x": 1, "y": 2}})


def test_choice_nested_and_sequence_branch_schema() -> None:
    v = request_validator(CHOICE)
    for ok in ({"none": True}, {"left": 1}, {"right": 2}):
        assert_valid(v, {"nested": ok})
    for bad in ({}, {"left": 1, "right": 2}, {"none": True, "left": 1}):
        assert_invalid(v, {"nested": bad})
    assert_valid(v, {"branchSequence": {"street": "s", "city": "c"}}, {"branchSequence": {"poBox": 7}})
    for bad in ({"street": "s"}, {"street": "s", "city": "c", "poBox": 7}, {}):
        assert_invalid(v, {"branchSequence": bad})


def test_choice_repeated_is_an_array_of_single_branch_objects() -> None:
    repeated = components(CHOICE)["Repeated"]
    assert repeated["required"] == ["$choice"]
    items = repeated["properties"]["$choice"]
    assert items["type"] == "array" and items["minItems"] == 1
    assert items["items"]["additionalProperties"] is False and len(one_of(items["items"])) == 2
    v = request_validator(CHOICE)
    assert_valid(v, {"repeated": {"$choice": [{"add": 1}, {"remove": "x"}, {"add": 2}]}})
    assert_invalid(
        v,
        {"repeated": {"$choice": []}},
        {"repeated": {"$choice": [{"add": 1, "remove": "x"}]}},
        {"repeated": {"$choice": [{}]}},
        {"repeated": {"add": 1}},
    )


def test_choice_wire() -> None:
    data = {
        "plain": {"byName": "n"},
        "inSequence": {"before": "b", "phone": "p", "after": 3},
        "repeated": {"$choice": [{"add": 1}, {"remove": "x"}, {"add": 2}]},
        "nested": {"right": 5},
        "branchSequence": {"street": "s", "city": "c"},
        "optional": {"label": "l"},
    }
    req = wire(CHOICE, data)
    t = ns("choice")
    assert req.tag == f"{{{t}}}EchoChoice"
    assert child_tags(req) == [f"{{{t}}}{n}" for n in ("plain", "inSequence", "repeated", "nested", "branchSequence", "optional")]
    assert child_tags(req[1]) == [f"{{{t}}}before", f"{{{t}}}phone", f"{{{t}}}after"]
    assert [(etree.QName(c).localname, c.text) for c in req[2]] == [("add", "1"), ("remove", "x"), ("add", "2")]
    assert child_tags(req[4]) == [f"{{{t}}}street", f"{{{t}}}city"]
    # XML written by someone else, in document order, decodes to the same items
    data = decode_xml(
        CHOICE,
        f'<c:EchoChoice xmlns:c="{t}"><c:repeated><c:remove>a</c:remove><c:remove>b</c:remove>'
        "<c:add>3</c:add><c:remove>d</c:remove></c:repeated></c:EchoChoice>",
    )
    assert data == {"repeated": {"$choice": [{"remove": "a"}, {"remove": "b"}, {"add": 3}, {"remove": "d"}]}}


# --- all, group ref, attributeGroup ref ------------------------------------------------------

GROUPS = "xsd_all_groups.wsdl"


def test_all_and_groups_schema() -> None:
    c = components(GROUPS)
    assert set(c["Unordered"]["required"]) == {"a", "c"}
    person = c["Person"]
    assert set(person["properties"]) == {"first", "last", "email", "phone", "age", "createdBy", "version", "id"}
    assert set(person["required"]) == {"first", "last", "createdBy"}
    assert person["properties"]["createdBy"]["xml"] == {"attribute": True, "name": "createdBy"}
    v = request_validator(GROUPS)
    assert_valid(v, {"unordered": {"a": 1, "c": True}}, {"person": {"first": "f", "last": "l", "createdBy": "me", "version": 2}})
    assert_invalid(
        v,
        {"unordered": {"a": 1}},
        {"person": {"first": "f", "last": "l"}},  # the attribute group's required attribute
        {"person": {"first": "f", "last": "l", "createdBy": "me", "email": "e", "phone": "p"}},  # group ref choice
    )
    names = c["Names"]["properties"]["$sequence"]
    assert names["maxItems"] == 3 and names["items"]["required"] == ["first", "last"]


def test_all_and_groups_wire() -> None:
    data = {
        "unordered": {"a": 1, "b": "x", "c": False},
        "person": {"first": "f", "last": "l", "phone": "p", "age": 40, "createdBy": "me", "version": 3, "id": "p1"},
        "names": {"$sequence": [{"first": "a", "last": "b"}, {"first": "c", "last": "d"}]},
    }
    req = wire(GROUPS, data)
    t = ns("groups")
    person = req[1]
    assert child_tags(person) == [f"{{{t}}}{n}" for n in ("first", "last", "phone", "age")]
    assert dict(person.attrib) == {"createdBy": "me", "version": "3", "id": "p1"}
    assert [etree.QName(c).localname for c in req[2]] == ["first", "last", "first", "last"]
    # xs:all takes its children in any order; the JSON is the same, written back in declaration order
    data = decode_xml_unordered(GROUPS, f'<g:EchoGroups xmlns:g="{t}"><g:unordered><g:c>true</g:c><g:a>5</g:a></g:unordered></g:EchoGroups>')
    assert data == {"unordered": {"c": True, "a": 5}}


def decode_xml_unordered(name: str, xml: str) -> dict[str, Any]:
    b = loaded(name)
    op = b.operations[0]
    node = etree.fromstring(xml)
    xsd(name).validate(node)
    data = b.codec.decode_message(op, op.input, [node], [])
    _, again = b.codec.encode_message(op, op.input, data)
    xsd(name).validate(again[0])
    return data


# --- derivation ----------------------------------------------------------------------------

DERIVATION = "xsd_derivation.wsdl"


def test_derivation_schema() -> None:
    c = components(DERIVATION)
    assert c["Extended"]["allOf"][0] == {"$ref": "#/components/schemas/Base"}  # its own fields in allOf[1]
    assert "allOf" not in c["Restricted"] and set(c["Restricted"]["properties"]) == {"id"}
    assert c["TaxedMoney"]["allOf"][0] == {"$ref": "#/components/schemas/Money"}
    assert c["Money"]["properties"]["$value"] == {"$ref": "#/components/schemas/Amount"}
    small = c["SmallMoney"]["properties"]
    assert small["$value"]["minimum"] == 0 and small["$value"]["maximum"] == 100
    assert small["currency"]["const"] == "EUR"
    v = request_validator(DERIVATION)
    assert_valid(
        v,
        {"extended": {"id": 1, "extra": "e", "lang": "en", "flag": True}},
        {"restricted": {"id": 1}},
        {"taxed": {"$value": 9.99, "currency": "USD", "rate": 0.2}},
        {"small": {"$value": 50, "currency": "EUR"}},
    )
    assert_invalid(
        v,
        {"extended": {"id": 1}},  # extra is required by the extension
        {"extended": {"id": 1, "extra": "e", "$type": "Base"}},
        {"restricted": {"id": 1, "note": "n"}},  # restricted away
        {"restricted": {"id": 1, "lang": "en"}},  # prohibited
        {"taxed": {"currency": "USD"}},  # simple content value is required
        {"taxed": {"$value": 1.234, "currency": "USD"}},  # fractionDigits 2
        {"small": {"$value": 101, "currency": "EUR"}},
        {"small": {"$value": 1, "currency": "USD"}},
    )


def test_derivation_wire() -> None:
    data = {
        "extended": {"id": 1, "note": "n", "extra": "e", "lang": "en", "flag": True},
        "restricted": {"id": 2},
        "taxed": {"$value": 9.99, "currency": "USD", "rate": 0.2},
        "small": {"$value": 50, "currency": "EUR"},
    }
    req = wire(DERIVATION, data)
    t = ns("derivation")
    extended, restricted, taxed, small = req
    assert child_tags(extended) == [f"{{{t}}}id", f"{{{t}}}note", f"{{{t}}}extra"]  # base content first
    assert dict(extended.attrib) == {"lang": "en", "flag": "true"}
    assert child_tags(restricted) == [f"{{{t}}}id"]
    assert (taxed.text, dict(taxed.attrib)) == ("9.99", {"currency": "USD", "rate": "0.2"})
    assert (small.text, dict(small.attrib)) == ("50", {"currency": "EUR"})
    assert not any(XSI_TYPE in e.attrib for e in req.iter())


# --- abstract types and xsi:type -------------------------------------------------------------

XSITYPE = "xsd_xsi_type.wsdl"


def test_xsi_type_schema() -> None:
    c = components(XSITYPE)
    assert c["Shape"]["properties"]["$type"] == {"title": "xsi:type", "type": "string", "enum": ["Circle", "Rect", "Square"]}
    assert c["Animal"]["properties"]["$type"] == {"title": "xsi:type", "type": "string", "enum": ["Animal", "Dog"]}
    v = request_validator(XSITYPE)
    circle = {"$type": "Circle", "label": "c", "radius": 1}
    square = {"$type": "Square", "label": "s", "width": 2, "height": 2, "rotated": True}
    assert_valid(v, {"shape": circle}, {"shape": square, "more": [circle, square]})
    assert_valid(v, {"shape": circle, "animal": {"name": "a"}}, {"shape": circle, "animal": {"$type": "Dog", "name": "d", "breed": "b"}})
    assert_invalid(
        v,
        {"shape": {"label": "abstract: a $type is required"}},
        {"shape": {"$type": "Shape", "label": "x"}},
        {"shape": {"$type": "Circle", "label": "c", "radius": 1, "width": 2}},  # Rect's field on a Circle
        {"shape": {"$type": "Triangle", "label": "t"}},
        {"shape": circle, "animal": {"name": "a", "breed": "b"}},  # Dog's field without $type
    )


def test_xsi_type_wire() -> None:
    data = {
        "shape": {"$type": "Circle", "label": "c", "radius": 1},
        "more": [{"$type": "Square", "label": "s", "width": 2, "height": 3, "rotated": False}, {"$type": "Rect", "label": "r", "width": 1, "height": 1}],
        "animal": {"$type": "Dog", "name": "d", "breed": "b"},
    }
    req = wire(XSITYPE, data)
    t = ns("xsitype")
    types = [canonical(e)[1] for e in req]
    assert [dict(a)[XSI_TYPE] for a in types] == [f"{{{t}}}Circle", f"{{{t}}}Square", f"{{{t}}}Rect", f"{{{t}}}Dog"]
    assert child_tags(req[1]) == [f"{{{t}}}{n}" for n in ("label", "width", "height")]
    assert req[1].get("rotated") == "false"
    # a base type without $type sends no xsi:type
    req = wire(XSITYPE, {"shape": data["shape"], "animal": {"name": "plain"}})
    assert XSI_TYPE not in req[1].attrib
    # a reply naming the derived type with a prefix of its own comes back with "$type"
    data = decode_xml(
        XSITYPE,
        f'<p:EchoShapes xmlns:p="{t}" xmlns:q="{t}" xmlns:i="{XSI}"><p:shape i:type="q:Square"><p:label>x</p:label>'
        "<p:width>1</p:width><p:height>2</p:height></p:shape></p:EchoShapes>",
    )
    assert data == {"shape": {"$type": "Square", "label": "x", "width": 1, "height": 2}}


# --- substitution groups, element refs, ref= attributes -------------------------------------

SUBST = "xsd_substitution.wsdl"


def test_substitution_group_schema() -> None:
    holder = components(SUBST)["SubstitutionHolder"]["properties"]
    vehicle = [deref(SUBST, b) for b in holder["vehicle"]["items"]["oneOf"]]  # abstract head: only its members
    assert [own(b, "properties")["$element"] for b in vehicle] == [{"const": "car"}, {"const": "truck"}]
    assert all(own(b, "required") == ["$element"] and b["unevaluatedProperties"] is False for b in vehicle)
    comment = holder["comment"]["oneOf"]  # concrete simple head: itself, or a member as {$element, $value}
    comment = comment[:1] + [deref(SUBST, b) for b in comment[1:]]
    assert comment[0] == {"$ref": "#/components/schemas/XmlString"}
    assert [own(b, "properties")["$element"]["const"] for b in comment[1:]] == ["remark", "shout", "memo"]
    assert own(comment[3], "properties")["$value"]["type"] == ["string", "null"]  # a nillable member
    assert holder["priority"]["xml"] == {"attribute": True, "name": "priority"}
    v = request_validator(SUBST)
    car = {"$element": "car", "wheels": 4}
    assert_valid(
        v,
        {"vehicle": [car, {"$element": "truck", "wheels": 6, "payload": 9}]},
        {"vehicle": [{"$element": "car", "$type": "Truck", "wheels": 6, "payload": 1}]},  # a member of a derived type too
        {"vehicle": [car], "comment": "c"},
        {"vehicle": [car], "comment": {"$element": "shout", "$value": "HEY"}},
        {"vehicle": [car], "tag": ["a", "b"], "priority": 1},
    )
    assert_invalid(
        v,
        {"vehicle": [{"wheels": 4}]},  # the head is abstract
        {"vehicle": [{"$element": "vehicle", "wheels": 4}]},
        {"vehicle": [{"$element": "truck", "wheels": 6}]},  # truck needs payload
        {"vehicle": [{"$element": "bike", "wheels": 2}]},
        {"vehicle": [car], "comment": {"$element": "remark"}},
        {"vehicle": [car], "comment": {"$element": "remark", "$value": "x", "extra": 1}},
        {"vehicle": [car], "comment": {"$element": "remark", "$value": None}},  # remark is not nillable
        {"vehicle": [car], "tag": ["a", "b", "c"]},
    )


def test_substitution_group_wire() -> None:
    t = ns("substitution")
    data = {
        "vehicle": [
            {"$element": "truck", "wheels": 6, "payload": 9},
            {"$element": "car", "wheels": 4},
            {"$element": "car", "$type": "Truck", "wheels": 8, "payload": 1},
        ],
        "comment": {"$element": "shout", "$value": "HEY"},
        "tag": ["x"],
        "priority": 2,
    }
    req = wire(SUBST, data)
    assert child_tags(req) == [f"{{{t}}}{n}" for n in ("truck", "car", "car", "shout", "tag")]  # order kept
    assert dict(canonical(req[2])[1]) == {XSI_TYPE: f"{{{t}}}Truck"}
    assert dict(req.attrib) == {f"{{{t}}}priority": "2"}  # a global attribute is qualified
    req = wire(SUBST, {"vehicle": [{"$element": "car", "wheels": 1}], "comment": "plain head"})
    assert child_tags(req)[1] == f"{{{t}}}comment"
    req = wire(SUBST, {"vehicle": [{"$element": "car", "wheels": 1}], "comment": {"$element": "memo", "$value": None}})
    assert req[1].tag == f"{{{t}}}memo" and req[1].get(XSI_NIL) == "true"
    data = decode_xml(
        SUBST,
        f'<s:EchoSubstitution xmlns:s="{t}" s:priority="5"><s:car><s:wheels>3</s:wheels></s:car>'
        "<s:remark>r</s:remark></s:EchoSubstitution>",
    )
    assert data == {"vehicle": [{"$element": "car", "wheels": 3}], "comment": {"$element": "remark", "$value": "r"}, "priority": 5}


# --- any and anyAttribute ------------------------------------------------------------------------

ANY = "xsd_any.wsdl"


def test_any_schema() -> None:
    c = components(ANY)
    open_ = c["Open"]
    assert open_["properties"]["$any"]["items"] == {"$ref": "#/components/schemas/AnyXmlElement"}
    assert "$any" not in open_.get("required", [])
    assert open_["patternProperties"] == {ATTRIBUTE_KEY: {"$ref": "#/components/schemas/XmlString"}}
    assert components(ANY)["XmlString"] == {**XML_STRING_SCHEMA, "pattern": XML_CHARS}
    wild = c["Wild"]
    assert wild["required"] == ["$any"] and wild["properties"]["$any"]["minItems"] == 1
    v = request_validator(ANY)
    item = {"x": {"@xmlns": "urn:other", "@a": "1", "@{urn:other}b": "2", "#text": "t", "child": ["c1", {"@k": "v"}], "empty": None}}
    assert_valid(
        v,
        {"open": {"id": 1, "$any": [item, {"y": "text"}]}},
        {"open": {"id": 1, "@lang": "en", "@{urn:z}flag": "on"}},
        {"wild": {"$any": [{"a": None}]}},
    )
    assert_invalid(
        v,
        {"wild": {}},  # the wildcard is required
        {"wild": {"$any": [{"a": "x", "b": "y"}]}},  # one element per item
        {"wild": {"$any": [{"1a": "x"}]}},  # not an XML name
        {"wild": {"$any": [{"p:a": "x"}]}},  # prefixes are not used: the namespace goes in @xmlns
        {"wild": {"$any": [{"a": 1}]}},
        {"wild": {"$any": [{"a": {"@xmlns": "not a uri"}}]}},
        {"open": {"id": 1, "@bad name": "x"}},
        {"open": {"id": 1, "@a": 1}},
        {"open": {"id": 1, "other": "x"}},  # no undeclared fields besides $any and @attributes
    )
    # xs:anyType: the same free content, closed where it is used (found by schemathesis on the corpus)
    assert_valid(v, {"blob": {"$any": [{"a": "x"}], "@k": "v"}}, {"blob": {}})
    assert_invalid(v, {"blob": {"": {}}}, {"blob": {"other": 1}})


def test_any_wire_round_trips_namespaces_attributes_and_order() -> None:
    t = ns("any")
    data = {
        "open": {
            "id": 1,
            "$any": [
                {"x": {"@xmlns": "urn:other", "@a": "1", "@{urn:other}b": "2", "#text": "t", "child": ["c1", {"@k": "v", "#text": "c2"}]}},
                {"y": {"@xmlns": "urn:third", "inner": {"@xmlns": "", "#text": "no namespace"}}},
            ],
            "@lang": "en",
            "@{urn:z}flag": "on",
        },
        "wild": {"$any": [{"a": None}, {"b": "text"}, {"a": {"@xmlns": "urn:x"}}]},
    }
    req = wire(ANY, data)
    open_, wild = req
    assert dict(open_.attrib) == {"lang": "en", "{urn:z}flag": "on"}
    x, y = open_[1], open_[2]
    assert (x.tag, dict(x.attrib), x.text) == ("{urn:other}x", {"a": "1", "{urn:other}b": "2"}, "t")
    assert [(c.tag, c.text) for c in x] == [("{urn:other}child", "c1"), ("{urn:other}child", "c2")]
    assert y.tag == "{urn:third}y" and y[0].tag == "inner"
    assert child_tags(wild) == ["a", "b", "{urn:x}a"]
    # somebody else's XML: prefixes declared on an ancestor, a default namespace
    xml = (
        f'<p:EchoAny xmlns:p="{t}" xmlns:o="urn:other"><p:open o:mark="m"><p:id>2</p:id>'
        '<o:note><o:line>1</o:line><o:line>2</o:line><plain xmlns="">x</plain></o:note>'
        '<entry xmlns="urn:default" code="7"/></p:open></p:EchoAny>'
    )
    data = decode_xml(ANY, xml)
    assert data == {
        "open": {
            "@{urn:other}mark": "m",
            "id": 2,
            "$any": [
                {"note": {"@xmlns": "urn:other", "line": ["1", "2"], "plain": {"@xmlns": "", "#text": "x"}}},
                {"entry": {"@xmlns": "urn:default", "@code": "7"}},
            ],
        }
    }


# --- simple types ------------------------------------------------------------------------------

SIMPLE = "xsd_simple_types.wsdl"


def test_simple_type_facets_schema() -> None:
    c = components(SIMPLE)
    assert set(c["Code"]) == {"type", "pattern"} and c["Code"]["type"] == "string"
    # XSD patterns are implicitly anchored, and XSD's \d is any decimal digit (Unicode Nd), which
    # JS's \d is not: the pattern spells the class out so that both engines agree.
    code = re.compile(c["Code"]["pattern"])
    assert [bool(code.search(v)) for v in ("AB12", "AB\u0661\u0662", "AB1", "AB123", "xAB12", "ab12")] == [True, True, False, False, False, False]
    assert "\\d" not in c["Code"]["pattern"]
    assert c["Color"]["enum"] == ["red", "green", "blue"]
    assert (c["Percent"]["minimum"], c["Percent"]["maximum"]) == (0, 100)
    price = c["Price"]
    # totalDigits 7, fractionDigits 2: 1234567, 123456.7 and 12345.67 are valid (xmlschema agrees), so
    # a loose bound of 10**7 in the spec, both facets as annotations (AJV and python-jsonschema divide
    # floats: 647.81 is not a multiple of 0.01 to them), and exact again for the bridge's validator.
    assert (price["exclusiveMinimum"], price["x-xsd-fractionDigits"], price["x-xsd-totalDigits"], price["exclusiveMaximum"]) == (0, 2, 7, 10**7)
    assert "multipleOf" not in price and "anyOf" not in price
    exact = exact_decimals(price)
    assert exact["multipleOf"] == 0.01
    assert [(b["multipleOf"], b["exclusiveMaximum"]) for b in exact["anyOf"]] == [(1, 10**7), (0.1, 10**6), (0.01, 10**5)]
    assert (c["Short"]["minLength"], c["Short"]["maxLength"]) == (1, 3)
    assert c["Exact"]["minLength"] == c["Exact"]["maxLength"] == 4
    assert c["IntList"]["type"] == "array" and c["IntList"]["items"]["type"] == "integer"
    assert c["ColorList"]["maxItems"] == 3 and c["ColorList"]["items"]["enum"] == ["red", "green", "blue"]
    holder = c["SimpleHolder"]["properties"]
    # anonymous types: facets inline, on an element and on an attribute
    assert (holder["small"]["minimum"], holder["small"]["maximum"]) == (-4, 4)
    assert set(holder["phone"]) == {"type", "pattern"}
    phone = re.compile(holder["phone"]["pattern"])
    assert [bool(phone.search(v)) for v in ("555-1234", "555-12345", "5551234")] == [True, False, False]
    assert holder["grade"]["enum"] == ["a", "b"] and holder["grade"]["xml"]["attribute"] is True
    assert (holder["level"]["minimum"], holder["level"]["maximum"]) == (1, 9)
    assert holder["withDefault"]["default"] == 7 and holder["withFixed"]["const"] == "v1"
    assert holder["mode"]["default"] == "auto" and holder["schema"]["const"] == "1.0"
    v = request_validator(SIMPLE)
    assert_valid(
        v,
        {"code": "AB12", "color": "red", "percent": 100, "price": 0.01, "short": "abc", "exact": "abcd"},
        {"price": 1234567}, {"price": 123456.7}, {"price": 12345.67},
        {"ints": [1, -2], "colors": ["red", "blue"], "small": -4, "phone": "123-4567", "grade": "a", "level": 9},
        {"withDefault": 1, "withFixed": "v1", "mode": "manual", "schema": "1.0"},
    )
    assert_invalid(
        v,
        {"code": "ab12"}, {"color": "pink"}, {"percent": 101}, {"price": 0}, {"price": 1.001}, {"price": 123456.78}, {"price": 10**7},
        {"short": ""}, {"short": "abcd"}, {"exact": "abc"}, {"ints": "1 2"}, {"colors": ["red", "red", "red", "red"]},
        {"small": 5}, {"small": -5}, {"phone": "1234567"}, {"grade": "c"}, {"level": 0},
        {"withFixed": "v2"}, {"schema": "2.0"},
    )  # fmt: skip


def test_pattern_negations_never_match_characters_xml_cannot_carry() -> None:
    """XSD regexes range over XML characters; a translated ".", "[^...]" or "\\S" must not let a
    control character through, or generated data passes the schema and then cannot be encoded."""
    for xsd_regex, good in ((".", "a"), ("[^a]", "b"), (r"\S", "c"), (r"\D", "x"), (r"\W", "!"), ("0AA.BBBX", "0AAzBBBX")):
        regex = re.compile(xsd_pattern(xsd_regex))
        assert regex.fullmatch(good), xsd_regex
        bad = good.replace(good[-1], "\x00") if len(good) == 1 else "0AA\x01BBBX"
        assert not regex.fullmatch(bad), (xsd_regex, bad)
        assert not regex.fullmatch("\x1f") and not regex.fullmatch("\uffff")


def test_union_schema_and_codec_agree() -> None:
    c = components(SIMPLE)
    assert c["IntOrUnbounded"] == {
        "anyOf": [{"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1, "format": "int32"}, {"type": "string", "enum": ["unbounded"]}]
    }
    # an enumeration over a union lists each value as the codec reads it: "1" is the int member's 1
    assert c["Limit"] == {"enum": [1, 10, "unbounded"]}
    v = request_validator(SIMPLE)
    assert_valid(v, {"max": 5}, {"max": "unbounded"}, {"limit": 10}, {"limit": "unbounded"}, {"dateOrFlag": "2024-02-29"}, {"dateOrFlag": True})
    assert_invalid(v, {"max": "5"}, {"max": "lots"}, {"limit": "10"}, {"limit": 5}, {"dateOrFlag": "soon"}, {"smallOrWord": 11})
    t = ns("simple")
    data = decode_xml(
        SIMPLE,
        f'<s:EchoSimple xmlns:s="{t}"><s:max>unbounded</s:max><s:limit>10</s:limit><s:dateOrFlag>false</s:dateOrFlag>'
        "<s:smallOrWord>50</s:smallOrWord></s:EchoSimple>",
    )
    # 50 is no member-1 value (maxInclusive 10): XSD takes the next member that accepts it, a string
    assert data == {"max": "unbounded", "limit": 10, "dateOrFlag": False, "smallOrWord": "50"}
    assert decode_xml(SIMPLE, f'<s:EchoSimple xmlns:s="{t}"><s:smallOrWord>7</s:smallOrWord></s:EchoSimple>') == {"smallOrWord": 7}


def test_simple_types_wire() -> None:
    data = {
        "code": "AB12", "color": "green", "percent": 0, "price": 12.5, "short": "a", "exact": "abcd",
        "ints": [1, -2, 3], "colors": ["red", "blue"], "max": "unbounded", "limit": 1, "dateOrFlag": "2024-02-29",
        "smallOrWord": "word", "small": 0, "phone": "555-0100", "withDefault": 8, "withFixed": "v1",
        "grade": "b", "level": 3, "mode": "auto", "schema": "1.0",
    }  # fmt: skip
    req = wire(SIMPLE, data)
    text = {etree.QName(c).localname: c.text for c in req}
    assert text["ints"] == "1 -2 3" and text["colors"] == "red blue" and text["limit"] == "1" and text["price"] == "12.5"
    assert dict(req.attrib) == {"grade": "b", "level": "3", "mode": "auto", "schema": "1.0"}
    # an empty element takes its default or fixed value (XSD 3.3.1); an absent one stays absent
    t = ns("simple")
    data = decode_xml_unordered(SIMPLE, f'<s:EchoSimple xmlns:s="{t}"><s:withDefault/><s:withFixed/></s:EchoSimple>')
    assert data == {"withDefault": 7, "withFixed": "v1"}
    assert "mode" not in decode_xml(SIMPLE, f'<s:EchoSimple xmlns:s="{t}"/>')


# --- absent versus null ----------------------------------------------------------------------------

NILLABLE = "xsd_nillable.wsdl"


def test_absent_versus_null_schema() -> None:
    holder = components(NILLABLE)["NillableHolder"]
    assert holder["required"] == ["nillable", "pair"]
    p = holder["properties"]
    assert p["optional"] == {"$ref": "#/components/schemas/XmlString"}
    assert p["nillable"]["type"] == ["string", "null"]
    assert p["pair"] == {"anyOf": [{"$ref": "#/components/schemas/Pair", "unevaluatedProperties": False}, {"type": "null"}]}
    assert p["items"]["items"]["type"] == ["integer", "null"]
    v = request_validator(NILLABLE)
    assert_valid(v, {"nillable": None, "pair": None}, {"nillable": "x", "pair": {"a": 1, "b": 2}, "both": None, "items": [1, None]})
    assert_invalid(
        v,
        {"pair": None},  # a nillable required element must be present
        {"nillable": None},
        {"nillable": None, "pair": None, "optional": None},  # optional is not nillable
        {"nillable": None, "pair": {"a": 1}},
    )


def test_absent_versus_null_wire() -> None:
    req = wire(NILLABLE, {"nillable": None, "pair": None, "both": None, "items": [1, None]})
    t = ns("nillable")
    assert child_tags(req) == [f"{{{t}}}{n}" for n in ("nillable", "both", "pair", "items", "items")]  # optional: absent
    nil = [c.get(XSI_NIL) for c in req]
    assert nil == ["true", "true", "true", None, "true"]
    assert all(len(c) == 0 and not c.text for c in req if c.get(XSI_NIL))
    req = wire(NILLABLE, {"optional": "o", "nillable": "", "pair": {"a": 1, "b": 2}})
    assert [c.get(XSI_NIL) for c in req] == [None, None, None]


# --- recursive types -------------------------------------------------------------------------------

RECURSIVE = "xsd_recursive.wsdl"


def _tree(depth: int) -> dict[str, Any]:
    return {"value": depth} if depth == 1 else {"value": depth, "child": [_tree(depth - 1), {"value": 0}]}


def _expr(depth: int) -> dict[str, Any]:
    if depth == 1:
        return {"num": 1}
    if depth % 2:
        return {"neg": _expr(depth - 1)}
    return {"sum": {"left": _expr(depth - 1), "right": {"num": depth}}}


def _cell(depth: int) -> dict[str, Any]:
    return {"v": str(depth)} if depth == 1 else {"v": str(depth), "cell": _cell(depth - 1)}


def test_recursive_types_are_refs() -> None:
    c = components(RECURSIVE)
    assert c["Node"]["properties"]["child"]["items"] == {"$ref": "#/components/schemas/Node", "unevaluatedProperties": False}
    assert c["Sum"]["properties"]["left"] == {"$ref": "#/components/schemas/Expr", "unevaluatedProperties": False}
    assert c["Expr"]["properties"]["sum"]["$ref"] == "#/components/schemas/Sum"
    assert c["cell"]["properties"]["cell"]["$ref"] == "#/components/schemas/cell"
    assert len(json.dumps(spec(RECURSIVE))) < 50_000  # finite, and small
    v = request_validator(RECURSIVE)
    assert_valid(v, {"tree": _tree(5), "expr": _expr(5), "cell": _cell(5)})
    assert_invalid(v, {"tree": {"value": 1, "child": [{"child": []}]}}, {"tree": _tree(2), "expr": {"neg": {"num": 1, "neg": {"num": 2}}}})


def test_recursive_five_levels_round_trip() -> None:
    req = wire(RECURSIVE, {"tree": _tree(5), "expr": _expr(5), "cell": _cell(5)})
    depth = max(len(list(e.iterancestors())) for e in req.iter())
    assert depth >= 10
    t = ns("recursive")
    assert len(req.findall(f".//{{{t}}}cell")) == 5


# --- forms and namespaces ----------------------------------------------------------------------------

FORMS = "xsd_forms.wsdl"
OTHER = ns("forms:other")


def test_forms_wire() -> None:
    data = {
        "local": {"plain": "p", "qualified": "q", "plainAttr": "pa", "qualifiedAttr": "qa"},
        "other": {"inner": "i", "bare": "b", "qualifiedAttr": "oqa", "bareAttr": "ob"},
    }
    req = wire(FORMS, data)
    t = ns("forms")
    assert req.tag == f"{{{t}}}EchoForms"  # global element: always qualified
    local, other = req
    assert (local.tag, other.tag) == ("local", "other")  # elementFormDefault unqualified
    assert child_tags(local) == ["plain", f"{{{t}}}qualified"]  # form="qualified"
    assert dict(local.attrib) == {"plainAttr": "pa", f"{{{t}}}qualifiedAttr": "qa"}
    assert child_tags(other) == [f"{{{OTHER}}}inner", "bare"]  # the imported schema: qualified defaults, form="unqualified"
    assert dict(other.attrib) == {f"{{{OTHER}}}qualifiedAttr": "oqa", "bareAttr": "ob"}


def test_forms_schema_keys_are_local_names() -> None:
    c = components(FORMS)
    assert set(c["Local"]["properties"]) == {"plain", "qualified", "plainAttr", "qualifiedAttr"}
    assert set(c["Flipped"]["properties"]) == {"inner", "bare", "qualifiedAttr", "bareAttr"}
    assert c["FormsHolder"]["properties"]["other"]["$ref"] == "#/components/schemas/Flipped"


def test_imported_namespace_wire() -> None:
    imp = ns("imports:common")
    c = components("xsd_imports.wsdl")
    assert c["ImportsHolder"]["properties"]["address"]["$ref"] == "#/components/schemas/Address"
    assert set(c["Address"]["properties"]) == {"street", "city", "kind"}
    req = wire("xsd_imports.wsdl", {"address": {"street": "s", "city": "c", "kind": "home"}, "note": "n"})
    t = ns("imports")
    assert child_tags(req) == [f"{{{t}}}address", f"{{{imp}}}note"]  # the ref'd element keeps its namespace
    assert child_tags(req[0]) == [f"{{{imp}}}street", f"{{{imp}}}city"]  # Address's schema qualifies its elements
    assert dict(req[0].attrib) == {"kind": "home"}


def test_chameleon_include_wire() -> None:
    c = components("xsd_chameleon.wsdl")
    assert c["Unit"]["enum"] == ["mm", "px"]
    assert c["Point"]["properties"]["unit"]["$ref"] == "#/components/schemas/Unit"
    req = wire("xsd_chameleon.wsdl", {"point": {"x": 1, "y": 2, "unit": "px"}, "label": "l"})
    t = ns("chameleon")  # the included schema's components take the including namespace
    assert child_tags(req) == [f"{{{t}}}point", f"{{{t}}}label"]
    assert child_tags(req[0]) == [f"{{{t}}}x", f"{{{t}}}y"]


# --- component names -----------------------------------------------------------------------------

NAMES = "xsd_component_names.wsdl"


def test_component_names_are_stable_and_collisions_keep_both() -> None:
    c = components(NAMES)
    assert set(c["Item"]["properties"]) == {"sku"}
    assert set(c["Item_other"]["properties"]) == {"code"}  # same name, other namespace: suffixed, not lost
    holder = c["NamesHolder"]["properties"]
    assert holder["item"]["$ref"] == "#/components/schemas/Item"
    assert holder["otherItem"]["$ref"] == "#/components/schemas/Item_other"
    # anonymous types are named after where they are declared
    assert holder["box"]["$ref"] == "#/components/schemas/NamesHolder_box"
    assert c["NamesHolder_box"]["properties"]["lid"]["$ref"] == "#/components/schemas/NamesHolder_box_lid"
    assert set(bridge.load(FIXTURES / NAMES).openapi()["components"]["schemas"]) == set(c)  # stable across loads
    v = request_validator(NAMES)
    assert_valid(v, {"item": {"sku": "s"}, "otherItem": {"code": 1}, "box": {"size": 1, "lid": {"open": True}}})
    assert_invalid(v, {"item": {"code": 1}, "otherItem": {"code": 1}, "box": {"size": 1}})
    req = wire(NAMES, {"item": {"sku": "s"}, "otherItem": {"code": 1}, "box": {"size": 1, "lid": {"open": True}}})
    assert child_tags(req[1]) == [f"{{{ns('names:other')}}}code"]
