""".ci/openapi-compat on a throwaway git repository: skips, breaks, announcements, stale announcements."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

from bridge.diff import load_spec
from tests.conftest import ROOT

SCRIPT = ROOT / ".ci" / "openapi-compat"
DIFF = Path(__file__).parent / "diff"
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


@pytest.fixture(scope="module")
def compat() -> ModuleType:
    loader = SourceFileLoader("openapi_compat", str(SCRIPT))  # no .py suffix: load it by hand
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "openapi").mkdir()
        self.git("init", "-q")

    def git(self, *args: str) -> None:
        subprocess.run(["git", "-C", str(self.path), *args], check=True, capture_output=True, env={**os.environ, **ENV})

    def spec(self, name: str, variant: str) -> None:
        (self.path / "openapi" / name).write_text(json.dumps(load_spec(DIFF / f"{variant}.wsdl"), indent=1))

    def announce(self, *lines: str) -> None:
        f = self.path / "openapi" / "BREAKING"
        f.write_text((f.read_text() if f.exists() else "# announced breaking changes\n") + "".join(f"{line}\n" for line in lines))

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


@pytest.fixture
def check(compat: ModuleType, repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[[], tuple[int, str]]:
    monkeypatch.delenv("OPENAPI_COMPAT_BASE", raising=False)

    def run() -> tuple[int, str]:
        code = compat.main([str(repo.path)])
        out, err = capsys.readouterr()
        return code, out + err

    return run


def test_skips_without_a_previous_commit(repo: Repo, check: Callable[[], tuple[int, str]]) -> None:
    repo.spec("shop.json", "base")
    repo.commit("first")
    code, out = check()
    assert code == 0 and "no HEAD~1 to compare with" in out and "skipped" in out


def test_new_spec_and_unchanged_spec_pass(repo: Repo, check: Callable[[], tuple[int, str]]) -> None:
    repo.spec("shop.json", "base")
    repo.commit("first")
    repo.spec("more.json", "base")
    repo.commit("second")
    code, out = check()
    assert code == 0
    assert "more.json: new, nothing to compare" in out and "shop.json: no change" in out and out.rstrip().endswith("ok")


def test_non_breaking_change_passes(repo: Repo, check: Callable[[], tuple[int, str]]) -> None:
    repo.spec("shop.json", "base")
    repo.commit("first")
    repo.spec("shop.json", "optional-field")
    repo.commit("second")
    code, out = check()
    assert code == 0 and "shop.json: 0 breaking, 2 non-breaking change(s)" in out


def test_breaking_change_fails_until_announced(repo: Repo, check: Callable[[], tuple[int, str]]) -> None:
    repo.spec("shop.json", "base")
    repo.commit("first")
    repo.commit("second")
    repo.spec("shop.json", "remove-operation")  # uncommitted: HEAD~1 is compared with the working tree
    code, out = check()
    line = "shop.json | ShopService_Ping | - | operation-removed"
    assert code == 1
    assert "[BREAKING, NOT announced] ShopService_Ping -: operation-removed" in out
    assert out.rstrip().splitlines()[-1] == line  # the exact line to add
    repo.announce(f"{line}   # Ping was never used")
    code, out = check()
    assert code == 0 and "[breaking, announced]" in out and "1 new announcement(s)" in out


def test_wildcards_and_stale_announcements(repo: Repo, check: Callable[[], tuple[int, str]]) -> None:
    repo.spec("shop.json", "base")
    repo.announce("shop.json | * | * | pattern-changed  # Sku grew to 6 digits")
    repo.commit("first")
    repo.spec("shop.json", "pattern")
    repo.commit("second")
    code, out = check()
    assert code == 1, "an announcement from an earlier commit announces nothing new"
    assert out.count("| pattern-changed") == 4
    repo.announce("shop.json | * | * | pattern-changed  # and now really")
    code, out = check()
    assert code == 0, out


def test_removed_spec_is_breaking(repo: Repo, check: Callable[[], tuple[int, str]]) -> None:
    repo.spec("shop.json", "base")
    repo.commit("first")
    (repo.path / "openapi" / "shop.json").unlink()
    repo.commit("second")
    code, out = check()
    assert code == 1 and "shop.json | - | - | spec-removed" in out
    repo.announce("shop.json | - | - | spec-removed  # the shop API is retired")
    assert check()[0] == 0


def test_unreadable_base_spec_fails(repo: Repo, check: Callable[[], tuple[int, str]]) -> None:
    (repo.path / "openapi" / "shop.json").write_text("{broken")
    repo.commit("first")
    repo.spec("shop.json", "base")
    repo.commit("second")
    code, out = check()
    assert code == 1 and "HEAD~1:openapi/shop.json: not valid JSON" in out


def test_script_runs_as_a_program(repo: Repo) -> None:
    repo.spec("shop.json", "base")
    repo.commit("first")
    repo.spec("shop.json", "field-required")
    repo.commit("second")
    proc = subprocess.run([sys.executable, str(SCRIPT), str(repo.path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "shop.json | ShopService_PutItem | request[application/json]/item/note | property-became-required" in proc.stderr
    proc = subprocess.run([sys.executable, str(SCRIPT), str(repo.path), "--base", "no-such-commit"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "no-such-commit is not a commit" in proc.stderr
