"""The PHP SoapServer peer works: zeep talks to it DIRECTLY (not through the bridge).

These tests prove the independent SOAP stack used by the interop tests answers every sample
operation with typed, schema-valid replies, over SOAP 1.1 and (calculator) SOAP 1.2.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.plugins import HistoryPlugin

WSDL_DIR = Path(__file__).resolve().parents[2] / "wsdl"
PEER_WSDL = {
    "/calculator": WSDL_DIR / "calculator.wsdl",
    "/orders": WSDL_DIR / "orders.wsdl",
    "/inventory": WSDL_DIR / "rpc-literal.wsdl",
}

CALC = "http://soapbridge.dev/samples/calculator"
ORDERS = "http://soapbridge.dev/samples/orders"
INVENTORY = "http://soapbridge.dev/samples/inventory"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

pytestmark = pytest.mark.interop

AUTH = {"auth": {"apiKey": "test-key", "tenant": "acme"}}


class Peer:
    """A zeep client for one sample WSDL, bound to the PHP peer instead of the WSDL's address."""

    def __init__(self, base_url: str, path: str, binding: str) -> None:
        self.history = HistoryPlugin()
        self.client = zeep.Client(str(PEER_WSDL[path]), plugins=[self.history])
        self.service = self.client.create_service(binding, base_url + path)

    @property
    def last_reply(self) -> etree._Element:
        received = self.history.last_received
        assert received is not None, "no reply received yet"
        return received["envelope"]


def _schema(wsdl_file: str) -> xmlschema.XMLSchema:
    """The schema embedded in a sample WSDL (each one has exactly one, self-contained)."""
    doc = etree.parse(str(WSDL_DIR / wsdl_file))
    (schema,) = doc.iterfind(f".//{{{XSD}}}schema")
    return xmlschema.XMLSchema(etree.tostring(schema).decode())


def _fault_code_local(fault: Fault) -> str:
    # zeep reports the code as the raw prefixed text, e.g. "SOAP-ENV:Client" / "env:Sender"
    return fault.code.rsplit(":", 1)[-1]


@pytest.fixture(scope="module")
def calc11(php_server: str) -> Peer:
    return Peer(php_server, "/calculator", f"{{{CALC}}}CalculatorSoapBinding")


@pytest.fixture(scope="module")
def calc12(php_server: str) -> Peer:
    return Peer(php_server, "/calculator", f"{{{CALC}}}CalculatorSoap12Binding")


@pytest.fixture(scope="module")
def orders(php_server: str) -> Peer:
    return Peer(php_server, "/orders", f"{{{ORDERS}}}OrderSoapBinding")


@pytest.fixture(scope="module")
def inventory(php_server: str) -> Peer:
    return Peer(php_server, "/inventory", f"{{{INVENTORY}}}InventorySoapBinding")


# ---------------------------------------------------------------- calculator


@pytest.mark.parametrize(("peer_name", "envelope_ns"), [("calc11", SOAP11_ENV), ("calc12", SOAP12_ENV)])
def test_add(request: pytest.FixtureRequest, peer_name: str, envelope_ns: str) -> None:
    peer: Peer = request.getfixturevalue(peer_name)
    assert peer.service.Add(a=2, b=40) == 42
    assert peer.service.Add(a=-7, b=3) == -4
    assert etree.QName(peer.last_reply).namespace == envelope_ns


@pytest.mark.parametrize("peer_name", ["calc11", "calc12"])
def test_divide(request: pytest.FixtureRequest, peer_name: str) -> None:
    peer: Peer = request.getfixturevalue(peer_name)
    assert peer.service.Divide(dividend=Decimal("10"), divisor=Decimal("4")) == Decimal("2.5")
    assert peer.service.Divide(dividend=Decimal("-9"), divisor=Decimal("0.5")) == Decimal("-18")


@pytest.mark.parametrize(
    ("peer_name", "code", "detail_tag"),
    [
        ("calc11", "Client", "detail"),
        ("calc12", "Sender", f"{{{SOAP12_ENV}}}Detail"),
    ],
)
def test_divide_by_zero_fault_has_typed_detail(
    request: pytest.FixtureRequest, peer_name: str, code: str, detail_tag: str
) -> None:
    peer: Peer = request.getfixturevalue(peer_name)
    with pytest.raises(Fault) as caught:
        peer.service.Divide(dividend=Decimal("10.5"), divisor=Decimal("0"))
    fault = caught.value
    assert fault.message == "division by zero"
    assert _fault_code_local(fault) == code
    assert fault.detail is not None and fault.detail.tag == detail_tag

    (entry,) = list(fault.detail)
    assert entry.tag == f"{{{CALC}}}DivisionByZeroFault"
    element = peer.client.get_element(f"{{{CALC}}}DivisionByZeroFault")
    parsed = element.parse(entry, peer.client.wsdl.types)
    assert parsed.dividend == Decimal("10.5")
    assert parsed.message == "cannot divide 10.5 by zero"
    _schema("calculator.wsdl").validate(entry)


def test_undeclared_fault_carries_no_detail(calc11: Peer) -> None:
    # the peer suppresses ext/soap's habit of attaching the operation's only declared fault
    with pytest.raises(Fault) as caught:
        calc11.service.Echo(text="x" * 101)
    assert _fault_code_local(caught.value) == "Client"
    assert caught.value.detail is None


@pytest.mark.parametrize("peer_name", ["calc11", "calc12"])
def test_echo(request: pytest.FixtureRequest, peer_name: str) -> None:
    peer: Peer = request.getfixturevalue(peer_name)
    text = 'Grüße <&> "quoted" ✓'
    assert peer.service.Echo(text=text) == text


def test_wsdl_served_with_peer_address(php_server: str) -> None:
    client = zeep.Client(f"{php_server}/calculator?wsdl")
    assert client.service._binding_options["address"] == f"{php_server}/calculator"
    assert client.service.Add(a=1, b=1) == 2


# ---------------------------------------------------------------- orders


def test_get_order(orders: Peer) -> None:
    reply = orders.service.GetOrder(orderId="A-17", _soapheaders=AUTH)

    # output header RequestInfo, built from the AuthHeader input header
    assert reply.header.info.requestId == "req-acme-A-17"

    order = reply.body.order
    assert order.orderId == "A-17"
    assert order.status == "SHIPPED"
    assert order.customer.name == "Ada Lovelace"
    assert order.customer.email == "ada@example.com"
    assert order.customer.address.city == "London"
    assert order.customer.address.country == "GB"
    assert order.orderDate == datetime.date(2024, 3, 15)
    assert order.createdAt == datetime.datetime(2024, 3, 15, 9, 30, tzinfo=datetime.UTC)
    assert [line.sku for line in order.line] == ["SKU-001", "SKU-002"]
    assert [line.lineNo for line in order.line] == [1, None]  # optional attribute left out
    assert order.line[0].quantity == 2
    assert order.line[1].unitPrice._value_1 == Decimal("3.50")
    assert order.line[1].unitPrice.currency == "GBP"
    assert order.total._value_1 == Decimal("74.98")
    assert order.note is None

    body = orders.last_reply.find(f"{{{SOAP11_ENV}}}Body")
    (response,) = list(body)
    note = response.find(f"{{{ORDERS}}}order/{{{ORDERS}}}note")
    assert note.get(XSI_NIL) == "true"  # required + nillable: sent as xsi:nil, not left out
    _schema("orders.wsdl").validate(response)


def test_get_order_business_customer_uses_xsi_type(orders: Peer) -> None:
    reply = orders.service.GetOrder(orderId="biz-1", _soapheaders=AUTH)
    customer = reply.body.order.customer
    assert type(customer).__name__ == "BusinessCustomer"
    assert customer.vatNumber == "GB123456789"


def test_get_order_not_found_fault_has_typed_detail(orders: Peer) -> None:
    with pytest.raises(Fault) as caught:
        orders.service.GetOrder(orderId="missing-42", _soapheaders=AUTH)
    fault = caught.value
    assert fault.message == "order not found"
    assert _fault_code_local(fault) == "Client"
    (entry,) = list(fault.detail)
    assert entry.tag == f"{{{ORDERS}}}OrderNotFoundFault"
    parsed = orders.client.get_element(f"{{{ORDERS}}}OrderNotFoundFault").parse(entry, orders.client.wsdl.types)
    assert parsed.orderId == "missing-42"


def test_create_order(orders: Peer) -> None:
    money = orders.client.get_type(f"{{{ORDERS}}}Money")
    order = {
        "customer": {
            "name": "Zoë Ñandú",  # 9 characters, 12 bytes
            "address": {"street": "1 Rue", "city": "Paris", "country": "FR"},
        },
        "orderDate": datetime.date(2024, 5, 1),
        "line": [
            {"sku": "A", "lineNo": 1, "product": "p", "quantity": 1, "unitPrice": money(Decimal("1.00"), currency="EUR")},
            {"sku": "B", "product": "q", "quantity": 3, "unitPrice": money(Decimal("2.50"), currency="EUR")},
            {"sku": "C", "product": "r", "quantity": 2, "unitPrice": money(Decimal("0.99"), currency="EUR")},
        ],
        "note": None,
    }
    reply = orders.service.CreateOrder(order=order, _soapheaders=AUTH)
    assert reply.orderId == "ORD-3-9"
    assert reply.status == "PENDING"


def test_list_orders(orders: Peer) -> None:
    listed = orders.service.ListOrders(status="CANCELLED", limit=3, _soapheaders=AUTH)
    assert [o.orderId for o in listed] == ["ORD-1001", "ORD-1002", "ORD-1003"]
    assert {o.status for o in listed} == {"CANCELLED"}
    # Customer/email cycles through present / xsi:nil / absent
    assert listed[0].customer.email == "customer1@example.com"
    assert listed[1].customer.email is None
    assert listed[2].customer.email is None
    emails = orders.last_reply.iter(f"{{{ORDERS}}}email")
    assert [e.get(XSI_NIL) for e in emails] == [None, "true"]

    default = orders.service.ListOrders(_soapheaders=AUTH)
    assert len(default) == 2 and {o.status for o in default} == {"PENDING"}

    (single,) = orders.service.ListOrders(limit=1, _soapheaders=AUTH)
    assert single.orderId == "ORD-1001"


# ---------------------------------------------------------------- inventory (rpc/literal)


def test_check_stock_rpc_literal(inventory: Peer) -> None:
    reply = inventory.service.CheckStock(sku="ABC-12", warehouse="north")
    assert reply.quantity == 60
    assert reply.available is True

    body = inventory.last_reply.find(f"{{{SOAP11_ENV}}}Body")
    (wrapper,) = list(body)
    assert wrapper.tag == f"{{{INVENTORY}}}CheckStockResponse"  # rpc wrapper in soap:body/@namespace
    assert [child.tag for child in wrapper] == ["quantity", "available"]  # unqualified part accessors

    empty = inventory.service.CheckStock(sku="", warehouse="north")
    assert empty.quantity == 0
    assert empty.available is False


def test_get_item_rpc_literal(inventory: Peer) -> None:
    item = inventory.service.GetItem(sku="XY-1")
    assert item.sku == "XY-1"
    assert item.name == "Widget XY-1"
    assert item.price == Decimal("12.50")
    assert item.tags == ["hardware", "blue"]
