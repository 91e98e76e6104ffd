"""Tables from a results dict: for the terminal, and as Markdown for docs/performance.md."""

from __future__ import annotations

from typing import Any


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} B"


def _ms(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def _table(head: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*r) for r in rows]
    return "\n".join(out)


def _codec_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    names = list(rows[0]["ms"])
    head = ["size", *[f"{n} ms (×floor)" for n in names]]
    body = [[_size(r["bytes"]), *[f"{_ms(r['ms'][n])} (×{r['x_baseline'][n]:.1f})" for n in names]] for r in rows]
    return _table(head, body, markdown)


def _e2e_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    head = ["reply", "clients", "path", "calls/s", "×pass-through", "p50 ms", "p99 ms", "errors"]
    body = []
    for r in rows:
        for name, m in r["paths"].items():
            body.append(
                [
                    _size(r["bytes"]),
                    str(r["clients"]),
                    name + (f" ({m['x_bare_bridge']:.2f} of the bare bridge)" if "x_bare_bridge" in m else ""),
                    f"{m['calls_per_s']:.0f}",
                    f"{m['x_passthrough']:.2f}" if m.get("x_passthrough") is not None else "",
                    f"{m['p50_ms']:.2f}",
                    f"{m['p99_ms']:.2f}",
                    str(m["errors"]),
                ]
            )
    return _table(head, body, markdown)


def _start_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    head = ["WSDL", "operations", "run", "first request s", "first call s", "RSS MB"]
    body = [
        [r["name"], str(r["operations"]), r["run"], f"{r['first_request_s']:.2f}", f"{r['first_call_s']:.2f}", f"{r['rss_mb']:.0f}"]
        for r in rows
    ]
    return _table(head, body, markdown)


def _wsse_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    head = ["call", "calls/s", "ms per call", "×plain"]
    body = [[r["call"], f"{r['calls_per_s']:.0f}", _ms(r["ms"]), f"{r['x_plain']:.2f}"] for r in rows]
    return _table(head, body, markdown)


def _observability_table(row: Any, markdown: bool) -> str:
    head = ["reply", "clients", "metrics + logs off", "on", "on / off"]
    body = [[_size(row["bytes"]), str(row["clients"]), f"{row['off_calls_per_s']:.0f}/s", f"{row['on_calls_per_s']:.0f}/s", f"{row['ratio']:.2f}"]]
    return _table(head, body, markdown)


def _auth_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    head = ["inbound auth", "reply", "clients", "calls/s", "×no auth", "p50 ms", "p99 ms"]
    body = [[r["path"], _size(r["bytes"]), str(r["clients"]), f"{r['calls_per_s']:.0f}", f"{r['x_bare']:.2f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}"] for r in rows]
    return _table(head, body, markdown)


def _targets_table(rows: list[dict[str, Any]], markdown: bool) -> str:
    head = ["target", "goal", "measured", "met"]
    body = [[t["name"], t["goal"], t["measured"], "yes" if t["met"] else "NO"] for t in rows]
    return _table(head, body, markdown)


def render(results: dict[str, Any], *, markdown: bool = False) -> str:
    parts = []
    m = results.get("machine", {})
    parts.append(
        f"{'**Machine**: ' if markdown else 'machine: '}{m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
        f"Python {m.get('python', '?')}, lxml {m.get('lxml', '?')}, zeep {m.get('zeep', '?')}"
        + (" (quick run)" if results.get("quick") else "")
    )
    sections = [
        ("decode", "Decode a ListOrders reply to JSON bytes", _codec_table),
        ("encode", "Encode a CreateOrder request to envelope bytes", _codec_table),
        ("e2e", "End to end over loopback", _e2e_table),
        ("observability", "Metrics and the request log: on against off, same run", _observability_table),
        ("start", "Start-up of the largest corpus WSDLs", _start_table),
        ("wsse", "WS-Security: one library call, in process (calls/s as a ratio of the plain call)", _wsse_table),
        ("auth", "Inbound authentication: `serve` without, with an API key, with a JWT (same run)", _auth_table),
        ("targets", "Targets", _targets_table),
    ]
    for key, title, fn in sections:
        if results.get(key):
            parts.append(f"{'#### ' if markdown else '== '}{title}\n\n{fn(results[key], markdown)}" if markdown else f"== {title}\n{fn(results[key], markdown)}")
    return "\n\n".join(parts) + "\n"
