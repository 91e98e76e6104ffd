"""The generated OpenAPI 3.1 documents: valid, committed without drift, and faithful to the XSD."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from openapi_spec_validator import validate

import bridge
from bridge.jsonschema import exact_decimals
from tests.conftest import ROOT, SAMPLES, SAMPLES_CONFIG, sample

OPENAPI_DIR = ROOT / "openapi"


@pytest.mark.parametrize("wsdl", SAMPLES, ids=lambda p: p.name)
def test_spec_is_valid_openapi_31(wsdl: Path) -> None:
    spec = bridge.load(wsdl).openapi()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


@pytest.mark.parametrize("wsdl", SAMPLES, ids=lambda p: p.name)
def test_committed_spec_has_not_drifted(wsdl: Path) -> None:
    committed = OPENAPI_DIR / f"{wsdl.stem}.json"
    assert committed.exists(), f"{committed} is missing: run `make openapi`"
    fresh = bridge.load(wsdl, config=SAMPLES_CONFIG).openapi()
    assert json.loads(committed.read_text()) == fresh, f"{committed.name} drifted from {wsdl.name}: run `make openapi`"


@pytest.mark.parametrize("wsdl", SAMPLES, ids=lambda p: p.name)
def test_every_operation_has_examples_and_statuses(wsdl: Path) -> None:
    b = bridge.load(wsdl)
    spec = b.openapi()
    ids = []
    for path_item in spec["paths"].values():
        for op in path_item.values():
            ids.append(op["operationId"])
            assert "example" in op["requestBody"]["content"]["application/json"]
            assert "example" in op["responses"]["200"]["content"]["application/json"]
            assert {"200", "400", "413", "415", "422", "502", "503", "504"} <= set(op["responses"])
            for status, resp in op["responses"].items():
                if status != "200":
                    assert list(resp["content"]) == ["application/problem+json"]
    assert len(ids) == len(set(ids)) == len(b.routed)


def _schemas() -> dict[str, Any]:
    return bridge.load(sample("orders.wsdl")).openapi()["components"]["schemas"]


def test_xsd_mapping_in_orders_spec() -> None:
    s = _schemas()
    status = s["OrderStatus"]
    assert status == {"type": "string", "enum": ["PENDING", "SHIPPED", "CANCELLED"]}
    assert s["CurrencyCode"]["pattern"] == "^([A-Z]{3})$"
    amount = s["Amount"]
    assert amount["type"] == "number" and amount["minimum"] == 0
    # totalDigits 12, fractionDigits 2: annotations in the spec, one branch per fraction digit count once exact
    assert amount["x-xsd-fractionDigits"] == 2 and amount["x-xsd-totalDigits"] == 12 and "multipleOf" not in amount
    assert amount["exclusiveMaximum"] == 10**12
    assert [b["exclusiveMaximum"] for b in exact_decimals(amount)["anyOf"]] == [10**12, 10**11, 10**10]
    limit = s["ListLimit"]
    assert limit["type"] == "integer" and limit["minimum"] == 1 and limit["maximum"] == 100
    # simpleContent: the value plus its attributes
    money = s["Money"]
    assert set(money["properties"]) == {"$value", "currency"}
    assert set(money["required"]) == {"$value", "currency"}
    assert money["properties"]["currency"]["xml"]["attribute"] is True
    # attributes are documented properties; required follows use="required"
    line = s["OrderLine"]
    assert line["properties"]["sku"]["xml"] == {"attribute": True, "name": "sku"}
    assert "sku" in line["required"] and "lineNo" not in line["required"]
    assert line["properties"]["lineNo"]["maximum"] == 65535
    order = s["Order"]
    props = order["properties"]
    # maxOccurs > 1: always an array
    assert props["line"]["type"] == "array" and props["line"]["minItems"] == 1
    # nillable: null allowed, and the field stays required (absent and null differ)
    assert props["note"]["type"] == ["string", "null"] and "note" in order["required"]
    # minOccurs=0: optional
    assert "orderId" not in order["required"] and "customer" in order["required"]
    # XSD lexical spaces as patterns, not RFC 3339 formats (which refuse "2026-01-01T12:00:00")
    assert "format" not in props["orderDate"] and re.search(props["orderDate"]["pattern"], "2026-01-01+01:00")
    assert "format" not in props["createdAt"] and re.search(props["createdAt"]["pattern"], "2026-01-01T12:00:00")
    # extension: allOf over the base, and the base accepts the derived type with $type
    biz = s["BusinessCustomer"]
    # the extension's own fields in a second branch: tools drop keywords beside a $ref
    base, own = biz["allOf"]
    assert base == {"$ref": "#/components/schemas/Customer"}
    assert set(own["properties"]) == {"vatNumber"}
    # every use of a base with derived types refers to one shared "base or any derived type" component
    assert props["customer"] == {"$ref": "#/components/schemas/Customer_or_derived"}
    customer_use = s["Customer_or_derived"]
    # each branch closed on its own ("$type" picks one), so generators can model many branches
    assert "anyOf" in customer_use and all(b["unevaluatedProperties"] is False for b in customer_use["anyOf"])
    email = s["Customer"]["properties"]["email"]
    assert "null" in email["type"] and "email" not in s["Customer"]["required"]


def test_soap_headers_are_documented() -> None:
    spec = bridge.load(sample("orders.wsdl")).openapi()
    req = spec["components"]["schemas"]["OrderService_GetOrderRequest"]
    # the wrapper element's type, and beside it (in a second allOf branch) the header blocks
    assert req["allOf"][0] == {"$ref": "#/components/schemas/GetOrder"} and req["unevaluatedProperties"] is False
    assert set(req["allOf"][1]["properties"]["$headers"]["properties"]) == {"auth"}
    res = spec["components"]["schemas"]["OrderService_GetOrderResponse"]
    assert "$headers" in res["allOf"][1]["properties"]


@pytest.mark.parametrize(
    ("status_map", "fault_statuses"),
    [({}, ("422", "502")), ({"server_fault": 500}, ("422", "500")), ({"client_fault": 500, "server_fault": 500}, ("500",))],
)
def test_declared_fault_detail_is_typed_in_the_spec(status_map: dict[str, int], fault_statuses: tuple[str, ...]) -> None:
    """Under every status a fault can come back with (a declared fault may carry a Server code),
    the typed detail binds: a right one is accepted, a wrong one refused."""
    spec = bridge.load(sample("calculator.wsdl"), status=status_map).openapi()
    responses = spec["paths"]["/CalculatorService/Divide"]["post"]["responses"]

    def validator(status: str) -> Any:
        schema = responses[status]["content"]["application/problem+json"]["schema"]
        return jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})

    typed = {
        "type": "urn:soapbridge:problem:soap-fault:server",
        "title": "SOAP fault: DivisionByZero",
        "status": 502,
        "faultcode": "{http://schemas.xmlsoap.org/soap/envelope/}Server",
        "fault": "DivisionByZero",
        "detail_data": {"dividend": 1, "message": "m"},
    }
    for status in fault_statuses:
        v = validator(status)
        assert v.is_valid(typed), status
        assert not v.is_valid({**typed, "detail_data": {"dividend": "one", "message": "m"}}), status
        assert not v.is_valid({**typed, "fault": "Other"}), status
    bad_reply = {"type": "urn:soapbridge:problem:upstream:bad_reply", "title": "The SOAP service gave a bad reply", "status": 502}
    assert validator("502").is_valid(bad_reply)


def test_rpc_parts_are_the_body_fields() -> None:
    spec = bridge.load(sample("rpc-literal.wsdl")).openapi()
    req = spec["components"]["schemas"]["InventoryService_CheckStockRequest"]
    assert set(req["properties"]) == {"sku", "warehouse"}
    assert set(req["required"]) == {"sku", "warehouse"}
    res = spec["components"]["schemas"]["InventoryService_CheckStockResponse"]
    assert res["properties"]["available"]["type"] == "boolean"


def test_unreachable_components_are_dropped_and_examples_are_data() -> None:
    """A component reached only from example values (data) is dropped; one reached through a property,
    a path or a media type that happens to be called "example" or "examples" is kept."""
    from bridge.openapi import _drop_unreachable

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    media = {"schema": ref("Req"), "example": ref("OnlyInExample"), "examples": {"one": {"value": ref("OnlyInExample")}}}
    doc: dict[str, Any] = {
        "paths": {"/example": {"post": {
            "requestBody": {"content": {"application/json": media}},
            "responses": {"200": {"content": {"example": {"schema": ref("ByMediaTypeName")}}, "headers": {"examples": {"schema": ref("ByHeaderName")}}}},
        }}},
        "components": {
            "schemas": {
                "Req": {
                    "type": "object",
                    "properties": {"example": ref("ByPropertyName"), "examples": {"type": "array", "items": ref("ByListProperty")}},
                    "examples": [ref("InSchemaExamples")],
                    "default": ref("InDefault"),  # data too, but only examples are skipped
                },
                "Root": {"allOf": [ref("FromRoot")]},
                **{name: {"type": "string"} for name in ("OnlyInExample", "ByMediaTypeName", "ByHeaderName", "ByPropertyName", "ByListProperty",
                                                         "InSchemaExamples", "InDefault", "FromRoot", "Unused")},
            },
            "headers": {"H": {"schema": ref("FromHeaderComponent")}},
        },
    }
    doc["components"]["schemas"]["FromHeaderComponent"] = {"type": "integer"}
    _drop_unreachable(doc, {"Root", "NotAComponent"})
    assert sorted(doc["components"]["schemas"]) == sorted(
        ["Req", "Root", "FromRoot", "ByMediaTypeName", "ByHeaderName", "ByPropertyName", "ByListProperty", "InDefault", "FromHeaderComponent"]
    )
