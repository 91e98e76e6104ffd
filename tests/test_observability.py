"""Issue 16: /metrics, the request log, request IDs and trace context, OpenTelemetry spans, /livez and
/readyz, and the SIGTERM drain.

The oracles: prometheus_client's own text parser reads /metrics; json.loads reads the log lines; the
OpenTelemetry SDK's in-memory exporter holds the spans; the backend is a raw socket server written
here that records what it received, and answers a SOAP 1.1 fault envelope written by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

import bridge
from bridge.errors import ConfigError
from bridge.observability import JsonFormatter, TextFormatter
from bridge.settings import make_settings
from tests.conftest import free_port, sample
from tests.test_upstream import ADD_REPLY, RawServer, http_reply, read_request

CALC = sample("calculator.wsdl")
FAULT = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault>'
    b"<faultcode>soapenv:Server</faultcode><faultstring>the database is down</faultstring>"
    b"</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Backend(RawServer):
    """Answers Add, faults Divide (HTTP 500 with a SOAP fault), never answers Echo; keeps every request head."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(self._handle)
        self.heads: list[bytes] = []
        self.delay = delay
        self.got = threading.Event()

    @staticmethod
    def _handle(server: RawServer, conn: socket.socket) -> None:
        assert isinstance(server, Backend)
        while (request := read_request(conn)) is not None:
            head = request.partition(b"\r\n\r\n")[0]
            server.heads.append(head)
            server.got.set()
            if b"Divide" in request:
                conn.sendall(http_reply(FAULT, "500 Internal Server Error"))
            elif b"Echo" in request:
                server.stopping.wait(5)
                return
            elif head.startswith(b"GET"):
                conn.sendall(http_reply(b"", "405 Method Not Allowed"))
            else:
                if server.delay:
                    server.stopping.wait(server.delay)
                conn.sendall(http_reply(ADD_REPLY))

    def header(self, i: int, name: bytes) -> str | None:
        for line in self.heads[i].split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == name:
                return v.strip().decode()
        return None


def scrape(client: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """/metrics read by prometheus_client's parser: {(sample name, labels): value}."""
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


class Lines(logging.Handler):
    """Every log record of the process, as the configured formatter writes it."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def requests(self) -> list[dict[str, Any]]:
        return [d for d in map(json.loads, self.lines) if d["logger"] == "soapbridge.access"]


@contextlib.contextmanager
def captured(formatter: logging.Formatter | None = None, level: int = logging.INFO) -> Iterator[Lines]:
    h = Lines(formatter or JsonFormatter())
    root = logging.getLogger()
    old = root.level
    root.addHandler(h)
    root.setLevel(level)
    # as configure_logging sets them for `serve` (the test client's httpx logs whole URLs at INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        yield h
    finally:
        root.removeHandler(h)
        root.setLevel(old)


@pytest.fixture
def backend() -> Iterator[Backend]:
    with Backend() as b:
        yield b


def calls(c: TestClient) -> dict[str, httpx.Response]:
    return {
        "ok": c.post("/CalculatorService/Add", json={"a": 2, "b": 3}),
        "fault": c.post("/CalculatorService/Divide", json={"dividend": 1, "divisor": 0}),
        "timeout": c.post("/CalculatorService/Echo", json={"text": "hi"}),
        "invalid": c.post("/CalculatorService/Add", json={"a": "two"}),
    }


# --- metrics -----------------------------------------------------------------------------------


def test_metrics_count_each_outcome_with_its_labels(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url, read_timeout=0.3)
    with TestClient(b.asgi()) as c:
        r = calls(c)
        assert [r[k].status_code for k in r] == [200, 502, 504, 400]
        m = scrape(c)
    svc = {"service": "CalculatorService"}
    req = "soapbridge_requests_total"
    assert value(m, req, **svc, operation="Add", status="200", kind="") == 1
    assert value(m, req, **svc, operation="Divide", status="502", kind="soap-fault:server") == 1
    assert value(m, req, **svc, operation="Echo", status="504", kind="upstream:timeout") == 1
    assert value(m, req, **svc, operation="Add", status="400", kind="validation") == 1
    assert sum(v for (n, _), v in m.items() if n == req) == 4
    up = "soapbridge_upstream_responses_total"
    assert value(m, up, **svc, operation="Add", status="200") == 1  # the invalid call never went upstream
    assert value(m, up, **svc, operation="Divide", status="500") == 1
    assert value(m, up, **svc, operation="Echo", status="none") == 1
    faults = "soapbridge_upstream_faults_total"
    assert value(m, faults, **svc, operation="Divide", kind="soap-fault:server") == 1
    assert value(m, faults, **svc, operation="Echo", kind="upstream:timeout") == 1
    assert sum(v for (n, _), v in m.items() if n == faults) == 2
    assert value(m, "soapbridge_request_duration_seconds_count", **svc, operation="Add") == 2
    assert value(m, "soapbridge_upstream_duration_seconds_count", **svc, operation="Add") == 1
    assert value(m, "soapbridge_upstream_duration_seconds_count", **svc, operation="Echo") == 1
    assert value(m, "soapbridge_reply_size_bytes_sum", **svc, operation="Add") == len(r["ok"].content) + len(r["invalid"].content)
    assert value(m, "soapbridge_in_flight_requests", **svc) == 0
    assert any(n.startswith("process_") for n, _ in m)  # the process collector
    assert any(n == "python_info" for n, _ in m)


def test_labels_stay_bounded(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url)
    with TestClient(b.asgi()) as c:
        for i in range(5):
            assert c.get(f"/orders/{i}?key=k{i}").status_code == 404
        c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers={"x-request-id": "one-of-many"})
        m = scrape(c)
    ops = {dict(labels)["operation"] for (n, labels) in m if n == "soapbridge_requests_total"}
    assert ops == {"_other", "Add"}
    assert value(m, "soapbridge_requests_total", service="CalculatorService", operation="_other", status="404", kind="not-found") == 5
    label_values = {v for (_, labels) in m for _, v in labels}
    assert not any("orders" in v or "one-of-many" in v for v in label_values)


def test_metrics_can_be_turned_off(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url, metrics=False)
    with TestClient(b.asgi()) as c:
        assert c.post("/CalculatorService/Add", json={"a": 2, "b": 3}).status_code == 200
        assert c.get("/metrics").status_code == 404


# --- logs --------------------------------------------------------------------------------------


def test_one_json_line_per_request_with_its_outcome(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url, read_timeout=0.3)
    with captured() as log, TestClient(b.asgi()) as c:
        r = calls(c)
        unavailable = bridge.load(CALC, endpoint=f"http://127.0.0.1:{free_port()}/soap")
        with TestClient(unavailable.asgi()) as c2:
            r["unavailable"] = c2.post("/CalculatorService/Add", json={"a": 2, "b": 3})
    lines = log.requests()
    assert len(lines) == 5
    by_id = {line["request_id"]: line for line in lines}
    expect = {
        "ok": (200, "", 200),
        "fault": (502, "soap-fault:server", 500),
        "timeout": (504, "upstream:timeout", None),
        "invalid": (400, "validation", "absent"),
        "unavailable": (503, "upstream:unavailable", None),
    }
    for name, (status, kind, upstream) in expect.items():
        resp = r[name]
        assert resp.status_code == status
        line = by_id[resp.headers["x-request-id"]]
        assert (line["status"], line["kind"]) == (status, kind), name
        assert line.get("upstream_status", "absent") == upstream, name
        assert line["service"] == "CalculatorService"
        assert line["method"] == "POST" and line["path"].startswith("/CalculatorService/")
        assert line["reply_bytes"] == len(resp.content)
        assert line["duration_ms"] >= line.get("upstream_ms", 0) >= 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert by_id[r["ok"].headers["x-request-id"]]["request_bytes"] == len(b'{"a":2,"b":3}')
    # the 502 is logged as 502, with the service's HTTP 500 apart (issue 16 saw "HTTP 200" for a 502)
    assert "timed out" not in by_id[r["fault"].headers["x-request-id"]].get("upstream_error", "")
    assert "127.0.0.1" in by_id[r["unavailable"].headers["x-request-id"]]["upstream_error"]


def test_the_consumer_is_logged_when_auth_names_one(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url)
    app = b.asgi()

    class NamesConsumer:  # what the auth middleware does (issue 15): scope["state"]["consumer"]
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("state", {})["consumer"] = "billing-team"
            await self.app(scope, receive, send)

    app.add_middleware(NamesConsumer)
    with captured() as log, TestClient(app) as c:
        c.post("/CalculatorService/Add", json={"a": 2, "b": 3})
        m = scrape(c)
    assert log.requests()[0]["consumer"] == "billing-team"
    assert not any("billing-team" in v for (_, labels) in m for _, v in labels)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_no_secret_reaches_the_log(backend: Backend, tmp_path: Path, fmt: str) -> None:
    password = "pw-Zq8vX1-secret"
    api_key = "sk-live-4f9d2b7e"
    value_in_body = "body-value-71c3"
    config = tmp_path / "bridge.yaml"
    config.write_text(f"backend_auth: {{type: basic, username: svc, password: {password}}}\n")
    b = bridge.load(CALC, endpoint=backend.url, config=config, read_timeout=0.3)
    in_url = bridge.load(CALC, endpoint=f"http://svc:{password}@127.0.0.1:{free_port()}/soap")  # refused: the cause is logged
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    headers = {"x-api-key": api_key, "authorization": f"Bearer {api_key}"}
    with captured(formatter, logging.DEBUG) as log:
        with TestClient(b.asgi()) as c:
            assert c.post(f"/CalculatorService/Add?api_key={api_key}", json={"a": 2, "b": 3}, headers=headers).status_code == 200
            assert c.post("/CalculatorService/Echo", json={"text": value_in_body}, headers=headers).status_code == 504
            assert c.post("/CalculatorService/Add", json={"a": value_in_body}, headers=headers).status_code == 400
        with TestClient(in_url.asgi()) as c:
            assert c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers=headers).status_code == 503
    assert backend.header(0, b"authorization") is not None  # the password went where it belongs
    text = "\n".join(log.lines)
    assert text.count("/CalculatorService/") == 4  # the lines are there
    for secret in (password, api_key, value_in_body):
        assert secret not in text


def test_logging_settings_are_checked() -> None:
    assert make_settings(log={"format": "text", "level": "WARNING"}).log.level == "warning"
    for bad in ({"format": "xml"}, {"level": "loud"}, {"colour": True}):
        with pytest.raises(ConfigError, match="log"):
            make_settings(log=bad)
    with pytest.raises(ConfigError, match=r"readiness\.interval"):
        make_settings(readiness={"probe_backends": True, "interval": 0})
    with pytest.raises(ConfigError, match=r"tracing\.exporter"):
        make_settings(tracing={"enabled": True, "exporter": "jaeger"})


# --- request IDs and trace context ---------------------------------------------------------------


def test_request_ids_are_taken_checked_returned_and_sent_upstream(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url)
    with TestClient(b.asgi()) as c:
        given = c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers={"x-request-id": "req-42.a:b"})
        made = c.post("/CalculatorService/Add", json={"a": 2, "b": 3})
        refused = [
            c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers={"x-request-id": bad})
            for bad in ("x" * 129, "a b", "<script>", "id\u00e9".encode())
        ]
        problem = c.post("/CalculatorService/Add", json={"a": "two"}, headers={"x-request-id": "req-43"})
        not_found = c.get("/nowhere")
    assert given.headers["x-request-id"] == "req-42.a:b"
    assert backend.header(0, b"x-request-id") == "req-42.a:b"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert backend.header(1, b"x-request-id") == made.headers["x-request-id"]
    for i, r in enumerate(refused, start=2):
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
        assert backend.header(i, b"x-request-id") == r.headers["x-request-id"]
    assert problem.json()["request_id"] == "req-43" == problem.headers["x-request-id"]
    assert not_found.json()["request_id"] == not_found.headers["x-request-id"]
    assert c.get("/livez").headers.get("x-request-id") is None  # probes are not requests to trace


def test_traceparent_is_continued_upstream(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url)
    with TestClient(b.asgi()) as c:
        c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers={"traceparent": TRACEPARENT, "tracestate": "vendor=x"})
        c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers={"traceparent": "00-" + "0" * 32 + "-b7ad6b7169203331-01"})
        c.post("/CalculatorService/Add", json={"a": 2, "b": 3})
    sent = backend.header(0, b"traceparent")
    assert sent is not None
    version, trace_id, parent, flags = sent.split("-")
    assert (version, trace_id, flags) == ("00", "0af7651916cd43dd8448eb211c80319c", "01")
    assert re.fullmatch(r"[0-9a-f]{16}", parent) and parent != "b7ad6b7169203331"
    assert backend.header(0, b"tracestate") == "vendor=x"
    assert backend.header(1, b"traceparent") is None  # an invalid one (all-zero trace ID) is dropped
    assert backend.header(2, b"traceparent") is None


@pytest.fixture(scope="module")
def spans() -> Any:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def test_opentelemetry_spans_make_one_tree_per_call(backend: Backend, spans: Any) -> None:
    spans.clear()
    b = bridge.load(CALC, endpoint=backend.url, tracing={"enabled": True})
    try:
        with TestClient(b.asgi()) as c:
            r = c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers={"traceparent": TRACEPARENT})
            bad = c.post("/CalculatorService/Add", json={"a": "two"})
    finally:
        bridge.observability.setup_tracing(make_settings().tracing)  # off again for the other tests
    assert r.status_code == 200 and bad.status_code == 400
    done = spans.get_finished_spans()
    trace_id = int("0af7651916cd43dd8448eb211c80319c", 16)
    mine = [s for s in done if s.context.trace_id == trace_id]
    by_name = {s.name: s for s in mine}
    assert set(by_name) == {"POST /CalculatorService/Add", "soapbridge.validate", "soapbridge.encode", "soapbridge.upstream", "soapbridge.decode"}
    server = by_name["POST /CalculatorService/Add"]
    assert server.parent.span_id == int("b7ad6b7169203331", 16)  # continues the caller's trace
    assert server.kind.name == "SERVER"
    for name in ("soapbridge.validate", "soapbridge.encode", "soapbridge.upstream", "soapbridge.decode"):
        assert by_name[name].parent.span_id == server.context.span_id, name
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["soapbridge.operation"] == "Add"
    assert server.attributes["soapbridge.request_id"] == r.headers["x-request-id"]
    assert by_name["soapbridge.upstream"].attributes["server.address"] == f"127.0.0.1:{backend.port}"
    # the upstream call carries the upstream span as its parent
    sent = backend.header(0, b"traceparent")
    assert sent == f"00-{trace_id:032x}-{by_name['soapbridge.upstream'].context.span_id:016x}-01"
    # the invalid call: its own trace, a server span with validation under it and no upstream span
    other = [s for s in done if s.context.trace_id != trace_id]
    assert {s.name for s in other} == {"POST /CalculatorService/Add", "soapbridge.validate"}
    assert next(s for s in other if s.name.startswith("POST")).attributes["soapbridge.problem"] == "validation"


# --- health --------------------------------------------------------------------------------------


def wait_for(check: Any, what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def test_livez_readyz_and_healthz(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url)
    with TestClient(b.asgi()) as c:
        assert c.get("/livez").json() == {"status": "alive"}
        assert c.get("/readyz").json() == {"status": "ready"}
        assert c.get("/healthz").json() == {"status": "ok", "operations": 3}  # as before
        assert c.post("/livez").status_code == 200  # any method: probes differ
        assert "/livez" not in c.get("/openapi.json").text
    assert backend.heads == []  # no probe of backends unless configured


def test_readyz_follows_the_backend_probe(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url, readiness={"probe_backends": True, "interval": 0.1, "max_age": 0.5})
    with TestClient(b.asgi()) as c:
        ready = wait_for(lambda: (r := c.get("/readyz")).status_code == 200 and r.json(), "ready")
        assert ready["backends"][0]["backend"] == f"127.0.0.1:{backend.port}"
        assert ready["backends"][0]["status"] == 405  # any answer will do
        assert backend.heads[0].startswith(b"GET /soap ")
        backend.__exit__()  # the backend goes away
        gone = wait_for(lambda: (r := c.get("/readyz")).status_code == 503 and r.json(), "not ready")
        assert gone["status"] == "not ready"
        assert "has not answered" in gone["reasons"][0]
        assert c.get("/livez").status_code == 200


# --- serve: SIGTERM, --workers -----------------------------------------------------------------


def serve(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cli = str(Path(sys.executable).with_name("soapbridge"))
    proc = subprocess.Popen(
        [cli, "serve", str(CALC), "--port", str(port), *args], start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        return False

    wait_for(up, "serve answered /readyz", 30)
    return proc, base


def stop(proc: subprocess.Popen[bytes], signalled: bool = False) -> str:
    """Stops serve with one SIGTERM (a second, mid-shutdown, would be another request to stop)."""
    if not signalled and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    return err.decode()


def background_call(url: str) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["response"] = httpx.post(url, json={"a": 2, "b": 3}, timeout=30)
        except httpx.HTTPError as exc:
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    return t, out


def refused(base: str) -> bool:
    try:
        httpx.get(f"{base}/livez", timeout=2)
    # refused, or closed unanswered (taken from the backlog at the stop: a FIN, or a reset)
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
        return True
    return False


def test_sigterm_finishes_the_call_in_flight_and_refuses_new_ones() -> None:
    with Backend(delay=2.0) as slow:
        proc, base = serve(["--backend", slow.url])
        try:
            t, out = background_call(f"{base}/CalculatorService/Add")
            assert slow.got.wait(10)
            os.killpg(proc.pid, signal.SIGTERM)
            wait_for(lambda: refused(base), "new connections refused while the call is in flight")
            assert "response" not in out  # still in flight when the server stopped taking connections
            t.join(30)
        finally:
            err = stop(proc, signalled=True)
    assert out["response"].status_code == 200, out
    assert out["response"].json() == {"result": 5}
    assert proc.returncode == 0
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(x["status"], x["operation"]) for x in lines if x["logger"] == "soapbridge.access"] == [(200, "Add")]


def test_sigterm_reports_not_ready_while_draining(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text("shutdown: {drain_seconds: 3, grace_seconds: 10}\n")
    with Backend(delay=1.0) as slow:
        proc, base = serve(["--backend", slow.url, "--config", str(config)])
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            draining = wait_for(lambda: (r := httpx.get(f"{base}/readyz", timeout=2)).status_code == 503 and r.json(), "readyz 503")
            assert draining["reasons"] == ["shutting down"]
            # still serving during the drain: a new connection's call is answered
            assert httpx.post(f"{base}/CalculatorService/Add", json={"a": 2, "b": 3}, timeout=10).status_code == 200
            wait_for(lambda: refused(base), "refused after the drain")
        finally:
            stop(proc, signalled=True)
    assert proc.returncode == 0


def test_workers_share_their_metrics(tmp_path: Path, backend: Backend) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc, base = serve(["--backend", backend.url, "--workers", "2", "--log-level", "warning"], env={"TMPDIR": str(tmp)})
    try:
        assert [p.name for p in tmp.iterdir() if p.name.startswith("soapbridge-metrics-")]
        for _ in range(8):  # a new connection each: both workers take some
            assert httpx.post(f"{base}/CalculatorService/Add", json={"a": 2, "b": 3}).status_code == 200
        assert httpx.post(f"{base}/CalculatorService/Add", json={}).status_code == 400
        totals = []
        for _ in range(4):  # whichever worker answers the scrape, it counts both
            with httpx.Client(base_url=base) as c:
                m = scrape(c)
            totals.append(value(m, "soapbridge_requests_total", service="CalculatorService", operation="Add", status="200", kind=""))
            assert value(m, "soapbridge_requests_total", service="CalculatorService", operation="Add", status="400", kind="validation") == 1
        assert totals == [8, 8, 8, 8]
    finally:
        err = stop(proc)
    assert proc.returncode == 0, err
    assert not [p for p in tmp.iterdir() if p.name.startswith("soapbridge-metrics-")]  # removed at exit
    assert '"soapbridge.access"' not in err  # --log-level warning: no request lines


def test_log_format_text_from_the_command_line(backend: Backend) -> None:
    proc, base = serve(["--backend", backend.url, "--log-format", "text"])
    try:
        r = httpx.post(f"{base}/CalculatorService/Add", json={"a": 2, "b": 3})
    finally:
        err = stop(proc)
    line = next(x for x in err.splitlines() if "soapbridge.access" in x)
    assert f"{r.headers['x-request-id']} POST /CalculatorService/Add CalculatorService.Add -> 200 in " in line
    assert not line.startswith("{")


def test_json_log_of_a_formatted_error_is_one_line() -> None:
    out = io.StringIO()
    h = logging.StreamHandler(out)
    h.setFormatter(JsonFormatter())
    lg = logging.getLogger("soapbridge.test-one-line")
    lg.addHandler(h)
    try:
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            lg.exception("failed %s", "here")
    finally:
        lg.removeHandler(h)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    d = json.loads(lines[0])
    assert (d["level"], d["message"]) == ("error", "failed here")
    assert "ValueError: boom" in d["error"]


def test_tracing_off_imports_no_opentelemetry() -> None:
    code = (
        "import sys; from starlette.testclient import TestClient; import bridge\n"
        f"b = bridge.load({str(CALC)!r}, endpoint='http://127.0.0.1:9/soap')\n"
        "with TestClient(b.asgi()) as c: c.post('/CalculatorService/Add', json={'a': 'x'})\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_with_auth_the_consumer_is_logged_refusals_counted_and_probes_open(backend: Backend) -> None:
    key = "test"  # its SHA-256 below
    auth = {"api_keys": [{"consumer": "partner-a", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]}
    b = bridge.load(CALC, endpoint=backend.url, auth=auth, rate_limits={"default": "1/minute"})
    with captured() as log, TestClient(b.asgi()) as c:
        ok = c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers={"x-api-key": key})
        limited = c.post("/CalculatorService/Add", json={"a": 2, "b": 3}, headers={"x-api-key": key})
        refused = c.post("/CalculatorService/Add", json={"a": 2, "b": 3})
        probes = [c.get(p).status_code for p in ("/livez", "/readyz", "/metrics")]  # no key needed
        m = scrape(c)
    assert (ok.status_code, refused.status_code, probes) == (200, 401, [200, 200, 200])
    lines = {line["request_id"]: line for line in log.requests()}
    assert lines[ok.headers["x-request-id"]]["consumer"] == "partner-a"
    assert "consumer" not in lines[refused.headers["x-request-id"]]  # nobody was authenticated
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    assert value(m, "soapbridge_requests_total", service="CalculatorService", operation="Add", status="401", kind="unauthorized") == 1
    assert limited.status_code == 429
    assert value(m, "soapbridge_requests_total", service="CalculatorService", operation="Add", status="429", kind="rate-limited") == 1
    assert lines[limited.headers["x-request-id"]]["consumer"] == "partner-a"
    assert key not in "\n".join(log.lines) and "partner-a" not in str(m)


def test_a_rate_limited_call_is_counted_under_its_operation(backend: Backend) -> None:
    b = bridge.load(CALC, endpoint=backend.url, auth={"enabled": False}, rate_limits={"default": "1/minute"})
    with TestClient(b.asgi()) as c:
        statuses = [c.post("/CalculatorService/Add", json={"a": 2, "b": 3}).status_code for _ in range(2)]
        m = scrape(c)
    assert statuses == [200, 429]
    assert value(m, "soapbridge_requests_total", service="CalculatorService", operation="Add", status="429", kind="rate-limited") == 1


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
    return out


def _connected_to(port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` has a TCP connection open to ``port`` on loopback (read from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # ESTABLISHED
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None


def test_a_killed_worker_leaves_no_request_in_flight_in_the_metrics(tmp_path: Path) -> None:
    """`serve --workers 2`: a worker SIGKILLed with a call in flight never takes its in-flight gauge
    back; the supervisor (and the scrape) drop its live gauges, so the pod's sum forgets the call."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with Backend(delay=300) as slow:  # answers only when the test ends: the call stays in flight
        proc, base = serve(["--backend", slow.url, "--workers", "2", "--log-level", "warning"], env={"TMPDIR": str(tmp)})
        try:

            def in_flight() -> float | None:
                with httpx.Client(base_url=base, timeout=10) as c:
                    return value(scrape(c), "soapbridge_in_flight_requests", service="CalculatorService")

            t, out = background_call(f"{base}/CalculatorService/Add")
            assert slow.got.wait(30)
            wait_for(lambda: in_flight() == 1, "the held call counted in flight", 60)
            pid = wait_for(lambda: _connected_to(slow.port, _children(proc.pid)), "the worker calling the backend found", 30)
            os.kill(pid, signal.SIGKILL)
            t.join(60)
            assert "error" in out  # its client lost the connection with the worker
            wait_for(lambda: not in_flight(), "the killed worker's call no longer in flight", 120)
            # the supervisor started a new worker in its place; both answer, the gauge stays at 0
            wait_for(lambda: len(_children(proc.pid)) >= 2 and pid not in _children(proc.pid), "the worker replaced", 60)
            for _ in range(4):
                assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
            assert not in_flight()
        finally:
            stop(proc)
    assert proc.returncode == 0
