"""The soapbridge command line: every command, readable errors, non-zero exits."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from lxml import etree
from openapi_spec_validator import validate

import bridge
from bridge.cli import main
from tests.conftest import ServerThread, sample


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", str(sample("calculator.wsdl")))
    assert code == 0
    assert "service CalculatorService" in out
    assert "port CalculatorSoap12 (SOAP 1.2)" in out
    assert "POST /CalculatorService/Add" in out
    assert "3 routed operation(s), 6 in all" in out


def test_inspect_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", "--json", str(sample("orders.wsdl")))
    data = json.loads(out)
    assert code == 0
    assert {o["name"] for o in data["operations"]} == {"CreateOrder", "GetOrder", "ListOrders"}
    assert data["skipped"] == []


@pytest.mark.parametrize("ext", ["json", "yaml"])
def test_openapi_to_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, ext: str) -> None:
    target = tmp_path / f"spec.{ext}"
    code, _, err = run(capsys, "openapi", str(sample("rpc-literal.wsdl")), "-o", str(target))
    assert code == 0 and "wrote" in err
    text = target.read_text()
    spec = json.loads(text) if ext == "json" else yaml.safe_load(text)
    validate(spec)


def test_openapi_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "openapi", str(sample("calculator.wsdl")))
    assert code == 0 and json.loads(out)["openapi"] == "3.1.0"


def test_call(capsys: pytest.CaptureFixture[str], calculator_mock_server: ServerThread) -> None:
    code, out, _ = run(
        capsys, "call", str(sample("calculator.wsdl")), "Add", "--data", '{"a": 1, "b": 2}', "--backend", calculator_mock_server.url + "/"
    )
    assert code == 0
    assert isinstance(json.loads(out)["result"], int)


def test_call_reads_data_from_a_file_or_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, calculator_mock_server: ServerThread
) -> None:
    """--data @FILE and --data - (stdin): a large value does not fit one command-line argument (128 KiB on Linux)."""
    (tmp_path / "in.json").write_text('{"a": 1, "b": 2}')
    call = ["call", str(sample("calculator.wsdl")), "Add", "--backend", calculator_mock_server.url + "/"]
    code, out, err = run(capsys, *call, "--data", f"@{tmp_path / 'in.json'}")
    assert code == 0 and isinstance(json.loads(out)["result"], int), err
    monkeypatch.setattr(sys, "stdin", argparse.Namespace(buffer=io.BytesIO(b'{"a": 3, "b": 4}')))
    code, out, err = run(capsys, *call, "--data", "-")
    assert code == 0 and isinstance(json.loads(out)["result"], int), err
    code, _, err = run(capsys, *call, "--data", f"@{tmp_path / 'missing.json'}")
    assert code == 1 and err.startswith(f"soapbridge: --data @{tmp_path / 'missing.json'}: cannot read") and "Traceback" not in err
    (tmp_path / "bad.json").write_bytes(b"\xff{")
    code, _, err = run(capsys, *call, "--data", f"@{tmp_path / 'bad.json'}")
    assert code == 1 and "is not valid JSON" in err and "Traceback" not in err


def test_call_with_invalid_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "call", str(sample("calculator.wsdl")), "Add", "--data", '{"a": "x"}', "--backend", "http://127.0.0.1:1/")
    assert code == 1
    assert "breaks its schema" in err and "/a:" in err
    assert "Traceback" not in err


def test_errors_are_readable(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "inspect", str(tmp_path / "missing.wsdl"))
    assert code == 1 and err.startswith("soapbridge: WSDL file not found")
    bad = tmp_path / "bad.wsdl"
    bad.write_text("<definitions")
    code, _, err = run(capsys, "openapi", str(bad))
    assert code == 1 and "not well-formed" in err
    code, _, err = run(capsys, "call", str(sample("calculator.wsdl")), "Nope", "--backend", "http://127.0.0.1:1/")
    assert code == 1 and "no operation named 'Nope'" in err
    code, _, err = run(capsys, "call", str(sample("calculator.wsdl")), "Add", "--data", "{", "--backend", "http://127.0.0.1:1/")
    assert code == 1 and "--data is not valid JSON" in err


def test_unreachable_backend(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import free_port

    code, _, err = run(capsys, "call", str(sample("calculator.wsdl")), "Add", "--data", '{"a":1,"b":2}', "--backend", f"http://127.0.0.1:{free_port()}/")
    assert code == 1 and "cannot connect" in err


def test_console_script_and_module() -> None:
    r = subprocess.run([sys.executable, "-m", "bridge", "--version"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and r.stdout.startswith("soapbridge ")
    r = subprocess.run([sys.executable, "-m", "bridge", "inspect"], capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "WSDL" in r.stderr


# --- the first five minutes (issue 11): ports, banners, flags, output ---------------------------

CLI = str(Path(sys.executable).with_name("soapbridge"))


def _accepted_nothing(holder: socket.socket) -> bool:
    """True when nobody connected to the listener we hold (its backlog is empty)."""
    holder.setblocking(False)
    try:
        conn, _ = holder.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.fixture
def busy_port() -> Iterator[socket.socket]:
    """A port another program listens on (here: us, silently)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s


class Running:
    """A CLI server started as a real subprocess; ``lines`` is what it printed up to its banner."""

    def __init__(self, *argv: str, banner_on: str = "stderr", until: str) -> None:
        self.proc = subprocess.Popen([CLI, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        stream = self.proc.stdout if banner_on == "stdout" else self.proc.stderr
        assert stream is not None
        self.lines: list[str] = []
        for line in stream:  # blocks until the banner: no timing involved
            self.lines.append(line.rstrip("\n"))
            if until in line:
                break
        else:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"{argv} exited with {self.proc.wait()} before its banner:\n" + "\n".join(self.lines) + err)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def url(self, label: str) -> str:
        for line in self.lines:
            if line.strip().startswith(label):
                found = re.search(r"http://[^ /]+", line)
                assert found, line
                return found.group(0)
        raise AssertionError(f"no {label!r} in\n{self.text}")

    def stop(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise AssertionError("did not stop on Ctrl-C") from None


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["serve", "calculator"], "--port"),
        (["mock", "calculator"], "--port"),
        (["demo", "calculator", "--mock-port", "0"], "--port"),
        (["demo", "calculator", "--port", "0"], "--mock-port"),
    ],
    ids=["serve", "mock", "demo-bridge", "demo-mock"],
)
def test_busy_port_is_one_line_naming_it_and_the_way_out(busy_port: socket.socket, argv: list[str], flag: str) -> None:
    port = str(busy_port.getsockname()[1])
    r = subprocess.run([CLI, *argv, flag, port], capture_output=True, text=True, check=False)
    assert r.returncode == 1, r.stderr  # not 3: that is a SOAP fault's
    assert r.stdout == ""  # no URL printed for a server that never listened
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("soapbridge: "), r.stderr
    assert f"port {port} " in r.stderr and f"{flag} PORT" in r.stderr
    assert _accepted_nothing(busy_port)


def test_busy_port_never_starts_the_app(busy_port: socket.socket, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The cause of the rare segfault: uvicorn ran the app's start-up (the warm-up thread importing
    C extensions) before binding, then exited the interpreter under that thread."""
    started: list[object] = []
    monkeypatch.setattr(bridge.Bridge, "warm_up", lambda self: started.append(self))
    code = main(["serve", str(sample("calculator.wsdl")), "--port", str(busy_port.getsockname()[1])])
    assert code == 1 and started == []
    assert "already in use" in capsys.readouterr().err


def test_serve_listens_before_it_prints_and_redirects_home() -> None:
    server = Running("serve", "calculator", "--port", "0", until="operations on")
    try:
        base = server.url("soapbridge")
        assert not base.endswith(":0")
        socket.create_connection(base.removeprefix("http://").split(":"), timeout=10).close()  # listening already
        r = httpx.get(base + "/", timeout=10)
        assert r.status_code == 307 and r.headers["location"] == "/docs"
        assert httpx.get(base + "/healthz", timeout=10).json()["operations"] == 3
    finally:
        assert server.stop() == 0


def test_demo_takes_free_ports_when_the_defaults_are_taken() -> None:
    holders = []
    try:
        for port in (8080, 8081):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                pytest.skip(f"port {port} is held by another program: this test must hold the demo's defaults itself")
            s.listen()
            holders.append(s)
        demo = Running("demo", banner_on="stdout", until="Ctrl-C stops both")
        try:
            assert "port 8080 is in use by another program, so the bridge listens on" in demo.text
            assert "port 8081 is in use by another program, so the mock listens on" in demo.text
            base, mock = demo.url("REST bridge"), demo.url("mock SOAP service")
            assert not base.endswith((":8080", ":8081")) and not mock.endswith((":8080", ":8081"))
            # The banner's own suggestion works as printed, answered by our mock, not the listeners we hold.
            curl = next(line.strip() for line in demo.lines if line.strip().startswith("curl "))
            r = subprocess.run(["bash", "-c", curl + " -w '\\n%{http_code}'"], capture_output=True, text=True, check=True)
            body, status = r.stdout.rsplit("\n", 1)
            assert status == "200" and "order" in json.loads(body)
            assert all(_accepted_nothing(h) for h in holders)
        finally:
            assert demo.stop() == 0
    finally:
        for h in holders:
            h.close()


def test_demo_banner_says_the_mock_makes_data_up_and_how_to_get_a_fault() -> None:
    demo = Running("demo", "--port", "0", "--mock-port", "0", "--fault", "GetOrder=OrderNotFound", banner_on="stdout", until="Ctrl-C stops both")
    try:
        assert "made-up, schema-valid data" in demo.text
        assert "--fault GetOrder=OrderNotFound" in demo.text and "X-Mock-Fault" in demo.text
        base = demo.url("REST bridge")
        r = httpx.post(f"{base}/OrderService/GetOrder", json={"orderId": "A-1"}, timeout=30)
        assert r.status_code == 422 and r.json()["fault"] == "OrderNotFound"
        # ...and the header way, straight to the mock
        envelope = bridge.load(sample("orders.wsdl")).encode_request("GetOrder", {"orderId": "A-1"})
        mock = demo.url("mock SOAP service")
        r = httpx.post(mock + "/", content=envelope, headers={"content-type": "text/xml", "X-Mock-Fault": "OrderNotFound"}, timeout=30)
        assert r.status_code == 500 and b"OrderNotFound" in r.content
        # the probe and metrics URLs the banner prints answer as docs/operations.md says
        line = next(x for x in demo.lines if x.strip().startswith("probes, metrics"))
        livez, readyz, metrics = line.split(":", 1)[1].split()[:3]
        assert httpx.get(livez, timeout=10).status_code == 200 and httpx.get(readyz, timeout=10).status_code == 200
        assert "soapbridge_requests_total" in httpx.get(metrics, timeout=10).text
    finally:
        assert demo.stop() == 0


def test_mock_answers_a_soap_stack_we_did_not_write() -> None:
    """`soapbridge mock` over a real socket, called by zeep (its own WSDL reading, envelope and
    schema-checked parsing): schema-valid replies, and the declared fault --fault asks for."""
    import zeep
    import zeep.exceptions

    mock = Running("mock", "calculator", "--port", "0", "--fault", "Divide=DivisionByZero", until="operations on")
    try:
        url = mock.url("soapbridge mock")
        client = zeep.Client(str(sample("calculator.wsdl")))
        service = client.create_service("{http://soapbridge.dev/samples/calculator}CalculatorSoapBinding", url + "/")
        assert isinstance(service.Add(a=2, b=3), int)  # made-up, but an xsd:int as zeep reads it
        with pytest.raises(zeep.exceptions.Fault) as fault:
            service.Divide(dividend=1, divisor=2)
        detail = fault.value.detail
        assert detail is not None and etree.QName(detail[0]).localname == "DivisionByZeroFault"
    finally:
        assert mock.stop() == 0


def test_serve_and_openapi_count_what_was_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wsdl = str(Path(__file__).parent / "conformance" / "wsdl" / "wsdl_broken_op.wsdl")
    hint = f"skipped: `soapbridge inspect {wsdl}` says why"
    assert main(["openapi", wsdl, "-o", str(tmp_path / "spec.json")]) == 0
    err = capsys.readouterr().err
    assert "2 operation(s)" in err and hint in err
    assert main(["openapi", wsdl]) == 0
    assert "2 operation(s) " + hint in capsys.readouterr().err
    server = Running("serve", wsdl, "--port", "0", until="says why")
    try:
        assert "2 operation(s) " + hint in server.text
    finally:
        server.stop()
    assert main(["openapi", str(sample("calculator.wsdl"))]) == 0
    assert "skipped" not in capsys.readouterr().err


def test_verbose_after_the_command_and_inspect_speaks_plainly() -> None:
    def inspect(*argv: str) -> str:
        r = subprocess.run([CLI, *argv], capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr
        return r.stdout

    plain = inspect("inspect", "rpc-literal")
    assert "POST /" in plain
    assert not re.search(r"compiled|generic|decode:|encode:|rpc/literal", plain), plain
    for argv in (("inspect", "rpc-literal", "-v"), ("-v", "inspect", "rpc-literal"), ("inspect", "--verbose", "rpc-literal")):
        assert "decode:compiled" in inspect(*argv) and "rpc/literal" in inspect(*argv)
    assert "generic_for" in inspect("inspect", "rpc-literal", "--json")


def _commands() -> dict[str, argparse.ArgumentParser]:
    from bridge.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _minimal_argv(name: str, sp: argparse.ArgumentParser) -> list[str]:
    return [name] + ["x" for a in sp._actions if not a.option_strings and a.nargs != "?"]


def test_every_command_takes_the_flags_the_readme_promises() -> None:
    readme = (Path(__file__).parents[1] / "docs" / "cli.md").read_text()  # the README's Command line moved there
    promised = re.search(r"Every\s+command\s+also\s+takes\s(.*?)\.\s", readme, re.S)
    assert promised, "docs/cli.md: 'Every command also takes ...' is gone"
    flags = re.findall(r"`(-[-\w]+)", promised.group(1))
    assert {"--allow-network", "--cache-dir", "--no-cache", "-v"} <= set(flags)
    commands = _commands()
    assert set(re.findall(r"^\| `soapbridge ([\w-]+)", readme, re.M)) == set(commands)  # the table lists them all
    for name, sp in commands.items():
        for flag in flags:
            argv = [*_minimal_argv(name, sp), flag] + (["DIR"] if flag == "--cache-dir" else [])
            try:
                sp.parse_args(argv[1:])
            except SystemExit:
                pytest.fail(f"`soapbridge {name}` does not take {flag}")


def test_diff_honours_the_cache_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calc = str(sample("calculator.wsdl"))
    assert main(["diff", calc, calc, "--cache-dir", str(tmp_path / "cache")]) == 0
    assert list((tmp_path / "cache").rglob("*.model"))


@pytest.mark.parametrize(("command", "port"), [("serve", "8080"), ("mock", "8081"), ("demo", "8080")])
def test_host_and_port_have_help_with_defaults(command: str, port: str) -> None:
    r = subprocess.run([CLI, command, "--help"], capture_output=True, text=True, check=True)
    text = " ".join(r.stdout.split())
    assert re.search(r"--host HOST [^-]*address to listen on[^-]*\(default: 127\.0\.0\.1\)", text), text
    assert re.search(rf"--port PORT TCP port to listen on \(default: {port}", text), text


def test_bare_soapbridge_lists_the_commands() -> None:
    r = subprocess.run([CLI], capture_output=True, text=True, check=False)
    assert r.returncode == 2
    for name in _commands():
        assert re.search(rf"^\s+{name}\s+\w", r.stdout, re.M), f"{name} missing from\n{r.stdout}"


def test_output_into_a_closed_pipe_ends_quietly() -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as after `| head` has had enough
    try:
        r = subprocess.run([CLI, "inspect", "orders"], stdout=write, stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write)
    assert r.stderr == ""
    assert r.returncode == 141  # as a process killed by SIGPIPE


def test_samples_are_reachable_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("calculator", "calculator.wsdl"):
        assert main(["inspect", name]) == 0
        assert "service CalculatorService" in capsys.readouterr().out
    (tmp_path / "calculator").write_text("not a WSDL")  # a file of that name here wins over the sample
    assert main(["inspect", "calculator"]) == 1
    assert "calculator" in capsys.readouterr().err
