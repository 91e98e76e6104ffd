"""Fixtures for interop tests against independent SOAP stacks.

PHP's ext/soap SoapServer (``php_server``): tests/interop/php/router.php serves the sample WSDLs
in wsdl/:

    {base}/calculator   wsdl/calculator.wsdl   (SOAP 1.1 and 1.2)
    {base}/orders       wsdl/orders.wsdl       (SOAP 1.1)
    {base}/inventory    wsdl/rpc-literal.wsdl  (SOAP 1.1, rpc/literal)
    {base}/interop      wsdl/interop.wsdl      (SOAP 1.1 and 1.2, the interop contract)
    {base}/rpc-encoded  tests/conformance/wsdl/wsdl_rpc_encoded.wsdl
    {base}/<service>?wsdl  the WSDL with soap:address pointing at the peer
    {base}/health       "ok"

spyne (``spyne_server``, tests/interop/spyne_peer.py) and node-soap (``node_server``,
tests/interop/node/server.js): the interop contract at {base}/soap11 and {base}/soap12.
gSOAP (``gsoap_server``, tests/interop/gsoap/server.cpp, built from the WSDL by the fixture): the
interop contract, SOAP 1.1 and 1.2 on any path. The JAX-WS RI (``jaxws_server``,
tests/interop/jaxws/InteropServer.java, wsimport from the WSDL): {base}/soap11 and {base}/soap12.
Built peers are cached in .soapbridge-cache (gitignored).

When a peer cannot run (no PHP or no soap extension; spyne not installed; no node or node-soap
not installed in tests/interop/node; no gSOAP tools or g++; no JAX-WS RI or JDK) its tests are skipped,
except when the environment variable CI is "true": then they fail, so CI cannot silently lose
interop coverage. ``.ci/install-peers`` installs what they need.

Every envelope the bridge sends through a ``tests.interop.envelopes.RecordingTransport`` is
checked against the WSDL's XSD; the autouse fixture below fails the test that sent an invalid one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.interop import envelopes

REPO_ROOT = Path(__file__).resolve().parents[2]
ROUTER = Path("tests", "interop", "php", "router.php")  # relative to REPO_ROOT (the server's cwd)
WSDL_DIR = REPO_ROOT / "wsdl"

#: request path on the peer -> WSDL file it implements
PEER_SERVICES = {
    "/calculator": WSDL_DIR / "calculator.wsdl",
    "/orders": WSDL_DIR / "orders.wsdl",
    "/inventory": WSDL_DIR / "rpc-literal.wsdl",
    "/interop": WSDL_DIR / "interop.wsdl",
}

NODE_DIR = REPO_ROOT / "tests" / "interop" / "node"
GSOAP_DIR = REPO_ROOT / "tests" / "interop" / "gsoap"
GSOAP_IMPORT = Path("/usr/share/gsoap/import")  # Debian's gsoap package: soap12.h, stlvector.h, ...
JAXWS_DIR = REPO_ROOT / "tests" / "interop" / "jaxws"
JAXWS_RT = Path("/usr/share/java/jaxws-rt.jar")  # Debian's libjaxws-java; its manifest names the other jars
BUILD_CACHE = REPO_ROOT / ".soapbridge-cache"  # gitignored; a built gSOAP peer is reused while its inputs stay the same
BUILD_TIMEOUT = 180.0

Step = list[str] | Callable[[Path], list[str]]
NODE_MIN = (20, 19)  # node-soap 1.13 declares engines: node >= 20.19

STARTUP_TIMEOUT = 10.0  # seconds to wait for the server to answer
STOP_TIMEOUT = 5.0


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _unavailable(reason: str, peer: str = "the PHP interop peer") -> None:
    """Skip locally; fail under CI=true, where interop coverage is mandatory."""
    if _in_ci():
        pytest.fail(f"{reason}; CI=true requires {peer} (run .ci/install-peers)", pytrace=False)
    pytest.skip(reason)


def _php_problem() -> str | None:
    """Why the PHP peer cannot run here, or None if it can."""
    php = shutil.which("php")
    if php is None:
        return "php is not on PATH"
    try:
        result = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run 'php -m': {exc}"
    modules = {line.strip().lower() for line in result.stdout.splitlines()}
    if result.returncode != 0 or "soap" not in modules:
        return "php lacks the soap extension (php -m does not list 'soap')"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's whole process group (php -S may fork workers)."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    else:
        # the leader is gone; make sure no worker of its group survives it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


@contextlib.contextmanager
def _serve_process(name: str, command: Callable[[int], list[str]], log_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a peer server (``command(port)``) on a free loopback port until it answers /health;
    yields its base URL and stops its whole process group afterwards."""
    last_error = ""
    for _attempt in range(3):  # another process may grab the free port before the server binds it
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                command(port),
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if _answers(f"{base_url}/health"):
                break
            time.sleep(0.05)
        else:  # no break: the server died or never answered
            exit_code = proc.poll()
            _stop(proc)
            last_error = (
                f"{name} on port {port} exited with status {exit_code}"
                if exit_code is not None
                else f"{name} on port {port} did not answer within {STARTUP_TIMEOUT:.0f}s"
            )
            continue
        try:
            yield base_url
        finally:
            _stop(proc)
        return

    pytest.fail(f"could not start {name}: {last_error}\n--- {log_path} ---\n{_tail(log_path)}", pytrace=False)


@pytest.fixture(scope="session")
def php_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``) of a running PHP SoapServer peer."""
    problem = _php_problem()
    if problem is not None:
        _unavailable(problem)
    env = dict(os.environ)
    env.setdefault("PHP_CLI_SERVER_WORKERS", "4")  # serve concurrent requests
    php = shutil.which("php") or "php"
    log_path = tmp_path_factory.mktemp("php-peer") / "php-server.log"
    with _serve_process("the PHP SOAP peer (php -S)", lambda port: [php, "-S", f"127.0.0.1:{port}", str(ROUTER)], log_path, env) as url:
        yield url


def _node_problem() -> str | None:
    """Why the node-soap peer cannot run here, or None if it can."""
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH"
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run 'node --version': {exc}"
    try:
        major, minor = (int(x) for x in version.lstrip("v").split(".")[:2])
    except ValueError:
        return f"cannot read the node version from {version!r}"
    if (major, minor) < NODE_MIN:
        return f"node {version} is older than {'.'.join(map(str, NODE_MIN))}, which node-soap 1.13 needs"
    if not (NODE_DIR / "node_modules" / "soap" / "package.json").is_file():
        return f"node-soap is not installed in {NODE_DIR.relative_to(REPO_ROOT)} (npm ci there)"
    return None


@pytest.fixture(scope="session")
def node_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the node-soap peer: the interop contract at ``/soap11`` and ``/soap12``."""
    problem = _node_problem()
    if problem is not None:
        _unavailable(problem, "the node-soap interop peer")
    node = shutil.which("node") or "node"
    log_path = tmp_path_factory.mktemp("node-peer") / "node-server.log"
    with _serve_process("the node-soap peer", lambda port: [node, str(NODE_DIR / "server.js"), str(port)], log_path) as url:
        yield url


@pytest.fixture(scope="session")
def spyne_server() -> Iterator[str]:
    """Base URL of the spyne peer: the interop contract at ``/soap11`` and ``/soap12``."""
    try:
        from tests.interop import spyne_peer
    except ImportError as exc:  # spyne is in the test extra; a bare environment may lack it
        _unavailable(f"spyne is not importable: {exc}", "the spyne interop peer")
    with spyne_peer.serve() as base_url:
        if not _answers(f"{base_url}/health"):
            pytest.fail(f"the spyne peer at {base_url} does not answer", pytrace=False)
        yield base_url


@pytest.fixture(autouse=True)
def _sent_envelopes_are_schema_valid() -> Iterator[None]:
    """Fail the test if the bridge sent any envelope that breaks the WSDL's XSD (see envelopes.py)."""
    with envelopes.lock:
        envelopes.SENT.clear()
    yield
    with envelopes.lock:
        bad = [s for s in envelopes.SENT if s.problems]
        envelopes.SENT.clear()
    assert not bad, "the bridge sent envelopes that break the XSD:\n" + "\n".join(
        f"- to {s.url}: {'; '.join(s.problems)}\n  {s.body[:600].decode(errors='replace')}" for s in bad
    )


def _gsoap_problem() -> str | None:
    """Why the gSOAP peer cannot be built here, or None if it can."""
    for tool in ("wsdl2h", "soapcpp2", "g++"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (apt-get install gsoap libgsoap-dev g++)"
    if not (GSOAP_IMPORT / "soap12.h").is_file():
        return f"{GSOAP_IMPORT}/soap12.h is missing (apt-get install gsoap)"
    if not Path("/usr/include/stdsoap2.h").is_file():
        return "/usr/include/stdsoap2.h is missing (apt-get install libgsoap-dev)"
    return None


def _cached_build(name: str, inputs: list[Path], tools: list[str], steps: list[Step], product: str) -> Path:
    """Run the build ``steps`` (commands, or functions of the build directory giving one) in a fresh
    directory holding copies of ``inputs``; return ``product`` there. Cached under .soapbridge-cache by a hash of the inputs and of the tools' paths (which carry
    their versions on Debian); an older build of the same peer is removed."""
    digest = hashlib.sha256(" ".join(os.path.realpath(shutil.which(t) or t) for t in tools).encode())
    for path in inputs:
        digest.update(path.read_bytes())
    done_dir = BUILD_CACHE / f"{name}-{digest.hexdigest()[:16]}"
    if (done_dir / product).exists():
        return done_dir / product
    BUILD_CACHE.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"build-{name}-", dir=BUILD_CACHE))
    for path in inputs:
        shutil.copy(path, work / path.name)
    for make_step in steps:
        step = make_step(work) if callable(make_step) else make_step
        result = subprocess.run(step, cwd=work, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
        if result.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            pytest.fail(f"building the {name} peer failed at {' '.join(step)}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}", pytrace=False)
    try:
        work.rename(done_dir)
    except OSError:  # another session built it meanwhile
        shutil.rmtree(work, ignore_errors=True)
    for old in BUILD_CACHE.glob(f"{name}-*"):
        if old != done_dir:
            shutil.rmtree(old, ignore_errors=True)
    return done_dir / product


def _build_gsoap() -> Path:
    """Generate the gSOAP service from wsdl/interop.wsdl and compile it with server.cpp (about 5 s)."""
    return _cached_build(
        "gsoap",
        [WSDL_DIR / "interop.wsdl", GSOAP_DIR / "server.cpp"],
        ["wsdl2h", "soapcpp2", "g++"],
        [
            ["wsdl2h", "-o", "interop.h", "interop.wsdl"],
            ["soapcpp2", "-j", "-S", "-x", "-L", f"-I{GSOAP_IMPORT}", "interop.h"],
            ["g++", "-O0", "-DWITH_PURE_VIRTUAL", "-o", "interop-server", "server.cpp", "soapC.cpp", "soapInteropSoapBindingService.cpp", "-lgsoap++"],
        ],
        "interop-server",
    )


@pytest.fixture(scope="session")
def gsoap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the gSOAP peer (built from wsdl/interop.wsdl): SOAP 1.1 and 1.2 on any path."""
    problem = _gsoap_problem()
    if problem is not None:
        _unavailable(problem, "the gSOAP interop peer")
    binary = _build_gsoap()
    log_path = tmp_path_factory.mktemp("gsoap-peer") / "gsoap-server.log"
    with _serve_process("the gSOAP peer", lambda port: [str(binary), str(port)], log_path) as url:
        yield url


def _jaxws_problem() -> str | None:
    """Why the JAX-WS RI peer cannot be built here, or None if it can."""
    for tool in ("wsimport", "javac", "java"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (apt-get install jaxws libjaxws-java default-jdk-headless)"
    if not JAXWS_RT.is_file():
        return f"{JAXWS_RT} is missing (apt-get install libjaxws-java)"
    return None


@pytest.fixture(scope="session")
def jaxws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the JAX-WS RI peer (wsimport from wsdl/interop.wsdl): ``/soap11`` and ``/soap12``."""
    problem = _jaxws_problem()
    if problem is not None:
        _unavailable(problem, "the JAX-WS RI interop peer")
    classes = _cached_build(
        "jaxws",
        [WSDL_DIR / "interop.wsdl", JAXWS_DIR / "InteropServer.java"],
        ["wsimport", "javac"],
        [
            ["mkdir", "gen", "classes"],  # wsimport and javac want their output directories to exist
            ["wsimport", "-extension", "-keep", "-Xnocompile", "-quiet", "-s", "gen", "-p", "dev.soapbridge.interop", "interop.wsdl"],
            lambda work: [
                "javac", "-nowarn", "-cp", str(JAXWS_RT), "-d", "classes", "InteropServer.java",
                *sorted(str(p.relative_to(work)) for p in (work / "gen").rglob("*.java")),
            ],
        ],
        "classes",
    )
    java = shutil.which("java") or "java"
    log_path = tmp_path_factory.mktemp("jaxws-peer") / "jaxws-server.log"
    command = [java, "-Dsun.net.httpserver.nodelay=true", "-XX:TieredStopAtLevel=1", "-cp", f"{classes}:{JAXWS_RT}", "InteropServer"]
    with _serve_process("the JAX-WS RI peer", lambda port: [*command, str(port)], log_path) as url:
        yield url
