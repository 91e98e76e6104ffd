"""WS-Addressing against the JAX-WS RI with addressing required (AddressingFeature(true, true), what
``@Addressing(required = true)`` sets): /soap11-wsa and /soap12-wsa of the jaxws_server peer. A call
without the headers is refused by the peer; with ``addressing: true`` it succeeds, on the REST app
(aiohttp) and the library's sync path (httpx), SOAP 1.1 and 1.2."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

import bridge
from bridge.envelope import find_fault, parse
from bridge.errors import SoapFault
from bridge.mock import MockService
from bridge.wsdl.loader import load_model
from tests.conftest import ServerThread, sample

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


# --- the mock's --require-addressing against the same peer ---------------------------------------

WSA = "http://www.w3.org/2005/08/addressing"
TNS = "http://soapbridge.dev/samples/interop"
ENV = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}
ADD_ACTION = f"{TNS}/Add"  # the soapAction of the WSDL's Add, read from wsdl/interop.wsdl by hand
HEADERS = {
    "Action": f"<wsa:Action>{ADD_ACTION}</wsa:Action>",
    "To": "<wsa:To>http://127.0.0.1/svc</wsa:To>",
    "MessageID": "<wsa:MessageID>urn:uuid:3f1c6a2e-6b1d-4e0e-9d0b-0c2f1e3a4b5c</wsa:MessageID>",
}


def envelope(version: str, headers: list[str]) -> bytes:
    """An Add request written by hand, with the given wsa: headers."""
    return (
        f'<S:Envelope xmlns:S="{ENV[version]}" xmlns:wsa="{WSA}"><S:Header>{"".join(headers)}</S:Header>'
        f'<S:Body><t:Add xmlns:t="{TNS}"><t:a>40</t:a><t:b>2</t:b></t:Add></S:Body></S:Envelope>'
    ).encode()


def post(client: httpx.Client, url: str, version: str, body: bytes) -> httpx.Response:
    if version == "1.1":
        headers = {"content-type": "text/xml; charset=utf-8", "soapaction": f'"{ADD_ACTION}"'}
    else:
        headers = {"content-type": f'application/soap+xml; charset=utf-8; action="{ADD_ACTION}"'}
    return client.post(url, content=body, headers=headers)


def fault_of(r: httpx.Response) -> tuple[int, str, list[str]]:
    env = parse(r.content, max_bytes=1 << 20, max_depth=64)
    info = find_fault(env)
    assert info is not None, r.text
    return r.status_code, info.code, info.subcodes


def wsa_reply(r: httpx.Response) -> dict[str, str]:
    env = parse(r.content, max_bytes=1 << 20, max_depth=64)
    return {c.tag.split("}")[1]: (c.text or "").strip() for c in env.header_children if c.tag.startswith(f"{{{WSA}}}")}


@pytest.fixture(scope="module")
def mock() -> Iterator[str]:
    with ServerThread(MockService(load_model(WSDL), addressing=True).asgi()) as server:
        yield server.url


REFUSED = {
    "no Action": [v for k, v in HEADERS.items() if k != "Action"],
    "no MessageID": [v for k, v in HEADERS.items() if k != "MessageID"],
    "no headers": [],
    "an Action other than the SOAPAction": [HEADERS["To"], HEADERS["MessageID"], "<wsa:Action>urn:other</wsa:Action>"],
}


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("case", REFUSED)
def test_the_mock_refuses_what_the_jaxws_ri_refuses_with_its_fault(jaxws_server: str, mock: str, version: str, case: str) -> None:
    """HTTP status, fault code and subcodes as the RI sends them. The RI nests a second, identical
    Subcode under MessageAddressingHeaderRequired (a quirk, not in WS-Addressing's SOAP binding):
    the mock sends it once, so the subcodes are compared without repeats."""
    with httpx.Client(timeout=30) as client:
        real = fault_of(post(client, f"{jaxws_server}/{PATHS[version]}", version, envelope(version, REFUSED[case])))
        ours = fault_of(post(client, f"{mock}/", version, envelope(version, REFUSED[case])))
    assert real[1] != f"{{{ENV[version]}}}Server"  # the peer refused on addressing, not on something else
    assert ours[:2] == real[:2]
    assert ours[2] == list(dict.fromkeys(real[2]))


def test_the_jaxws_ri_accepts_a_request_without_wsa_to(jaxws_server: str, mock: str) -> None:
    """wsa:To is optional in WS-Addressing 1.0 (anonymous when absent) and the RI takes a request
    without it; the mock requires it (the bridge always sends it), so a config missing it shows up."""
    headers = [HEADERS["Action"], HEADERS["MessageID"]]
    with httpx.Client(timeout=30) as client:
        assert post(client, f"{jaxws_server}/{PATHS['1.1']}", "1.1", envelope("1.1", headers)).status_code == 200
        ours = fault_of(post(client, f"{mock}/", "1.1", envelope("1.1", headers)))
    assert ours[1] == f"{{{WSA}}}MessageAddressingHeaderRequired"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_mock_answers_with_the_reply_headers_the_jaxws_ri_sends(jaxws_server: str, mock: str, version: str) -> None:
    with httpx.Client(timeout=30) as client:
        real = post(client, f"{jaxws_server}/{PATHS[version]}", version, envelope(version, list(HEADERS.values())))
        ours = post(client, f"{mock}/", version, envelope(version, list(HEADERS.values())))
    assert real.status_code == ours.status_code == 200, (real.text, ours.text)
    real_h, ours_h = wsa_reply(real), wsa_reply(ours)
    assert ours_h.keys() == real_h.keys()
    for name in ("Action", "RelatesTo", "To"):
        assert ours_h[name] == real_h[name], name
