"""The interop contract (wsdl/interop.wsdl) through the REST app, against every independent stack.

Each stack serves the same contract its own way: PHP's SoapServer and node-soap from the WSDL,
spyne code-first, gSOAP and the JAX-WS RI from code generated from the WSDL (see
tests/interop/conftest.py and docs/interop.md for their quirks). For every operation,
SOAP 1.1 and SOAP 1.2, and every stack:

- the REST result (status and JSON body) equals the one computed here from the inputs
  (``expected``), so the stacks give identical results; ``test_stacks_agree`` compares the stacks'
  raw bodies with each other as well;
- faults map to the documented statuses: a Client/Sender fault is 422, a Server/Receiver fault
  502; a declared fault is named in ``fault`` and its detail is typed in ``detail_data``;
- exactly one envelope went out per call, of the SOAP version asked for, and it is valid against
  the WSDL's XSD (``tests/interop/envelopes.py``, checked independently of the bridge).

The one part of a fault that legitimately differs between stacks is the code the stack chose:
spyne refines it (``Client.DivisionByZero`` in SOAP 1.1, a ``DivisionByZero`` subcode in 1.2),
the others do not. The bridge reports what the peer said in ``faultcode`` and ``subcodes``; the tests
compare the class of the code (Client/Sender, Server/Receiver) and nothing else of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

import bridge
from tests.conftest import sample
from tests.interop.envelopes import ENVELOPE, RecordingTransport

pytestmark = pytest.mark.interop

WSDL = sample("interop.wsdl")
VERSIONS = ["1.1", "1.2"]
PORTS = {"1.1": "InteropSoap", "1.2": "InteropSoap12"}
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
TALLY_LIMIT = 20

#: stack name -> (its fixture, base URL -> SOAP endpoint per version)
STACKS: dict[str, tuple[str, Callable[[str], dict[str, str]]]] = {
    "php": ("php_server", lambda base: {"1.1": f"{base}/interop", "1.2": f"{base}/interop"}),
    "spyne": ("spyne_server", lambda base: {"1.1": f"{base}/soap11", "1.2": f"{base}/soap12"}),
    "node": ("node_server", lambda base: {"1.1": f"{base}/soap11", "1.2": f"{base}/soap12"}),
    "gsoap": ("gsoap_server", lambda base: {"1.1": f"{base}/interop", "1.2": f"{base}/interop"}),
    "jaxws": ("jaxws_server", lambda base: {"1.1": f"{base}/soap11", "1.2": f"{base}/soap12"}),
}

# (operation, JSON request): every operation, normal and edge values, arrays of 0, 1 and many
# items, markup and non-ASCII text, each declared fault and an undeclared server fault
CASES: list[tuple[str, dict[str, Any]]] = [
    ("Add", {"a": 40, "b": 2}),
    ("Add", {"a": -7, "b": INT_MIN + 7}),
    ("Add", {"a": INT_MAX, "b": 1}),
    ("Divide", {"dividend": 10, "divisor": 4}),
    ("Divide", {"dividend": -7.5, "divisor": 2.5}),
    ("Divide", {"dividend": 123456.789, "divisor": 1000}),
    ("Divide", {"dividend": 0, "divisor": -3}),
    ("Divide", {"dividend": 10, "divisor": 0}),
    ("Divide", {"dividend": -2.5, "divisor": 0.0}),
    ("Tally", {"word": ["to", "be", "or", "not", "to", "be"]}),
    ("Tally", {"word": ["zoë", "日本", "<a&b>", "zoë", "1", "01", "1", " a  b ", ""]}),
    ("Tally", {"word": ["solo"]}),
    ("Tally", {"word": []}),
    ("Tally", {}),
    ("Tally", {"word": [f"w{i % 3}" for i in range(TALLY_LIMIT)]}),
    ("Tally", {"word": ["x"] * (TALLY_LIMIT + 1)}),
]
CASE_IDS = [f"{op}-{i}" for i, (op, _) in enumerate(CASES)]


def _number(value: Decimal) -> int | float:
    """How the bridge writes an xsd:decimal in JSON."""
    return int(value) if value == value.to_integral_value() else float(value)


def _fault(category: str, reason: str, name: str | None = None, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": f"urn:soapbridge:problem:soap-fault:{category}",
        "title": "SOAP fault" + (f": {name}" if name else ""),
        "status": 422 if category == "client" else 502,
        "detail": reason,
        "faultactor": None,
        "fault": name,
        "detail_data": detail,
    }


def expected(op: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The REST result the contract promises, computed from the request alone."""
    if op == "Add":
        total = data["a"] + data["b"]
        if not INT_MIN <= total <= INT_MAX:
            return 502, _fault("server", "result out of range for xs:int")
        return 200, {"result": total}
    if op == "Divide":
        dividend, divisor = Decimal(str(data["dividend"])), Decimal(str(data["divisor"]))
        if divisor == 0:
            text = f"{dividend.normalize():f}"
            detail = {"dividend": _number(dividend), "message": f"cannot divide {text} by zero"}
            return 422, _fault("client", "division by zero", "DivisionByZero", detail)
        return 200, {"quotient": _number(dividend / divisor)}
    words = data.get("word", [])
    if len(words) > TALLY_LIMIT:
        return 422, _fault("client", "too many words", "TooManyWords", {"limit": TALLY_LIMIT, "received": len(words)})
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    body: dict[str, Any] = {"total": len(words)}
    if counts:  # no entry element at all: the optional array is absent, not []
        body["entry"] = [{"word": w, "count": n} for w, n in counts.items()]
    return 200, body


def fault_class(body: dict[str, Any], version: str) -> str:
    """The class of a fault's code: Client/Server (1.1) or Sender/Receiver (1.2), namespace checked."""
    code = body["faultcode"]
    assert code.startswith(f"{{{ENVELOPE[version]}}}"), f"{code} is not in the SOAP {version} envelope namespace"
    return code.rsplit("}", 1)[1].split(".")[0]


def comparable(status: int, body: dict[str, Any], version: str) -> tuple[int, dict[str, Any]]:
    """The result without the stack's own refinement of the fault code (checked by its class) and
    without the problem's request ID (new for every request, a hex token)."""
    if status < 400:
        return status, body
    category = body["type"].rsplit(":", 1)[1]
    assert fault_class(body, version) == {"1.1": {"client": "Client", "server": "Server"}, "1.2": {"client": "Sender", "server": "Receiver"}}[version][category]
    assert isinstance(body["subcodes"], list)
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    return status, {k: v for k, v in body.items() if k not in ("faultcode", "subcodes", "request_id")}


@dataclass
class Peer:
    """The REST app in front of one stack, one SOAP version, with its outgoing envelopes recorded."""

    client: TestClient
    transport: RecordingTransport
    version: str

    def post(self, op: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        r = self.client.post(f"/InteropService/{op}", json=data)
        sent = self.transport.take()
        assert len(sent) == 1, f"expected one SOAP request, the bridge sent {len(sent)}"
        assert f"{{{ENVELOPE[self.version]}}}Envelope".encode().split(b"}")[0][1:] in sent[0].body, "wrong SOAP version"
        assert not sent[0].problems, sent[0].problems
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json", r.text
        return r.status_code, r.json()


class Peers:
    """REST clients per (stack, version), opened on first use and closed with the module."""

    def __init__(self, request: pytest.FixtureRequest, exits: ExitStack) -> None:
        self.request = request
        self.exits = exits
        self.peers: dict[tuple[str, str], Peer] = {}
        self.results: dict[tuple[str, str, int], tuple[int, dict[str, Any]]] = {}

    def get(self, stack: str, version: str) -> Peer:
        key = (stack, version)
        if key not in self.peers:
            fixture, endpoints = STACKS[stack]
            base = self.request.getfixturevalue(fixture)  # skips (or, under CI, fails) when the stack cannot run
            transport = RecordingTransport(WSDL)
            b = bridge.load(WSDL, endpoint=endpoints(base)[version], transport=transport, ports={"InteropService": PORTS[version]})
            client = self.exits.enter_context(TestClient(b.asgi()))
            self.peers[key] = Peer(client, transport, version)
        return self.peers[key]

    def result(self, stack: str, version: str, case: int) -> tuple[int, dict[str, Any]]:
        key = (stack, version, case)
        if key not in self.results:
            op, data = CASES[case]
            self.results[key] = self.get(stack, version).post(op, data)
        return self.results[key]


@pytest.fixture(scope="module")
def peers(request: pytest.FixtureRequest) -> Iterator[Peers]:
    with ExitStack() as exits:
        yield Peers(request, exits)


def test_the_routes_are_the_contract() -> None:
    """Both ports carry the same operations; the cases cover every one of them, and every fault."""
    b = bridge.load(WSDL)
    by_port = {PORTS[v]: sorted(op.name for op in b.operations if op.port == PORTS[v]) for v in VERSIONS}
    assert by_port == {"InteropSoap": ["Add", "Divide", "Tally"], "InteropSoap12": ["Add", "Divide", "Tally"]}
    assert {op for op, _ in CASES} == {"Add", "Divide", "Tally"}
    declared = {f.name for op in b.operations for f in op.faults}
    assert declared == {"DivisionByZero", "TooManyWords"}
    promised = {expected(op, data)[1].get("fault") for op, data in CASES} - {None}
    assert promised == declared


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("case", range(len(CASES)), ids=CASE_IDS)
def test_rest_result_is_the_contracts(peers: Peers, stack: str, version: str, case: int) -> None:
    op, data = CASES[case]
    status, body = peers.result(stack, version, case)
    assert comparable(status, body, version) == expected(op, data), f"{stack} SOAP {version}: {status} {body}"


@pytest.mark.parametrize("version", VERSIONS)
def test_stacks_agree(peers: Peers, version: str) -> None:
    """Every stack that can run gives the same REST result for every case, fault codes aside."""
    available = []
    for stack in STACKS:
        try:
            peers.get(stack, version)
        except pytest.skip.Exception:
            continue
        available.append(stack)
    if len(available) < 2:
        pytest.skip(f"only {available} can run here; comparing needs two stacks")
    for case in range(len(CASES)):
        results = {stack: peers.result(stack, version, case) for stack in available}
        first, *others = available
        for other in others:
            assert comparable(*results[other], version) == comparable(*results[first], version), (
                f"{CASE_IDS[case]}: {first} gave {results[first]}, {other} gave {results[other]}"
            )
            if results[first][0] == 200:  # successes are byte-for-byte the same JSON, nothing excluded
                assert results[other] == results[first]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("stack", list(STACKS))
def test_library_call_matches_rest(peers: Peers, stack: str, version: str) -> None:
    """The library's sync call (``Bridge.call``) goes through the same recorded, checked transport."""
    fixture, endpoints = STACKS[stack]
    base = peers.request.getfixturevalue(fixture)
    transport = RecordingTransport(WSDL)
    with bridge.load(WSDL, endpoint=endpoints(base)[version], transport=transport) as b:
        op = f"InteropService.{PORTS[version]}.Tally"
        assert b.call(op, {"word": ["a", "b", "a"]}) == peers.get(stack, version).post("Tally", {"word": ["a", "b", "a"]})[1]
        with pytest.raises(bridge.SoapFault) as caught:
            b.call(f"InteropService.{PORTS[version]}.Divide", {"dividend": 1, "divisor": 0})
    assert caught.value.name == "DivisionByZero" and caught.value.category == "client"
    assert caught.value.detail == {"dividend": 1, "message": "cannot divide 1 by zero"}
    sent = transport.take()
    assert len(sent) == 2 and not any(s.problems for s in sent)
