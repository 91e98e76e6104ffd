"""The envelope checker itself (tests/interop/envelopes.py): it passes what the bridge writes and
catches what breaks the XSD, for every binding style the interop tests use. No peer needed."""

from __future__ import annotations

from pathlib import Path

import pytest

import bridge
from bridge.envelope import http_headers
from tests.conftest import ROOT, sample
from tests.interop.envelopes import checker

RPC_ENCODED = ROOT / "tests" / "conformance" / "wsdl" / "wsdl_rpc_encoded.wsdl"

# (WSDL, operation, a valid request, (text in the envelope, replacement that must be caught), ...)
CASES = [
    (sample("interop.wsdl"), "Tally", {"word": ["a", "b"]}, [(b">a<", b"><x/><"), (b"Tally", b"Tallx"), (b":word", b":words")]),
    (sample("interop.wsdl"), "InteropService.InteropSoap12.Add", {"a": 1, "b": 2}, [(b">1<", b">one<"), (b">2<", b">2147483648<")]),
    (sample("calculator.wsdl"), "Echo", {"text": "x"}, [(b">x<", b">" + b"y" * 101 + b"<")]),
    (
        sample("orders.wsdl"),
        "GetOrder",
        {"orderId": "o-1", "$headers": {"auth": {"apiKey": "k", "tenant": "t"}}},
        [(b"AuthHeader", b"AuthHeadr"), (b":tenant>t<", b":tenant><b/><"), (b"<ns0:orderId>o-1</ns0:orderId>", b"")],
    ),
    (sample("rpc-literal.wsdl"), "CheckStock", {"sku": "S", "warehouse": "W"}, [(b">S<", b"><b/><"), (b"<warehouse>W</warehouse>", b"")]),
    (RPC_ENCODED, "FindPeople", {"names": ["ann"], "minAge": 3}, [(b">3<", b">three<"), (b' xsi:type="xsd:int"', b"")]),
]


@pytest.mark.parametrize(("wsdl", "operation", "data", "breakages"), CASES, ids=[f"{w.stem}-{o.rsplit('.', 1)[-1]}" for w, o, _, _ in CASES])
def test_checker_passes_the_bridge_and_catches_breakage(wsdl: Path, operation: str, data: dict, breakages: list[tuple[bytes, bytes]]) -> None:
    b = bridge.load(wsdl)
    op = b.operation(operation)
    body = b.encode_request(op, data)
    headers = http_headers(op.soap_version, op.soap_action)
    check = checker(wsdl)
    assert check.problems(body, headers["Content-Type"], headers.get("SOAPAction")) == []
    for old, new in breakages:
        assert old in body, f"{old!r} not in {body!r}"
        broken = body.replace(old, new)
        assert check.problems(broken, headers["Content-Type"], headers.get("SOAPAction")), f"{old!r} -> {new!r} went unnoticed"


def test_checker_catches_wrong_http_headers() -> None:
    b = bridge.load(sample("interop.wsdl"))
    add11, add12 = b.operation("InteropService.InteropSoap.Add"), b.operation("InteropService.InteropSoap12.Add")
    body11, body12 = b.encode_request(add11, {"a": 1, "b": 2}), b.encode_request(add12, {"a": 1, "b": 2})
    check = checker(sample("interop.wsdl"))
    h12 = http_headers("1.2", add12.soap_action)["Content-Type"]
    assert check.problems(body12, h12, None) == []
    assert any("sent as" in p for p in check.problems(body11, h12, None))  # 1.1 envelope, 1.2 content type
    assert any("SOAPAction" in p for p in check.problems(body11, "text/xml; charset=utf-8", None))
    assert any("action" in p for p in check.problems(body12, h12.replace("/Add", "/Tally"), None))
    assert any("not well-formed" in p for p in check.problems(b"<oops", "text/xml", '""'))
