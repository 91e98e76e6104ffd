"""``python -m bench``: run the benchmarks, print tables, write bench/results/latest.json.

  python -m bench                     every section (a few minutes)
  python -m bench --quick             short runs, smaller sizes (under a minute)
  python -m bench --only decode,e2e   some sections
  python -m bench --markdown          print the tables of docs/performance.md from the last results file
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .report import render
from .targets import evaluate

SECTIONS = ("decode", "encode", "e2e", "observability", "start", "wsse", "auth")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "lxml": version("lxml"),
        "zeep": version("zeep"),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description="soapbridge benchmarks")
    p.add_argument("--quick", action="store_true", help="short runs and smaller sizes")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {', '.join(SECTIONS)}")
    p.add_argument("--output", type=Path, default=DEFAULT_OUT, help=f"results file (default {DEFAULT_OUT})")
    p.add_argument("--markdown", action="store_true", help="print the tables of docs/performance.md from the results file and exit")
    args = p.parse_args(argv)

    if args.markdown:
        if not args.output.exists():
            print(f"bench: no results at {args.output}; run python -m bench first", file=sys.stderr)
            return 1
        print(render(json.loads(args.output.read_text()), markdown=True), end="")
        return 0

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        print(f"bench: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2

    def log(msg: str) -> None:
        print(f"  {msg}", file=sys.stderr, flush=True)

    results: dict[str, Any] = {"machine": machine(), "quick": args.quick, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    t0 = time.perf_counter()
    for section in SECTIONS:
        if section not in only:
            continue
        print(f"bench: {section} ...", file=sys.stderr, flush=True)
        if section == "decode":
            from .codec_bench import run_decode

            results["decode"] = run_decode(args.quick, log)
        elif section == "encode":
            from .codec_bench import run_encode

            results["encode"] = run_encode(args.quick, log)
        elif section == "e2e":
            from .e2e import run_e2e

            results["e2e"] = run_e2e(args.quick, log)
        elif section == "observability":
            from .observability_bench import run_observability

            results["observability"] = run_observability(args.quick, log)
        elif section == "start":
            from .start import run_start

            results["start"] = run_start(args.quick, log)
        elif section == "wsse":
            from .wsse_bench import run_wsse

            results["wsse"] = run_wsse(args.quick, log)
        elif section == "auth":
            from .auth_bench import run_auth

            results["auth"] = run_auth(args.quick, log)
    results["targets"] = evaluate(results)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results), end="")
    print(f"\nwrote {args.output} in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
