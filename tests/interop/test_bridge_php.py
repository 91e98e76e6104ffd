"""The bridge in front of PHP's SoapServer, an independent SOAP stack: typed JSON, faults, rpc."""

from __future__ import annotations

from collections.abc import Iterator

import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from tests.conftest import sample
from tests.interop.envelopes import checked_load

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def calc(php_server: str) -> Iterator[TestClient]:
    with TestClient(checked_load(sample("calculator.wsdl"), endpoint=f"{php_server}/calculator").asgi()) as c:
        yield c


@pytest.fixture(scope="module")
def calc12(php_server: str) -> Iterator[TestClient]:
    b = checked_load(sample("calculator.wsdl"), endpoint=f"{php_server}/calculator", ports={"CalculatorService": "CalculatorSoap12"})
    with TestClient(b.asgi()) as c:
        yield c


@pytest.fixture(scope="module")
def orders(php_server: str) -> Iterator[TestClient]:
    with TestClient(checked_load(sample("orders.wsdl"), endpoint=f"{php_server}/orders").asgi()) as c:
        yield c


@pytest.mark.parametrize("client", ["calc", "calc12"])
def test_add_returns_typed_json(request: pytest.FixtureRequest, client: str) -> None:
    c: TestClient = request.getfixturevalue(client)
    r = c.post("/CalculatorService/Add", json={"a": 40, "b": 2})
    assert r.status_code == 200, r.text
    assert r.json() == {"result": 42}


@pytest.mark.parametrize("client", ["calc", "calc12"])
def test_divide_decimal(request: pytest.FixtureRequest, client: str) -> None:
    c: TestClient = request.getfixturevalue(client)
    r = c.post("/CalculatorService/Divide", json={"dividend": 10, "divisor": 4})
    assert r.status_code == 200, r.text
    assert r.json() == {"quotient": 2.5}


@pytest.mark.parametrize("client", ["calc", "calc12"])
def test_declared_fault_is_422_with_typed_detail(request: pytest.FixtureRequest, client: str) -> None:
    c: TestClient = request.getfixturevalue(client)
    r = c.post("/CalculatorService/Divide", json={"dividend": 10, "divisor": 0})
    assert r.status_code == 422, r.text
    p = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert p["fault"] == "DivisionByZero"
    assert p["detail"] == "division by zero"
    assert p["detail_data"] == {"dividend": 10.0, "message": "cannot divide 10 by zero"}


@pytest.mark.parametrize("client", ["calc", "calc12"])
def test_declared_fault_with_a_server_code_is_502_typed_as_the_spec_says(request: pytest.FixtureRequest, client: str) -> None:
    """PHP's SoapServer sends the declared fault with a Server (1.2: Receiver) code for 0/0: a 502
    with the typed detail, which the spec's 502 schema declares and binds."""
    c: TestClient = request.getfixturevalue(client)
    r = c.post("/CalculatorService/Divide", json={"dividend": 0, "divisor": 0})
    assert r.status_code == 502, r.text
    p = r.json()
    assert p["type"] == "urn:soapbridge:problem:soap-fault:server"
    assert p["fault"] == "DivisionByZero"
    assert p["detail_data"] == {"dividend": 0, "message": "cannot divide 0 by zero"}
    spec = c.get("/openapi.json").json()
    schema = spec["paths"]["/CalculatorService/Divide"]["post"]["responses"]["502"]["content"]["application/problem+json"]["schema"]
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})
    validator.validate(p)
    assert not validator.is_valid({**p, "detail_data": {"dividend": [], "message": "m"}})


def test_rich_document_reply(orders: TestClient) -> None:
    r = orders.post("/OrderService/GetOrder", json={"orderId": "A-7", "$headers": {"auth": {"apiKey": "k", "tenant": "acme"}}})
    assert r.status_code == 200, r.text
    body = r.json()
    order = body["order"]
    assert order["orderId"] == "A-7"
    assert isinstance(order["line"], list) and len(order["line"]) == 2
    assert all(isinstance(line["quantity"], int) for line in order["line"])
    assert order["note"] is None  # xsi:nil -> null
    assert isinstance(order["line"][0]["unitPrice"]["$value"], float)
    # PHP's SoapServer builds the reply header from the request's AuthHeader (tenant) and the body
    # (orderId): the request header reached it, and the reply header came back.
    assert body["$headers"] == {"info": {"requestId": "req-acme-A-7"}}


def test_derived_type_comes_back_with_discriminator(orders: TestClient) -> None:
    r = orders.post("/OrderService/GetOrder", json={"orderId": "biz-1"})
    assert r.status_code == 200, r.text
    customer = r.json()["order"]["customer"]
    assert customer["$type"] == "BusinessCustomer"
    assert "vatNumber" in customer


def test_order_not_found(orders: TestClient) -> None:
    r = orders.post("/OrderService/GetOrder", json={"orderId": "missing-1"})
    assert r.status_code == 422
    assert r.json()["fault"] == "OrderNotFound"
    assert r.json()["detail_data"] == {"orderId": "missing-1"}


def test_create_and_list(orders: TestClient) -> None:
    order = {
        "customer": {"name": "Ada", "address": {"street": "1 Main", "city": "X", "country": "GB"}},
        "orderDate": "2024-03-15",
        "line": [{"sku": "S1", "product": "P", "quantity": 2, "unitPrice": {"$value": 9.99, "currency": "EUR"}}],
        "note": None,
    }
    r = orders.post("/OrderService/CreateOrder", json={"order": order})
    assert r.status_code == 200, r.text
    assert r.json() == {"orderId": "ORD-1-3", "status": "PENDING"}
    r = orders.post("/OrderService/ListOrders", json={"status": "SHIPPED", "limit": 3})
    assert r.status_code == 200, r.text
    assert len(r.json()["order"]) == 3
    assert {o["status"] for o in r.json()["order"]} == {"SHIPPED"}


def test_rpc_literal(php_server: str) -> None:
    with checked_load(sample("rpc-literal.wsdl"), endpoint=f"{php_server}/inventory") as b:
        client = TestClient(b.asgi())
        r = client.post("/InventoryService/CheckStock", json={"sku": "ABCD", "warehouse": "W1"})
        assert r.status_code == 200, r.text
        assert r.json() == {"quantity": 40, "available": True}
        r = client.post("/InventoryService/GetItem", json={"sku": "X1"})
        assert r.status_code == 200, r.text
        item = r.json()["item"]
        assert item["sku"] == "X1" and isinstance(item["tags"], list) and len(item["tags"]) == 2


def test_library_call_matches_rest(php_server: str, calc: TestClient) -> None:
    with checked_load(sample("calculator.wsdl"), endpoint=f"{php_server}/calculator") as b:
        assert b.call("Add", {"a": 1, "b": 2}) == calc.post("/CalculatorService/Add", json={"a": 1, "b": 2}).json()
