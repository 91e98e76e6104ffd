"""A warm start imports only what serving needs: the heavy libraries that other commands, the cold
path or the first upstream call need are imported when used (and, for the first call, loaded in
the background once the server starts). Checked on sys.modules, not on a clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import sample

# Imported on a warm start before the server listens: none of these (0.6 s between them here).
NOT_AT_START = [
    *("aiohttp", "httpx", "zeep", "xmlschema", "elementpath", "schemathesis", "hypothesis", "yaml", "rich"),
    *("jsonschema_rs", "orjson", "swagger_ui_bundle", "bridge.diff", "bridge.contract", "bridge.recording", "bridge.examples"),
    *("bridge.codec", "bridge.compiled", "bridge.envelope", "lxml.etree"),
]

PROBE = """
import json, sys
import bridge.cli
from bridge import load
b = load(sys.argv[1], endpoint="http://127.0.0.1:9/unused")
app = b.asgi()
print(json.dumps(sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)))
"""


def _probe(wsdl: Path, cache: Path) -> list[str]:
    env = dict(os.environ, SOAPBRIDGE_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", PROBE, str(wsdl), json.dumps(NOT_AT_START)], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_warm_start_imports_only_what_serving_needs(tmp_path: Path) -> None:
    wsdl = sample("orders.wsdl")
    cold = _probe(wsdl, tmp_path)  # builds the model and spec (zeep and the rest), fills the cache
    assert "zeep" in cold
    assert _probe(wsdl, tmp_path) == []


def test_warm_up_loads_what_the_first_call_needs(tmp_path: Path) -> None:
    """In a fresh process: none of it is loaded by a warm start, all of it once warm_up is done."""
    env = dict(os.environ, SOAPBRIDGE_CACHE_DIR=str(tmp_path))
    probe = (
        "import sys, bridge; from bridge.facade import WARM_UP;"
        "b = bridge.load(sys.argv[1], endpoint='http://127.0.0.1:9/unused');"
        "before = [n for n in WARM_UP if n in sys.modules]; b.warm_up().join(60);"
        "print(before, [n for n in WARM_UP if n not in sys.modules])"
    )
    wsdl = str(sample("calculator.wsdl"))
    subprocess.run([sys.executable, "-c", probe, wsdl], env=env, check=True, capture_output=True)  # fills the cache
    out = subprocess.run([sys.executable, "-c", probe, wsdl], env=env, check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[] []"


def test_the_process_never_exits_under_the_warm_up(tmp_path: Path) -> None:
    """A process that exits while the warm-up thread imports must wait for it: importlib running
    after the interpreter finalised crashed `serve` on a busy port (SIGSEGV, seen in a core dump).
    atexit handlers run after the interpreter joins its non-daemon threads, before finalising."""
    env = dict(os.environ, SOAPBRIDGE_CACHE_DIR=str(tmp_path))
    probe = (
        "import atexit, sys, bridge; from bridge.facade import WARM_UP;"
        "b = bridge.load(sys.argv[1], endpoint='http://127.0.0.1:9/unused');"
        "t = b.warm_up(); assert t is not None;"
        "atexit.register(lambda: print(t.is_alive(), [n for n in WARM_UP if n not in sys.modules]));"
        "sys.exit(3)"
    )
    wsdl = str(sample("calculator.wsdl"))
    out = subprocess.run([sys.executable, "-c", probe, wsdl], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 3, out.stderr
    assert out.stdout.strip() == "False []"
