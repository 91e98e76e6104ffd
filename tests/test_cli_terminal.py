"""The command line on a terminal and in a pipe: the stages of a long load and `record`'s bar on stderr, and
tables for summaries, only when the stream is a terminal (a pseudo-terminal here); piped, the output is
what it always was, and stdout (a spec, JSON) is the same byte for byte either way."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SHARED, WSDL_DIR, ServerThread, sample

ESC = "\x1b["
NETSUITE = SHARED / "wsdl-corpus" / "netsuite" / "netsuite.wsdl"
CLI = [sys.executable, "-m", "bridge"]
ENV = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}


@dataclass
class Shown:
    code: int
    stdout: bytes
    terminal: str  # what the pseudo-terminal got (stderr, and stdout too when it was one)


def on_terminal(*argv: str, stdout_too: bool = False, until: str | None = None, timeout: float = 300) -> Shown:
    """Runs the CLI with stderr (and with ``stdout_too`` stdout) on a pseudo-terminal; reads both until
    the process ends, or until ``until`` appears on the terminal and then kills it."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([*CLI, *argv], stdout=secondary if stdout_too else subprocess.PIPE, stderr=secondary, env=ENV, cwd=ROOT)
    os.close(secondary)
    shown: list[bytes] = []
    out: list[bytes] = []
    seen = threading.Event()

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not data:
                break
            shown.append(data)
            if until is not None and until.encode() in b"".join(shown):
                seen.set()

    def read_stdout() -> None:  # a thread of its own: a large spec must not fill the pipe while the terminal is read
        assert proc.stdout is not None
        out.append(proc.stdout.read())

    readers = [threading.Thread(target=read_terminal)] + ([] if stdout_too else [threading.Thread(target=read_stdout)])
    for t in readers:
        t.start()
    if until is not None:
        seen.wait(timeout)
        # killed: a SIGTERM that came between `serve`'s own handler and uvicorn's was ignored (seen once)
        proc.kill()
    code = proc.wait(timeout)
    for t in readers:
        t.join(timeout)
    os.close(primary)
    return Shown(code, b"".join(out), b"".join(shown).decode("utf-8", "replace"))


def piped(*argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, *argv], capture_output=True, env=ENV, cwd=ROOT, timeout=300)


def plain(text: str) -> str:
    """The terminal's text without rich's escape sequences."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


LOAD_STAGES = ["parsing the WSDL and its imports", "reading the schemas and operations", "assigning the REST routes", "building the OpenAPI spec"]


@pytest.mark.parametrize(
    "wsdl",
    [
        pytest.param(str(sample("orders.wsdl")), id="sample"),
        pytest.param(
            str(NETSUITE), id="netsuite",
            marks=[pytest.mark.corpus, pytest.mark.skipif(not NETSUITE.is_file(), reason="../shared/wsdl-corpus is not here")],
        ),
    ],
)  # fmt: skip
def test_openapi_shows_the_load_stages_on_a_terminal_and_writes_the_same_spec(wsdl: str, tmp_path: Path) -> None:
    config = str(WSDL_DIR / "samples.yaml")
    before = piped("openapi", wsdl, "--config", config, "--no-cache")
    assert before.returncode == 0, before.stderr
    assert ESC.encode() not in before.stderr and b"parsing" not in before.stderr  # a pipe gets no progress
    if wsdl.endswith("orders.wsdl"):  # the committed spec (make openapi) is what stdout carries, both ways
        assert before.stdout == (ROOT / "openapi" / "orders.json").read_bytes()
        assert before.stderr == b""
    shown = on_terminal("openapi", wsdl, "--config", config, "--no-cache")
    assert shown.code == 0
    assert shown.stdout == before.stdout  # the spec on stdout is not touched by the spinner
    text = plain(shown.terminal)
    at = [text.find(f"{Path(wsdl).name}: {stage}") for stage in LOAD_STAGES]
    assert -1 not in at and at == sorted(at), text[-2000:]  # each stage, in the order they run
    assert re.search(r"parsing the WSDL and its imports \(\d+ documents?\)", text)  # the count of documents read
    assert ESC in shown.terminal
    if wsdl == str(NETSUITE):
        counts = [int(n) for n in re.findall(r"imports \((\d+) documents\)", text)]
        assert counts and max(counts) > 10  # netsuite imports dozens of schemas
    # warm: the model comes from the cache
    cache = ["--cache-dir", str(tmp_path)]
    assert piped("openapi", wsdl, "--config", config, *cache).returncode == 0
    warm = on_terminal("openapi", wsdl, "--config", config, *cache)
    assert warm.code == 0 and warm.stdout == before.stdout
    assert "reading the cache" in plain(warm.terminal) and "parsing the WSDL" not in plain(warm.terminal)


def test_call_shows_its_stages_and_prints_the_same_json(calculator_mock_server: ServerThread) -> None:
    argv = ["call", "calculator", "Add", "--data", '{"a": 2, "b": 3}', "--backend", calculator_mock_server.url + "/soap", "--no-cache"]
    before = piped(*argv)
    assert before.returncode == 0 and before.stderr == b"", before.stderr
    shown = on_terminal(*argv)
    assert shown.code == 0 and shown.stdout == before.stdout
    text = plain(shown.terminal)
    assert "calculator.wsdl: parsing the WSDL" in text and "calculator.wsdl: calling Add" in text


def test_serve_shows_its_stages_before_the_banner(tmp_path: Path) -> None:
    shown = on_terminal("serve", "orders", "--port", "0", "--no-cache", until="(docs: /docs)", timeout=120)
    text = plain(shown.terminal)
    banner = text.find("soapbridge ")
    stages = [text.find(f"orders.wsdl: {stage}") for stage in ("parsing the WSDL and its imports", "building the REST app")]
    assert -1 not in stages and stages == sorted(stages) and stages[-1] < banner, text


def test_mock_shows_its_stages(tmp_path: Path) -> None:
    shown = on_terminal("mock", "calculator", "--port", "0", "--no-cache", until="soapbridge mock:", timeout=120)
    text = plain(shown.terminal)
    assert "calculator.wsdl: parsing the WSDL" in text and "calculator.wsdl: building the mock's message schemas" in text
    assert text.find("building the mock's") < text.find("soapbridge mock: 6 operations")


def _committed_rows(wsdl: str) -> list[str]:
    """`record`'s plain summary lines, as read from the committed recordings (tests/test_recorded_contracts.py
    checks that recording again reproduces them)."""
    lines = []
    for path in sorted((ROOT / "contracts" / wsdl).glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        outcomes = "; ".join(f"{e['name']}: {e['rest_response']['status']}" for e in data["exchanges"])
        lines.append(f"  {data['operation_id']}  {data['port']}  {outcomes}  {path.name}")
    return lines


def test_record_shows_a_bar_and_a_table_on_a_terminal_and_lines_in_a_pipe(tmp_path: Path) -> None:
    before = piped("record", "calculator", "-o", str(tmp_path / "piped"))
    assert before.returncode == 0
    err = before.stderr.decode()
    assert ESC not in err
    assert err.splitlines() == [*_committed_rows("calculator"), f"wrote 6 recording(s) to {tmp_path / 'piped' / 'calculator'}"]
    shown = on_terminal("record", "calculator", "-o", str(tmp_path / "tty"))
    assert shown.code == 0 and shown.stdout == b""
    text = plain(shown.terminal)
    assert "calculator.wsdl: parsing the WSDL" in text and "6/6" in text and "calculator.wsdl: recorded CalculatorService_" in text
    assert ESC in shown.terminal
    table = text[text.index("outcome (REST status)") :]
    for line in _committed_rows("calculator"):  # the same cells, in a table
        assert re.search(r"\s+".join(map(re.escape, re.split(r"\s{2,}", line.strip()))), table), line
    for path in (tmp_path / "piped" / "calculator").iterdir():  # the files do not depend on the terminal
        assert (tmp_path / "tty" / "calculator" / path.name).read_bytes() == path.read_bytes()


def _gateway(tmp_path: Path, read_timeout: str) -> Path:
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(
        f"auth: {{enabled: false}}\nread_timeout: {read_timeout}\nservices:\n"
        f"  erp:\n    wsdl: {sample('orders.wsdl')}\n    backend: http://127.0.0.1:1/soap\n"
        f"  calc:\n    wsdl: {sample('calculator.wsdl')}\n    backend: http://127.0.0.1:2/soap\n"
    )
    return cfg


def test_check_config_tables_on_a_terminal(tmp_path: Path) -> None:
    good = _gateway(tmp_path, "5")
    before = piped("check-config", str(good), "--no-cache")
    assert before.returncode == 0 and before.stderr.decode() == f"{good}: ok\n"
    shown = on_terminal("check-config", str(good), "--no-cache")
    text = plain(shown.terminal)
    assert shown.code == 0 and "erp: parsing the WSDL" in text  # the bar names the service and its stage
    assert re.search(r"erp\s+/erp\s+3\s+http://127\.0\.0\.1:1/soap", text) and re.search(r"calc\s+/calc\s+\d+\s+http://127\.0\.0\.1:2/soap", text)
    assert text.rstrip().endswith(f"{good}: ok")
    bad = _gateway(tmp_path, "soon")
    before = piped("check-config", str(bad), "--no-cache")
    assert before.returncode == 4
    assert before.stderr.decode().splitlines()[0] == f"{bad}:2: read_timeout: expected a positive number of seconds, got 'soon'"
    shown = on_terminal("check-config", str(bad), "--no-cache")
    text = plain(shown.terminal)
    assert shown.code == 4
    assert re.search(r"line\s+key\s+problem", text) and re.search(r"\b2\s+read_timeout\s+expected a positive number of seconds, got 'soon'", text)
    assert f"{bad}:2:" not in text  # a table, not the piped lines


def test_diff_is_a_table_on_a_terminal_and_the_same_lines_in_a_pipe() -> None:
    old, new = "tests/diff/base.wsdl", "tests/diff/field-required.wsdl"
    before = piped("diff", old, new, "--no-cache")
    assert before.returncode == 4 and before.stderr == b""
    assert before.stdout.decode().splitlines() == [
        f"{old} -> {new}",
        "breaking (1):",
        "  ShopService_PutItem  request[application/json]/item/note",
        "    property-became-required: field item/note is now required (schema Item)",
        "non-breaking (1):",
        "  ShopService_GetItem  response[200][application/json]/item/note",
        "    property-became-required: field item/note is now required (schema Item)",
        "1 breaking, 1 non-breaking change(s)",
    ]
    shown = on_terminal("diff", old, new, "--no-cache", stdout_too=True)
    text = plain(shown.terminal)
    assert shown.code == 4 and ESC in shown.terminal
    assert re.search(r"breaking\s+ShopService_PutItem\s+request\[application/json\]/item/note\s+property-became-required", text)
    assert re.search(r"non-breaking\s+ShopService_GetItem\s+response\[200\]\[application/json\]/item/note", text)
    assert "base.wsdl: parsing the WSDL" in text and "field-required.wsdl: building the OpenAPI spec" in text
    assert "breaking (1):" not in text and text.rstrip().endswith("1 breaking, 1 non-breaking change(s)")


def test_contract_summary_is_a_table_on_a_terminal() -> None:
    shown = on_terminal("contract", "calculator", "--max-examples", "1", stdout_too=True)
    text = plain(shown.terminal)
    assert shown.code == 0, text[-3000:]
    assert re.search(r"operation\s+examples\s+positive\s+negative\s+generator\s+result", text)
    assert re.search(r"CalculatorService_Add\s+\d+\s+ok\s+ok\s+\w+\s+ok", text)
    assert "-----" not in text  # rich's table, not the plain one (tests/test_contract_cli.py parses that)
    assert re.search(r"3 operation\(s\), \d+ examples, 0 failed", text)


def test_verbose_logs_instead_of_the_spinner(tmp_path: Path) -> None:
    """With -v the log lines say what happens; a spinner would draw over them."""
    cache = ["--cache-dir", str(tmp_path)]
    assert piped("openapi", "orders", *cache).returncode == 0  # warm: the cache logs a line
    shown = on_terminal("-v", "openapi", "orders", *cache)
    text = plain(shown.terminal)
    assert shown.code == 0 and "INFO soapbridge.cache: loaded" in text
    assert "orders.wsdl: " not in text and "\x1b[?25l" not in shown.terminal  # no spinner, no hidden cursor
