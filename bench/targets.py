"""The issue's performance targets, checked against one run's results."""

from __future__ import annotations

from typing import Any


def _t(name: str, goal: str, measured: str, met: bool) -> dict[str, Any]:
    return {"name": name, "goal": goal, "measured": measured, "met": bool(met)}


def _size(n: int) -> str:
    return f"{n // 1024} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.0f} MiB"


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in results.get("decode", []):
        ms, size = r["ms"], _size(r["target_bytes"])
        ours = ms["soapbridge"]
        out.append(_t(f"decode {size}: vs zeep", "≥10× faster", f"{ms['zeep'] / ours:.1f}×", ms["zeep"] / ours >= 10))
        out.append(_t(f"decode {size}: vs xmltodict", "≥3× faster", f"{ms['xmltodict'] / ours:.1f}×", ms["xmltodict"] / ours >= 3))
        out.append(_t(f"decode {size}: vs lxml floor", "≤4× the floor", f"{ours / ms['lxml floor']:.1f}×", ours / ms["lxml floor"] <= 4))
    for r in results.get("encode", []):
        ms, size = r["ms"], _size(r["target_bytes"])
        ours = ms["soapbridge"]
        out.append(_t(f"encode {size}: vs zeep", "≥10× faster", f"{ms['zeep'] / ours:.1f}×", ms["zeep"] / ours >= 10))
    for r in results.get("e2e", []):
        paths, size, c = r["paths"], _size(r["target_bytes"]), r["clients"]
        rest, zeep_, passthrough = paths.get("REST via bridge"), paths.get("zeep direct"), paths.get("pass-through proxy")
        if rest and zeep_:
            x = rest["calls_per_s"] / max(zeep_["calls_per_s"], 1e-9)
            out.append(_t(f"e2e {size} ×{c}: bridge vs zeep direct", "≥1.5×", f"{x:.2f}×", x >= 1.5))
        if rest and passthrough and r["target_bytes"] <= 10 * 1024:
            goal = 0.5 if r["target_bytes"] <= 1024 else 0.3
            x = rest["calls_per_s"] / max(passthrough["calls_per_s"], 1e-9)
            out.append(_t(f"e2e {size} ×{c}: bridge vs pass-through", f"≥{goal:.0%}", f"{x:.0%}", x >= goal))
        if rest and r["target_bytes"] >= 100 * 1024 and c >= 64:
            met = rest["errors"] == 0 and rest["calls"] > 0  # no completed call at all is no evidence
            out.append(_t(f"e2e {size} ×{c}: errors", "0", f"{rest['errors']} in {rest['calls']} calls", met))
    obs = results.get("observability")
    if obs:
        out.append(_t("metrics + logs on vs off (1 KiB)", "≥90%", f"{obs['ratio']:.0%}", obs["ratio"] >= 0.9))
    for r in results.get("auth", []):
        if r["path"] != "no auth":
            out.append(_t(f"e2e 1 KiB ×{r['clients']}: {r['path']} vs no auth", "≥80%", f"{r['x_bare']:.0%}", r["x_bare"] >= 0.8))
    for r in results.get("start", []):
        if r["run"] == "warm":
            out.append(_t(f"warm start {r['name']}", "≤0.3 s", f"{r['first_request_s']:.2f} s", r["first_request_s"] <= 0.3))
        out.append(_t(f"RSS {r['name']} ({r['run']})", "≤200 MB", f"{r['rss_mb']:.0f} MB", r["rss_mb"] <= 200))
    return out
