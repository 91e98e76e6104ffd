"""The soapbridge command line: every command, readable errors, non-zero exits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

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
