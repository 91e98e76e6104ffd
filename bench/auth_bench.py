"""What the inbound policies cost: ``soapbridge serve`` without them, with an API key, with an API
key and rate limits (the consumer's and an operation's, memory counters) and with a bearer JWT
(RS256, JWKS file), each in its own process in front of the same backend, loaded by
bench.loadgen at 1 KiB in the same run. They are measured in turn, ``ROUNDS`` times; each
row's calls/s is its median round and its ratio the median of the per-round ratios to the bare
bridge measured just before it, so a neighbour's burst on a shared machine does not pick the winner.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bridge
from bridge.envelope import build

from .e2e import REQUEST, KiB, _measure, _python, free_port, processes
from .payloads import WSDL, list_orders_reply

ROUNDS = 5
KEY = "bench-api-key-0123456789"


def _configs(d: Path) -> tuple[dict[str, Path], str]:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    from bridge.auth import hash_key

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="bench", use="sig")
    (d / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    now = int(time.time())
    token = jwt.encode({"iss": "https://idp.bench", "aud": "soapbridge", "sub": "bench", "iat": now, "exp": now + 3600, "scope": "orders"},
                       key, algorithm="RS256", headers={"kid": "bench"})  # fmt: skip
    configs = {
        "no auth": {"auth": {"enabled": False}},
        "API key": {"auth": {"api_keys": [{"consumer": "bench", "sha256": hash_key(KEY), "operations": ["OrderService.*"]}]}},
        # the full policy stack of issue 15: a key, then a rate limit high enough never to refuse, so
        # the row is the counting's cost (memory counters, one process)
        "API key + rate limit": {"auth": {"api_keys": [{"consumer": "bench", "sha256": hash_key(KEY), "operations": ["OrderService.*"]}]},
                                 "rate_limits": {"default": "1000000/second", "operations": {"OrderService.*": "1000000/second"}}},
        "JWT (RS256)": {"auth": {"jwt": {"jwks": "jwks.json", "issuer": "https://idp.bench", "audience": "soapbridge",
                                         "require": [{"operations": ["OrderService.List*"], "scopes": ["orders"]}]}}},
    }  # fmt: skip
    paths = {}
    for name, cfg in configs.items():
        p = d / f"{len(paths)}.json"
        p.write_text(json.dumps(cfg))
        paths[name] = p
    return paths, token


def run_auth(quick: bool, log: Any, *, clients: int = 16, duration: float | None = None) -> list[dict[str, Any]]:
    duration = duration or (1.0 if quick else 2.0)
    rounds = 1 if quick else ROUNDS
    b = bridge.load(WSDL)
    op = b.operation("ListOrders")
    assert op.output is not None
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="soapbridge-bench-auth-") as tmp, processes() as procs:
        d = Path(tmp)
        (d / "request.json").write_text(json.dumps(REQUEST))

        def encode(data: dict[str, Any]) -> bytes:
            headers, body = b.codec.encode_message(op, op.output, data, response=True)  # type: ignore[arg-type]
            return build(op.soap_version, headers, body)

        _, xml = list_orders_reply(1 * KiB, encode)
        (d / "reply.xml").write_bytes(xml)
        backend_port = free_port()
        procs.start(_python("-m", "bench.backend", "--port", str(backend_port), f"/r={d / 'reply.xml'}"), backend_port)
        configs, token = _configs(d)
        headers = {"no auth": [], "API key": [f"--header=X-API-Key:{KEY}"], "API key + rate limit": [f"--header=X-API-Key:{KEY}"], "JWT (RS256)": [f"--header=Authorization:Bearer {token}"]}
        ports = {}
        for name, cfg in configs.items():
            port = free_port()
            cli = [str(Path(sys.executable).with_name("soapbridge")), "serve", str(WSDL), "--port", str(port), "--backend",
                   f"http://127.0.0.1:{backend_port}/r", "--config", str(cfg)]  # fmt: skip
            procs.start(cli, port)
            ports[name] = port
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in ports}
        for _ in range(rounds):
            for name, port in ports.items():
                m = _measure(
                    _python("-m", "bench.loadgen", "--url", f"http://127.0.0.1:{port}{op.path}", "--body-file", str(d / "request.json"),
                            "--header", "Content-Type:application/json", *headers[name], "-c", str(clients), "-d", str(duration), "-w", "0.3"),
                    duration + 60,
                )  # fmt: skip
                if m["errors"]:
                    raise RuntimeError(f"auth bench: {name}: {m['errors']} errors (the credentials were refused?)")
                runs[name].append(m)
        for name, ms in runs.items():
            ratios = [m["calls_per_s"] / max(bare["calls_per_s"], 1e-9) for m, bare in zip(ms, runs["no auth"], strict=True)]
            m = sorted(ms, key=lambda x: x["calls_per_s"])[len(ms) // 2]
            rows.append({"path": name, "bytes": len(xml), "clients": clients, **m, "x_bare": round(statistics.median(ratios), 3),
                         "rounds": [round(x["calls_per_s"]) for x in ms]})  # fmt: skip
        log(f"auth 1 KiB x{clients}: " + ", ".join(f"{r['path']} {r['calls_per_s']:.0f}/s (x{r['x_bare']:.2f})" for r in rows))
    return rows


if __name__ == "__main__":
    for row in run_auth(False, lambda m: print(m, file=sys.stderr)):
        print(json.dumps(row))
