"""Start-up of the largest corpus WSDLs: ``soapbridge serve`` in a fresh process, the time until it
answers its first request (the health check), the time until it answers its first call (an
operation's example request, which goes through validation, encoding and the upstream client to
a closed port: a 503), and its resident memory then. Each WSDL is served twice with one fresh
disk cache: the first run is cold, the second warm. The package's bytecode is compiled first,
as an installed package has it.
"""

from __future__ import annotations

import compileall
import contextlib
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .e2e import free_port, reap

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "wsdl-corpus"
LARGEST = [
    ("VirtualBox (gowsdl-vboxweb)", "gowsdl-vboxweb/vboxweb.wsdl"),
    ("Workday Human Resources", "workday-Human_Resources/Human_Resources.wsdl"),
]
WARM_TRIES = 3
QUICK_SAMPLE = ("orders sample", Path(__file__).resolve().parents[1] / "wsdl" / "orders.wsdl")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve_once(wsdl: Path, cwd: Path, call: tuple[str, bytes] | None = None, timeout: float = 300.0) -> dict[str, Any]:
    """Seconds from spawning ``soapbridge serve`` to its first answered request (and to the answer
    to ``call``, a POST path and JSON body), and its RSS then. The disk cache is in ``cwd``."""
    port = free_port()
    cli = str(Path(sys.executable).with_name("soapbridge"))
    env = dict(os.environ, SOAPBRIDGE_CACHE_DIR=str(cwd / "cache"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [cli, "serve", str(wsdl), "--port", str(port), "--backend", "http://127.0.0.1:9/unused"],
        cwd=cwd,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"soapbridge serve {wsdl.name} exited: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"soapbridge serve {wsdl.name} did not answer within {timeout} s")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    break
            except OSError:
                time.sleep(0.01)
        first = time.perf_counter() - t0
        result = {"first_request_s": round(first, 3)}
        if call is not None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", call[0], body=call[1], headers={"Content-Type": "application/json"})
            status = conn.getresponse().status
            conn.close()
            if status != 503:  # the backend is a closed port: anything else means the call went wrong
                raise RuntimeError(f"the first call to {call[0]} answered {status}, not 503")
            result["first_call_s"] = round(time.perf_counter() - t0, 3)
        return {**result, "rss_mb": round(_rss_mb(proc.pid), 1)}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        reap(proc)


def _operations_and_call(wsdl: Path) -> tuple[int, tuple[str, bytes]]:
    """The operation count, and a first call: the first routed operation's example request."""
    import json

    import bridge

    b = bridge.load(wsdl, cache_dir=None)
    op = b.routed[0]
    example = b.openapi()["paths"][op.path][op.http_method.lower()]["requestBody"]["content"]["application/json"]["example"]
    return len(b.model.operations), (op.path, json.dumps(example).encode())


def run_start(quick: bool, log: Any) -> list[dict[str, Any]]:
    targets: list[tuple[str, Path]] = [(name, CORPUS / rel) for name, rel in LARGEST if (CORPUS / rel).exists()]
    if quick or not targets:
        if not targets:
            log(f"start: the corpus is not at {CORPUS}; measuring the orders sample instead")
        targets = [(QUICK_SAMPLE[0], QUICK_SAMPLE[1])]
    import bridge

    compileall.compile_dir(str(Path(bridge.__file__).parent), quiet=1)
    rows = []
    for name, wsdl in targets:
        ops, call = _operations_and_call(wsdl)
        with tempfile.TemporaryDirectory(prefix="soapbridge-start-") as tmp:
            for run in ("cold", "warm"):
                # Warm: the fastest of three starts, as a noisy neighbour only ever slows one down.
                tries = [serve_once(wsdl, Path(tmp), call) for _ in range(1 if run == "cold" or quick else WARM_TRIES)]
                r = min(tries, key=lambda t: t["first_request_s"])
                rows.append({"name": name, "wsdl": wsdl.name, "operations": ops, "run": run, **r, "tries": tries})
                log(
                    f"start {name} {run}: first request after {r['first_request_s']:.2f} s, "
                    f"first call after {r['first_call_s']:.2f} s, RSS {r['rss_mb']:.0f} MB"
                    + (f" (fastest of {len(tries)})" if len(tries) > 1 else "")
                )
    return rows
