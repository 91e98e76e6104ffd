"""Every snippet in README.md runs as written after `make demo` (issue 11).

Fenced blocks are classified by their info string:
- ```sh and ```python: run, from a directory that looks like the checkout (``wsdl/`` and ``.venv``),
  against a demo this test starts (on free ports, which replace 8080 and 8081 in the text);
- ```sh no-exec (commands for your own service, `make`): every `soapbridge ...` line must parse
  with the real command-line parser, so no flag in the README is made up or stale;
- ```yaml config: must load as a config file;
- anything else (```json, ```text, plain ```yaml) is sample output or a file format, not a snippet.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.cli import build_parser
from bridge.settings import Settings, StatusMap, make_settings
from tests.test_cli import Running

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
KNOWN_TAGS = {"no-exec", "config"}


@dataclasses.dataclass
class Block:
    line: int
    lang: str
    tags: set[str]
    text: str

    def __str__(self) -> str:
        return f"README.md:{self.line} ```{self.lang} {' '.join(sorted(self.tags))}"


def blocks() -> list[Block]:
    found = []
    for m in re.finditer(r"^( *)```([^\n]*)\n(.*?)^\1```[ \t]*$", README, re.M | re.S):
        info = m.group(2).split()
        found.append(Block(README.count("\n", 0, m.start()) + 1, info[0] if info else "", set(info[1:]), textwrap.dedent(m.group(3))))
    return found


BLOCKS = blocks()
RUN = [b for b in BLOCKS if b.lang in ("sh", "python") and "no-exec" not in b.tags]


def test_blocks_are_classified() -> None:
    assert len(BLOCKS) > 10
    for b in BLOCKS:
        assert b.tags <= KNOWN_TAGS, f"{b}: unknown tag"
    # the snippets a newcomer copies first are executed, not exempted
    assert any("bridge.load(" in b.text for b in RUN if b.lang == "python")
    assert any("curl" in b.text and "/OrderService/GetOrder" in b.text for b in RUN)


def _soapbridge_lines(text: str) -> Iterator[list[str]]:
    for raw in text.replace("\\\n", " ").splitlines():
        for part in raw.split("|"):
            words = shlex.split(part, comments=True)
            if words[:1] == ["soapbridge"]:
                yield words[1:]


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "sh" and "no-exec" in b.tags], ids=str)
def test_command_lines_parse(block: Block) -> None:
    parser = build_parser()
    for argv in _soapbridge_lines(block.text):
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            if exc.code != 0:  # --version, --help
                pytest.fail(f"{block}: `soapbridge {shlex.join(argv)}` does not parse")


@pytest.mark.parametrize("block", [b for b in BLOCKS if "config" in b.tags], ids=str)
def test_config_examples_load(block: Block, tmp_path: Path) -> None:
    assert block.lang == "yaml"
    config = tmp_path / "bridge.yaml"
    config.write_text(block.text)
    make_settings(config=config)  # raises on an unknown key or a bad value


def test_configuration_reference_lists_every_key() -> None:
    section = README.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    assert documented == {f.name for f in dataclasses.fields(Settings)}
    status_row = next(line for line in section.splitlines() if line.startswith("| `status`"))
    assert set(re.findall(r"`(\w+)` \(\d+\)", status_row)) == {f.name for f in dataclasses.fields(StatusMap)}
    complete = re.search(r"^```yaml config\n(.*?)^```", section, re.M | re.S)
    assert complete, "the reference's complete example is gone"
    assert set(re.findall(r"^(\w+):", complete.group(1), re.M)) == documented


@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, str]]:
    running = Running("demo", "--port", "0", "--mock-port", "0", banner_on="stdout", until="Ctrl-C stops both")
    try:
        yield {"http://127.0.0.1:8080": running.url("REST bridge"), "http://127.0.0.1:8081": running.url("mock SOAP service")}
    finally:
        running.stop()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory that looks like the checkout after `make demo`, so snippets write nothing into the repo."""
    (tmp_path / "wsdl").symlink_to(ROOT / "wsdl")
    (tmp_path / ".venv").symlink_to(sys.prefix)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("block", RUN, ids=str)
def test_snippet_runs_after_make_demo(block: Block, demo: dict[str, str], checkout: Path) -> None:
    text = block.text
    for default, actual in demo.items():
        text = text.replace(default, actual)
    argv = ["bash", "-euo", "pipefail", "-c", text] if block.lang == "sh" else [sys.executable, "-c", text]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run(argv, cwd=checkout, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, f"{block} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    assert "Traceback" not in r.stderr
