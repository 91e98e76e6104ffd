"""Deterministic payloads on the bundled orders sample: a ListOrders reply and a CreateOrder
request, grown order by order (or line by line) until the SOAP envelope reaches a target size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WSDL = ROOT / "wsdl" / "orders.wsdl"
LINES_PER_ORDER = 3


def order(i: int, lines: int = LINES_PER_ORDER) -> dict[str, Any]:
    """One Order as soapbridge JSON: nested objects, attributes, a simpleContent value, dates, a nil."""
    return {
        "orderId": f"ORD-{i:06d}",
        "status": ("PENDING", "SHIPPED", "CANCELLED")[i % 3],
        "customer": {
            "name": f"Customer {i}",
            "email": f"customer{i}@example.com",
            "address": {"street": f"{i} Main Street", "city": "Springfield", "postalCode": f"{10000 + i % 89999}", "country": "US"},
        },
        "orderDate": "2024-05-17",
        "createdAt": "2024-05-17T10:20:30Z",
        "line": [
            {
                "sku": f"SKU-{i}-{j}",
                "lineNo": j + 1,
                "product": f"Product {i % 97}-{j}",
                "quantity": j + 1,
                "unitPrice": {"$value": round(9.99 + (i + j) % 90, 2), "currency": "EUR"},
            }
            for j in range(lines)
        ],
        "total": {"$value": round(123.45 + i % 1000, 2), "currency": "EUR"},
        "note": None,
    }


def _grow(make: Any, size_of: Any, target: int) -> Any:
    """``make(n)`` for an n whose envelope is at least ``target`` bytes (and a few percent over at
    most): secant steps from n = 1, each aiming 2% high, so a 1 MB payload takes a few encodes."""
    n = 1
    size = size_of(make(n))
    while size < target:
        n = max(n + 1, int(n * target * 1.02 / size))
        size = size_of(make(n))
    return make(n)


def list_orders_reply(target: int, encode: Any) -> tuple[dict[str, Any], bytes]:
    """ListOrdersResponse data and its envelope bytes (``encode(data) -> bytes``), at least ``target`` bytes."""
    data = _grow(lambda n: {"order": [order(i) for i in range(n)]}, lambda d: len(encode(d)), target)
    return data, encode(data)


def create_order_request(target: int, encode: Any) -> dict[str, Any]:
    """CreateOrder input whose envelope is at least ``target`` bytes: one order with more lines."""
    return _grow(lambda n: {"order": order(1, n)}, lambda d: len(encode(d)), target)  # type: ignore[no-any-return]
