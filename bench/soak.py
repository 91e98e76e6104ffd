"""The soak test: N clients for M minutes against ``soapbridge serve`` with ``soapbridge mock`` behind
it (each a real process on 127.0.0.1), good requests interleaved with error requests, to catch
state leaking between requests and memory that keeps growing.

  python -m bench.soak --clients 16 --duration 600 --warmup 60

Topology: clients -> bridge (``soapbridge serve wsdl/orders.wsdl``) -> bench.soak_proxy -> mock
(seed 0). The proxy turns markers in the envelope into a declared SOAP fault from the mock or an
upstream stall (see its docstring). Each client cycles through a shuffled deck of request kinds:

- good calls of the three operations: the reply must be 200, validate against the operation's
  response schema in the committed spec (openapi/orders.json) and equal the reply recorded for that
  operation in contracts/orders/ (the mock's reply depends only on the operation and the seed, so
  this is how a reply corresponds to its request; another operation's reply would not match);
- ``soap_fault``: 422 problem, equal to the recorded fault exchange;
- ``upstream_timeout``: 504 ``upstream:timeout`` problem;
- ``malformed_json``, ``invalid_data``: 400 ``malformed-json`` / ``validation`` problems;
- ``oversize``: a body over ``max_request_bytes``: 413 ``too-large``;
- ``unknown_route``: 404 ``not-found``.

Anything else is an unexpected error. Throughput and latency count the calls completed after the
warm-up; RSS of the bridge process (VmRSS) is sampled every second and its growth is measured
from the end of the warm-up. The exit status is 1 on any unexpected error or an RSS growth of
``--max-rss-growth`` percent (10) or more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema_rs
import yaml

from .e2e import free_port, processes
from .loadgen import percentile

ROOT = Path(__file__).resolve().parents[1]
WSDL = ROOT / "wsdl" / "orders.wsdl"
SPEC = ROOT / "openapi" / "orders.json"
CONTRACTS = ROOT / "contracts" / "orders"
OPERATIONS = ("CreateOrder", "GetOrder", "ListOrders")
FAULT = "OrderNotFound"
MAX_REQUEST_BYTES = 64 * 1024
PROBLEM = "application/problem+json"
# One deck per client round: mostly good calls, every error kind in each round.
DECK = {
    "ok:CreateOrder": 10,
    "ok:GetOrder": 10,
    "ok:ListOrders": 10,
    "soap_fault": 3,
    "upstream_timeout": 1,
    "malformed_json": 2,
    "invalid_data": 2,
    "oversize": 1,
    "unknown_route": 1,
}
ERROR_KINDS = tuple(k for k in DECK if not k.startswith("ok:"))


@dataclass
class Call:
    path: str
    body: bytes
    check: Callable[[int, str, bytes], str | None]  # None when the reply is the expected one


@dataclass
class Stats:
    injected: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    good_latencies: list[float] = field(default_factory=list)  # good calls only: stalls do not hide in p99


def _recorded(op: str) -> dict[str, Any]:
    return yaml.safe_load((CONTRACTS / f"OrderService_{op}.yaml").read_text())  # type: ignore[no-any-return]


def _response_validator(spec: dict[str, Any], path: str) -> Any:
    schema = spec["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]}, validate_formats=True)


def _problem_check(status: int, kind: str) -> Callable[[int, str, bytes], str | None]:
    def check(got: int, ctype: str, body: bytes) -> str | None:
        if got != status or not ctype.startswith(PROBLEM):
            return f"HTTP {got} {ctype}, wanted {status} {PROBLEM}: {body[:200]!r}"
        data = json.loads(body)
        if data.get("type") != f"urn:soapbridge:problem:{kind}" or data.get("status") != status or not data.get("detail"):
            return f"problem body {body[:300]!r}, wanted type {kind}, status {status} and a detail"
        return None

    return check


def _equal_check(status: int, ctype_prefix: str, want: Any, validator: Any = None) -> Callable[[int, str, bytes], str | None]:
    def check(got: int, ctype: str, body: bytes) -> str | None:
        if got != status or not ctype.startswith(ctype_prefix):
            return f"HTTP {got} {ctype}, wanted {status} {ctype_prefix}: {body[:200]!r}"
        data = json.loads(body)
        if isinstance(data, dict) and isinstance(want, dict) and "request_id" not in want:
            data.pop("request_id", None)  # new for every request: not part of the recorded contract
        if validator is not None and not validator.is_valid(data):
            errors = "; ".join(e.message for e in validator.iter_errors(data))
            return f"reply breaks the response schema: {errors[:300]}"
        if data != want:
            return f"reply differs from the recorded one: {body[:300]!r}"
        return None

    return check


class Requests:
    """Builds each kind of call and the check of its reply, from the recorded exchanges."""

    def __init__(self) -> None:
        spec = json.loads(SPEC.read_text())
        self.good: dict[str, tuple[str, dict[str, Any], Callable[[int, str, bytes], str | None]]] = {}
        for op in OPERATIONS:
            example = _recorded(op)["exchanges"][0]
            req, resp = example["rest_request"], example["rest_response"]
            self.good[op] = (req["path"], req["body"], _equal_check(200, "application/json", resp["body"], _response_validator(spec, req["path"])))
        fault = next(x for x in _recorded("GetOrder")["exchanges"] if x["name"] == f"fault {FAULT}")
        self.get_path = fault["rest_request"]["path"]
        self.get_body = fault["rest_request"]["body"]
        self.fault_check = _equal_check(fault["rest_response"]["status"], PROBLEM, fault["rest_response"]["body"])

    def make(self, kind: str, tag: str) -> Call:
        if kind.startswith("ok:"):
            path, body, check = self.good[kind[3:]]
            return Call(path, json.dumps(body).encode(), check)
        if kind == "soap_fault":
            return Call(self.get_path, json.dumps({**self.get_body, "orderId": f"soak-fault {tag}"}).encode(), self.fault_check)
        if kind == "upstream_timeout":
            return Call(self.get_path, json.dumps({**self.get_body, "orderId": f"soak-slow {tag}"}).encode(), _problem_check(504, "upstream:timeout"))
        if kind == "malformed_json":
            return Call(self.get_path, json.dumps(self.get_body).encode()[:-7], _problem_check(400, "malformed-json"))
        if kind == "invalid_data":
            return Call(self.get_path, json.dumps({**self.get_body, "orderId": 12}).encode(), _problem_check(400, "validation"))
        if kind == "oversize":
            return Call(self.get_path, json.dumps({**self.get_body, "orderId": "x" * MAX_REQUEST_BYTES}).encode(), _problem_check(413, "too-large"))
        if kind == "unknown_route":
            return Call("/OrderService/NoSuchOperation", json.dumps(self.get_body).encode(), _problem_check(404, "not-found"))
        raise ValueError(kind)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def drive(base: str, pid: int, *, clients: int, duration: float, warmup: float, seed: int, call_timeout: float) -> dict[str, Any]:
    requests = Requests()
    stats = Stats()
    start = time.monotonic()
    measure_from = start + warmup
    stop = measure_from + duration
    rss: dict[str, int] = {}
    deck = [k for k, n in DECK.items() for _ in range(n)]
    timeout = aiohttp.ClientTimeout(total=call_timeout)

    async def client(i: int, session: aiohttp.ClientSession) -> None:
        rng = random.Random(seed * 1_000_003 + i)
        n = 0
        while time.monotonic() < stop:
            order = deck[:]
            rng.shuffle(order)
            for kind in order:
                if time.monotonic() >= stop:
                    return
                n += 1
                call = requests.make(kind, f"c{i} n{n}")
                stats.injected[kind] += 1
                t0 = time.monotonic()
                try:
                    async with session.post(base + call.path, data=call.body, headers={"Content-Type": "application/json"}) as r:
                        body = await r.read()
                        problem = call.check(r.status, r.headers.get("Content-Type", ""), body)
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                t1 = time.monotonic()
                if problem is None:
                    stats.expected[kind] += 1
                else:
                    stats.unexpected[kind] += 1
                    if len(stats.samples) < 20:
                        stats.samples.append(f"{kind}: {problem}")
                if measure_from <= t1 <= stop:
                    stats.latencies.append(t1 - t0)
                    if kind.startswith("ok:"):
                        stats.good_latencies.append(t1 - t0)

    async def sampler() -> None:
        samples = []
        while time.monotonic() < stop:
            samples.append(rss_kib(pid))
            if "warmup" not in rss and time.monotonic() >= measure_from:
                rss["warmup"] = samples[-1]
            await asyncio.sleep(1.0)
        rss["max"] = max(samples)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(sampler(), *(client(i, session) for i in range(clients)))
    rss["end"] = rss_kib(pid)
    rss.setdefault("warmup", rss["end"])
    growth = 100.0 * (rss["end"] - rss["warmup"]) / rss["warmup"]
    elapsed = time.monotonic() - measure_from
    return {
        "clients": clients,
        "warmup_s": warmup,
        "duration_s": round(elapsed, 1),
        "calls": len(stats.latencies),
        "calls_per_s": round(len(stats.latencies) / elapsed, 1),
        "p50_ms": round(percentile(stats.latencies, 0.50) * 1e3, 2),
        "p99_ms": round(percentile(stats.latencies, 0.99) * 1e3, 2),
        "good_p50_ms": round(percentile(stats.good_latencies, 0.50) * 1e3, 2),
        "good_p99_ms": round(percentile(stats.good_latencies, 0.99) * 1e3, 2),
        "injected": dict(sorted(stats.injected.items())),
        "expected": dict(sorted(stats.expected.items())),
        "unexpected": dict(sorted(stats.unexpected.items())),
        "unexpected_samples": stats.samples,
        "rss_kib": {"warmup": rss["warmup"], "end": rss["end"], "max": rss["max"]},
        "rss_growth_pct": round(growth, 2),
    }


def run_soak(*, clients: int, duration: float, warmup: float, seed: int = 0, upstream_timeout: float = 1.0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Start mock, proxy and bridge, drive them, stop them; return the figures."""
    exe = Path(sys.executable).with_name("soapbridge")
    with tempfile.TemporaryDirectory(prefix="soapbridge-soak-") as tmp, processes() as procs:
        config = Path(tmp) / "bridge.yaml"
        config.write_text(yaml.safe_dump({"read_timeout": upstream_timeout, "max_request_bytes": MAX_REQUEST_BYTES}))
        mock_port, proxy_port, bridge_port = free_port(), free_port(), free_port()
        procs.start([str(exe), "mock", str(WSDL), "--port", str(mock_port), "--seed", str(seed)], mock_port)
        proxy = [sys.executable, "-m", "bench.soak_proxy", "--port", str(proxy_port), "--upstream", f"http://127.0.0.1:{mock_port}/",
                 "--fault", FAULT, "--delay", str(3 * upstream_timeout + 1)]
        procs.start(proxy, proxy_port)
        serve = [str(exe), "serve", str(WSDL), "--port", str(bridge_port), "--backend", f"http://127.0.0.1:{proxy_port}/", "--config", str(config)]
        bridge = procs.start(serve, bridge_port)
        log(f"soak: {clients} clients, {warmup:g} s warm-up then {duration:g} s, bridge pid {bridge.pid} on port {bridge_port}")
        result = asyncio.run(drive(f"http://127.0.0.1:{bridge_port}", bridge.pid, clients=clients, duration=duration, warmup=warmup,
                                   seed=seed, call_timeout=10 * upstream_timeout + 30))
        if bridge.poll() is not None:
            result["unexpected"]["bridge_exited"] = 1
    return result


def failures(result: dict[str, Any], max_rss_growth: float) -> list[str]:
    out = []
    if result["unexpected"]:
        out.append(f"unexpected errors: {result['unexpected']}")
    if result["rss_growth_pct"] >= max_rss_growth:
        out.append(f"RSS grew {result['rss_growth_pct']} % after warm-up (limit {max_rss_growth} %)")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("-c", "--clients", type=int, default=16)
    p.add_argument("-d", "--duration", type=float, default=600.0, help="measured seconds after the warm-up (600)")
    p.add_argument("-w", "--warmup", type=float, default=60.0, help="warm-up seconds, not measured (60)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--upstream-timeout", type=float, default=1.0, help="the bridge's read_timeout; stalled calls wait 3x this")
    p.add_argument("--max-rss-growth", type=float, default=10.0, help="percent of the warm-up RSS (10)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    result = run_soak(clients=args.clients, duration=args.duration, warmup=args.warmup, seed=args.seed,
                      upstream_timeout=args.upstream_timeout, log=lambda s: print(s, file=sys.stderr))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    problems = failures(result, args.max_rss_growth)
    for line in problems:
        print(f"soak FAILED: {line}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
