"""Validators sized to the schema: jsonschema_rs compiles a $ref at every use, so a schema whose
references expand past a budget is validated by python-jsonschema instead (bridge/validators.py)."""

from __future__ import annotations

import logging

import jsonschema_rs
import pytest

import bridge
from bridge import errors, validators
from bridge.validators import LazyValidator, expanded_size, make_validator
from tests.conftest import sample

CALC_NS = "http://soapbridge.dev/samples/calculator"
LEAF = {"type": "string"}
PAIR = {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/Leaf"}, "b": {"$ref": "#/components/schemas/Leaf"}}}
NODE = {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}


def doc(root: dict[str, object]) -> dict[str, object]:
    return {**root, "components": {"schemas": {"Leaf": LEAF, "Pair": PAIR, "Node": NODE}}}


def test_expanded_size_counts_every_use_of_a_component() -> None:
    # Pair: itself, properties, a, b (4) plus Leaf once per use (2) = 6
    assert expanded_size(doc({"$ref": "#/components/schemas/Pair"})) == 1 + 6
    assert expanded_size(doc({"anyOf": [{"$ref": "#/components/schemas/Pair"}, {"$ref": "#/components/schemas/Pair"}]})) == 1 + 2 * (1 + 6)
    # jsonschema_rs compiles a component on a reference cycle lazily: each reference to it counts once
    assert expanded_size(doc({"$ref": "#/components/schemas/Node"})) == 1 + 1
    assert expanded_size(doc({"properties": {"x": {"$ref": "#/components/schemas/Node"}, "y": {"$ref": "#/components/schemas/Pair"}}})) == 4 + 1 + 6
    assert expanded_size(doc({"anyOf": [{"$ref": "#/components/schemas/Pair"}] * 50}), limit=20) <= 20 + 7


def test_make_validator_keeps_jsonschema_rs_within_the_budget() -> None:
    schema = doc({"$ref": "#/components/schemas/Pair"})
    assert isinstance(make_validator(schema), jsonschema_rs.Draft202012Validator)
    assert isinstance(make_validator(schema, budget=6), LazyValidator)


@pytest.mark.parametrize(
    "instance",
    [{"a": "x", "b": "y"}, {"a": 1}, {"b": None}, [], {"next": {"next": {}}}, {"a": "x", "b": ["y"]}],
)
def test_both_engines_give_the_same_verdict_and_pointers(instance: object) -> None:
    schema = doc({"anyOf": [{"$ref": "#/components/schemas/Pair"}, {"$ref": "#/components/schemas/Node"}]})
    fast, lazy = make_validator(schema), make_validator(schema, budget=0)
    assert fast.is_valid(instance) == lazy.is_valid(instance)
    assert sorted(str(e.instance_path) for e in fast.iter_errors(instance)) == sorted(str(e.instance_path) for e in lazy.iter_errors(instance))


@pytest.fixture
def lazy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every schema goes to python-jsonschema, as netsuite's largest do."""
    monkeypatch.setattr(validators, "EXPANDED_BUDGET", 0)


def test_requests_are_checked_with_pointers_by_the_lazy_validator(lazy_only: None) -> None:
    b = bridge.load(sample("calculator.wsdl"))
    with pytest.raises(errors.ValidationError) as info:
        b.encode_request("Add", {"a": "x"})
    pointers = [v.pointer for v in info.value.violations]
    assert "/a" in pointers and len(pointers) >= 2
    assert isinstance(b._validators[next(k for k in b._validators if k.endswith(":Request"))], LazyValidator)
    b.encode_request("Add", {"a": 1, "b": 2})


def test_replies_are_checked_by_the_lazy_validator(lazy_only: None, caplog: pytest.LogCaptureFixture) -> None:
    reply = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
      <c:AddResponse xmlns:c="{CALC_NS}"></c:AddResponse></s:Body></s:Envelope>""".encode()  # no result
    with pytest.raises(bridge.UpstreamError, match="does not match the WSDL") as info:
        bridge.load(sample("calculator.wsdl")).decode_response("Add", reply)
    assert info.value.kind == "bad_reply" and "'result' is a required property" in str(info.value)
    lax = bridge.load(sample("calculator.wsdl"), reply_validation="lax")
    with caplog.at_level(logging.WARNING, logger="soapbridge"):
        lax.decode_response("Add", reply)
    assert "/: breaks required (result missing)" in caplog.text
