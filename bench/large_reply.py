"""The large-reply figures of docs/hostile-clients.md: ``soapbridge serve`` (a fresh process) in front of
``bench.backend`` answering ListOrders with one prepared reply; ``/healthz`` polled every 20 ms
while 1, then 4 concurrent calls fetch it. Prints the worst ``/healthz`` latency, the serve
process's peak RSS growth (VmHWM from /proc, over the RSS before the calls) and its RSS 1 s after.

  python -m bench.large_reply [--reply FILE] [--whole]

``--reply``: the reply's bytes (default: ``bench.payloads`` grown to 45.4 MB); ``--whole``
validates the reply in one jsonschema_rs call, as before ``bridge.pieces``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from .payloads import WSDL, list_orders_reply

ROOT = Path(__file__).resolve().parents[1]
SIZE = 45_400_000


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _wait(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _reset_hwm(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS


def run(url: str, pid: int, calls: int) -> tuple[float, int, int, int]:
    """Worst /healthz latency (ms), RSS before, peak and 1 s after (KiB)."""
    _reset_hwm(pid)
    before = _kib(pid, "VmRSS")
    worst = 0.0
    done = threading.Event()

    def poll() -> None:
        nonlocal worst
        with httpx.Client(timeout=60) as c:
            while not done.is_set():
                t = time.perf_counter()
                assert c.get(url + "/healthz").status_code == 200
                worst = max(worst, time.perf_counter() - t)
                time.sleep(0.02)

    def call(results: list[int]) -> None:
        r = httpx.post(url + "/OrderService/ListOrders", json={}, timeout=300)
        results.append(r.status_code)

    poller = threading.Thread(target=poll)
    poller.start()
    results: list[int] = []
    threads = [threading.Thread(target=call, args=(results,)) for _ in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    poller.join()
    peak = _kib(pid, "VmHWM")
    time.sleep(1)
    after = _kib(pid, "VmRSS")
    if results != [200] * calls:
        raise RuntimeError(f"calls answered {results}")
    return worst * 1000, before, peak, after


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reply", type=Path)
    p.add_argument("--whole", action="store_true")
    p.add_argument("--port", type=int, default=18080)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reply = args.reply
        if reply is None:
            sys.path.insert(0, str(ROOT))
            import bridge
            from bridge.envelope import build

            b = bridge.load(str(WSDL), reply_validation="off")
            op = b.operation("ListOrders")

            def encode(data: dict[str, Any]) -> bytes:
                headers, body = b.codec.encode_message(op, op.output, data, response=True)  # type: ignore[arg-type]
                return build(op.soap_version, headers, body)

            _, body = list_orders_reply(SIZE, encode)
            reply = Path(tmp) / "reply.xml"
            reply.write_bytes(body)
        size = reply.stat().st_size
        backend = subprocess.Popen([sys.executable, "-m", "bench.backend", "--port", str(args.port + 1), f"/={reply}"], cwd=ROOT)
        code = "import sys, bridge.pieces as p\nif sys.argv.pop(1) == 'whole': p.MIN_ITEMS = 10**12\nfrom bridge.cli import main\nmain()"
        serve = subprocess.Popen(
            [sys.executable, "-c", code, "whole" if args.whole else "pieces", "serve", "--no-cache", "--port", str(args.port),
             "--backend", f"http://127.0.0.1:{args.port + 1}/", str(WSDL)],
            cwd=ROOT,
        )
        try:
            url = f"http://127.0.0.1:{args.port}"
            _wait(url + "/healthz")
            start = _kib(serve.pid, "VmRSS")
            print(f"reply {size / 1e6:.1f} MB; serve RSS at start {start / 1024:.0f} MB")
            for calls in (1, 4):
                worst, before, peak, after = run(url, serve.pid, calls)
                grow = (peak - before) * 1024
                print(
                    f"{calls} call(s): worst /healthz {worst:,.0f} ms; peak RSS +{grow / 1e6:.0f} MB "
                    f"({grow / size / calls:.1f} x per reply); RSS 1 s after {after / 1024:.0f} MB"
                )
        finally:
            serve.terminate()
            backend.terminate()
            serve.wait()
            backend.wait()


if __name__ == "__main__":
    main()
