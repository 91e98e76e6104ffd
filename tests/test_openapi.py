"""The generated OpenAPI 3.1 documents: valid, committed without drift, and faithful to the XSD."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

import bridge
from tests.conftest import ROOT, SAMPLES, sample

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
    fresh = bridge.load(wsdl).openapi()
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
    assert amount["multipleOf"] == 0.01 and amount["exclusiveMaximum"] == 10**10
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
    assert props["orderDate"]["format"] == "date"
    assert props["createdAt"]["format"] == "date-time"
    # extension: allOf over the base, and the base accepts the derived type with $type
    biz = s["BusinessCustomer"]
    assert biz["allOf"] == [{"$ref": "#/components/schemas/Customer"}]
    assert set(biz["properties"]) == {"vatNumber"}
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
    assert set(req["properties"]["$headers"]["properties"]) == {"auth"}
    res = spec["components"]["schemas"]["OrderService_GetOrderResponse"]
    assert "$headers" in res["properties"]


def test_declared_fault_detail_is_typed_in_the_spec() -> None:
    spec = bridge.load(sample("calculator.wsdl")).openapi()
    r422 = spec["paths"]["/CalculatorService/Divide"]["post"]["responses"]["422"]
    text = json.dumps(r422)
    assert "DivisionByZero" in text and "DivisionByZeroFault" in text


def test_rpc_parts_are_the_body_fields() -> None:
    spec = bridge.load(sample("rpc-literal.wsdl")).openapi()
    req = spec["components"]["schemas"]["InventoryService_CheckStockRequest"]
    assert set(req["properties"]) == {"sku", "warehouse"}
    assert set(req["required"]) == {"sku", "warehouse"}
    res = spec["components"]["schemas"]["InventoryService_CheckStockResponse"]
    assert res["properties"]["available"]["type"] == "boolean"
