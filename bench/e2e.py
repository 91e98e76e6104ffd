"""End to end over loopback, each server in its own process:

- REST via bridge: ``soapbridge serve`` (one worker) in front of the backend, loaded by bench.loadgen;
- zeep direct: the zeep client (bench.zeep_load) calling the backend itself, N threads;
- pass-through proxy: bench.passthrough, the same HTTP stack converting nothing, loaded by bench.loadgen;
- backend alone: bench.loadgen straight at the backend, to show it is not the limit.

Every process started here is stopped (its whole process group) before the section returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bridge
from bridge.envelope import build, http_headers

from .payloads import WSDL, list_orders_reply

KiB = 1024
SIZES = [1 * KiB, 10 * KiB, 100 * KiB]
CLIENTS = [1, 16, 64]
REQUEST = {"status": "SHIPPED", "limit": 10}
PATHS = ("REST via bridge", "zeep direct", "pass-through proxy", "backend alone")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{proc.args!r} did not listen on {port} within {timeout} s")


class Processes:
    """Servers of one bench section; each in its own session, so its whole group can be stopped."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], port: int) -> subprocess.Popen[bytes]:
        # stderr to a file, as a log collector would take it: a pipe nobody reads fills up and blocks
        # a bridge that logs a line per request (its default)
        with tempfile.TemporaryFile() as log:  # closed here: the child holds its own descriptor
            proc = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log)
        self.procs.append(proc)
        wait_port(port, proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            reap(proc)
        self.procs.clear()


def reap(proc: subprocess.Popen[bytes]) -> None:
    """Wait for a process group already sent SIGTERM; SIGKILL it if it lingers."""
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def processes() -> Iterator[Processes]:
    p = Processes()
    try:
        yield p
    finally:
        p.stop()


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _measure(cmd: list[str], timeout: float) -> dict[str, Any]:
    out = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed: {out.stderr.decode()[-2000:]}")
    return json.loads(out.stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


# The policy stack's cost: the same bridge with rate limits on (memory counters), a limit so high
# that every call is admitted, so what is measured is the counting and its headers.
RATE_LIMITS = "rate_limits:\n  default: 1000000/second\n  storage: memory://\n"


def run_e2e(
    quick: bool, log: Any, *, sizes: list[int] | None = None, clients: list[int] | None = None, duration: float | None = None,
    only: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """``only``: the paths to measure (names as in the rows); None: all."""
    sizes = sizes or ([1 * KiB] if quick else SIZES)
    clients = clients or ([1, 16] if quick else CLIENTS)
    duration = duration or (1.0 if quick else 1.5)
    warmup = 0.3
    b = bridge.load(WSDL)
    op = b.operation("ListOrders")
    assert op.output is not None
    soap_request = b.encode_request(op, REQUEST)
    soap_headers = [f"{k}:{v}" for k, v in http_headers(op.soap_version, op.soap_action).items()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="soapbridge-bench-") as tmp, processes() as procs:
        d = Path(tmp)
        (d / "request.json").write_text(json.dumps(REQUEST))
        (d / "request.xml").write_bytes(soap_request)
        replies = []
        for size in sizes:

            def encode(data: dict[str, Any]) -> bytes:
                headers, body = b.codec.encode_message(op, op.output, data, response=True)  # type: ignore[arg-type]
                return build(op.soap_version, headers, body)

            _, xml = list_orders_reply(size, encode)
            (d / f"reply-{size}.xml").write_bytes(xml)
            replies.append(f"/r/{size}=" + str(d / f"reply-{size}.xml"))
            b.decode_response(op, xml)  # the bridge accepts it under strict reply validation
        backend_port = free_port()
        procs.start(_python("-m", "bench.backend", "--port", str(backend_port), *replies), backend_port)
        backend = f"http://127.0.0.1:{backend_port}"
        proxy_port = free_port()
        procs.start(_python("-m", "bench.passthrough", "--port", str(proxy_port), "--backend", backend), proxy_port)
        bridges = {}
        limited = {}
        (d / "ratelimit.yaml").write_text(RATE_LIMITS)
        for size in sizes:
            port = free_port()
            cli = [str(Path(sys.executable).with_name("soapbridge")), "serve", str(WSDL), "--port", str(port), "--backend", f"{backend}/r/{size}"]
            procs.start(cli, port)
            bridges[size] = port
            if size == 1 * KiB and (only is None or "REST via bridge, rate limited" in only):  # the row: 1 KiB
                limited[size] = free_port()
                procs.start([*cli[:3], "--port", str(limited[size]), "--backend", f"{backend}/r/{size}", "--config", str(d / "ratelimit.yaml")], limited[size])
        timeout = duration + warmup + 60
        for size in sizes:
            for c in clients:
                common = ["-c", str(c), "-d", str(duration), "-w", str(warmup)]
                rest = f"http://127.0.0.1:{bridges[size]}{op.path}"
                limited_url = f"http://127.0.0.1:{limited.get(size)}{op.path}"
                paths = {
                    "REST via bridge": _python("-m", "bench.loadgen", "--url", rest, "--body-file", str(d / "request.json"), "--header", "Content-Type:application/json", *common),
                    "REST via bridge, rate limited": _python(
                        "-m", "bench.loadgen", "--url", limited_url, "--body-file", str(d / "request.json"), "--header", "Content-Type:application/json", *common
                    ),
                    "zeep direct": _python("-m", "bench.zeep_load", "--url", f"{backend}/r/{size}", *common),
                    "pass-through proxy": _python("-m", "bench.loadgen", "--url", f"http://127.0.0.1:{proxy_port}/r/{size}", "--body-file", str(d / "request.xml"),
                                                          *[f"--header={h}" for h in soap_headers], *common),
                    "backend alone": _python("-m", "bench.loadgen", "--url", f"{backend}/r/{size}", "--body-file", str(d / "request.xml"),
                                                     *[f"--header={h}" for h in soap_headers], *common),
                }  # fmt: skip
                if size not in limited:
                    del paths["REST via bridge, rate limited"]
                results = {name: _measure(cmd, timeout) for name, cmd in paths.items() if only is None or name in only}
                base = results["pass-through proxy"]["calls_per_s"] if "pass-through proxy" in results else 0.0
                for m in results.values():
                    if base:
                        m["x_passthrough"] = round(m["calls_per_s"] / base, 3)
                if "REST via bridge" in results and "REST via bridge, rate limited" in results:
                    # the policy stack's share of the bare bridge's calls/s (goal: at least 0.8)
                    results["REST via bridge, rate limited"]["x_bare_bridge"] = round(
                        results["REST via bridge, rate limited"]["calls_per_s"] / (results["REST via bridge"]["calls_per_s"] or 1e-9), 3
                    )
                rows.append({"target_bytes": size, "bytes": (d / f"reply-{size}.xml").stat().st_size, "clients": c, "paths": results})
                log(f"e2e {size // KiB} KiB x{c}: " + ", ".join(f"{k} {v['calls_per_s']:.0f}/s p99 {v['p99_ms']:.1f} ms err {v['errors']}" for k, v in results.items()))
    return rows
