"""The cost of metrics and the request log (issue 16): the same bridge at 1 KiB replies, once with
its defaults (metrics on, one JSON log line per request to a file) and once with both off, measured
in the same run, in turns (off, on, off, on), so that the machine's drift hits both alike.

The goal: on keeps at least 90% of the calls/s of off.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import bridge
from bridge.envelope import build

from .e2e import REQUEST, KiB, _measure, _python, free_port, processes
from .payloads import WSDL, list_orders_reply

CLIENTS = 16


def run_observability(quick: bool, log: Any, *, duration: float | None = None, rounds: int | None = None) -> dict[str, Any]:
    duration = duration or (1.0 if quick else 2.0)
    rounds = rounds or (1 if quick else 2)
    b = bridge.load(WSDL)
    op = b.operation("ListOrders")
    assert op.output is not None

    def encode(data: dict[str, Any]) -> bytes:
        headers, body = b.codec.encode_message(op, op.output, data, response=True)  # type: ignore[arg-type]
        return build(op.soap_version, headers, body)

    with tempfile.TemporaryDirectory(prefix="soapbridge-bench-obs-") as tmp, processes() as procs:
        d = Path(tmp)
        (d / "request.json").write_text(json.dumps(REQUEST))
        _, xml = list_orders_reply(1 * KiB, encode)
        (d / "reply.xml").write_bytes(xml)
        (d / "off.yaml").write_text("metrics: false\nlog: {level: warning}\n")
        (d / "on.yaml").write_text("metrics: true\nlog: {format: json, level: info}\n")
        backend_port = free_port()
        procs.start(_python("-m", "bench.backend", "--port", str(backend_port), "/r=" + str(d / "reply.xml")), backend_port)
        ports = {}
        for mode in ("off", "on"):
            port = ports[mode] = free_port()
            cli = [str(Path(sys.executable).with_name("soapbridge")), "serve", str(WSDL), "--port", str(port),
                   "--backend", f"http://127.0.0.1:{backend_port}/r", "--config", str(d / f"{mode}.yaml")]  # fmt: skip
            procs.start(cli, port)
        runs: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(rounds):
            for mode in ("off", "on"):
                m = _measure(
                    _python("-m", "bench.loadgen", "--url", f"http://127.0.0.1:{ports[mode]}{op.path}", "--body-file", str(d / "request.json"),
                            "--header", "Content-Type:application/json", "-c", str(CLIENTS), "-d", str(duration), "-w", "0.3"),
                    duration + 60,
                )  # fmt: skip
                if m["errors"]:
                    raise RuntimeError(f"observability bench: {m['errors']} errors with {mode}")
                runs[mode].append(m["calls_per_s"])
    off, on = (sum(runs[k]) / len(runs[k]) for k in ("off", "on"))
    row = {"bytes": len(xml), "clients": CLIENTS, "off_calls_per_s": round(off, 1), "on_calls_per_s": round(on, 1),
           "ratio": round(on / off, 3), "runs": runs}  # fmt: skip
    log(f"observability 1 KiB x{CLIENTS}: off {off:.0f}/s, on {on:.0f}/s, ratio {on / off:.2f} (goal >= 0.90)")
    return row
