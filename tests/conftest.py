from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

import bridge
from bridge.mock import MockService
from bridge.wsdl.loader import load_model

# The disk cache is on by default: the suite (and the CLI subprocesses it starts) uses a private
# one, never the user's ~/.cache. It also makes repeated loads of the same WSDL warm.
TEST_CACHE_DIR = tempfile.mkdtemp(prefix="soapbridge-test-cache-")
os.environ["SOAPBRIDGE_CACHE_DIR"] = TEST_CACHE_DIR
atexit.register(shutil.rmtree, TEST_CACHE_DIR, ignore_errors=True)

ROOT = Path(__file__).resolve().parents[1]
WSDL_DIR = ROOT / "wsdl"
SHARED = ROOT.parent / "shared"
SAMPLES = sorted(WSDL_DIR.glob("*.wsdl"))
# `make openapi` generates the committed specs with it: the project's license and contact.
SAMPLES_CONFIG = WSDL_DIR / "samples.yaml"


def sample(name: str) -> Path:
    return WSDL_DIR / name


def mock_transport(wsdl: Path, **kwargs: object) -> httpx.ASGITransport:
    """The generated mock, in-process: the bridge's async client talks to it without sockets."""
    return httpx.ASGITransport(app=MockService(load_model(wsdl), **kwargs).asgi())  # type: ignore[arg-type]


def mocked_bridge(wsdl: Path, **settings: object) -> bridge.Bridge:
    settings.setdefault("endpoint", "http://mock.invalid/soap")
    return bridge.load(wsdl, transport=mock_transport(wsdl), **settings)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """A real uvicorn server on loopback, for tests that need sockets (sync client, timeouts)."""

    def __init__(self, app: object, *, tls: tuple[str, str] | None = None, **options: object) -> None:
        """tls: (certificate file, key file) to serve https; options: more uvicorn.Config arguments."""
        self.port = free_port()
        self.scheme = "https" if tls else "http"
        tls_args = {"ssl_certfile": tls[0], "ssl_keyfile": tls[1]} if tls else {}
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error", **tls_args, **options)  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def wait_until_serving(
    proc: subprocess.Popen[Any], base: str, *, path: str = "/healthz", timeout: float = 60, log: Callable[[], str] | None = None
) -> None:
    """Polls ``base + path`` until it answers 200 (``serve --workers N``: a worker is up). Fails when
    ``proc`` exits first (with ``log()``, what it wrote) or after ``timeout`` seconds, a generous bound."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {log() if log is not None else ''}")
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"serve did not answer {path} in {timeout:g} s"
        time.sleep(0.05)


@pytest.fixture(scope="session")
def calculator_mock_server() -> Iterator[ServerThread]:
    with ServerThread(MockService(load_model(sample("calculator.wsdl"))).asgi()) as s:
        yield s


@pytest.fixture(params=["C", "Python"])
def inner_loop(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The compiled codec with its inner loops in C (bridge/_ccodec.pyx), then in pure Python
    (bridge/_pycodec.py): the module choice ``compiled.LOOPS`` is set for the test. Codecs take it
    when they are made: a test must build its bridge (or first use ``Bridge.compiled``) after this fixture."""
    from bridge import _pycodec, compiled

    if request.param == "Python":
        monkeypatch.setattr(compiled, "LOOPS", _pycodec)
    elif compiled._ccodec is None:
        pytest.skip("bridge._ccodec is not built (tests/test_compiled.py::test_c_loop_is_built fails that in CI)")
    else:
        monkeypatch.setattr(compiled, "LOOPS", compiled._ccodec)
    return str(request.param)


def json_bodies_only(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of a spec whose request bodies are JSON only, for tests that feed schemathesis' generated
    bodies to ``encode_request`` as JSON: the multipart/form-data alternative (bridge.restbinary) is
    the REST app's to read, and tests/test_mtom.py covers it."""
    import copy

    spec = copy.deepcopy(spec)
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.get("requestBody", {}).get("content", {}).pop("multipart/form-data", None)
    return spec


# The longest tests first (longest-processing-time-first): pytest-xdist's worksteal can hand out
# pending tests but not split a running one, so a long corpus test started late stretches the
# run's end while the other worker idles (CI's last 7 % of tests once took 7 of 15 minutes).
_LONGEST_FIRST = ("tests/corpus/test_corpus.py::test_contract[netsuite]",)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    def weight(item: pytest.Item) -> int:
        if item.nodeid in _LONGEST_FIRST:
            return 0
        if item.get_closest_marker("corpus") is not None and item.get_closest_marker("slow") is not None:
            return 1
        return 2 if item.get_closest_marker("slow") is not None else 3

    items.sort(key=weight)  # stable: the order within each group is kept
