"""The upstream side under hostile backends (issue 12): a deadline per call, no endpoint address or
credentials in problem bodies or logs, no socket leaked per event loop, one safe retry on a stale
pooled connection, the call cancelled when the REST client leaves, outcomes in the log, and no reply
values in the log under ``reply_validation: lax``.

The backends are small socket servers on 127.0.0.1 written here, each misbehaving one way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import bridge
from bridge.client import Reply, SoapClient
from bridge.errors import UpstreamError
from bridge.settings import make_settings
from tests.conftest import ServerThread, free_port, sample

PROBLEM = "application/problem+json"
ADD_REPLY = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    b'<c:AddResponse xmlns:c="http://soapbridge.dev/samples/calculator"><c:result>5</c:result></c:AddResponse>'
    b"</s:Body></s:Envelope>"
)


def read_request(conn: socket.socket) -> bytes | None:
    """One HTTP/1.1 request (head and Content-Length body) from a connection; None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def http_reply(body: bytes, status: str = "200 OK", content_type: str = "text/xml; charset=utf-8") -> bytes:
    """A keep-alive reply: HTTP/1.1 with Content-Length and no ``Connection: close``."""
    return f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


class RawServer:
    """A hostile HTTP backend: ``handler(server, conn)`` runs for each TCP connection in a thread."""

    def __init__(self, handler: Callable[[RawServer, socket.socket], None]) -> None:
        self.handler = handler
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/soap"
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self.conns: list[socket.socket] = []

    def count_request(self) -> None:
        with self.lock:
            self.requests += 1

    def __enter__(self) -> RawServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handler(self, conn)
        except OSError:
            pass
        finally:
            conn.close()

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.sock.close()
        with self.lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


def _answer(server: RawServer, conn: socket.socket) -> None:
    """A well-behaved keep-alive backend."""
    while (request := read_request(conn)) is not None:
        server.count_request()
        if b"<drip" in request:
            _drip(server, conn, http_reply(ADD_REPLY))
            return
        conn.sendall(http_reply(ADD_REPLY))


def _drip(server: RawServer, conn: socket.socket, data: bytes, *, skip_head: bool = False) -> None:
    """Sends ``data`` a byte every 0.1 s, each gap well within the read timeout: never a read
    timeout, and 40 bytes take 4 s, far beyond the 1 s deadlines below."""
    if skip_head:
        head, _, data = data.partition(b"\r\n\r\n")
        conn.sendall(head + b"\r\n\r\n")
    for byte in data[:40]:
        if server.stopping.wait(0.1):
            return
        conn.sendall(bytes([byte]))


def drip_handler(where: str) -> Callable[[RawServer, socket.socket], None]:
    def handler(server: RawServer, conn: socket.socket) -> None:
        if read_request(conn) is not None:
            server.count_request()
            _drip(server, conn, http_reply(ADD_REPLY), skip_head=where == "body")

    return handler


# --- 1. an overall deadline per call ------------------------------------------------------------

DRIPS = ["status line", "body"]


@pytest.mark.parametrize("where", DRIPS)
def test_a_slow_drip_backend_gets_504_at_the_default_deadline_over_rest(where: str) -> None:
    """The default deadline is connect_timeout + read_timeout (here 1 s)."""
    with RawServer(drip_handler(where)) as server:
        b = bridge.load(sample("calculator.wsdl"), endpoint=server.url, connect_timeout=0.5, read_timeout=0.5)
        r = TestClient(b.asgi()).post("/CalculatorService/Add", json={"a": 2, "b": 3})
    assert r.status_code == 504, r.text
    assert r.json()["type"] == "urn:soapbridge:problem:upstream:timeout"
    assert "call deadline of 1 s" in r.json()["detail"]


@pytest.mark.parametrize("where", DRIPS)
def test_a_slow_drip_backend_times_out_at_call_timeout_on_the_sync_path(where: str) -> None:
    with RawServer(drip_handler(where)) as server:
        b = bridge.load(sample("calculator.wsdl"), endpoint=server.url, read_timeout=5, call_timeout=0.8)
        with b, pytest.raises(UpstreamError) as exc:
            b.call("Add", {"a": 2, "b": 3})
    assert exc.value.kind == "timeout"
    assert "call deadline of 0.8 s" in str(exc.value)


def test_a_full_pool_is_refused_as_busy_and_logged_then_frees_at_the_deadline(caplog: pytest.LogCaptureFixture) -> None:
    """Two drips hold both connections; a third call gets no connection within connect_timeout: a
    503 saying the connections are busy, and a warning, not a silent 504. After the deadline has cut
    the drips, calls go through again."""
    caplog.set_level(logging.WARNING, logger="soapbridge")
    client = SoapClient(make_settings(max_connections=2, connect_timeout=0.3, read_timeout=0.5, call_timeout=1.0))
    with RawServer(_answer) as server:

        async def main() -> tuple[list[object], bytes]:
            try:
                drips = [asyncio.ensure_future(client.apost(server.url, b"<drip/>", {}, what="Add")) for _ in range(2)]
                await asyncio.sleep(0)  # both drips have started
                third = await asyncio.gather(client.apost(server.url, b"<x/>", {}, what="Add"), return_exceptions=True)
                results: list[object] = [*await asyncio.gather(*drips, return_exceptions=True), *third]
                after = await client.apost(server.url, b"<x/>", {}, what="Add")
                return results, after.body
            finally:
                await client.aclose()

        results, after = asyncio.run(main())
    first, second, third = results
    assert isinstance(first, UpstreamError) and first.kind == "timeout" and "deadline" in str(first)
    assert isinstance(second, UpstreamError) and second.kind == "timeout"
    assert isinstance(third, UpstreamError) and third.kind == "unavailable"
    assert "all 2 connections to the SOAP service are busy" in str(third)
    assert "all 2 connections to 127.0.0.1:" in caplog.text
    assert after == ADD_REPLY


def test_a_full_pool_is_refused_as_busy_on_the_sync_path() -> None:
    client = SoapClient(make_settings(max_connections=1, connect_timeout=0.3, read_timeout=0.5, call_timeout=1.0))
    with RawServer(_answer) as server:
        drip: list[object] = []
        t = threading.Thread(target=lambda: drip.append(_outcome(lambda: client.post(server.url, b"<drip/>", {}, what="Add"))))
        t.start()
        while server.requests == 0 and t.is_alive():  # the drip holds the only connection
            time.sleep(0.01)
        busy = _outcome(lambda: client.post(server.url, b"<x/>", {}, what="Add"))
        t.join()
        after = _outcome(lambda: client.post(server.url, b"<x/>", {}, what="Add"))
        client.close()
    assert isinstance(busy, UpstreamError) and busy.kind == "unavailable" and "all 1 connections" in str(busy)
    assert isinstance(drip[0], UpstreamError) and drip[0].kind == "timeout" and "deadline" in str(drip[0])
    assert isinstance(after, Reply) and after.body == ADD_REPLY


# --- 2. no endpoint address or credentials in problem bodies, none of the credentials in logs ---


def _silent(server: RawServer, conn: socket.socket) -> None:
    read_request(conn)
    server.stopping.wait(5)


def _huge(server: RawServer, conn: socket.socket) -> None:
    if read_request(conn) is not None:
        conn.sendall(http_reply(b"<x>" + b"y" * 5000 + b"</x>"))


def _garbage(server: RawServer, conn: socket.socket) -> None:
    if read_request(conn) is not None:
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")


FAILURES: dict[str, tuple[Callable[[RawServer, socket.socket], None] | None, str]] = {
    "refused": (None, "unavailable"),
    "timeout": (_silent, "timeout"),
    "too large": (_huge, "bad_reply"),
    "framing": (_garbage, "unavailable"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_credentials_and_address_never_reach_the_caller(failure: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="soapbridge")
    handler, kind = FAILURES[failure]
    server = RawServer(handler or _silent)
    port = server.port if handler else free_port()
    if handler is None:
        server.sock.close()  # nothing listens there
    endpoint = f"http://soapuser:s3cretPW@127.0.0.1:{port}/internal/path"
    with server:
        b = bridge.load(sample("calculator.wsdl"), endpoint=endpoint, read_timeout=0.5, max_reply_bytes=1000)
        r = TestClient(b.asgi()).post("/CalculatorService/Add", json={"a": 2, "b": 3})
        with b, pytest.raises(UpstreamError) as exc:
            b.call("Add", {"a": 2, "b": 3})
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["type"] == f"urn:soapbridge:problem:upstream:{kind}", problem
    assert exc.value.kind == kind
    for text in (r.text, str(exc.value)):
        for secret in ("s3cretPW", "soapuser", "127.0.0.1", str(port), "/internal/path"):
            assert secret not in text, (secret, text)
    assert "Add" in problem["detail"]  # the operation, and the kind of failure
    assert "s3cretPW" not in caplog.text and "soapuser" not in caplog.text


# --- 8. no session or socket left behind per event loop -----------------------------------------


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settled(baseline: int, slack: int) -> int:
    """The fd count once the server thread has closed its side of connections the client closed."""
    deadline = time.monotonic() + 10  # a guard: the server thread closes its side when it gets to it
    while _fds() > baseline + slack and time.monotonic() < deadline:
        time.sleep(0.05)
    return _fds()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts file descriptors in /proc")
def test_asyncio_run_per_call_leaks_no_socket(calculator_mock_server: ServerThread) -> None:
    b = bridge.load(sample("calculator.wsdl"), endpoint=calculator_mock_server.url + "/")
    asyncio.run(b.acall("Add", {"a": 1, "b": 2}))  # imports and caches warm
    baseline = _fds()
    for _ in range(50):
        assert isinstance(asyncio.run(b.acall("Add", {"a": 1, "b": 2}))["result"], int)
    assert _settled(baseline, 5) <= baseline + 5
    assert not b.client._sessions


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts file descriptors in /proc")
def test_close_releases_the_sessions_of_event_loops_left_open(calculator_mock_server: ServerThread) -> None:
    loops = [asyncio.new_event_loop() for _ in range(10)]
    try:
        with bridge.load(sample("calculator.wsdl"), endpoint=calculator_mock_server.url + "/") as b:
            b.call("Add", {"a": 1, "b": 2})
            loops[0].run_until_complete(b.acall("Add", {"a": 1, "b": 2}))
            baseline = _fds()
            for loop in loops[1:]:
                loop.run_until_complete(b.acall("Add", {"a": 1, "b": 2}))
            assert _fds() >= baseline + 9  # a pooled connection per loop, kept alive
        assert _settled(baseline, -1) <= baseline - 1  # `with` closed them all, the first loop's too
    finally:
        for loop in loops:
            loop.close()


# --- 10. stale pooled connections ---------------------------------------------------------------


def _closes_idle_on_next_request(server: RawServer, conn: socket.socket) -> None:
    """Answers one request per connection and keeps it open without ``Connection: close``, then
    drops the next request on it unanswered, as a server whose keep-alive timer fires just as that
    request comes in."""
    if read_request(conn) is None:
        return
    server.count_request()
    conn.sendall(http_reply(ADD_REPLY))
    if read_request(conn) is not None:
        server.count_request()


def answers_partly_on_reuse(partial: bytes) -> Callable[[RawServer, socket.socket], None]:
    """On a reused connection, starts the reply and then closes: the request was processed."""

    def handler(server: RawServer, conn: socket.socket) -> None:
        if read_request(conn) is None:
            return
        server.count_request()
        conn.sendall(http_reply(ADD_REPLY))
        if read_request(conn) is not None:
            server.count_request()
            conn.sendall(partial)

    return handler


def _drops_first_request(server: RawServer, conn: socket.socket) -> None:
    """Drops the very first request it gets (on a new connection), answers every later one."""
    while read_request(conn) is not None:
        server.count_request()
        with server.lock:
            first = server.requests == 1
        if first:
            return
        conn.sendall(http_reply(ADD_REPLY))


def _two_calls(b: bridge.Bridge, how: str) -> list[object]:
    """Two calls one after the other on one client (so the second reuses the first's connection)."""
    if how == "sync":
        with b:
            return [_outcome(lambda: b.call("Add", {"a": 2, "b": 3})) for _ in range(2)]

    async def main() -> list[object]:
        out: list[object] = []
        for _ in range(2):
            try:
                out.append(await b.acall("Add", {"a": 2, "b": 3}))
            except UpstreamError as exc:
                out.append(exc)
        return out

    return asyncio.run(main())


def _outcome(f: Callable[[], object]) -> object:
    try:
        return f()
    except UpstreamError as exc:
        return exc


@pytest.mark.parametrize("how", ["sync", "async"])
def test_a_stale_pooled_connection_is_retried_once_on_a_new_one(how: str) -> None:
    with RawServer(_closes_idle_on_next_request) as server:
        results = _two_calls(bridge.load(sample("calculator.wsdl"), endpoint=server.url), how)
    assert results == [{"result": 5}, {"result": 5}]
    assert (server.connections, server.requests) == (2, 3)


@pytest.mark.parametrize("partial", [b"H", b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Len"])
@pytest.mark.parametrize("how", ["sync", "async"])
def test_no_retry_once_the_reply_has_begun(how: str, partial: bytes) -> None:
    with RawServer(answers_partly_on_reuse(partial)) as server:
        results = _two_calls(bridge.load(sample("calculator.wsdl"), endpoint=server.url), how)
    assert results[0] == {"result": 5}
    assert isinstance(results[1], UpstreamError)
    assert server.requests == 2  # the processed request was not sent again


@pytest.mark.parametrize("how", ["sync", "async"])
def test_a_request_dropped_on_a_new_connection_is_retried_only_when_idempotent(how: str) -> None:
    with RawServer(_drops_first_request) as server:
        results = _two_calls(bridge.load(sample("calculator.wsdl"), endpoint=server.url), how)
    assert isinstance(results[0], UpstreamError) and results[0].kind == "unavailable"
    assert results[1] == {"result": 5}
    assert server.requests == 2  # not sent again: the service may have processed it
    with RawServer(_drops_first_request) as server:
        b = bridge.load(sample("calculator.wsdl"), endpoint=server.url, idempotent=["Add"])
        results = _two_calls(b, how)
    assert results == [{"result": 5}, {"result": 5}]
    assert server.requests == 3


def test_idempotent_names_operations_that_exist() -> None:
    with pytest.raises(bridge.ConfigError, match="idempotent"):
        bridge.load(sample("calculator.wsdl"), idempotent=["Ad"])
    for bad in ("Add", 5, [1]):
        with pytest.raises(bridge.ConfigError, match="idempotent"):
            make_settings(idempotent=bad)


# --- 11. the call is cancelled when the REST client leaves; outcomes in the log -----------------


def test_the_upstream_call_is_cancelled_when_the_rest_client_leaves(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="soapbridge")
    got, closed = threading.Event(), threading.Event()

    def hold(server: RawServer, conn: socket.socket) -> None:
        if read_request(conn) is None:
            return
        got.set()
        conn.settimeout(10)
        try:
            if conn.recv(1) == b"":
                closed.set()  # the bridge closed its upstream connection
        except OSError:
            closed.set()

    with RawServer(hold) as backend:
        b = bridge.load(sample("calculator.wsdl"), endpoint=backend.url, read_timeout=10)
        with ServerThread(b.asgi()) as app:
            body = json.dumps({"a": 2, "b": 3}).encode()
            client = socket.create_connection(("127.0.0.1", app.port))
            client.sendall(
                b"POST /CalculatorService/Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            )
            assert got.wait(5)
            client.close()  # the REST client goes away while the service is still working
            assert closed.wait(5)
            def gone() -> list[dict[str, object]]:  # the request's log line (bridge.observability), 499: nobody to answer
                return [r.request for r in caplog.records if r.name == "soapbridge.access" and r.request["status"] == 499]  # type: ignore[attr-defined]

            for _ in range(100):  # logged as the cancelled call unwinds, in the server's thread
                if gone():
                    break
                time.sleep(0.02)
            assert [line["operation"] for line in gone()] == ["Add"]


def _html(server: RawServer, conn: socket.socket) -> None:
    if read_request(conn) is not None:
        conn.sendall(http_reply(b"<html>oops</html>", content_type="text/html"))


@pytest.mark.parametrize(("handler", "status"), [(_html, 502), (_silent, 504), (None, 503)])
def test_verbose_log_gives_the_outcome_status(
    handler: Callable[[RawServer, socket.socket], None] | None, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="soapbridge")
    server = RawServer(handler or _silent)
    if handler is None:
        server.sock.close()
    with server:
        b = bridge.load(sample("calculator.wsdl"), endpoint=server.url, read_timeout=0.5)
        r = TestClient(b.asgi()).post("/CalculatorService/Add", json={"a": 2, "b": 3})
        served = [rec.request for rec in caplog.records if rec.name == "soapbridge.access"]  # type: ignore[attr-defined]
        caplog.clear()
        with pytest.raises(bridge.errors.BridgeError):  # the library, outside a served request
            b.call("Add", {"a": 2, "b": 3})
    assert r.status_code == status
    # the served request's one line (bridge.observability) gives the status sent, the service's apart
    assert len(served) == 1, served
    assert (served[0]["operation"], served[0]["status"], served[0]["upstream_status"]) == ("Add", status, 200 if handler is _html else None)
    # the library's own line says the same
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "soapbridge" and " -> " in rec.getMessage()]
    assert len(lines) == 1, lines
    assert f"Add -> {status} " in lines[0]
    assert "-> HTTP" not in lines[0]


# --- 9. reply_validation: lax logs paths and reasons, never values ------------------------------

_CODES_WSDL = """<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:codes" targetNamespace="urn:codes">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:codes" elementFormDefault="qualified">
      <xsd:element name="Get"><xsd:complexType><xsd:sequence/></xsd:complexType></xsd:element>
      <xsd:element name="GetResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="code"><xsd:simpleType><xsd:restriction base="xsd:string">
          <xsd:pattern value="[A-Z]{3}"/></xsd:restriction></xsd:simpleType></xsd:element>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="GetIn"><wsdl:part name="parameters" element="tns:Get"/></wsdl:message>
  <wsdl:message name="GetOut"><wsdl:part name="parameters" element="tns:GetResponse"/></wsdl:message>
  <wsdl:portType name="Codes"><wsdl:operation name="Get"><wsdl:input message="tns:GetIn"/>
    <wsdl:output message="tns:GetOut"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="CodesSoap" type="tns:Codes">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http" style="document"/>
    <wsdl:operation name="Get"><soap:operation soapAction="urn:codes:Get"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="CodesService"><wsdl:port name="CodesSoap" binding="tns:CodesSoap">
    <soap:address location="http://127.0.0.1:9/codes"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""


@pytest.fixture
def codes_wsdl(tmp_path: Path) -> Iterator[Path]:
    p = tmp_path / "codes.wsdl"
    p.write_text(_CODES_WSDL)
    yield p


def test_lax_reply_validation_logs_where_and_why_but_no_value(codes_wsdl: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="soapbridge")
    reply = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<c:GetResponse xmlns:c="urn:codes"><c:code>card-4111111111111111</c:code></c:GetResponse></s:Body></s:Envelope>'
    )
    lax = bridge.load(codes_wsdl, reply_validation="lax")
    assert lax.decode_response("Get", reply) == {"code": "card-4111111111111111"}  # lax passes it on
    assert "/code" in caplog.text and "pattern" in caplog.text
    assert "4111111111111111" not in caplog.text
    with pytest.raises(UpstreamError, match="/code"):  # strict refuses it
        bridge.load(codes_wsdl).decode_response("Get", reply)


def test_deadline_settings_are_checked() -> None:
    with pytest.raises(bridge.ConfigError, match="call_timeout"):
        make_settings(call_timeout=0)
    assert SoapClient(make_settings(connect_timeout=2, read_timeout=3)).deadline == 5
    assert SoapClient(make_settings(call_timeout=7)).deadline == 7


@pytest.mark.parametrize("endpoint", ["http://user:s3cretPW@[::1/x", "ftp://user:s3cretPW@127.0.0.1/x"])
@pytest.mark.parametrize("how", ["sync", "async"])
def test_an_unusable_endpoint_address_is_an_upstream_error_without_it(endpoint: str, how: str) -> None:
    b = bridge.load(sample("calculator.wsdl"), endpoint=endpoint)
    with b, pytest.raises(UpstreamError) as exc:
        b.call("Add", {"a": 1, "b": 2}) if how == "sync" else asyncio.run(b.acall("Add", {"a": 1, "b": 2}))
    assert exc.value.kind == "unavailable" and "not a usable http(s) URL" in str(exc.value)
    assert "s3cretPW" not in str(exc.value) and "s3cretPW" not in (exc.value.cause or "")
