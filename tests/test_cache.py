"""The disk cache: a warm load gives the same model and spec without zeep, any changed document
invalidates, bad entries are rebuilt, untrusted ones never read; and ``serve --workers N``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import bridge
import bridge.wsdl.loader as loader
from bridge import cache
from bridge.cli import main
from bridge.settings import make_settings
from tests.conftest import ROOT, ServerThread, free_port, mock_transport, sample, wait_until_serving

IMPORTS = ROOT / "tests" / "conformance" / "wsdl" / "wsdl_imports"


class LoaderCalls:
    """Counts real (cold) loads: a warm load never reaches the zeep-based loader."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = loader.load_model_traced

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(loader, "load_model_traced", counting)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> LoaderCalls:
    return LoaderCalls(monkeypatch)


@pytest.fixture
def imports_copy(tmp_path: Path) -> Path:
    """A private copy of the WSDL that pulls in other documents every way there is."""
    target = tmp_path / "wsdl"
    shutil.copytree(IMPORTS, target)
    return target / "main.wsdl"


def entries(directory: Path, suffix: str) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(suffix))


def test_warm_load_gives_the_same_model_and_spec(tmp_path: Path, calls: LoaderCalls) -> None:
    cold = bridge.load(sample("orders.wsdl"), cache_dir=str(tmp_path))
    cold_spec = cold.openapi()
    assert calls.count == 1
    warm = bridge.load(sample("orders.wsdl"), cache_dir=str(tmp_path))
    assert calls.count == 1, "the second load should come from the cache"
    assert warm.openapi() == cold_spec
    assert warm.openapi_bytes() == cold.openapi_bytes()
    # The same model: same operations, routes, types, documents, and the same pickled graph.
    assert [(op.key, op.path, op.operation_id) for op in warm.operations] == [(op.key, op.path, op.operation_id) for op in cold.operations]
    assert warm.model.documents == cold.model.documents
    assert set(warm.model.types) == set(cold.model.types)
    fresh = loader.load_model(sample("orders.wsdl"))
    cached, _ = cache.DiskCache(tmp_path).load_model(str(sample("orders.wsdl").resolve()), False) or (None, None)
    assert cached is not None
    assert pickle.dumps(cached) == pickle.dumps(fresh)


def test_warm_bridge_encodes_validates_and_decodes_like_a_cold_one(tmp_path: Path) -> None:
    wsdl = sample("calculator.wsdl")
    results = []
    for _ in range(2):  # cold, then warm
        b = bridge.load(wsdl, cache_dir=str(tmp_path), endpoint="http://mock.invalid/", transport=mock_transport(wsdl))
        results.append((b.encode_request("Add", {"a": 2, "b": 3}), asyncio.run(b.acall("Add", {"a": 2, "b": 3}))))
        with pytest.raises(bridge.ValidationError) as refused:
            b.validate_input("Add", {"a": "two"})
        assert [v.pointer for v in refused.value.violations] == ["", "/a"]  # b missing, a not an int
    assert results[0] == results[1]
    assert entries(tmp_path, ".schemas.json"), "validators read the cached schemas"


@pytest.mark.parametrize("name", ["a.xsd", "b.xsd", "money.xsd", "person.xsd", "extra.xsd", "note.xsd", "abstract.wsdl"])
def test_a_change_to_any_imported_document_invalidates(name: str, imports_copy: Path, tmp_path: Path, calls: LoaderCalls) -> None:
    directory = tmp_path / "cache"
    bridge.load(imports_copy, cache_dir=str(directory))
    bridge.load(imports_copy, cache_dir=str(directory))
    assert calls.count == 1
    doc = imports_copy.parent / name
    doc.write_text(doc.read_text(encoding="utf-8") + "\n<!-- changed -->\n", encoding="utf-8")
    bridge.load(imports_copy, cache_dir=str(directory))
    assert calls.count == 2, f"a change to {name} must rebuild the model"
    bridge.load(imports_copy, cache_dir=str(directory))
    assert calls.count == 2, "and the rebuilt entry is warm again"
    assert len(entries(directory, ".model")) == 1, "one entry per WSDL, replaced in place"


def test_a_changed_type_in_an_imported_schema_shows_in_the_warm_spec(imports_copy: Path, tmp_path: Path) -> None:
    before = bridge.load(imports_copy, cache_dir=str(tmp_path)).openapi()
    b_xsd = imports_copy.parent / "b.xsd"
    b_xsd.write_text(
        b_xsd.read_text(encoding="utf-8").replace(
            '<xsd:element name="name" type="xsd:string" minOccurs="0"/>',
            '<xsd:element name="name" type="xsd:string" minOccurs="0"/>\n      <xsd:element name="region" type="xsd:string" minOccurs="0"/>',
        ),
        encoding="utf-8",
    )
    after = bridge.load(imports_copy, cache_dir=str(tmp_path)).openapi()
    country = next(k for k in after["components"]["schemas"] if k.endswith("Country"))
    assert "region" not in json.dumps(before["components"]["schemas"][country])
    assert "region" in after["components"]["schemas"][country]["properties"]
    assert len(entries(tmp_path, ".spec.json")) == 1, "the old model's spec is removed with it"


def test_an_import_that_was_missing_and_appears_invalidates(tmp_path: Path, calls: LoaderCalls) -> None:
    wsdl = tmp_path / "late.wsdl"
    wsdl.write_text(
        sample("calculator.wsdl")
        .read_text(encoding="utf-8")
        .replace("<wsdl:types>", '<wsdl:types>\n<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:late">'
                 '<xsd:import namespace="urn:later" schemaLocation="later.xsd"/></xsd:schema>', 1),
        encoding="utf-8",
    )
    directory = tmp_path / "cache"
    first = bridge.load(wsdl, cache_dir=str(directory))
    assert any("later.xsd" in s.name for s in first.model.skipped)
    bridge.load(wsdl, cache_dir=str(directory))
    assert calls.count == 1
    (tmp_path / "later.xsd").write_text(
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:later"/>', encoding="utf-8"
    )
    now = bridge.load(wsdl, cache_dir=str(directory))
    assert calls.count == 2
    assert not any("later.xsd" in s.name for s in now.model.skipped)


def test_an_edit_to_the_wsdl_itself_invalidates(tmp_path: Path, calls: LoaderCalls) -> None:
    wsdl = tmp_path / "calc.wsdl"
    shutil.copy(sample("calculator.wsdl"), wsdl)
    bridge.load(wsdl, cache_dir=str(tmp_path / "c"))
    wsdl.write_text(wsdl.read_text(encoding="utf-8").replace("Add", "Plus"), encoding="utf-8")
    b = bridge.load(wsdl, cache_dir=str(tmp_path / "c"))
    assert calls.count == 2
    assert "Plus" in {op.name for op in b.operations}


def test_another_soapbridge_or_python_retires_entries(tmp_path: Path, calls: LoaderCalls, monkeypatch: pytest.MonkeyPatch) -> None:
    bridge.load(sample("calculator.wsdl"), cache_dir=str(tmp_path))
    monkeypatch.setattr(cache, "_environment", "another version")
    bridge.load(sample("calculator.wsdl"), cache_dir=str(tmp_path))
    assert calls.count == 2


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_corrupt_model_entry_is_rebuilt(damage: str, tmp_path: Path, calls: LoaderCalls) -> None:
    spec = bridge.load(sample("orders.wsdl"), cache_dir=str(tmp_path)).openapi()
    (entry,) = entries(tmp_path, ".model")
    data = entry.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "flip": data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:],  # inside the pickle: the payload hash catches it
        "garbage": os.urandom(len(data)),
        "empty": b"",
    }[damage]
    entry.write_bytes(damaged)
    again = bridge.load(sample("orders.wsdl"), cache_dir=str(tmp_path))
    assert calls.count == 2
    assert again.openapi() == spec
    assert entry.read_bytes() == data, "the entry is written again, whole"
    bridge.load(sample("orders.wsdl"), cache_dir=str(tmp_path))
    assert calls.count == 2


def test_a_corrupt_spec_is_rebuilt(tmp_path: Path) -> None:
    good = bridge.load(sample("orders.wsdl"), cache_dir=str(tmp_path)).openapi_bytes()
    for f in entries(tmp_path, ".json"):
        f.write_bytes(f.read_bytes()[:-10])
    again = bridge.load(sample("orders.wsdl"), cache_dir=str(tmp_path))
    assert again.openapi_bytes() == good
    assert again.openapi() == json.loads(good)


def test_no_cache(tmp_path: Path, calls: LoaderCalls, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path / "env"))
    for _ in range(2):
        bridge.load(sample("calculator.wsdl"), cache_dir=None)
    assert calls.count == 2
    assert not (tmp_path / "env").exists()
    config = tmp_path / "config.yaml"
    config.write_text("cache_dir: null\n", encoding="utf-8")
    bridge.load(sample("calculator.wsdl"), config=config)
    assert not (tmp_path / "env").exists()
    monkeypatch.setenv(cache.ENV_DIR, "off")
    bridge.load(sample("calculator.wsdl"))
    assert calls.count == 4


def test_cache_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.ENV_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.resolve_dir("auto") == tmp_path / "xdg" / "soapbridge"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.resolve_dir("auto") == tmp_path / "home" / ".cache" / "soapbridge"
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path / "env"))
    assert cache.resolve_dir("auto") == tmp_path / "env"
    assert cache.resolve_dir(str(tmp_path / "explicit")) == tmp_path / "explicit"
    assert cache.resolve_dir(None) is None
    assert make_settings().cache_dir == "auto"
    with pytest.raises(bridge.ConfigError, match="cache_dir"):
        make_settings(cache_dir=42)


def test_cli_cache_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path / "env"))
    assert main(["inspect", str(sample("calculator.wsdl")), "--no-cache"]) == 0
    assert not (tmp_path / "env").exists()
    assert main(["inspect", str(sample("calculator.wsdl")), "--cache-dir", str(tmp_path / "flag")]) == 0
    assert entries(tmp_path / "flag", ".model")
    assert main(["openapi", str(sample("calculator.wsdl"))]) == 0
    assert entries(tmp_path / "env", ".spec.json"), "the environment variable names the default"
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["inspect", str(sample("calculator.wsdl")), "--no-cache", "--cache-dir", str(tmp_path)])
    assert exc.value.code == 2


def test_files_are_private_and_written_atomically(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "cache"
    bridge.load(sample("orders.wsdl"), cache_dir=str(directory)).openapi_bytes()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert {f.name.split(".", 1)[1] for f in files} == {"model", "spec.json", "schemas.json"}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert not any(f.name.startswith(".tmp") for f in files)


def test_a_directory_others_can_write_is_never_used(tmp_path: Path, calls: LoaderCalls, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "shared"
    bridge.load(sample("calculator.wsdl"), cache_dir=str(directory))
    directory.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="soapbridge.cache"):
        b = bridge.load(sample("calculator.wsdl"), cache_dir=str(directory))
    assert calls.count == 2, "the entry in it is not read"
    assert "writable by others" in caplog.text
    assert b.operation("Add")


def test_a_file_others_can_write_is_never_read(tmp_path: Path, calls: LoaderCalls) -> None:
    bridge.load(sample("calculator.wsdl"), cache_dir=str(tmp_path))
    (entry,) = entries(tmp_path, ".model")
    entry.chmod(0o660)
    bridge.load(sample("calculator.wsdl"), cache_dir=str(tmp_path))
    assert calls.count == 2
    if os.getuid() == 0:  # root can also hand the file to another user
        bridge.load(sample("calculator.wsdl"), cache_dir=str(tmp_path))
        assert calls.count == 2, "the rebuilt entry replaced the bad file, and is ours"
        os.chown(entry, 65534, 65534)
        bridge.load(sample("calculator.wsdl"), cache_dir=str(tmp_path))
        assert calls.count == 3


def test_concurrent_writers_and_readers_never_see_half_an_entry(tmp_path: Path) -> None:
    """Workers starting together all write the same entry: each write is a whole file renamed into
    place, so a reader sees the old entry or the new one, never a torn one."""
    model, sources = loader.load_model_traced(sample("orders.wsdl"))
    location = str(sample("orders.wsdl").resolve())
    store = cache.DiskCache(tmp_path)
    digest = store.store_model(location, False, model, sources)
    failures: list[str] = []

    def worker() -> None:
        mine = cache.DiskCache(tmp_path)
        for _ in range(25):
            if mine.store_model(location, False, model, sources) != digest:
                failures.append("store")
            hit = mine.load_model(location, False)
            if hit is None or hit[1] != digest:
                failures.append("load")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_an_unwritable_cache_directory_does_not_stop_loading(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="soapbridge"):
        b = bridge.load(sample("calculator.wsdl"), cache_dir=str(not_a_dir / "sub"))
    assert sorted({op.name for op in b.routed}) == ["Add", "Divide", "Echo"]  # calculator.wsdl's operations
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"cache directory {not_a_dir / 'sub'} is not usable (Not a directory); caching is off"], warnings
    assert not_a_dir.read_text(encoding="utf-8") == "x"


def test_documents_from_the_network_are_not_cached(tmp_path: Path) -> None:
    model = loader.load_model(sample("calculator.wsdl"))
    store = cache.DiskCache(tmp_path)
    sources = {"http://example.invalid/types.xsd": ("network", "http://example.invalid/types.xsd", True)}
    assert store.store_model("/x.wsdl", True, model, sources) is None
    # With network loading off, a refused URL is part of what the model is built from, and stays so.
    assert store.store_model("/x.wsdl", False, model, sources) is not None


# --- serve --workers ----------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d.name))
    return out


@pytest.fixture
def workers_server(tmp_path: Path, calculator_mock_server: ServerThread) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    cli = str(Path(sys.executable).with_name("soapbridge"))
    proc = subprocess.Popen(
        [cli, "serve", str(sample("calculator.wsdl")), "--port", str(port), "--workers", "2",
         "--backend", calculator_mock_server.url + "/", "--cache-dir", str(tmp_path / "cache")],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, base, log=lambda: proc.stderr.read().decode() if proc.stderr else "")
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.mark.slow
def test_serve_with_workers(workers_server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path) -> None:
    base, proc = workers_server
    r = httpx.post(f"{base}/CalculatorService/Add", json={"a": 2, "b": 3}, timeout=10)
    assert r.status_code == 200
    assert set(r.json()) == {"result"}
    bad = httpx.post(f"{base}/CalculatorService/Add", json={"a": "two"}, timeout=10)
    assert bad.status_code == 400
    assert httpx.get(f"{base}/openapi.json", timeout=10).json()["paths"]
    workers = [p for p in _children(proc.pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(workers) == 2
    # The supervisor warmed the cache before the workers started; they read it.
    assert entries(tmp_path / "cache", ".model") and entries(tmp_path / "cache", ".spec.json")


def test_workers_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(sample("calculator.wsdl")), "--workers", "0"]) == 1
    assert "--workers" in capsys.readouterr().err
