"""Hostile clients and hostile backends (issue 12): every request's work is bounded, malformed or
oversized input gets a 4xx problem (never a 500), slow clients are dropped, large replies do not
stall the server, and neither logs floods. The entity/DTD/size/depth limits of the XML parser
itself are in test_security.py; here they are exercised end to end through the REST app.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import gzip
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

import bridge
from bridge.errors import ValidationError
from bridge.mock import MockService
from bridge.wsdl.loader import load_model
from tests.conftest import ServerThread, free_port, mock_transport, mocked_bridge, sample

PROBLEM = "application/problem+json"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
CALC_NS = "http://soapbridge.dev/samples/calculator"
# A guard against hanging forever, never an assertion on how long something took.
GUARD = 30.0


def _wait_listening(proc: subprocess.Popen[bytes], port: int) -> None:
    """Until the served app accepts connections on ``port`` (GUARD is a hang guard, not a timing)."""
    deadline = time.monotonic() + GUARD
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"soapbridge serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}") from None
            time.sleep(0.1)


class CountingTransport(httpx.AsyncBaseTransport):
    """The mock, counting the envelopes that reach it."""

    def __init__(self, wsdl: Path) -> None:
        self.inner = mock_transport(wsdl)
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.inner.handle_async_request(request)


def _problem(r: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["type"] == f"urn:soapbridge:problem:{kind}", body
    return body


# --- 3. bounded work per request ----------------------------------------------------------


@pytest.mark.parametrize("number", ["1e100000000", "1e999999999999999999", "-1E-99999999"])
def test_a_number_too_long_to_write_is_refused_before_any_work(number: str) -> None:
    """33 bytes of JSON must not become a 100 MB envelope (or a MemoryError): 400, nothing sent."""
    transport = CountingTransport(sample("calculator.wsdl"))
    b = bridge.load(sample("calculator.wsdl"), endpoint="http://mock.invalid/soap", transport=transport)
    client = TestClient(b.asgi())
    body = f'{{"dividend": {number}, "divisor": 1}}'.encode()
    r = client.post("/CalculatorService/Divide", content=body, headers={"content-type": "application/json"})
    problem = _problem(r, 400, "validation")
    assert [e["pointer"] for e in problem["errors"]] == ["/dividend"]
    assert "digits" in problem["errors"][0]["detail"]
    assert transport.calls == 0


@pytest.mark.parametrize("encoder", ["generic", "compiled", "compiled-python-writer"])
def test_every_encoder_refuses_a_number_too_long_to_write(encoder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    b = bridge.load(sample("calculator.wsdl"))
    op = b.operation("Divide")
    data = {"dividend": Decimal("1e100000000"), "divisor": Decimal("-1e-100000000")}
    if encoder == "compiled-python-writer":  # the Python writers (_pycodec) the C writer (_ccodec) stands in for
        import bridge.compiled as compiled
        from bridge import _pycodec

        monkeypatch.setattr(compiled, "LOOPS", _pycodec)
    with pytest.raises(ValidationError) as info:
        if encoder == "generic":
            b.codec.encode_message(op, op.input, data)  # type: ignore[arg-type]
        else:
            b.compiled.encode_request(op, data)
    assert info.value.violations[0].pointer in ("/dividend", "/divisor")
    # Numbers of ordinary length are written out in full, as before.
    ordinary = {"dividend": Decimal("12345678901234567890.5"), "divisor": Decimal("1E+30")}
    assert b">12345678901234567890.5<" in b.compiled.encode_request(op, ordinary)
    assert b">1000000000000000000000000000000<" in b.compiled.encode_request(op, ordinary)


def test_the_envelope_is_limited_like_the_body() -> None:
    """Escaping makes "&" five bytes: a body under max_request_bytes can encode to an envelope
    over it. That is a 413 too, and nothing is sent."""
    transport = CountingTransport(sample("calculator.wsdl"))
    b = bridge.load(sample("calculator.wsdl"), endpoint="http://mock.invalid/soap", transport=transport, max_request_bytes=600)
    client = TestClient(b.asgi())
    r = client.post("/CalculatorService/Echo", json={"text": "&" * 100})
    assert len(json.dumps({"text": "&" * 100})) < 600
    problem = _problem(r, 413, "too-large")
    assert "600" in problem["detail"]
    assert transport.calls == 0
    assert client.post("/CalculatorService/Echo", json={"text": "a" * 100}).status_code == 200


# --- 5. JSON threat limits ------------------------------------------------------------------


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.fixture(scope="module")
def calc() -> TestClient:
    return TestClient(mocked_bridge(sample("calculator.wsdl")).asgi())


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        pytest.param(f'{{"dividend": {_nested(255)}, "divisor": 1}}', "/dividend" + "/0" * 49, id="255-deep"),
        pytest.param(f'{{"dividend": 1, "divisor": 1, "x": {_nested(1000)}}}', "", id="1000-deep"),
        pytest.param(_nested(100_000), "", id="100000-deep"),
        pytest.param('{"dividend": 1, "divisor": 1, "x": ' + '{"a":' * 300 + "1" + "}" * 300 + "}", "/x" + "/a" * 49, id="objects-300-deep"),
        pytest.param('{"dividend": "\\ud800", "divisor": 1}', "/dividend", id="lone-surrogate-value"),
        pytest.param('{"\\udfff": 1, "dividend": 1, "divisor": 1}', "", id="lone-surrogate-key"),
        pytest.param('{"dividend": 1, "divisor": 1, "x": ["a", "\\ud800\\u0041"]}', "/x/1", id="lone-surrogate-in-array"),
        pytest.param(b'{"dividend": "\xed\xa0\x80", "divisor": 1}', "/dividend", id="utf8-encoded-surrogate"),
        pytest.param('{"dividend": 1, "divisor": 1, "x": "' + "a" * (256 * 1024 + 1) + '"}', "/x", id="string-over-256KiB"),
        pytest.param('{"dividend": 1, "divisor": 1, "' + "k" * 257 + '": 1}', "", id="key-over-256"),
        pytest.param(json.dumps({"dividend": 1, "divisor": 1, "x": list(range(1001))}), "/x", id="1001-items"),
        pytest.param(json.dumps({"dividend": 1, "divisor": 1, **{f"k{i}": i for i in range(1001)}}), "", id="1001-keys"),
    ],
)
def test_json_over_a_threat_limit_is_a_400_problem(calc: TestClient, body: str | bytes, pointer: str) -> None:
    r = calc.post("/CalculatorService/Divide", content=body if isinstance(body, bytes) else body.encode(), headers={"content-type": "application/json"})
    problem = _problem(r, 400, "json-limit")
    assert problem["errors"] == [{"pointer": pointer, "detail": problem["errors"][0]["detail"]}]


def test_json_limits_are_configurable() -> None:
    client = TestClient(mocked_bridge(sample("calculator.wsdl"), json_limits={"max_items": 3, "max_depth": 2}).asgi())
    r = client.post("/CalculatorService/Divide", json={"dividend": 1, "divisor": 1, "x": [1, 2, 3, 4]})
    assert "over the limit of 3" in _problem(r, 400, "json-limit")["detail"]
    r = client.post("/CalculatorService/Divide", json={"dividend": 1, "divisor": 1, "x": [[[1]]]})
    assert "deeper than the limit of 2" in _problem(r, 400, "json-limit")["detail"]
    # Within the limits: on to schema validation (x is not a field of Divide).
    r = client.post("/CalculatorService/Divide", json={"dividend": 1, "divisor": 1, "x": [1, 2, 3]})
    _problem(r, 400, "validation")
    with pytest.raises(bridge.ConfigError, match=r"json_limits\.max_depth"):
        bridge.load(sample("calculator.wsdl"), json_limits={"max_depth": 0})


def test_deep_data_from_a_library_caller_is_a_validation_error() -> None:
    """jsonschema_rs gives up at about 250 levels with a ValueError; callers get a ValidationError."""
    b = bridge.load(sample("calculator.wsdl"))
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    with pytest.raises(ValidationError):
        b.encode_request("Divide", {"dividend": deep, "divisor": 1})


def test_valid_unicode_passes_the_surrogate_check(calc: TestClient) -> None:
    """A surrogate pair is one character (here U+1F600), not a lone surrogate."""
    r = calc.post("/CalculatorService/Echo", content=b'{"text": "\\ud83d\\ude00 \xed\x9f\xbf"}', headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text


# --- 7. log flooding -----------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.event = threading.Event()

        self.loggers = [logging.getLogger(n) for n in ("uvicorn.error", "soapbridge")]

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.event.set()

    def attach(self) -> None:
        """(Again:) uvicorn's logging set-up, when a server starts, drops its loggers' handlers."""
        for lg in self.loggers:
            if self not in lg.handlers:
                lg.addHandler(self)
            lg.setLevel(logging.INFO)


@pytest.fixture
def records() -> Iterator[_Records]:
    handler = _Records()
    levels = [lg.level for lg in handler.loggers]
    handler.attach()
    yield handler
    for lg, level in zip(handler.loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def _raw(port: int, data: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
    s.sendall(data)
    return s


def test_a_client_leaving_mid_upload_costs_one_short_line(records: _Records) -> None:
    with ServerThread(mocked_bridge(sample("calculator.wsdl")).asgi()) as server:
        records.attach()
        for _ in range(3):
            s = _raw(server.port, b"POST /CalculatorService/Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"a\": 1,")
            time.sleep(0.05)  # lets the app start reading the body (only makes the case realistic)
            s.close()
        # Some record arrives (with the fix: the one INFO line); then a full request, so that
        # anything the server would log for the disconnects has been logged.
        assert records.event.wait(GUARD)
        assert httpx.get(server.url + "/healthz", timeout=GUARD).status_code == 200
        assert httpx.post(server.url + "/CalculatorService/Add", json={"a": 1, "b": 2}, timeout=GUARD).status_code == 200
        logged = list(records.records)  # not the server's shutdown lines
    tracebacks = [r for r in logged if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
    # What the server logs per request (not -v's line for the good call, nor the cache's at load).
    lines = [r for r in logged if r.name in ("uvicorn.error", "soapbridge.app")]
    assert len(lines) <= 3 and all("\n" not in r.getMessage() for r in lines), [r.getMessage() for r in lines]


def test_every_500_is_logged_once(records: _Records) -> None:
    b = mocked_bridge(sample("calculator.wsdl"))

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    b.acall = broken  # type: ignore[method-assign]
    with ServerThread(b.asgi()) as server:
        records.attach()
        r = httpx.post(server.url + "/CalculatorService/Add", json={"a": 1, "b": 2}, timeout=GUARD)
        _problem(r, 500, "internal")
        assert "a bug" not in r.text and "Traceback" not in r.text
        assert httpx.get(server.url + "/healthz", timeout=GUARD).status_code == 200
        logged = list(records.records)
    tracebacks = [r for r in logged if r.exc_info]
    assert len(tracebacks) == 1, [r.getMessage() for r in logged]


# --- 4. slow and greedy clients, against `soapbridge serve` ------------------------------


SERVER_LIMITS = {"header_timeout": 1, "body_timeout": 1, "keepalive_timeout": 1, "max_connections": 16, "max_header_bytes": 2048}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`soapbridge serve` with short client timeouts (a config file), in a process of its own."""
    config = tmp_path_factory.mktemp("serve") / "config.json"
    config.write_text(json.dumps({"server": SERVER_LIMITS}))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", str(sample("calculator.wsdl")), "--port", str(port), "--config", str(config),
         "--backend", "http://127.0.0.1:9/", "--log-level", "warning"],  # warning: no line per request into the unread pipe
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(proc, port)
        yield port
    finally:
        proc.terminate()
        proc.wait(GUARD)


def _read_all(s: socket.socket) -> bytes:
    """Everything until the server closes the connection (the guard timeout raises)."""
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except ConnectionResetError:  # closed with our bytes unread: the answer may be lost, the close is not
        pass
    return data


def _healthy(port: int) -> None:
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=GUARD).status_code == 200


def test_a_silent_connection_is_closed(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=GUARD) as s:
        assert _read_all(s).startswith(b"HTTP/1.1 408 ")


def test_headers_sent_a_byte_at_a_time_are_cut_off(served: int) -> None:
    """Slowloris: each byte restarts no timer; the headers have header_timeout in all."""
    with socket.create_connection(("127.0.0.1", served), timeout=GUARD) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for _ in range(int(GUARD / 0.1)):
            try:
                s.sendall(b"X")
            except OSError:
                closed = True
                break
            time.sleep(0.1)
            s.setblocking(False)
            try:
                if s.recv(65536) is not None:
                    closed = True
                    break
            except BlockingIOError:
                pass
            finally:
                s.setblocking(True)
        assert closed
    _healthy(served)


def test_a_body_sent_a_byte_at_a_time_is_cut_off(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=GUARD) as s:
        s.sendall(b"POST /CalculatorService/Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        answer = b""
        for _ in range(int(GUARD / 0.1)):
            try:
                s.sendall(b" ")
            except OSError:
                break
            time.sleep(0.1)
            s.setblocking(False)
            try:
                answer = s.recv(65536)
                break
            except BlockingIOError:
                pass
            finally:
                s.setblocking(True)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"application/problem+json" in answer


@pytest.mark.parametrize("complete", [True, False], ids=["complete", "endless"])
def test_oversized_headers_are_refused(served: int, complete: bool) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 4096 + b"\r\n"
    with socket.create_connection(("127.0.0.1", served), timeout=GUARD) as s:
        s.sendall(head + (b"\r\n" if complete else b"X-More: b"))
        assert _read_all(s).startswith(b"HTTP/1.1 431 ")
    # A request within the limit is served.
    with socket.create_connection(("127.0.0.1", served), timeout=GUARD) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 1024 + b"\r\nConnection: close\r\n\r\n")
        assert _read_all(s).startswith(b"HTTP/1.1 200 ")


def test_an_idle_kept_alive_connection_is_closed(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=GUARD) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _read_all(s)  # the 200, then the close after keepalive_timeout
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1") == 1


def test_connections_over_the_cap_are_refused_and_slowloris_clients_dropped(served: int) -> None:
    """Many slowloris clients: those over the cap get a 503 at once, the rest are closed after
    the header timeout, and the server serves normal calls again."""
    socks = [socket.create_connection(("127.0.0.1", served), timeout=GUARD) for _ in range(SERVER_LIMITS["max_connections"] + 8)]
    try:
        answers = [_read_all(s) for s in socks]  # every one is closed by the server
    finally:
        for s in socks:
            s.close()
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 503 ")]
    timed_out = [a for a in answers if a.startswith(b"HTTP/1.1 408 ")]
    assert len(refused) >= 8 and len(refused) + len(timed_out) == len(socks)
    _healthy(served)


def test_a_low_open_file_limit_lowers_the_cap_instead_of_failing_calls(tmp_path: Path) -> None:
    """With 300 open files (hard limit) and 400 idle clients, the server lowers its cap below the
    limit (and says so), refuses the clients over it, and, once they are dropped, calls reach
    the SOAP service again: no file-descriptor exhaustion."""
    import resource

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"server": {**SERVER_LIMITS, "max_connections": 1000}}))
    port = free_port()
    with ServerThread(MockService(load_model(sample("calculator.wsdl"))).asgi()) as backend:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve", str(sample("calculator.wsdl")), "--port", str(port), "--config", str(config),
             "--backend", backend.url + "/", "--log-level", "warning"],
            stderr=subprocess.PIPE,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300)),
        )
        try:
            _wait_listening(proc, port)
            socks = [socket.create_connection(("127.0.0.1", port), timeout=GUARD) for _ in range(400)]
            try:
                answers = [_read_all(s) for s in socks]
            finally:
                for s in socks:
                    s.close()
            assert sum(a.startswith(b"HTTP/1.1 503 ") for a in answers) >= 400 - 300
            r = httpx.post(f"http://127.0.0.1:{port}/CalculatorService/Add", json={"a": 1, "b": 2}, timeout=GUARD)
            assert r.status_code == 200, r.text
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=GUARD)
    assert b"open-file limit is 300" in err, err


def test_server_limits_are_validated() -> None:
    with pytest.raises(bridge.ConfigError, match=r"server\.header_timeout"):
        bridge.load(sample("calculator.wsdl"), server={"header_timeout": -1})
    with pytest.raises(bridge.ConfigError, match="server: unknown"):
        bridge.load(sample("calculator.wsdl"), server={"header_timout": 1})


# --- 6. large legal replies ------------------------------------------------------------------


def _orders_reply(orders: int) -> bytes:
    """A legal ListOrders reply: the mock's first order, repeated."""
    from lxml import etree

    b = mocked_bridge(sample("orders.wsdl"))
    op = b.operation("ListOrders")
    body = b.encode_request(op, {})
    from bridge.envelope import http_headers

    async def ask() -> bytes:
        async with httpx.AsyncClient(transport=mock_transport(sample("orders.wsdl"), seed=1), base_url="http://m") as c:
            return (await c.post("/", content=body, headers=http_headers(op.soap_version, op.soap_action))).content

    root = etree.fromstring(asyncio.run(ask()))
    found = [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "order"]
    parent = found[0].getparent()
    assert parent is not None
    for extra in found[1:]:
        parent.remove(extra)
    one = etree.tostring(found[0])
    for _ in range(orders - 1):
        parent.append(etree.fromstring(one))
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return data


def test_healthz_answers_while_a_large_reply_is_decoded() -> None:
    """The decode of a large reply is held until /healthz has answered: on the event loop that
    would never happen (the guard timeout fails the test), off it /healthz answers at once."""
    from bridge import gcpause
    from bridge.facade import OFFLOAD_BYTES

    big = _orders_reply(1500)
    assert len(big) > OFFLOAD_BYTES

    async def soap(request: Request) -> Response:
        await request.body()
        return Response(big, media_type="text/xml")

    decoding, release = threading.Event(), threading.Event()
    with ServerThread(Starlette(routes=[Route("/", soap, methods=["POST"])])) as backend:
        b = bridge.load(sample("orders.wsdl"), endpoint=backend.url + "/")
        decode = b.decode_response

        collector: list[tuple[bool, int]] = []

        def held(*args: Any, **kwargs: Any) -> Any:
            collector.append((gc.isenabled(), gcpause.held()))
            decoding.set()
            release.wait(GUARD)
            return decode(*args, **kwargs)

        b.decode_response = held  # type: ignore[method-assign]
        with ServerThread(b.asgi()) as server:
            result: list[httpx.Response] = []
            call = threading.Thread(target=lambda: result.append(httpx.post(server.url + "/OrderService/ListOrders", json={}, timeout=GUARD * 2)))
            call.start()
            try:
                assert decoding.wait(GUARD)
                health = httpx.get(server.url + "/healthz", timeout=GUARD / 3)
                assert not release.is_set()  # answered while the decode was still held
                assert health.status_code == 200
            finally:
                release.set()
                call.join(GUARD * 2)
            assert result[0].status_code == 200, result[0].text
            assert len(result[0].json()["order"]) == 1500
            assert result[0].json() == json.loads(json.dumps(decode(b.operation("ListOrders"), big)))  # written in pieces, the same
        # the collector was held off while the reply was decoded, and is back once it was written
        assert collector == [(False, 1)] and gcpause.held() == 0 and gc.isenabled()
        kept = asyncio.run(b.acall("ListOrders", {}))  # a library caller: not held while it keeps the result
        assert len(kept["order"]) == 1500 and gcpause.held() == 0 and gc.isenabled()
        assert collector[1:] == [(False, 1)]


def test_a_large_reply_decoded_while_parsed_equals_the_whole_tree_decode() -> None:
    """bridge.streaming against the whole-tree decode it replaces (several batches, a last
    partial one), and the shapes it leaves to the whole tree: a fault and SOAP headers."""
    from bridge import streaming
    from bridge.envelope import parse

    b = bridge.load(sample("orders.wsdl"))
    op = b.operation("ListOrders")
    reply = _orders_reply(streaming.BATCH * 2 + 7)
    env = parse(reply, max_bytes=len(reply), max_depth=256)
    whole = b.compiled.decode_message(op, op.output, env.body_children, env.header_children)  # type: ignore[arg-type]
    streamed = streaming.decode_streaming(b.compiled, op, reply, max_depth=256, what="the reply")
    assert streamed == whole and list(streamed) == list(whole) and len(whole["order"]) == streaming.BATCH * 2 + 7
    assert b.decode_response(op, reply) == whole
    with_header = reply.replace(b"<soap:Body>", b"<soap:Header/><soap:Body>", 1)
    assert streaming.decode_streaming(b.compiled, op, with_header, max_depth=256, what="the reply") is None
    assert b.decode_response(op, with_header) == whole
    fault = (
        f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault><faultcode>s:Server</faultcode>'
        f"<faultstring>{'x' * 300_000}</faultstring></s:Fault></s:Body></s:Envelope>"
    ).encode()
    with pytest.raises(bridge.SoapFault):
        b.decode_response(op, fault)
    deep = bridge.load(sample("orders.wsdl"), max_xml_depth=6)
    with pytest.raises(bridge.UpstreamError, match="deeper than the limit of 6"):
        deep.decode_response(op, reply)


def _broken_orders(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with breaks in several items (first chunk, middle, last partial chunk) and at the root."""
    bad = copy.deepcopy(data)
    orders = bad["order"]
    orders[3]["orderId"] = 123  # type
    orders[700]["status"] = "LOST"  # enum
    orders[700]["customer"]["zzz"] = "x"  # a closed object, inside a oneOf/anyOf of derived types
    del orders[len(orders) - 2]["orderDate"]  # required, if it is; else nothing
    orders[-1]["extra"] = 1  # unevaluatedProperties
    bad["surplus"] = True  # at the root
    return bad


def test_a_large_reply_validated_in_pieces_equals_whole_validation(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """bridge.pieces: the long array checked a chunk per jsonschema_rs call (so the GIL is handed
    over between chunks) gives the verdict, errors and pointers of one call on the whole reply,
    strict and lax; python-jsonschema, an independent validator, agrees on the pointers."""
    import jsonschema

    from bridge import pieces

    b = bridge.load(sample("orders.wsdl"))
    op = b.operation("ListOrders")
    n = pieces.MIN_ITEMS + pieces.CHUNK * 2 + 7
    data = b.decode_response(op, _orders_reply(n))  # valid: the chunked check found nothing
    assert len(data["order"]) == n
    found = pieces.Pieces  # the validators are called a chunk at a time
    got = b._in_pieces(op, data)
    assert isinstance(got, found) and list(got.items) == [("order",)]
    sizes: list[int] = []
    real = got.items[("order",)]

    class Counting:
        def is_valid(self, chunk: Any) -> bool:
            sizes.append(len(chunk))
            return bool(real.is_valid(chunk))

        def iter_errors(self, chunk: Any) -> Any:
            return real.iter_errors(chunk)

    got.items[("order",)] = Counting()
    b._check_output(op, data)
    assert sizes and max(sizes) <= pieces.CHUNK and sum(sizes) == n
    got.items[("order",)] = real

    bad = _broken_orders(data)
    whole_v = b._validator(op, "Response")
    doc = b._documents[f"{id(op)}:Response"]
    assert whole_v.is_valid(data) and not whole_v.is_valid(bad)
    whole = [(list(e.instance_path), e.message) for e in whole_v.iter_errors(bad)]
    parts = [(f.path(f.error.instance_path), f.error.message) for f in got.errors(bad)]
    assert sorted(map(str, parts)) == sorted(map(str, whole)) and len(whole) >= 5
    independent = {tuple(e.absolute_path) for e in jsonschema.Draft202012Validator(doc).iter_errors(bad)}
    assert {tuple(p) for p, _ in parts} == independent
    assert list(jsonschema.Draft202012Validator(doc).iter_errors(data)) == []

    lax = bridge.load(sample("orders.wsdl"), reply_validation="lax")
    lax_op = lax.operation("ListOrders")

    def outcome() -> tuple[str, list[str]]:
        caplog.clear()
        with pytest.raises(bridge.UpstreamError) as strict:
            b._check_output(op, bad)
        with caplog.at_level(logging.WARNING, logger="bridge"):
            lax._check_output(lax_op, bad)
        return str(strict.value), [r.getMessage() for r in caplog.records]

    in_pieces = outcome()
    monkeypatch.setattr(pieces, "MIN_ITEMS", 10**9)  # validated whole, in one call
    assert b._in_pieces(op, bad) is None
    assert outcome() == in_pieces and "/order/700" in in_pieces[0] and in_pieces[1]


def test_a_large_result_is_written_and_freed_in_pieces() -> None:
    """app.dumps_in_pieces writes what dumps writes in one orjson call, byte for byte (and what
    the json module reads back); what orjson refuses goes to the json module whole, as in dumps.
    free_in_pieces leaves nothing behind."""
    from bridge import app

    b = bridge.load(sample("orders.wsdl"))
    op = b.operation("ListOrders")
    data = b.decode_response(op, _orders_reply(app.PIECE * 2 + 3))
    data["extra"] = {"nested": [{"n": i, "s": "é\u2028\"", "d": Decimal("1.50")} for i in range(app.PIECE + 1)], "empty": []}
    written = app.dumps_in_pieces(data)
    assert written == app.dumps(data)
    assert json.loads(written)["order"] == json.loads(json.dumps(data["order"]))
    assert len(json.loads(written)["extra"]["nested"]) == app.PIECE + 1
    data["big"] = [2**70] * (app.PIECE + 5)  # beyond 64 bits: orjson refuses it
    assert app.dumps_in_pieces(data) == app.dumps(data) and json.loads(app.dumps(data))["big"][0] == 2**70
    odd = {"a": {1: "x"}, "b": list(range(app.PIECE + 1))}  # a key that is not a string: json, whole
    assert app.dumps_in_pieces(odd) == app.dumps(odd) and json.loads(app.dumps(odd))["a"] == {"1": "x"}
    orders = data["order"]
    app.free_in_pieces(data)
    assert data == {} and orders == []


# --- XML threats from a hostile backend, end to end (they already held: keep them so) ----


def _envelope(inner: bytes, prolog: bytes = b"", pad: int = 0) -> bytes:
    """An AddResponse around ``inner``; ``pad`` bytes of whitespace make it a large reply (decoded
    while parsed, bridge.streaming)."""
    return (
        prolog + f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><c:AddResponse xmlns:c="{CALC_NS}">'.encode() + b" " * pad + b"<c:result>"
        + inner + b"</c:result></c:AddResponse></s:Body></s:Envelope>"
    )


@pytest.fixture(scope="module")
def hostile_backend() -> Iterator[tuple[ServerThread, dict[str, Any]]]:
    """A SOAP 'service' answering whatever reply the test put in state["reply"], and noting any
    request for another path (a DTD or entity the bridge should never fetch)."""
    state: dict[str, Any] = {"reply": b"", "headers": {}, "fetched": []}

    async def soap(request: Request) -> Response:
        await request.body()
        return Response(state["reply"], media_type="text/xml", headers=state["headers"])

    async def other(request: Request) -> Response:
        state["fetched"].append(request.url.path)
        return Response(b'<!ENTITY x "pwned">', media_type="application/xml-dtd")

    app = Starlette(routes=[Route("/", soap, methods=["POST"]), Route("/{path:path}", other, methods=["GET"])])
    with ServerThread(app) as server:
        yield server, state


def _gzip_bomb() -> bytes:
    return gzip.compress(_envelope(b"1" + b" " * (80 * 1024 * 1024)), compresslevel=9)


_THREATS = ["internal-entity-bomb", "xxe-file", "xxe-network", "external-dtd", "reply-60MB", "reply-10000-deep", "gzip-bomb"]


@pytest.mark.parametrize(
    ("case", "large"),
    [(c, False) for c in _THREATS] + [(c, True) for c in _THREATS if c not in ("reply-60MB", "gzip-bomb")],
    ids=lambda v: v if isinstance(v, str) else ("large" if v else "small"),
)
def test_hostile_replies_are_a_502_and_touch_nothing(hostile_backend: tuple[ServerThread, dict[str, Any]], case: str, large: bool) -> None:
    """Each threat as a small reply (parsed whole) and as a large one (decoded while parsed)."""
    from bridge.facade import OFFLOAD_BYTES

    pad = OFFLOAD_BYTES if large else 0
    server, state = hostile_backend
    url = server.url
    lol = b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    ) + b"]>"
    replies = {
        "internal-entity-bomb": lambda: (_envelope(b"&i;", lol, pad), {}),
        "xxe-file": lambda: (_envelope(b"&x;", b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', pad), {}),
        "xxe-network": lambda: (_envelope(b"&x;", f'<!DOCTYPE r [<!ENTITY x SYSTEM "{url}/entity">]>'.encode(), pad), {}),
        "external-dtd": lambda: (_envelope(b"1", f'<!DOCTYPE r SYSTEM "{url}/evil.dtd">'.encode(), pad), {}),
        "reply-60MB": lambda: (_envelope(b"1" + b" " * (60 * 1024 * 1024)), {}),
        "reply-10000-deep": lambda: (_envelope(b"<x>" * 10_000 + b"</x>" * 10_000, pad=pad), {}),
        "gzip-bomb": lambda: (_gzip_bomb(), {"content-encoding": "gzip"}),
    }
    state["reply"], state["headers"] = replies[case]()
    state["fetched"].clear()
    b = bridge.load(sample("calculator.wsdl"), endpoint=url + "/")
    with TestClient(b.asgi()) as client:
        r = client.post("/CalculatorService/Add", json={"a": 1, "b": 2})
    _problem(r, 502, "upstream:bad_reply")
    assert "passwd" not in r.text and "pwned" not in r.text and "root:" not in r.text
    assert state["fetched"] == []


# --- fuzzing: schemathesis negative data and hostile JSON, never a 500 -------------------


@pytest.mark.parametrize("wsdl", ["calculator.wsdl", "orders.wsdl", "rpc-literal.wsdl", "interop.wsdl"])
def test_schemathesis_negative_data_never_gets_a_500(wsdl: str) -> None:
    """schemathesis' negative mode (bounded) on every operation of every sample: no 500.
    tests/test_contract.py runs the full positive and negative contract under the slow marker."""
    import hypothesis
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/openapi.json", mocked_bridge(sample(wsdl)).asgi())
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(
            max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(hypothesis.HealthCheck)
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
        def run(case: schemathesis.Case) -> None:
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path}: {response.status_code} {response.text[:200]}")

        run()
    assert not failures, failures


class _Raw(str):
    """A number literal written as is (json cannot hold 1e100000000 as a float)."""


def _write(v: Any) -> str:
    if isinstance(v, _Raw):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + _write(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_write(x) for x in v) + "]"
    return json.dumps(v)  # ensure_ascii: a lone surrogate becomes a \ud800 escape


def _hostile_json() -> Any:
    from hypothesis import strategies as st

    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(alphabet=st.characters(codec=None, categories=["Cs", "L", "N", "P", "Zs"]), max_size=20),
        st.sampled_from(["1e100000000", "-1E-99999999", "1e999999999999999999", "123456789012345678901234567890.5"]).map(_Raw),
    )
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


@pytest.mark.parametrize("wsdl", ["calculator.wsdl", "orders.wsdl"])
def test_hostile_json_bodies_never_get_a_500(wsdl: str) -> None:
    """Random JSON with lone surrogates, huge exponents and deep nesting at every operation, in
    place of a real field's value and as the whole body: never a 500."""
    import hypothesis
    from hypothesis import strategies as st

    b = mocked_bridge(sample(wsdl))
    client = TestClient(b.asgi())
    spec = b.openapi()
    fields = {}
    for op in b.routed:
        if op.http_method == "POST":
            example = spec["paths"][op.path]["post"]["requestBody"]["content"]["application/json"].get("example") or {"x": 1}
            fields[op.path] = example
    seen: list[int] = []

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(path=st.sampled_from(sorted(fields)), value=_hostile_json(), depth=st.integers(0, 1200), as_field=st.booleans())
    def run(path: str, value: Any, depth: int, as_field: bool) -> None:
        text = "[" * depth + _write(value) + "]" * depth
        if as_field:
            example = fields[path]
            text = "{" + ",".join(json.dumps(k) + ":" + (text if i == 0 else json.dumps(v)) for i, (k, v) in enumerate(example.items())) + "}"
        r = client.post(path, content=text.encode(), headers={"content-type": "application/json"})
        seen.append(r.status_code)
        assert r.status_code != 500, r.text

    run()
    assert any(400 <= s < 500 for s in seen)
