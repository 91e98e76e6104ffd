"""The zeep side of the end-to-end bench: one process, one zeep client shared by N threads, each
calling ListOrders on the backend as fast as replies come, for a fixed time.

  python -m bench.zeep_load --url http://127.0.0.1:9000/r/1024 -c 16 -d 3

Prints one JSON line, as bench.loadgen does.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import warnings

import requests
import zeep
from zeep.transports import Transport

from bridge.wsdl.loader import zeep_settings
from bridge.wsdl.transport import LoaderTransport

from .loadgen import percentile
from .payloads import WSDL

BINDING = "{http://soapbridge.dev/samples/orders}OrderSoapBinding"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("-c", "--clients", type=int, default=1)
    p.add_argument("-d", "--duration", type=float, default=3.0)
    p.add_argument("-w", "--warmup", type=float, default=0.5)
    args = p.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = zeep.Client(str(WSDL), transport=LoaderTransport(), settings=zeep_settings()).wsdl
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=args.clients)
    session.mount("http://", adapter)
    client = zeep.Client(document, transport=Transport(session=session), settings=zeep_settings())
    service = client.create_service(BINDING, args.url)

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    measure_from = time.perf_counter() + args.warmup
    stop = measure_from + args.duration

    def worker() -> None:
        mine: list[float] = []
        failed = 0
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            try:
                service.ListOrders(status="SHIPPED", limit=10)
                ok = True
            except Exception:
                ok = False
            t1 = time.perf_counter()
            if measure_from <= t1 <= stop:  # completions in the window, however long they took
                mine.append(t1 - t0)
                failed += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = len(latencies) - errors[0]
    result = {
        "calls": len(latencies),
        "errors": errors[0],
        "calls_per_s": round(ok / args.duration, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1e3, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1e3, 3),
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
