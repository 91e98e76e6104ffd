"""A closed-loop HTTP/1.1 load generator on raw asyncio streams: N keep-alive connections, each
sending the same request again as soon as the previous reply is read, for a fixed time.

  python -m bench.loadgen --url http://127.0.0.1:8080/path --body-file req.json --content-type application/json -c 16 -d 3

Prints one JSON line: calls, errors, calls_per_s, p50_ms, p99_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlparse


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def run(url: str, body: bytes, headers: dict[str, str], clients: int, duration: float, warmup: float) -> dict[str, float]:
    u = urlparse(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    head = f"POST {u.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = head.encode() + b"\r\n" + body
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + duration

    async def client() -> None:
        nonlocal errors
        reader = writer = None
        while time.perf_counter() < stop:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                t0 = time.perf_counter()
                writer.write(request)
                status = await asyncio.wait_for(_read_response(reader), timeout=30)
                t1 = time.perf_counter()
                if measure_from <= t1 <= stop:  # completions in the window, however long they took
                    latencies.append(t1 - t0)
                    if status != 200:
                        errors += 1
            except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                if time.perf_counter() >= measure_from:
                    errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.01)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    ok = len(latencies) - errors
    return {
        "calls": len(latencies),
        "errors": errors,
        "calls_per_s": round(ok / duration, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1e3, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1e3, 3),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--body-file", type=Path, required=True)
    p.add_argument("--header", action="append", default=[], metavar="NAME:VALUE")
    p.add_argument("-c", "--clients", type=int, default=1)
    p.add_argument("-d", "--duration", type=float, default=3.0)
    p.add_argument("-w", "--warmup", type=float, default=0.5)
    args = p.parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    result = asyncio.run(run(args.url, args.body_file.read_bytes(), headers, args.clients, args.duration, args.warmup))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
