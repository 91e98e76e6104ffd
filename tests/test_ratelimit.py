"""Rate limits (bridge/ratelimit.py, docs/rate-limits.md): the config, the 429 and its headers
(parsed with http-sf, an RFC 9651 parser we did not write), per-consumer independence, and the
admission count under 32 concurrent clients, on one worker with memory counters and on two
workers sharing a real redis-server that the tests start themselves (and pause mid-run).

No assertion is timed: the admitted count is checked against the window arithmetic of a
fixed-window counter over the elapsed time the client measured (see _bounds)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import http_sf
import httpx
import pytest
import yaml
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge import load
from bridge.errors import ConfigError
from bridge.mock import MockService
from bridge.ratelimit import RETRY_INTERVAL
from bridge.settings import ConsumerLimits, make_settings
from bridge.wsdl.loader import load_model
from tests.conftest import ServerThread, free_port, sample, wait_until_serving

PROBLEM = "application/problem+json"
ADD = "/CalculatorService/Add"
BODY = {"a": 1, "b": 2}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


class Counting:
    """The mock SOAP service, counting the requests that reach it."""

    def __init__(self) -> None:
        self.app = MockService(load_model(sample("calculator.wsdl"))).asgi()
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


def with_consumer(app: ASGIApp) -> ASGIApp:
    """Stands in for the authentication middleware: the consumer named by X-Test-Consumer goes
    where authentication puts it, scope["state"]["consumer"] (None without the header)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = dict(scope["headers"]).get(b"x-test-consumer")
            scope.setdefault("state", {})["consumer"] = name.decode() if name else None
        await app(scope, receive, send)

    return wrapped


def limited_app(rate_limits: dict[str, Any], backend: Counting | None = None) -> ASGIApp:
    backend = backend or Counting()
    b = load(sample("calculator.wsdl"), endpoint="http://mock.invalid/soap", transport=httpx.ASGITransport(app=backend), rate_limits=rate_limits)  # type: ignore[arg-type]
    return with_consumer(b.asgi())


# --- the config -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate_limits", "message"),
    [
        ({"default": "lots"}, "rate_limits.default: expected a rate limit"),
        ({"consumers": {"partner-a": 10}}, "rate_limits.consumers.partner-a: expected a rate limit"),
        ({"operations": {"OrderService.*": "5/fortnight"}}, "rate_limits.operations.OrderService.*"),
        ({"default": "10/second;20/second"}, "two limits for the same window"),
        ({"default": "1/second", "storage": "mongodb://user:s3cret@db"}, "rate_limits.storage: expected memory://"),
        ({"default": "1/second", "on_storage_error": "maybe"}, "on_storage_error: expected allow or deny"),
        ({"default": "1/second", "storage_timeout": 0}, "storage_timeout: expected a positive number"),
        ({"default": "1/second", "per_consumer": True}, "rate_limits: unknown key(s): per_consumer"),
        ({"consumers": {"partner-a": {"rate": "1/second", "burst": 3}}}, "rate_limits.consumers.partner-a: unknown key(s): burst"),
        ({"consumers": {"partner-a": {"concurrency": 0}}}, "rate_limits.consumers.partner-a.concurrency: expected a positive integer"),
        ({"consumers": {"partner-a": {"rate": "often"}}}, "rate_limits.consumers.partner-a.rate: expected a rate limit"),
        ({"max_request_bytes": "1 MB"}, "rate_limits.max_request_bytes: expected a positive integer"),
    ],
)
def test_bad_config_is_refused(rate_limits: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(rate_limits=rate_limits)
    assert message in str(err.value)
    assert "s3cret" not in str(err.value)


def test_config_file_keeps_the_issue_names(tmp_path: Path) -> None:
    config = tmp_path / "soapbridge.yaml"
    config.write_text(
        "rate_limits:\n  default: 100/second\n  consumers: {partner-a: 10/second}\n  storage: memory://\n"
        '  operations: {"OrderService.*": 5/second}\n  on_storage_error: deny\n'
    )
    rl = make_settings(config).rate_limits
    assert rl is not None
    assert (rl.default, rl.consumers, rl.operations, rl.storage, rl.on_storage_error) == (
        "100/second", {"partner-a": ConsumerLimits(rate="10/second")}, {"OrderService.*": "5/second"}, "memory://", "deny",
    )  # fmt: skip
    assert make_settings().rate_limits is None  # off unless configured


# --- the answers and their headers ------------------------------------------------------------


def _policies(response: httpx.Response) -> dict[str, dict[str, Any]]:
    """RateLimit-Policy parsed as an RFC 9651 List, checked as draft-ietf-httpapi-ratelimit-headers-12 §3 says."""
    parsed = http_sf.parse(response.headers["RateLimit-Policy"].encode(), tltype="list")
    out = {}
    for name, params in parsed:
        assert isinstance(name, str)  # the Item value MUST be a String
        assert isinstance(params["q"], int) and params["q"] >= 0  # q REQUIRED, non-negative Integer
        assert "w" not in params or (isinstance(params["w"], int) and params["w"] > 0)  # w OPTIONAL, a non-zero Integer
        assert params.get("qu", "requests") in ("requests", "concurrent-requests")  # registered quota units
        out[name] = dict(params)
    return out


def _limits(response: httpx.Response) -> dict[str, dict[str, Any]]:
    """RateLimit parsed as an RFC 9651 List, checked as the draft's §4 says."""
    parsed = http_sf.parse(response.headers["RateLimit"].encode(), tltype="list")
    out = {}
    for name, params in parsed:
        assert isinstance(name, str)
        assert isinstance(params["r"], int) and params["r"] >= 0  # r REQUIRED, non-negative Integer
        assert "t" not in params or (isinstance(params["t"], int) and params["t"] >= 0)  # t OPTIONAL
        out[name] = dict(params)
    return out


def test_headers_and_429_follow_the_draft() -> None:
    backend = Counting()
    client = TestClient(limited_app({"default": "3/minute", "operations": {"*.Add": "10/hour;2/minute"}}, backend))
    answers = [client.post(ADD, json=BODY) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    ok, _, limited = answers
    # On the successful answer too: the policies, and what is left of each
    assert _policies(ok) == {"consumer-60s": {"q": 3, "w": 60}, "*.Add-3600s": {"q": 10, "w": 3600}, "*.Add-60s": {"q": 2, "w": 60}}
    left = _limits(ok)
    assert {n: v["r"] for n, v in left.items()} == {"consumer-60s": 2, "*.Add-3600s": 9, "*.Add-60s": 1}
    assert 0 < left["consumer-60s"]["t"] <= 60 and 0 < left["*.Add-3600s"]["t"] <= 3600
    # The third is over *.Add-60s (two a minute) though under the consumer's three a minute
    assert limited.headers["content-type"] == PROBLEM
    problem = limited.json()
    assert problem["status"] == 429 and problem["type"] == "urn:soapbridge:problem:rate-limited"
    assert problem["violated-policies"] == ["*.Add-60s"]
    now = _limits(limited)
    assert now["*.Add-60s"]["r"] == 0
    retry_after = int(limited.headers["Retry-After"])
    # Retry-After SHOULD NOT point before the end of the violated policy's effective window (§6)
    assert 1 <= retry_after <= 60 and retry_after >= now["*.Add-60s"]["t"]
    # The service never saw the refused request
    assert backend.calls == 2


def test_other_routes_and_errors() -> None:
    client = TestClient(limited_app({"default": "1/minute"}))
    for _ in range(3):  # the spec, the docs and the health check are not counted
        assert client.get("/healthz").status_code == 200
        assert "RateLimit" not in client.get("/openapi.json").headers
    bad = client.post(ADD, json={"a": "two"})  # a refused body still counts, and says so
    assert bad.status_code == 400 and _limits(bad)["consumer-60s"]["r"] == 0
    assert client.post(ADD, json=BODY).status_code == 429


def test_consumers_are_counted_apart() -> None:
    client = TestClient(limited_app({"default": "4/minute", "consumers": {"partner-a": "2/minute"}}))

    def admitted(consumer: str | None) -> int:
        headers = {"X-Test-Consumer": consumer} if consumer else {}
        return sum(client.post(ADD, json=BODY, headers=headers).status_code == 200 for _ in range(6))

    assert admitted("partner-a") == 2  # its own limit
    assert admitted("partner-b") == 4  # the default, its own counter
    assert admitted("partner-c") == 4
    assert admitted(None) == 4  # no consumer: counted by client address
    assert admitted("partner-a") == 0  # still spent


def test_the_authenticated_consumer_is_the_one_counted() -> None:
    """With the bridge's own API keys on, the limit follows the key's consumer, and a caller cannot
    pose as another consumer by sending the header the embedding shim above reads."""
    keys = {"partner-a": "key-of-a", "partner-b": "key-of-b"}
    api_keys = [{"consumer": c, "sha256": hashlib.sha256(k.encode()).hexdigest()} for c, k in keys.items()]
    backend = Counting()
    b = load(sample("calculator.wsdl"), endpoint="http://mock.invalid/soap", transport=httpx.ASGITransport(app=backend),  # type: ignore[arg-type]
             auth={"api_keys": api_keys}, rate_limits={"default": "3/minute", "consumers": {"partner-a": "1/minute"}})
    client = TestClient(b.asgi())

    def admitted(key: str, pose_as: str | None = None) -> int:
        headers = {"X-API-Key": key} | ({"X-Test-Consumer": pose_as} if pose_as else {})
        return sum(client.post(ADD, json=BODY, headers=headers).status_code == 200 for _ in range(4))

    assert admitted(keys["partner-a"], pose_as="partner-b") == 1  # partner-a's own limit, whatever it claims
    assert admitted(keys["partner-b"]) == 3
    assert admitted(keys["partner-a"]) == 0
    assert backend.calls == 4


class Gated(Counting):
    """The mock service, holding every request until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
            while not self.release:
                await asyncio.sleep(0.01)
        await self.app(scope, receive, send)


def test_concurrency_per_consumer() -> None:
    backend = Gated()
    app = limited_app({"consumers": {"partner-a": {"concurrency": 2}}}, backend)

    async def run(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            calls = [asyncio.ensure_future(client.post(url, json=BODY, headers={"X-Test-Consumer": "partner-a"})) for _ in range(6)]
            done: set[asyncio.Future[httpx.Response]] = set()
            while len(done) < 4:  # the four beyond two in flight are refused while two are held
                finished, _ = await asyncio.wait(set(calls) - done, return_when=asyncio.FIRST_COMPLETED)
                done |= finished
            while backend.calls < 2:  # the two admitted reach the service (and wait there)
                await asyncio.sleep(0.01)
            backend.release = True
            return await asyncio.gather(*calls)

    with ServerThread(app) as server:
        answers = asyncio.run(run(server.url + ADD))
        again = httpx.post(server.url + ADD, json=BODY, headers={"X-Test-Consumer": "partner-a"})  # slots given back
    assert sorted(r.status_code for r in answers) == [200, 200, 429, 429, 429, 429]
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["violated-policies"] == ["consumer-concurrency"]
    assert _policies(refused) == {"consumer-concurrency": {"q": 2, "qu": "concurrent-requests"}}
    assert _limits(refused) == {"consumer-concurrency": {"r": 0}}
    assert again.status_code == 200 and _limits(again) == {"consumer-concurrency": {"r": 1}}
    assert backend.calls == 3


def test_request_size_per_consumer() -> None:
    client = TestClient(limited_app({"max_request_bytes": 64, "consumers": {"uploader": {"max_request_bytes": 4096}}}))
    big = {"a": 1, "b": 2, "pad": "x" * 100}  # over 64 bytes; the pad breaks the schema past the size check
    small = client.post(ADD, json=BODY)
    assert small.status_code == 200
    refused = client.post(ADD, json=big)
    assert refused.status_code == 413 and refused.json()["detail"] == "the limit is 64 bytes"
    assert client.post(ADD, json=big, headers={"X-Test-Consumer": "uploader"}).status_code == 400  # read, then judged


def test_spec_declares_429_and_headers() -> None:
    b = load(sample("calculator.wsdl"), endpoint="http://mock.invalid/soap", rate_limits={"default": "5/second"})
    spec = b.openapi()
    from openapi_spec_validator import validate

    validate(spec)  # type: ignore[arg-type]
    add = spec["paths"][ADD]["post"]["responses"]
    assert set(add["429"]["headers"]) == {"RateLimit", "RateLimit-Policy", "Retry-After"}
    assert PROBLEM in add["429"]["content"]
    assert set(add["200"]["headers"]) == {"RateLimit", "RateLimit-Policy"}
    assert set(spec["components"]["headers"]) == {"RateLimit", "RateLimit-Policy", "Retry-After"}
    plain = load(sample("calculator.wsdl"), endpoint="http://mock.invalid/soap").openapi()
    assert "429" not in plain["paths"][ADD]["post"]["responses"] and "headers" not in plain["components"]


def test_rate_limited_spec_passes_the_linters(tmp_path: Path) -> None:
    """Spectral's and Redocly's rules (tests/lint), as on the committed specs, on a spec with the 429s."""
    from tests.test_spec_lint import LINT, _need

    spectral, redocly = _need("spectral"), _need("redocly")
    spec = tmp_path / "orders.json"
    spec.write_text(json.dumps(load(sample("orders.wsdl"), config=sample("samples.yaml"), rate_limits={"default": "5/second"}).openapi()))
    out = tmp_path / "spectral.json"
    subprocess.run([str(spectral), "lint", "-r", str(LINT / ".spectral.yaml"), "-f", "json", "-o", str(out), str(spec)],
                   capture_output=True, timeout=300, cwd=LINT)  # fmt: skip
    assert json.loads(out.read_text()) == []
    r = subprocess.run(
        [str(redocly), "lint", "--config", str(LINT / "redocly.yaml"), "--format", "json", str(spec)],
        capture_output=True, text=True, timeout=300, cwd=LINT, env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )  # fmt: skip
    report, _ = json.JSONDecoder().raw_decode(r.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, report["problems"]


# --- under concurrency ------------------------------------------------------------------------

CLIENTS = 32
LIMIT = 20  # per second
SECONDS = 3.0


async def _hammer(url: str, seconds: float) -> tuple[Counter[int], float]:
    """CLIENTS clients calling as fast as they are answered for about ``seconds``; the statuses
    and the elapsed time, measured from before the first request to after the last answer."""
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CLIENTS), timeout=30) as client:
        started = time.time()
        stop = started + seconds

        async def one() -> None:
            while time.time() < stop:
                statuses[(await client.post(url, json=BODY)).status_code] += 1

        await asyncio.gather(*(one() for _ in range(CLIENTS)))
        return statuses, time.time() - started


def _bounds(elapsed: float) -> tuple[int, int]:
    """What a fixed window of one second can admit over ``elapsed`` seconds. A window starts at
    the first request after the previous one ended, so at most floor(elapsed) + 1 windows start
    in the run, each admitting at most LIMIT: the upper bound is exact. The lower bound gives up
    the first and last windows (the run may start or end in them) and assumes only that 32
    clients send LIMIT requests a second, a small fraction of what the bridge answers."""
    return LIMIT * (math.floor(elapsed) - 1), LIMIT * (math.floor(elapsed) + 1)


def _check_admission(statuses: Counter[int], elapsed: float) -> None:
    low, high = _bounds(elapsed)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[429] > 0, "the clients never went over the limit"
    assert low <= statuses[200] <= high, (statuses, elapsed)


def test_concurrent_clients_one_worker_memory() -> None:
    with ServerThread(limited_app({"default": f"{LIMIT}/second"})) as server:
        statuses, elapsed = asyncio.run(_hammer(server.url + ADD, SECONDS))
    _check_admission(statuses, elapsed)


# --- Redis ------------------------------------------------------------------------------------


class Redis:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"redis://127.0.0.1:{port}"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Redis]:
    """A private redis-server (Debian's, installed by .ci/install-peers), no persistence."""
    exe = shutil.which("redis-server")
    if exe is None:
        if _in_ci():
            pytest.fail("redis-server is missing: .ci/install-peers installs it (CI=true needs it)")
        pytest.skip("redis-server is not installed (.ci/install-peers installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = Redis(proc, port)
    try:
        deadline = time.monotonic() + 20
        while not server.ping():
            assert proc.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not answer PING in 20 s"
            time.sleep(0.05)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def redis_workers(tmp_path: Path, redis_server: Redis, calculator_mock_server: ServerThread) -> Iterator[str]:
    """``soapbridge serve --workers 2`` counting in the Redis above. Its storage_timeout is long:
    the wait includes event-loop stalls (a worker's first calls compile codecs), and a timeout
    admits without counting (on_storage_error: allow), which this count is not about."""
    config = tmp_path / "soapbridge.yaml"
    config.write_text(yaml.safe_dump({"rate_limits": {"default": f"{LIMIT}/second", "storage": redis_server.url, "storage_timeout": 5.0}}))
    port = free_port()
    cli = str(Path(sys.executable).with_name("soapbridge"))
    proc = subprocess.Popen(
        [cli, "serve", str(sample("calculator.wsdl")), "--port", str(port), "--workers", "2", "--config", str(config),
         "--backend", calculator_mock_server.url + "/", "--cache-dir", str(tmp_path / "cache")],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=(tmp_path / "serve.log").open("wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, base, log=(tmp_path / "serve.log").read_text)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.mark.slow
def test_concurrent_clients_two_workers_redis(redis_workers: str, tmp_path: Path) -> None:
    asyncio.run(_hammer(redis_workers + ADD, 0.5))  # both workers warm: codecs compiled, connections open
    time.sleep(1.5)  # the warm-up's window expires (1 s after its first request): the run starts afresh
    statuses, elapsed = asyncio.run(_hammer(redis_workers + ADD, SECONDS))
    print((tmp_path / "serve.log").read_text())  # shown if it fails: a storage error is logged there
    _check_admission(statuses, elapsed)


def test_workers_refuse_memory_counters(tmp_path: Path) -> None:
    config = tmp_path / "soapbridge.yaml"
    config.write_text("rate_limits: {default: 10/second}\n")
    cli = str(Path(sys.executable).with_name("soapbridge"))
    done = subprocess.run(
        [cli, "serve", str(sample("calculator.wsdl")), "--port", str(free_port()), "--workers", "2", "--config", str(config),
         "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert b"rate_limits.storage is memory://" in done.stderr and b"redis://" in done.stderr


def test_gateway_workers_refuse_memory_counters_naming_the_service(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(f"auth: {{enabled: false}}\nservices:\n  calc:\n    wsdl: {sample('calculator.wsdl')}\n    rate_limits: {{default: 10/second}}\n")
    cli = str(Path(sys.executable).with_name("soapbridge"))
    done = subprocess.run(
        [cli, "serve", "--config", str(config), "--port", str(free_port()), "--workers", "2", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert b"services.calc.rate_limits.storage is memory://" in done.stderr and b"redis://" in done.stderr


@pytest.mark.parametrize("on_error", ["allow", "deny"])
def test_redis_unreachable_from_the_start(on_error: str, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing listens at the storage URL: the start says so, and each call gets what on_storage_error says."""
    backend = Counting()
    app = limited_app({"default": "1/minute", "storage": f"redis://127.0.0.1:{free_port()}", "on_storage_error": on_error}, backend)
    with caplog.at_level("WARNING", logger="soapbridge.ratelimit"), TestClient(app) as client:
        assert "rate-limit storage cannot be reached at start" in caplog.text
        answers = [client.post(ADD, json=BODY) for _ in range(3)]
    if on_error == "allow":
        assert [r.status_code for r in answers] == [200, 200, 200] and "RateLimit" not in answers[0].headers
        assert backend.calls == 3
    else:
        assert [r.status_code for r in answers] == [503, 503, 503] and backend.calls == 0
        assert answers[0].json()["type"] == "urn:soapbridge:problem:rate-limit-unavailable"


def test_redis_reachable_at_start(redis_server: Redis, caplog: pytest.LogCaptureFixture) -> None:
    app = limited_app({"default": "2/minute", "storage": redis_server.url})
    with caplog.at_level("WARNING", logger="soapbridge.ratelimit"), TestClient(app) as client:
        statuses = [client.post(ADD, json=BODY).status_code for _ in range(3)]
    assert "cannot be reached" not in caplog.text
    assert statuses == [200, 200, 429]  # counted in Redis


@pytest.mark.slow
@pytest.mark.parametrize(("on_error", "how"), [("allow", "pause"), ("deny", "pause"), ("allow", "kill")])
def test_redis_stopped_mid_run(redis_server: Redis, on_error: str, how: str) -> None:
    """Redis paused (SIGSTOP: connections hang, the timeout must end the wait) or killed
    (connections refused) while clients call: every request then gets what on_storage_error
    says, none hangs; once Redis is back, counting resumes."""
    app = limited_app({"default": f"{LIMIT}/second", "storage": redis_server.url, "on_storage_error": on_error})
    with ServerThread(app) as server:
        url = server.url + ADD
        before, _ = asyncio.run(_hammer(url, 1.5))
        assert before[429] > 0 and set(before) <= {200, 429}
        redis_server.proc.send_signal(signal.SIGSTOP if how == "pause" else signal.SIGKILL)
        during, _ = asyncio.run(_hammer(url, 1.5))
        expected = 200 if on_error == "allow" else 503
        assert set(during) == {expected}, during
        if on_error == "deny":
            r = httpx.post(url, json=BODY)
            assert r.status_code == 503 and r.headers["content-type"] == PROBLEM and int(r.headers["Retry-After"]) >= 1
            assert r.json()["type"] == "urn:soapbridge:problem:rate-limit-unavailable"
        if how == "pause":
            redis_server.proc.send_signal(signal.SIGCONT)
            # The retry interval and the last window pass; then counting is exact again, on the
            # connections whose requests the timeout cut off (their late replies must not be read
            # as the answers to later commands).
            time.sleep(RETRY_INTERVAL + 1.5)
            statuses, elapsed = asyncio.run(_hammer(url, SECONDS))
            _check_admission(statuses, elapsed)


def test_services_of_a_gateway_count_apart_in_one_redis(redis_server: Redis, calculator_mock_server: ServerThread, tmp_path: Path) -> None:
    """Two services of one gateway with the same operation (Add) and the same limit share one Redis:
    each has its own counters (the key carries the configured service name), so each admits its 2."""
    import redis

    from bridge import load_gateway

    calc = sample("calculator.wsdl")
    backend = calculator_mock_server.url + "/"
    config = tmp_path / "gw.yaml"
    config.write_text(yaml.safe_dump({
        "auth": {"enabled": False},
        "rate_limits": {"operations": {"Add": "2/minute"}, "storage": redis_server.url},
        "services": {"north": {"wsdl": str(calc), "backend": backend}, "south": {"wsdl": str(calc), "backend": backend}},
    }))  # fmt: skip
    with load_gateway(config, cache_dir=None) as gw, TestClient(gw.asgi()) as client:
        statuses = {name: [client.post(f"/{name}{ADD}", json=BODY).status_code for _ in range(3)] for name in ("north", "south")}
    assert statuses == {"north": [200, 200, 429], "south": [200, 200, 429]}
    # what redis-server itself holds: one counter per service, each named after it
    keys = sorted(k.decode() for k in redis.Redis.from_url(redis_server.url).keys("*"))
    assert len(keys) == 2 and "/north/Add-60s/" in keys[0] and "/south/Add-60s/" in keys[1], keys
    # one service, no gateway: its counters are under the WSDL's service name
    with TestClient(limited_app({"operations": {"Add": "2/minute"}, "storage": redis_server.url})) as client:
        assert [client.post(ADD, json=BODY).status_code for _ in range(3)] == [200, 200, 429]
    keys = [k.decode() for k in redis.Redis.from_url(redis_server.url).keys("*soapbridge/CalculatorService/Add-60s/*")]
    assert len(keys) == 1, keys
