"""Start-up of the largest corpus WSDLs: ``soapbridge serve`` in a fresh process, the time until it
answers its first request, and its resident memory then. Each WSDL is served twice from the same
working directory: the first run is cold; the second is warm as far as anything the first run left
behind (a disk cache of the loaded model) makes it so, and otherwise just a second fresh process.
"""

from __future__ import annotations

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
QUICK_SAMPLE = ("orders sample", Path(__file__).resolve().parents[1] / "wsdl" / "orders.wsdl")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve_once(wsdl: Path, cwd: Path, timeout: float = 300.0) -> dict[str, Any]:
    """Seconds from spawning ``soapbridge serve`` to its first answered request, and its RSS."""
    port = free_port()
    cli = str(Path(sys.executable).with_name("soapbridge"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [cli, "serve", str(wsdl), "--port", str(port), "--backend", "http://127.0.0.1:9/unused"],
        cwd=cwd,
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
        return {"first_request_s": round(first, 3), "rss_mb": round(_rss_mb(proc.pid), 1)}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        reap(proc)


def _operations(wsdl: Path) -> int:
    from bridge.wsdl.loader import load_model

    return len(load_model(wsdl).operations)


def run_start(quick: bool, log: Any) -> list[dict[str, Any]]:
    targets: list[tuple[str, Path]] = [(name, CORPUS / rel) for name, rel in LARGEST if (CORPUS / rel).exists()]
    if quick or not targets:
        if not targets:
            log(f"start: the corpus is not at {CORPUS}; measuring the orders sample instead")
        targets = [(QUICK_SAMPLE[0], QUICK_SAMPLE[1])]
    rows = []
    for name, wsdl in targets:
        ops = _operations(wsdl)
        with tempfile.TemporaryDirectory(prefix="soapbridge-start-") as tmp:
            for run in ("cold", "warm"):
                r = serve_once(wsdl, Path(tmp))
                rows.append({"name": name, "wsdl": wsdl.name, "operations": ops, "run": run, **r})
                log(f"start {name} {run}: first request after {r['first_request_s']:.2f} s, RSS {r['rss_mb']:.0f} MB")
    return rows
