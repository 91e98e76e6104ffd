"""Smoke test of the benchmark harness (``python -m bench``), so it does not rot: one quick
section, the results file, the terminal and Markdown tables and the target checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main


def test_quick_decode_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    assert main(["--quick", "--only", "decode", "--output", str(out)]) == 0
    results = json.loads(out.read_text())
    rows = results["decode"]
    assert [r["target_bytes"] for r in rows] == [1024, 20 * 1024]
    for r in rows:
        assert r["bytes"] >= r["target_bytes"]
        assert set(r["ms"]) == {"lxml floor", "soapbridge", "soapbridge+reply validation", "soapbridge, json module", "zeep", "xmltodict"}
        assert r["x_baseline"]["lxml floor"] == 1.0 and all(v > 0 for v in r["ms"].values())
    assert {t["name"] for t in results["targets"]} >= {"decode 1 KiB: vs zeep", "decode 20 KiB: vs lxml floor"}
    assert "Decode a ListOrders reply" in capsys.readouterr().out

    assert main(["--markdown", "--output", str(out)]) == 0
    md = capsys.readouterr().out
    assert "| size |" in md and "| target | goal | measured | met |" in md


def test_unknown_section_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--only", "nope"]) == 2
    assert "unknown section" in capsys.readouterr().err


def test_quick_wsse_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    assert main(["--quick", "--only", "wsse", "--output", str(out)]) == 0
    rows = json.loads(out.read_text())["wsse"]
    assert [r["call"] for r in rows] == ["plain", "UsernameToken (digest) + Timestamp", "signed (RSA-SHA256)", "signed + reply verified"]
    assert rows[0]["x_plain"] == 1.0 and all(r["calls_per_s"] > 0 for r in rows)
    assert "WS-Security" in capsys.readouterr().out


def test_quick_observability_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    assert main(["--quick", "--only", "observability", "--output", str(out)]) == 0
    results = json.loads(out.read_text())
    row = results["observability"]
    assert row["off_calls_per_s"] > 0 and row["on_calls_per_s"] > 0
    assert row["ratio"] == pytest.approx(row["on_calls_per_s"] / row["off_calls_per_s"], abs=0.001)
    assert [t["name"] for t in results["targets"]] == ["metrics + logs on vs off (1 KiB)"]
    assert "on against off" in capsys.readouterr().out
