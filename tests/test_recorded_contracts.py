"""Recorded contracts: replay every exchange in contracts/ and fail with a diff on any change.

Each recording pins the REST request, the SOAP envelope the bridge sends for it, the SOAP reply
and the REST response the bridge makes of that reply. Re-record with `make contracts` when a
change on the wire is intended, and review the diff.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path

import pytest

import bridge
from bridge.cli import main
from bridge.model import Operation
from bridge.recording import differences, load_recording, replay
from tests.conftest import ROOT, SAMPLES, WSDL_DIR, ServerThread

CONTRACTS = ROOT / "contracts"
RECORDINGS = sorted(CONTRACTS.glob("*/*.yaml"))


@functools.cache
def _expected_files(wsdl: Path) -> frozenset[str]:
    """<operationId>.yaml for each default route; <operationId>@<port>.yaml for each other SOAP port's operations."""
    b = bridge.load(wsdl)
    names = {f"{op.operation_id}.yaml" for op in b.routed}
    routed_ports = {(op.service, op.port) for op in b.routed}
    for port in b.model.ports:
        if port.kind in ("soap11", "soap12") and (port.service, port.name) not in routed_ports:
            other = bridge.load(wsdl, ports={port.service: port.name})
            names |= {f"{op.operation_id}@{port.name}.yaml" for op in other.routed if op.port == port.name}
    return frozenset(names)


def _operation(recording: dict[str, object]) -> Operation:
    b = bridge.load(WSDL_DIR / str(recording["wsdl"]), ports={str(recording["service"]): str(recording["port"])})
    return next(op for op in b.routed if op.operation_id == recording["operation_id"] and op.port == recording["port"])


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_replay_matches_recording(path: Path) -> None:
    recording = load_recording(path)
    wsdl = WSDL_DIR / recording["wsdl"]
    assert path.parent.name == wsdl.stem and path.stem.split("@")[0] == recording["operation_id"]
    replayed = replay(wsdl, recording)
    assert [r.name for r in replayed] == [e["name"] for e in recording["exchanges"]]
    problems = [d for r in replayed for d in differences(r)]
    if problems:
        pytest.fail(f"{path.relative_to(ROOT)} no longer matches the wire; if intended, re-record with `make contracts`\n\n" + "\n".join(problems), pytrace=False)


def test_every_operation_has_a_recording_and_none_is_stale() -> None:
    assert {d.name for d in CONTRACTS.iterdir() if d.is_dir()} == {w.stem for w in SAMPLES}
    for wsdl in SAMPLES:
        recorded = {p.name for p in (CONTRACTS / wsdl.stem).glob("*.yaml")}
        assert recorded == _expected_files(wsdl), wsdl.name
        assert not [p for p in (CONTRACTS / wsdl.stem).iterdir() if p.suffix != ".yaml"]


def test_declared_faults_are_recorded() -> None:
    """Operations that declare faults pin the fault mapping too (SOAP fault -> 422 with detail_data)."""
    versions = set()
    for path in RECORDINGS:
        recording = load_recording(path)
        op = _operation(recording)
        versions.add(op.soap_version)
        assert recording["soap_version"] == op.soap_version
        faults = [e for e in recording["exchanges"] if e["name"].startswith("fault ")]
        assert len(faults) == (1 if op.faults else 0), path.name
        for e in faults:
            assert e["rest_response"]["status"] == 422
            assert e["rest_response"]["body"]["fault"] == op.faults[0].name
            assert ":Fault>" in e["soap_reply"]["envelope"]
    assert versions == {"1.1", "1.2"}


def test_record_reproduces_the_committed_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for wsdl in SAMPLES:
        assert main(["record", str(wsdl), "-o", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().err
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.glob("*/*.yaml"))
    assert fresh == [p.relative_to(CONTRACTS) for p in RECORDINGS]
    for rel in fresh:
        old, new = (CONTRACTS / rel).read_text(), (tmp_path / rel).read_text()
        if old != new:
            diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"contracts/{rel}", "recorded now"))
            pytest.fail(f"recording is not reproducible or is out of date (make contracts):\n{diff}", pytrace=False)


def test_a_change_on_the_wire_is_reported_as_a_diff() -> None:
    path = CONTRACTS / "calculator" / "CalculatorService_Add.yaml"
    recording = load_recording(path)
    example = recording["exchanges"][0]
    a = example["rest_request"]["body"]["a"]
    result = example["rest_response"]["body"]["result"]
    # The REST request now carries another number: the envelope the bridge writes must differ.
    changed = {**recording, "exchanges": [{**example, "rest_request": {**example["rest_request"], "body": {**example["rest_request"]["body"], "a": a + 1}}}]}
    [problem] = differences(replay(WSDL_DIR / "calculator.wsdl", changed)[0])
    assert "the soap request changed" in problem
    assert f"-        <ns0:a>{a}</ns0:a>" in problem and f"+        <ns0:a>{a + 1}</ns0:a>" in problem
    # The service now replies with another number: the REST response must differ.
    reply = example["soap_reply"]
    changed_reply = {**reply, "envelope": reply["envelope"].replace(f">{result}<", f">{result + 5}<")}
    changed = {**recording, "exchanges": [{**example, "soap_reply": changed_reply}]}
    [problem] = differences(replay(WSDL_DIR / "calculator.wsdl", changed)[0])
    assert "the rest response changed" in problem
    assert f"-  result: {result}" in problem and f"+  result: {result + 5}" in problem


def test_record_against_a_live_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str], calculator_mock_server: ServerThread) -> None:
    """--backend captures real HTTP; the mock behind a socket answers as the in-process one does."""
    backend = calculator_mock_server.url + "/soap"
    assert main(["record", str(WSDL_DIR / "calculator.wsdl"), "-o", str(tmp_path), "--backend", backend]) == 0
    live = sorted((tmp_path / "calculator").glob("*.yaml"))
    assert [p.name for p in live] == [p.name for p in RECORDINGS if p.parent.name == "calculator"]
    for path in live:
        recording, committed = load_recording(path), load_recording(CONTRACTS / "calculator" / path.name)
        assert recording["backend"] == backend
        [exchange] = recording["exchanges"]  # a live service cannot be asked for a fault
        assert exchange["soap_request"]["url"] == backend
        expected = committed["exchanges"][0]
        expected["soap_request"]["url"] = backend
        assert exchange == expected
    code = main(["record", str(tmp_path / "missing.wsdl"), "-o", str(tmp_path)])
    assert code == 1 and capsys.readouterr().err.splitlines()[-1].startswith("soapbridge: WSDL file not found")
