"""Many services in one gateway (issue 16): routing by base path, each service's own backend and
settings, the combined spec, config errors with file and line, check-config, reload on SIGHUP."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from bridge import load_gateway
from bridge.cli import EXIT_CHECKS, main
from bridge.gateway import GatewayConfigError
from bridge.mock import MockService
from bridge.wsdl.loader import load_model
from tests.conftest import ROOT, ServerThread, sample
from tests.test_cli import CLI, Running

LINT = ROOT / "tests" / "lint"


class Backend:
    """The mock SOAP service on a real socket, counting its requests; ``hold()`` makes it wait for
    ``release()`` before answering (a slow backend, without timing)."""

    def __init__(self, wsdl: Path) -> None:
        self.mock = MockService(load_model(wsdl)).asgi()
        self.count = 0
        self.arrived = threading.Event()
        self.gate: threading.Event | None = None

    def hold(self) -> None:
        self.gate = threading.Event()

    def release(self) -> None:
        assert self.gate is not None
        self.gate.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
            self.arrived.set()
            if self.gate is not None:
                await asyncio.to_thread(self.gate.wait)
        await self.mock(scope, receive, send)


def _config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _two(tmp_path: Path, erp: str, carrier: str, extra: str = "") -> Path:
    return _config(
        tmp_path / "gateway.yaml",
        f"""\
auth: {{enabled: false}}
read_timeout: 20
{extra}services:
  erp:
    wsdl: {sample("orders.wsdl")}
    backend: {erp}/soap
  carrier:
    wsdl: {sample("calculator.wsdl")}
    backend: {carrier}/soap
    base_path: /carrier
    read_timeout: 7
""",
    )


@pytest.fixture(scope="module")
def backends() -> Any:
    orders, calc = Backend(sample("orders.wsdl")), Backend(sample("calculator.wsdl"))
    with ServerThread(orders) as a, ServerThread(calc) as b:
        yield (orders, a.url), (calc, b.url)


def test_each_service_is_served_under_its_base_path_by_its_own_backend(tmp_path: Path, backends: Any) -> None:
    (orders, erp_url), (calc, carrier_url) = backends
    gw = load_gateway(_two(tmp_path, erp_url, carrier_url), cache_dir=None)
    assert gw.services["erp"].settings.read_timeout == 20  # inherited from the top level
    assert gw.services["carrier"].settings.read_timeout == 7  # the service's own
    before = orders.count, calc.count
    with TestClient(gw.asgi()) as client:
        r = client.post("/carrier/CalculatorService/Add", json={"a": 2, "b": 3})
        assert r.status_code == 200, r.text
        assert (orders.count, calc.count) == (before[0], before[1] + 1)  # only the calculator's backend
        for _ in range(2):
            r = client.post("/erp/OrderService/GetOrder", json={"orderId": "A-1"})
            assert r.status_code == 200, r.text
        assert (orders.count, calc.count) == (before[0] + 2, before[1] + 1)
        # a service's path under another's base path is not found; the gateway's 404 names the base paths
        r = client.post("/erp/CalculatorService/Add", json={"a": 1, "b": 2})
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        r = client.get("/elsewhere")
        assert r.status_code == 404 and "/erp" in r.json()["detail"] and "/carrier" in r.json()["detail"]
        assert client.get("/carrier/healthz").json()["operations"] == 3


def test_the_service_name_is_in_the_scope_state_for_middleware(tmp_path: Path, backends: Any) -> None:
    (_, erp_url), (_, carrier_url) = backends
    seen: list[str | None] = []
    gw = load_gateway(_two(tmp_path, erp_url, carrier_url), cache_dir=None)
    app = gw.asgi()

    async def outer(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)
        if scope["type"] == "http":
            seen.append(scope.get("state", {}).get("service"))

    with TestClient(outer) as client:
        client.post("/carrier/CalculatorService/Add", json={"a": 1, "b": 1})
        client.get("/erp/openapi.json")
        client.get("/openapi.json")
    assert seen == ["carrier", "erp", None]


def test_combined_and_per_service_specs_are_valid(tmp_path: Path, backends: Any) -> None:
    (_, erp_url), (_, carrier_url) = backends
    gw = load_gateway(_two(tmp_path, erp_url, carrier_url), cache_dir=None)
    with TestClient(gw.asgi()) as client:
        combined = client.get("/openapi.json").json()
        erp = client.get("/erp/openapi.json").json()
        carrier = client.get("/carrier/openapi.json").json()
        assert client.get("/docs").status_code == 200
    for spec in (combined, erp, carrier):
        validate(spec)  # openapi-spec-validator: resolves every $ref too
    assert set(combined["paths"]) == set(erp["paths"]) | set(carrier["paths"])
    assert all(p.startswith("/erp/") for p in erp["paths"]) and all(p.startswith("/carrier/") for p in carrier["paths"])
    ops = [op for item in combined["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in ops]
    assert len(ids) == len(set(ids))
    assert {t["name"] for t in combined["tags"]} == {"erp", "carrier"} == {op["tags"][0] for op in ops}
    # each service's components, prefixed: both WSDLs' types survive, none shadowing the other
    names = set(combined["components"]["schemas"])
    assert {f"erp_{n}" for n in erp["components"]["schemas"] if n not in names} <= names
    assert {f"carrier_{n}" for n in carrier["components"]["schemas"] if n not in names} <= names


def test_the_combined_spec_lints_clean_with_redocly(tmp_path: Path, backends: Any) -> None:
    redocly = LINT / "node_modules" / ".bin" / "redocly"
    if not redocly.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{redocly} is missing: .ci/install-peers installs it")
        pytest.skip("redocly is not installed in tests/lint (run .ci/install-peers)")
    (_, erp_url), (_, carrier_url) = backends
    # with authentication on in one service, so security schemes are combined too
    cfg = _two(tmp_path, erp_url, carrier_url).read_text().replace(
        "    read_timeout: 7\n", "    read_timeout: 7\n    auth:\n      api_keys:\n        - {consumer: partner, sha256: '" + "0" * 64 + "'}\n"
    )
    # the samples' license and contact (wsdl/samples.yaml), as the committed specs the lint tests read have
    cfg = (ROOT / "wsdl" / "samples.yaml").read_text() + cfg
    gw = load_gateway(_config(tmp_path / "gateway.yaml", cfg), cache_dir=None)
    spec = tmp_path / "combined.json"
    spec.write_text(json.dumps(gw.openapi()))
    r = subprocess.run(
        [str(redocly), "lint", "--config", str(LINT / "redocly.yaml"), "--format", "json", str(spec)],
        capture_output=True, text=True, timeout=300, cwd=LINT, env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )  # fmt: skip
    report, _ = json.JSONDecoder().raw_decode(r.stdout)
    assert [(p["ruleId"], p["message"]) for p in report["problems"]] == []


@pytest.mark.parametrize(
    ("service_lines", "line", "expected"),
    [
        ("    read_timeout: -1\n", 7, "services.carrier.read_timeout: expected a positive number of seconds"),
        ("    retries: 3\n", 7, "services.carrier: unknown setting(s): retries"),
        ("    routes:\n      Add: {verb: GET}\n", 8, "services.carrier.routes.Add: unknown key(s): verb"),
        ("    base_path: /erp/more\n", 7, "services.carrier.base_path: /erp/more overlaps the base path /erp of the service erp"),
        ("    server: {max_connections: 5}\n", 7, "services.carrier.server: set once for the whole gateway"),
    ],
)
def test_config_errors_name_the_file_the_line_and_the_key(tmp_path: Path, service_lines: str, line: int, expected: str) -> None:
    cfg = _config(
        tmp_path / "gw.yaml",
        f"services:\n  erp:\n    wsdl: {sample('orders.wsdl')}\n  carrier:\n    wsdl: {sample('calculator.wsdl')}\n    base_path: /carrier\n{service_lines}",
    )
    with pytest.raises(GatewayConfigError) as info:
        load_gateway(cfg, cache_dir=None)
    assert info.value.problems == [f"{cfg}:{line}: {expected}"] or info.value.problems[0].startswith(f"{cfg}:{line}: {expected}"), info.value.problems


def test_every_problem_is_reported_once_each(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path / "gw.yaml",
        "backend_auth: {username: u, password: p}\nservices:\n  a:\n    backend: http://x/\n  b:\n    wsdl: missing.wsdl\n  'c d':\n    wsdl: x\n",
    )
    with pytest.raises(GatewayConfigError) as info:
        load_gateway(cfg, cache_dir=None)
    problems = info.value.problems
    assert problems[0].startswith(f"{cfg}:1: backend_auth: credentials for a backend go under the service")
    assert any(p.startswith(f"{cfg}:3: services.a.wsdl: required") for p in problems)
    assert any(p.startswith(f"{cfg}:7: services.c d:") for p in problems)


def test_a_consumers_upstream_credentials_never_go_to_every_backend(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path / "gw.yaml",
        f"""\
auth:
  api_keys:
    - {{consumer: partner, sha256: "{'0' * 64}"}}
  consumers:
    partner:
      operations: ["*"]
      upstream:
        basic: {{username: erp-user, password: secret}}
services:
  erp: {{wsdl: {sample("orders.wsdl")}}}
  carrier: {{wsdl: {sample("calculator.wsdl")}}}
""",
    )
    with pytest.raises(GatewayConfigError) as info:
        load_gateway(cfg, cache_dir=None)
    assert info.value.problems[0].startswith(f"{cfg}:7: auth.consumers.partner.upstream: upstream credentials in the top-level auth")
    assert "secret" not in str(info.value)


def test_check_config_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _two(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2")
    assert main(["check-config", str(good), "--no-cache"]) == 0
    bad = _config(tmp_path / "bad.yaml", good.read_text().replace("read_timeout: 7", "read_timeout: soon").replace("orders.wsdl", "nowhere.wsdl"))
    capsys.readouterr()
    assert main(["check-config", str(bad), "--no-cache"]) == EXIT_CHECKS
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{bad}:11: services.carrier.read_timeout: expected a positive number")
    assert err[-1] == f"soapbridge: 1 problem(s) in {bad}"  # the WSDLs load only once the settings are good
    bad.write_text(good.read_text().replace("orders.wsdl", "nowhere.wsdl"))
    assert main(["check-config", str(bad), "--no-cache"]) == EXIT_CHECKS
    assert "services.erp:" in capsys.readouterr().err and "nowhere.wsdl" in capsys.readouterr().err + str(bad.read_text())


def _sighup_and_wait(server: Running, word: str) -> str:
    """Sends SIGHUP and reads the server's log until a line with ``word``; no timing involved."""
    os.kill(server.proc.pid, signal.SIGHUP)
    assert server.proc.stderr is not None
    for line in server.proc.stderr:
        if "soapbridge.gateway" in line and word in line:  # the gateway's log, not a path with the word in it
            return line
    raise AssertionError(f"the server exited before logging {word!r}")


def test_sighup_reload_finishes_in_flight_calls_and_keeps_the_old_config_when_the_new_is_bad(tmp_path: Path) -> None:
    slow, fast = Backend(sample("calculator.wsdl")), Backend(sample("calculator.wsdl"))
    slow.hold()
    with ServerThread(slow) as a, ServerThread(fast) as b:
        cfg = _config(tmp_path / "gw.yaml", f"auth: {{enabled: false}}\nservices:\n  calc:\n    wsdl: {sample('calculator.wsdl')}\n    backend: {a.url}/soap\n")
        server = Running("serve", "--config", str(cfg), "--port", "0", "--no-cache", until="SIGHUP reloads")
        try:
            url = server.url("soapbridge") if "http://" in server.text else None
            assert url is not None
            results: list[int] = []
            first = threading.Thread(target=lambda: results.append(httpx.post(f"{url}/calc/CalculatorService/Add", json={"a": 1, "b": 2}, timeout=60).status_code))
            first.start()
            assert slow.arrived.wait(30)  # the first call is in flight, held by the slow backend
            cfg.write_text(cfg.read_text().replace(a.url, b.url))
            assert "reloaded" in _sighup_and_wait(server, "reload")
            r = httpx.post(f"{url}/calc/CalculatorService/Add", json={"a": 2, "b": 2}, timeout=60)
            assert r.status_code == 200 and (slow.count, fast.count) == (1, 1)  # the new config's backend
            slow.release()
            first.join(60)
            assert results == [200]  # the in-flight call finished on the old config
            cfg.write_text("services:\n  calc:\n    read_timeout: never\n")
            line = _sighup_and_wait(server, "reload")
            assert "reload failed" in line and f"{cfg}:2: services.calc.wsdl: required" in line, line
            r = httpx.post(f"{url}/calc/CalculatorService/Add", json={"a": 3, "b": 2}, timeout=60)
            assert r.status_code == 200 and fast.count == 2  # still the last good config
        finally:
            assert server.stop() == 0


def test_serve_without_wsdl_or_gateway_config_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0"]) == 1
    assert "give a WSDL, or --config FILE listing services" in capsys.readouterr().err


def test_library_exports_load_gateway() -> None:
    import bridge

    assert bridge.load_gateway is load_gateway and "load_gateway" in bridge.__all__ and "Gateway" in bridge.__all__


def test_services_table_is_plain_when_not_a_terminal(tmp_path: Path, backends: Any) -> None:
    (_, erp_url), (_, carrier_url) = backends
    cfg = _two(tmp_path, erp_url, carrier_url)
    r = subprocess.run([CLI, "check-config", str(cfg), "--no-cache"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "\x1b[" not in r.stderr  # no progress bar, no colour, on a pipe
    assert Counter(r.stderr.splitlines()) == Counter([f"{cfg}: ok"])


def test_a_single_service_config_error_names_the_file_and_line_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path / "bridge.yaml", "# the bridge\nread_timeout: 10\nroutes:\n  Add: {verb: GET}\n")
    assert main(["check-config", str(cfg)]) == EXIT_CHECKS
    assert capsys.readouterr().err.splitlines()[0] == f"{cfg}:4: routes.Add: unknown key(s): verb"
    cfg.write_text("connect_timeout: 3\nretries: 1\n")
    assert main(["call", "calculator", "Add", "--config", str(cfg)]) == 1
    assert capsys.readouterr().err.strip() == f"soapbridge: {cfg}:2: unknown setting(s): retries"


def test_the_gateway_root_has_the_probes_and_one_metrics_page_for_every_service(tmp_path: Path, backends: Any) -> None:
    """/livez, /readyz and /metrics at the gateway's root; the samples and the request log lines
    carry the configured service names (erp, carrier), read by prometheus_client's own parser."""
    from tests.test_observability import captured, scrape, value

    (_, erp_url), (_, carrier_url) = backends
    gw = load_gateway(_two(tmp_path, erp_url, carrier_url), cache_dir=None)
    with captured() as log, TestClient(gw.asgi()) as client:
        assert client.get("/livez").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 200 and set(ready.json()["services"]) == {"erp", "carrier"}
        assert client.post("/carrier/CalculatorService/Add", json={"a": 2, "b": 3}).status_code == 200
        assert client.post("/erp/OrderService/GetOrder", json={"orderId": "A-1"}).status_code == 200
        assert client.post("/erp/OrderService/GetOrder", json={"orderId": 5}).status_code == 400
        samples = scrape(client)
    total = "soapbridge_requests_total"
    assert value(samples, total, service="carrier", operation="Add", status="200", kind="") == 1
    assert value(samples, total, service="erp", operation="GetOrder", status="200", kind="") == 1
    assert value(samples, total, service="erp", operation="GetOrder", status="400", kind="validation") == 1
    assert not any(dict(labels).get("service") in ("OrderService", "CalculatorService") for _, labels in samples)
    assert sum(1 for name, _ in samples if name == "process_resident_memory_bytes") <= 1  # once, not per service
    lines = [(x["service"], x["operation"], x["status"]) for x in log.requests()]
    assert lines == [("carrier", "Add", 200), ("erp", "GetOrder", 200), ("erp", "GetOrder", 400)]


@pytest.mark.slow
def test_sighup_with_workers_replaces_them_only_for_a_config_that_loads(tmp_path: Path) -> None:
    """`serve --config --workers 2`: uvicorn's supervisor replaces the workers on SIGHUP only after the
    config checks out; a bad config is logged and the running workers keep serving the old one."""
    old, new = Backend(sample("calculator.wsdl")), Backend(sample("calculator.wsdl"))
    with ServerThread(old) as a, ServerThread(new) as b:
        cfg = _config(tmp_path / "gw.yaml", f"auth: {{enabled: false}}\nservices:\n  calc:\n    wsdl: {sample('calculator.wsdl')}\n    backend: {a.url}/soap\n")
        server = Running("serve", "--config", str(cfg), "--port", "0", "--workers", "2", "--cache-dir", str(tmp_path / "cache"), until="SIGHUP reloads")
        try:
            url = server.url("soapbridge")

            def add() -> int:
                return httpx.post(f"{url}/calc/CalculatorService/Add", json={"a": 1, "b": 2}, timeout=60).status_code

            assert add() == 200 and (old.count, new.count) == (1, 0)
            cfg.write_text("services:\n  calc:\n    read_timeout: never\n")
            assert "reload failed" in _sighup_and_wait(server, "reload")
            assert add() == 200 and (old.count, new.count) == (2, 0)  # the old workers, the old config
            cfg.write_text(f"auth: {{enabled: false}}\nservices:\n  calc:\n    wsdl: {sample('calculator.wsdl')}\n    backend: {b.url}/soap\n")
            assert "reloaded" in _sighup_and_wait(server, "reload")
            # the supervisor has replaced the workers one by one; every later call reaches the new backend
            deadline_calls = 200
            while new.count == 0 and deadline_calls:
                assert add() == 200
                deadline_calls -= 1
            assert new.count >= 1
            before = old.count
            for _ in range(6):
                assert add() == 200
            assert old.count == before  # no worker with the old config is left
        finally:
            assert server.stop() == 0


def test_the_process_metrics_are_collected_once_for_the_whole_gateway(tmp_path: Path, backends: Any) -> None:
    """Each service's registry leaves out the process, platform and GC collectors; the gateway's root
    serves them once. Read with prometheus_client's own text parser."""
    from prometheus_client.parser import text_string_to_metric_families

    (_, erp_url), (_, carrier_url) = backends
    gw = load_gateway(_two(tmp_path, erp_url, carrier_url), cache_dir=None)
    app = gw.asgi()
    with TestClient(app) as client:
        assert client.post("/carrier/CalculatorService/Add", json={"a": 2, "b": 3}).status_code == 200
        assert client.post("/erp/OrderService/GetOrder", json={"orderId": "A-1"}).status_code == 200
        text = client.get("/metrics").text
    names = [f.name for f in text_string_to_metric_families(text)]
    process = [n for n in names if n.startswith(("process_", "python_"))]
    assert {"process_resident_memory_bytes", "process_cpu_seconds", "python_info", "python_gc_collections"} <= set(process), names
    assert len(process) == len(set(process))  # each family once
    assert len(names) == len(set(names))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    served = {s.labels["service"] for s in families["soapbridge_requests"].samples}
    assert served == {"erp", "carrier"}
    assert all("service" in s.labels for n, f in families.items() if n.startswith("soapbridge_") for s in f.samples)
    # no service app's registry collects them (they were collected once per service and scrape)
    for _, _, service_app in app.current.apps:
        own = {f.name for f in service_app.state.metrics.registry.collect()}
        assert own and not any(n.startswith(("process_", "python_")) for n in own), own


# --- reload on a file change (serve --reload-on-change) -------------------------------------------


class Tail:
    """The rest of a server's stderr, read in a thread; ``wait_for`` waits for the next line with a
    word in it (a generous deadline only against a hang: nothing is timed)."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self.seen = 0
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, word: str, timeout: float = 120) -> str:
        with self.cond:
            while True:
                for i in range(self.seen, len(self.lines)):
                    if word in self.lines[i]:
                        self.seen = i + 1
                        return self.lines[i]
                self.seen = len(self.lines)
                assert self.cond.wait(timeout), f"no line with {word!r} in {timeout} s; the log:\n" + "\n".join(self.lines)

    def count(self, word: str) -> int:
        with self.cond:
            return sum(word in line for line in self.lines)


GATEWAY_LOG = "soapbridge.gateway: reload"  # the text log's lines "reloaded ..." and "reload failed ..."


def _until(check: Any, what: str, timeout: float = 120) -> Any:
    """Polls ``check()`` until it returns something true; fails after a generous deadline."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not {what} in {timeout} s"
        time.sleep(0.1)
    return result


def _status(url: str) -> int:
    try:
        return httpx.post(url, json={"a": 1, "b": 2}, timeout=60).status_code
    except httpx.HTTPError:
        return 0


def _calc(name: str, backend: str) -> str:
    return f"  {name}:\n    wsdl: calculator.wsdl\n    backend: {backend}/soap\n"


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)], ids=["one-process", "workers"])
def test_reload_on_change_serves_an_edit_finishes_in_flight_calls_and_keeps_the_last_good_config(tmp_path: Path, workers: int) -> None:
    """`serve --config --reload-on-change`: an added service answers after the edit while a call held
    by a slow backend finishes on the old config; a broken config is one log line with file:line and
    the old config goes on serving; a change to the WSDL the config names reloads too. With --workers
    the supervisor watches and replaces the workers."""
    slow, fast = Backend(sample("calculator.wsdl")), Backend(sample("calculator.wsdl"))
    slow.hold()
    shutil.copy(sample("calculator.wsdl"), tmp_path / "calculator.wsdl")  # named by the config: watched too
    head = "auth: {enabled: false}\nread_timeout: 300\nservices:\n"  # the held call never times out
    with ServerThread(slow) as a, ServerThread(fast) as b:
        cfg = _config(tmp_path / "gw.yaml", head + _calc("calc", a.url))
        server = Running(
            "serve", "--config", str(cfg), "--port", "0", "--workers", str(workers), "--cache-dir", str(tmp_path / "cache"),
            "--reload-on-change", "--log-format", "text", until="SIGHUP reloads",
        )  # fmt: skip
        assert "a change to it or to the 1 file(s) it names" in server.text
        log = Tail(server.proc.stderr)
        try:
            url = server.url("soapbridge")
            results: list[int] = []
            first = threading.Thread(target=lambda: results.append(_status(f"{url}/calc/CalculatorService/Add")))
            first.start()
            assert slow.arrived.wait(60)  # in flight, held by the slow backend
            cfg.write_text(head + _calc("calc", a.url) + _calc("calc2", b.url))
            _until(lambda: _status(f"{url}/calc2/CalculatorService/Add") == 200, "the added service answering")
            assert results == []  # the held call is still in flight
            slow.release()
            first.join(60)
            assert results == [200]  # it finished on the config it started on
            # (with workers the supervisor says it once every worker is replaced: the held one included)
            assert "reloaded" in log.wait_for(GATEWAY_LOG)
            if workers > 1:  # every worker replaced: the next calls all reach the new config
                _until(lambda: all(_status(f"{url}/calc2/CalculatorService/Add") == 200 for _ in range(6)), "every worker on the new config")

            cfg.write_text(head + _calc("calc", a.url) + _calc("calc2", b.url) + "    read_timeout: never\n")
            line = log.wait_for(GATEWAY_LOG)
            assert "reload failed, still serving the previous config" in line, line
            assert f"{cfg}:10: services.calc2.read_timeout: expected a positive number" in line, line
            served = fast.count
            for _ in range(4):
                assert _status(f"{url}/calc2/CalculatorService/Add") == 200  # the last good config
            assert fast.count == served + 4 and log.count("soapbridge.gateway: reload failed") == 1  # one line, once

            cfg.write_text(head + _calc("calc", b.url))  # good again: calc2 gone, calc on the fast backend
            assert "reloaded" in log.wait_for(GATEWAY_LOG)
            _until(lambda: _status(f"{url}/calc2/CalculatorService/Add") == 404, "the removed service gone")
            wsdl = tmp_path / "calculator.wsdl"
            wsdl.write_text(wsdl.read_text() + "<!-- edited -->\n")  # a file the config names
            assert "reloaded" in log.wait_for(GATEWAY_LOG)
            assert _status(f"{url}/calc/CalculatorService/Add") == 200
        finally:
            assert server.stop() == 0


def test_the_files_a_config_names_are_watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What --reload-on-change watches: the config, its WSDL (relative to its folder), a secret file
    named through ${VAR}; not a URL, nor a value that names no file."""
    shutil.copy(sample("calculator.wsdl"), tmp_path / "calculator.wsdl")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "password").write_text("s3cret\n")
    monkeypatch.setenv("SECRETS", str(tmp_path / "secrets"))
    cfg = _config(
        tmp_path / "gw.yaml",
        "auth: {enabled: false}\nservices:\n  calc:\n    wsdl: calculator.wsdl\n    backend: http://127.0.0.1:9/soap\n"
        "    backend_auth: {type: basic, username: svc, password_file: '${SECRETS}/password'}\n    base_path: /calc\n",
    )
    with load_gateway(cfg, cache_dir=None) as gw:
        watched = gw.watched_files()
    assert watched == sorted([cfg, tmp_path / "calculator.wsdl", tmp_path / "secrets" / "password"])
