"""WS-Addressing against the JAX-WS RI with addressing required (AddressingFeature(true, true), what
``@Addressing(required = true)`` sets): /soap11-wsa and /soap12-wsa of the jaxws_server peer. A call
without the headers is refused by the peer; with ``addressing: true`` it succeeds, on the REST app
(aiohttp) and the library's sync path (httpx), SOAP 1.1 and 1.2."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

import bridge
from bridge.errors import SoapFault
from tests.conftest import sample

pytestmark = pytest.mark.interop

WSDL = sample("interop.wsdl")
PORTS = {"1.1": "InteropSoap", "1.2": "InteropSoap12"}
PATHS = {"1.1": "soap11-wsa", "1.2": "soap12-wsa"}


def load(base: str, version: str, addressing: bool) -> bridge.Bridge:
    return bridge.load(WSDL, endpoint=f"{base}/{PATHS[version]}", ports={"InteropService": PORTS[version]}, addressing=addressing)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_without_addressing_the_service_refuses_the_call(jaxws_server: str, version: str) -> None:
    r = TestClient(load(jaxws_server, version, False).asgi()).post("/InteropService/Add", json={"a": 40, "b": 2})
    assert r.status_code in (422, 502), r.text
    # the peer's fault: WS-Addressing SOAP Binding §6.4.1, "Message Addressing Header Required"
    assert "{http://www.w3.org/2005/08/addressing}MessageAddressingHeaderRequired" in [r.json()["faultcode"], *r.json()["subcodes"]]
    with load(jaxws_server, version, False) as b, pytest.raises(SoapFault):
        b.call("Add", {"a": 40, "b": 2})


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_with_addressing_the_service_answers(jaxws_server: str, version: str) -> None:
    r = TestClient(load(jaxws_server, version, True).asgi()).post("/InteropService/Add", json={"a": 40, "b": 2})
    assert r.status_code == 200, r.text
    assert r.json() == {"result": 42}
    with load(jaxws_server, version, True) as b:
        assert b.call("Add", {"a": 40, "b": 2}) == {"result": 42}
        assert b.call("Divide", {"dividend": 10, "divisor": 4}) == {"quotient": 2.5}
