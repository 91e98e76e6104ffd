"""Start time and peak memory of one gateway over every working corpus WSDL (docs/gateway.md).

    .venv/bin/python -m bench.gateway_start [--cache-dir DIR]

Runs each measurement in a fresh process: ``cold`` with an empty soapbridge disk cache, ``warm`` with
the cache the cold run filled. Prints the seconds to load every service and build the ASGI app, and
the process's peak RSS (ru_maxrss). Needs ../shared/wsdl-corpus.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import gc, json, resource, sys, time
t = time.perf_counter()
gc.disable()
from bridge.gateway import load_gateway
gw = load_gateway(sys.argv[1], progress=False, cache_dir=sys.argv[2])
app = gw.asgi()
gc.freeze(); gc.enable()
seconds = time.perf_counter() - t
print(json.dumps({"services": len(gw.services), "operations": sum(len(b.routed) for b in gw.services.values()),
                  "seconds": round(seconds, 2), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
t = time.perf_counter()
size = len(gw.openapi_bytes())  # the combined spec, built on the first GET /openapi.json
print(json.dumps({"combined_spec_mb": round(size / 2**20, 1), "combined_spec_seconds": round(time.perf_counter() - t, 2),
                  "peak_rss_mb_after": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def write_config(path: Path, backend: str = "http://127.0.0.1:9") -> list[str]:
    """A gateway config with one service per working corpus WSDL (named after its case); returns the names."""
    from tests.corpus.test_corpus import WORKING, entry

    lines = ["auth: {enabled: false}", "services:"]
    for case in WORKING:
        lines += [f"  {case}:", f"    wsdl: {entry(case)}", f"    backend: {backend}/{case}/soap"]
    path.write_text("\n".join(lines) + "\n")
    return list(WORKING)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cache-dir", help="the disk cache to use (default: a new temporary one, so the first run is cold)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "gateway.yaml"
        write_config(config)
        cache = args.cache_dir or str(Path(tmp) / "cache")
        for label in ("cold", "warm"):
            r = subprocess.run([sys.executable, "-c", CHILD, str(config), cache], capture_output=True, text=True, check=True)
            start, spec = (json.loads(line) for line in r.stdout.splitlines())
            print(label, json.dumps(start), json.dumps(spec))


if __name__ == "__main__":
    main()
