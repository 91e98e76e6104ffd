"""The REST app end to end, with the generated mock behind it (in-process)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

import bridge
from tests.conftest import ServerThread, mock_transport, mocked_bridge, sample

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def calc() -> TestClient:
    return TestClient(mocked_bridge(sample("calculator.wsdl")).asgi())


@pytest.fixture(scope="module")
def orders() -> TestClient:
    return TestClient(mocked_bridge(sample("orders.wsdl")).asgi())


def test_call_returns_typed_json(calc: TestClient) -> None:
    r = calc.post("/CalculatorService/Add", json={"a": 2, "b": 3})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"result"}
    assert isinstance(body["result"], int)


def test_rich_reply_is_typed(orders: TestClient) -> None:
    r = orders.post("/OrderService/GetOrder", json={"orderId": "A-1"})
    assert r.status_code == 200, r.text
    order = r.json()["order"]
    lines = order["line"]
    assert isinstance(lines, list) and lines
    assert all(isinstance(line["quantity"], int) for line in lines if "quantity" in line)
    spec = TestClient(mocked_bridge(sample("orders.wsdl")).asgi()).get("/openapi.json").json()
    assert "GetOrderResponse" in str(spec["paths"]["/OrderService/GetOrder"]["post"]["responses"]["200"])


def test_invalid_json_lists_every_violation(calc: TestClient) -> None:
    r = calc.post("/CalculatorService/Add", json={"a": "two", "c": 1})
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == 400 and problem["title"]
    pointers = {e["pointer"] for e in problem["errors"]}
    # wrong type at /a, missing b (reported at the object), unknown c
    assert "/a" in pointers
    assert any("b" in e["detail"] for e in problem["errors"])
    assert any("c" in e["detail"] for e in problem["errors"])
    assert len(problem["errors"]) >= 3


def test_facets_are_enforced(calc: TestClient) -> None:
    r = calc.post("/CalculatorService/Echo", json={"text": "x" * 101})
    assert r.status_code == 400
    assert r.json()["errors"][0]["pointer"] == "/text"


def test_malformed_json(calc: TestClient) -> None:
    r = calc.post("/CalculatorService/Add", content=b'{"a": 1,', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    assert "not valid JSON" in r.json()["detail"]


def test_wrong_content_type(calc: TestClient) -> None:
    r = calc.post("/CalculatorService/Add", content=b"<a/>", headers={"content-type": "application/xml"})
    assert r.status_code == 415
    assert r.headers["content-type"] == PROBLEM


def test_unknown_route_and_method(calc: TestClient) -> None:
    r = calc.post("/CalculatorService/Nope", json={})
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    r = calc.get("/CalculatorService/Add")
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM
    assert "POST" in r.headers["allow"]


def test_body_size_limit() -> None:
    client = TestClient(mocked_bridge(sample("calculator.wsdl"), max_request_bytes=100).asgi())
    r = client.post("/CalculatorService/Echo", json={"text": "x" * 200})
    assert r.status_code == 413


def test_declared_fault_maps_to_422_with_typed_detail() -> None:
    from tests.conftest import mock_transport

    wsdl = sample("calculator.wsdl")
    b = bridge.load(wsdl, endpoint="http://mock.invalid/", transport=mock_transport(wsdl, faults={"Divide": "DivisionByZero"}))
    r = TestClient(b.asgi()).post("/CalculatorService/Divide", json={"dividend": 1, "divisor": 0})
    assert r.status_code == 422
    p = r.json()
    assert p["fault"] == "DivisionByZero"
    assert p["faultcode"].endswith("Client")
    assert set(p["detail_data"]) == {"dividend", "message"}
    assert isinstance(p["detail_data"]["dividend"], (int, float))


def test_server_fault_maps_to_502() -> None:
    from tests.conftest import mock_transport

    wsdl = sample("calculator.wsdl")
    b = bridge.load(wsdl, endpoint="http://mock.invalid/", transport=mock_transport(wsdl, faults={"Add": "server"}))
    r = TestClient(b.asgi()).post("/CalculatorService/Add", json={"a": 1, "b": 2})
    assert r.status_code == 502
    assert r.json()["faultcode"].endswith("Server")


def test_unreachable_backend_is_503() -> None:
    with socket.socket() as closed:  # bound, never listening: connecting is refused
        closed.bind(("127.0.0.1", 0))
        b = bridge.load(sample("calculator.wsdl"), endpoint=f"http://127.0.0.1:{closed.getsockname()[1]}/", connect_timeout=2.0)
        r = TestClient(b.asgi()).post("/CalculatorService/Add", json={"a": 1, "b": 2})
    assert r.status_code == 503
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "urn:soapbridge:problem:upstream:unavailable"


def _slow_app(delay: float) -> Starlette:
    async def slow(request: Request) -> Response:
        await asyncio.sleep(delay)
        return Response(b"", status_code=200)

    return Starlette(routes=[Route("/{p:path}", slow, methods=["POST"])])


def test_slow_backend_is_504() -> None:
    # No stopwatch: had the bridge waited out the 3 s, the empty 200 would be a 502 bad_reply.
    with ServerThread(_slow_app(3.0)) as server:
        b = bridge.load(sample("calculator.wsdl"), endpoint=server.url + "/", read_timeout=0.5)
        r = TestClient(b.asgi()).post("/CalculatorService/Add", json={"a": 1, "b": 2})
        assert r.status_code == 504
        assert r.json()["type"] == "urn:soapbridge:problem:upstream:timeout"


def _html_app() -> Starlette:
    async def html(request: Request) -> Response:
        return Response(b"<html><body>Service Unavailable</body></html>", status_code=503, media_type="text/html")

    return Starlette(routes=[Route("/{p:path}", html, methods=["POST"])])


def test_non_soap_reply_is_502() -> None:
    with ServerThread(_html_app()) as server:
        b = bridge.load(sample("calculator.wsdl"), endpoint=server.url + "/")
        r = TestClient(b.asgi()).post("/CalculatorService/Add", json={"a": 1, "b": 2})
        assert r.status_code == 502
        p = r.json()
        assert p["type"] == "urn:soapbridge:problem:upstream:bad_reply", p
        assert "not a SOAP envelope" in p["detail"], p


def test_spec_docs_and_health(calc: TestClient) -> None:
    spec = calc.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["openapi"] == "3.1.0"
    docs = calc.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    js = calc.get("/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert calc.get("/docs/init.js").text.count("/openapi.json") == 1
    h = calc.get("/healthz").json()
    assert h == {"status": "ok", "operations": 3}


class _Recording(httpx.AsyncBaseTransport):
    """Passes requests on to another transport, keeping each body sent: what went on the wire."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[etree._Element] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(etree.fromstring(await request.aread()))
        return await self.inner.handle_async_request(request)


def _recorded(wsdl: str, **settings: object) -> tuple[bridge.Bridge, _Recording]:
    wire = _Recording(mock_transport(sample(wsdl)))
    return bridge.load(sample(wsdl), endpoint="http://mock.invalid/soap", transport=wire, **settings), wire  # type: ignore[arg-type]


ORDERS_NS = {"soap": "http://schemas.xmlsoap.org/soap/envelope/", "o": "http://soapbridge.dev/samples/orders"}


def test_soap_headers_travel_both_ways() -> None:
    b, wire = _recorded("orders.wsdl")
    client = TestClient(b.asgi())
    r = client.post(
        "/OrderService/GetOrder",
        json={"orderId": "A-1", "$headers": {"auth": {"apiKey": "k", "tenant": "t"}}},
    )
    assert r.status_code == 200, r.text
    [envelope] = wire.sent
    auth = envelope.xpath("soap:Header/o:AuthHeader", namespaces=ORDERS_NS)
    assert [(c.tag.split("}")[1], c.text) for c in auth[0]] == [("apiKey", "k"), ("tenant", "t")]
    assert envelope.xpath("string(soap:Body/o:GetOrder/o:orderId)", namespaces=ORDERS_NS) == "A-1"
    assert list(r.json()["$headers"]) == ["info"]  # the mock's RequestInfo reply header, by part name
    assert isinstance(r.json()["$headers"]["info"]["requestId"], str)


def test_custom_route_from_config(tmp_path: object) -> None:
    from pathlib import Path

    cfg = Path(str(tmp_path)) / "bridge.yaml"
    cfg.write_text("routes:\n  Add:\n    method: GET\n    path: /add/{a}\n    query: [b]\n")
    b, wire = _recorded("calculator.wsdl", config=cfg)
    client = TestClient(b.asgi())
    r = client.get("/add/4", params={"b": "5"})
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["result"], int)
    [envelope] = wire.sent  # the path segment and the query parameter, typed, in the SOAP request
    add = envelope.xpath("soap:Body/*", namespaces=ORDERS_NS)[0]
    assert etree.QName(add).localname == "Add" and [(etree.QName(c).localname, c.text) for c in add] == [("a", "4"), ("b", "5")]
    r = client.get("/add/four", params={"b": "5"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["pointer"] == "/a"
    op = b.openapi()["paths"]["/add/{a}"]["get"]
    assert [p["name"] for p in op["parameters"]] == ["a", "b"]
    assert "requestBody" not in op


@pytest.mark.parametrize("base", ["", "/api"])
def test_home_redirects_to_the_docs(base: str) -> None:
    client = TestClient(mocked_bridge(sample("calculator.wsdl"), base_path=base).asgi())
    r = client.get(f"{base}/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == f"{base}/docs"
    assert client.get(f"{base}/").status_code == 200  # the docs page itself


def test_an_operation_at_home_keeps_it() -> None:
    b = mocked_bridge(sample("calculator.wsdl"), routes={"Echo": {"method": "POST", "path": "/"}})
    r = TestClient(b.asgi()).post("/", json={"text": "hi"})
    assert r.status_code == 200 and set(r.json()) == {"text"}
