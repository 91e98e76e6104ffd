"""`soapbridge contract`: schemathesis from the command line, its table, exit codes and reports."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.cli import EXIT_CHECKS, main
from bridge.contract import ContractReport, ModeResult, OperationResult, junit_xml, sample_ids, summary_table
from bridge.mock import MockService
from bridge.wsdl.loader import load_model
from tests.conftest import ServerThread, mocked_bridge, sample

CALCULATOR = str(sample("calculator.wsdl"))
CALCULATOR_OPS = ["CalculatorService_Add", "CalculatorService_Divide", "CalculatorService_Echo"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _rows(out: str) -> dict[str, list[str]]:
    """The summary table's rows by operation id: the lines between the rule and the totals."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    end = next(i for i, line in enumerate(lines) if " operation(s)" in line)
    rows = [line.split("  ") for line in lines[start:end]]
    return {r[0]: [c.strip() for c in r[1:] if c.strip()] for r in rows}


def _junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    [suite] = list(root)
    assert suite.tag == "testsuite" and suite.get("name") == "soapbridge contract calculator.wsdl"
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases) == int(root.get("tests", "-1"))
    assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
    assert int(suite.get("errors", "-1")) == sum(1 for c in cases if c.find("error") is not None)
    for c in cases:
        assert c.get("classname") == "soapbridge.contract.calculator"
        assert re.fullmatch(r"\w+ \[(positive|negative)\]", c.get("name", ""))
        assert float(c.get("time", "-1")) >= 0
    return suite


def test_contract_in_process_passes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junit, js = tmp_path / "contract.xml", tmp_path / "contract.json"
    code, out, err = run(capsys, "contract", CALCULATOR, "--max-examples", "5", "--report", f"junit:{junit}", "--report", f"json:{js}")
    assert code == 0, out + err
    rows = _rows(out)
    assert sorted(rows) == CALCULATOR_OPS
    for cells in rows.values():
        assert cells == ["10", "ok", "ok", "schemathesis", "ok"]  # 5 positive + 5 negative examples each
    assert "3 operation(s), 30 examples, 0 failed; target mock" in out
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert len(progress) == 6 and progress[0].startswith("[1/6] CalculatorService_Add positive: 5 examples ok")
    suite = _junit(junit)
    assert [c.get("name") for c in suite.findall("testcase")] == [f"{o} [{m}]" for o in CALCULATOR_OPS for m in ("positive", "negative")]
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    data = json.loads(js.read_text())
    assert data["ok"] is True and data["examples"] == 30 and data["operations_checked"] == 3


def _drifted_backend() -> Starlette:
    """The calculator's mock, except that Add now answers a string where the WSDL says int."""
    mock = MockService(load_model(sample("calculator.wsdl")))

    async def soap(request: Request) -> Response:
        status, body, media = mock.handle(await request.body(), request.headers.get("content-type", ""), None, None)
        body = re.sub(rb"<ns0:result>[^<]*</ns0:result>", b"<ns0:result>many</ns0:result>", body)
        return Response(body, status_code=status, media_type=media or None)

    return Starlette(routes=[Route("/soap", soap, methods=["POST"])])


def test_contract_reports_a_drifting_backend(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junit = tmp_path / "contract.xml"
    with ServerThread(_drifted_backend()) as server:
        code, out, err = run(capsys, "contract", CALCULATOR, "--backend", server.url + "/soap", "--max-examples", "3", "--report", f"junit:{junit}")
    assert code == EXIT_CHECKS, out + err
    rows = _rows(out)
    assert rows["CalculatorService_Add"] == ["6", "FAIL 3/3", "ok", "schemathesis", "FAIL"]  # negative data never reaches the backend
    assert rows["CalculatorService_Divide"][-1] == rows["CalculatorService_Echo"][-1] == "ok"
    assert "1 failed; target backend" in out
    assert "CalculatorService_Add [positive]" in out and "Server error" in out and "does not match the WSDL" in out
    assert "[1/6] CalculatorService_Add positive: 3 examples FAIL (3 failed)" in err
    suite = _junit(junit)
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["CalculatorService_Add [positive]"]
    failure = failed[0].find("failure")
    assert failure is not None and "3 of 3 examples failed" in (failure.text or "")
    assert "request: POST /CalculatorService/Add" in (failure.text or "")


def test_contract_against_a_running_bridge(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(mocked_bridge(sample("calculator.wsdl")).asgi()) as server:
        code, out, err = run(capsys, "contract", CALCULATOR, "--url", server.url, "--max-examples", "3")
    assert code == 0, out + err
    assert sorted(_rows(out)) == CALCULATOR_OPS
    assert f"18 examples, 0 failed; target url {server.url}" in out


def test_sample_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    ids = [f"op{i:02}" for i in range(30)]
    assert sample_ids(ids, 5, 7) == sample_ids(list(reversed(ids)), 5, 7) == sorted(sample_ids(ids, 5, 7))
    assert sample_ids(ids, 5, 7) != sample_ids(ids, 5, 8)
    assert sample_ids(ids, 30, 7) == sample_ids(ids, None, 7) == ids
    runs = [run(capsys, "contract", CALCULATOR, "--sample", "2", "--seed", "5", "--max-examples", "2") for _ in range(2)]
    assert runs[0][0] == runs[1][0] == 0
    assert sorted(_rows(runs[0][1])) == sorted(_rows(runs[1][1])) == sample_ids(CALCULATOR_OPS, 2, 5)
    assert "2 operation(s) (a sample of 3)" in runs[0][1]


def test_contract_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "contract", str(tmp_path / "missing.wsdl"))
    assert code == 1 and err.startswith("soapbridge: WSDL file not found") and not out
    with socket.socket() as closed:  # bound, never listening: connecting to it is refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        code, _, err = run(capsys, "contract", CALCULATOR, "--url", url)
    assert code == 1 and err.startswith(f"soapbridge: cannot fetch {url}/openapi.json")
    assert len(err.strip().splitlines()) == 1
    with ServerThread(mocked_bridge(sample("orders.wsdl")).asgi()) as server:
        code, _, err = run(capsys, "contract", CALCULATOR, "--url", server.url)
    assert code == 1 and "does not serve calculator.wsdl" in err
    for argv in (
        ["--report", "xml:out.xml"],
        ["--max-examples", "0"],
        ["--sample", "x"],
        ["--url", "http://a", "--backend", "http://b"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(["contract", CALCULATOR, *argv])
        assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_junit_carries_fuzzed_text_and_errors() -> None:
    """Generated data holds control characters and lone surrogates XML cannot carry; the report stays well-formed."""
    report = ContractReport("calculator.wsdl", "mock", 0, 5, 1)
    report.operations = [
        OperationResult("CalculatorService_Add", "POST /CalculatorService/Add", [
            ModeResult("positive", examples=5, failed=2, failure="ST101 Server error\nrequest: POST /x {\"a\": \"\x11\ud800\"}"),
            ModeResult("negative", examples=0, error="Unsatisfiable: no negative data for this schema"),
        ]),
    ]
    root = ET.fromstring(junit_xml(report))
    suite = root.find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "1")
    failure = root.find(".//failure")
    assert failure is not None and failure.get("message") == "ST101 Server error"
    assert "\\u0011\\ud800" in (failure.text or "")
    error = root.find(".//error")
    assert error is not None and error.get("message", "").startswith("Unsatisfiable")
    table = summary_table(report)
    assert _rows(table) == {"CalculatorService_Add": ["5", "FAIL 2/5", "ERROR", "schemathesis", "FAIL"]}
    assert "1 operation(s), 5 examples, 1 failed" in table


# An abstract base with 700 concrete derived types: schemathesis' canonicaliser gives up on the
# request schema (as on netsuite's search, an anyOf of 301), so the bridge's own examples run.
POLY_DERIVED = 700


def _poly_wsdl(tmp_path: Path) -> Path:
    derived = "".join(
        f'<xsd:complexType name="Kind{i}"><xsd:complexContent><xsd:extension base="tns:Base"><xsd:sequence>'
        f'<xsd:element name="f{i}" type="xsd:string" minOccurs="0"/></xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>'
        for i in range(POLY_DERIVED)
    )
    path = tmp_path / "poly.wsdl"
    path.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="Poly" targetNamespace="urn:poly" xmlns:tns="urn:poly" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types><xsd:schema targetNamespace="urn:poly" elementFormDefault="qualified">
    <xsd:complexType name="Base" abstract="true"><xsd:sequence><xsd:element name="id" type="xsd:int"/></xsd:sequence></xsd:complexType>
    {derived}
    <xsd:element name="Find"><xsd:complexType><xsd:sequence><xsd:element name="record" type="tns:Base"/></xsd:sequence></xsd:complexType></xsd:element>
    <xsd:element name="FindResponse"><xsd:complexType><xsd:sequence><xsd:element name="count" type="xsd:int"/></xsd:sequence></xsd:complexType></xsd:element>
  </xsd:schema></wsdl:types>
  <wsdl:message name="FindIn"><wsdl:part name="parameters" element="tns:Find"/></wsdl:message>
  <wsdl:message name="FindOut"><wsdl:part name="parameters" element="tns:FindResponse"/></wsdl:message>
  <wsdl:portType name="PolyPort"><wsdl:operation name="Find"><wsdl:input message="tns:FindIn"/><wsdl:output message="tns:FindOut"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="PolyBinding" type="tns:PolyPort"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Find"><soap:operation soapAction="urn:poly#Find"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation></wsdl:binding>
  <wsdl:service name="PolyService"><wsdl:port name="PolyPort" binding="tns:PolyBinding"><soap:address location="http://example.invalid/poly"/></wsdl:port></wsdl:service>
</wsdl:definitions>
""", encoding="utf-8")
    return path


def test_contract_falls_back_to_the_bridge_examples(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wsdl = _poly_wsdl(tmp_path)
    junit, js = tmp_path / "contract.xml", tmp_path / "contract.json"
    code, out, err = run(capsys, "contract", str(wsdl), "--max-examples", "3", "--report", f"junit:{junit}", "--report", f"json:{js}")
    assert code == 0, out + err
    cells = _rows(out)["PolyService_Find"]
    assert cells[1:3] == ["ok", "ok"] and cells[4] == "ok"
    assert cells[3] in ("bridge", "bridge/schemathesis")  # positive by the bridge; negative as schemathesis manages
    assert "schemathesis could not generate data for 1 operation(s); the bridge's examples ran instead:" in out
    assert "PolyService_Find [positive]: UnsupportedSchema" in out
    assert "[1/2] PolyService_Find positive: 3 examples ok [bridge examples: schemathesis could not generate]" in err
    data = json.loads(js.read_text())
    [op] = data["operations"]
    pos = op["modes"][0]
    assert (pos["mode"], pos["generator"], pos["examples"], pos["failed"], pos["error"]) == ("positive", "bridge", 3, 0, None)
    assert pos["fallback_reason"].startswith("UnsupportedSchema") and op["ok"] is True
    cases = ET.parse(junit).getroot().findall(".//testcase")
    generators = {c.get("name"): c.find("properties/property[@name='generator']").get("value") for c in cases}  # type: ignore[union-attr]
    assert generators["PolyService_Find [positive]"] == "bridge"
    assert not ET.parse(junit).getroot().findall(".//failure") and not ET.parse(junit).getroot().findall(".//error")


def test_fallback_examples_go_through_the_checks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The bridge's examples are checked like schemathesis' cases: a backend whose reply breaks the
    WSDL fails them (the bridge answers 502)."""
    wsdl = _poly_wsdl(tmp_path)
    mock = MockService(load_model(wsdl))

    async def soap(request: Request) -> Response:
        status, body, media = mock.handle(await request.body(), request.headers.get("content-type", ""), None, None)
        body = re.sub(rb"<(\w+:)?count>[^<]*</(\w+:)?count>", b"", body)  # a required element left out
        return Response(body, status_code=status, media_type=media or None)

    with ServerThread(Starlette(routes=[Route("/soap", soap, methods=["POST"])])) as server:
        code, out, err = run(capsys, "contract", str(wsdl), "--backend", server.url + "/soap", "--max-examples", "3")
    assert code == EXIT_CHECKS, out + err
    assert _rows(out)["PolyService_Find"][1] == "FAIL 3/3"
    assert "PolyService_Find [positive]" in out and "Server error" in out


def test_contract_sends_the_header_an_authenticated_bridge_needs(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the bridge's API keys on, positive data is refused (401) unless `--header` carries the
    key; the key comes from the environment and appears in no output or report."""
    import hashlib

    key = "contract-key-7d1f0c2b"
    config = tmp_path / "auth.json"
    config.write_text(json.dumps({"auth": {"api_keys": [{"consumer": "ci", "sha256": hashlib.sha256(key.encode()).hexdigest()}]}}))
    js = tmp_path / "contract.json"
    code, out, _ = run(capsys, "contract", CALCULATOR, "--config", str(config), "--max-examples", "3")
    assert code == EXIT_CHECKS  # every operation's positive data got a 401
    monkeypatch.setenv("CONTRACT_KEY", key)
    code, out, err = run(capsys, "contract", CALCULATOR, "--config", str(config), "--max-examples", "3",
                         "--header", "X-API-Key:${CONTRACT_KEY}", "--report", f"json:{js}")  # fmt: skip
    assert code == 0, out + err
    assert key not in out + err + js.read_text()


def test_contract_header_without_a_colon_is_refused_without_echoing_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "contract", CALCULATOR, "--header", "contract-key-7d1f0c2b")
    assert code == 1 and "--header: expected NAME:VALUE" in err
    assert "contract-key-7d1f0c2b" not in out + err


def test_contract_shows_a_progress_bar_on_a_terminal_and_lines_in_a_log() -> None:
    """On a terminal (a pseudo-terminal here) stderr gets rich's bar, not one line per operation and
    mode; piped, as in CI, it gets the lines and no escape codes."""
    import os
    import pty
    import subprocess
    import sys

    argv = [sys.executable, "-m", "bridge", "contract", CALCULATOR, "--max-examples", "2"]
    piped = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert "[1/6] CalculatorService_Add positive" in piped.stderr and "\x1b[" not in piped.stderr
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=secondary, env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=300)
    os.close(primary)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "contract" in shown and "/6" in shown and "\x1b[" in shown  # rich drew the bar
    assert "[1/6]" not in shown
    assert b"CalculatorService_Add" in out  # the summary table still goes to stdout
