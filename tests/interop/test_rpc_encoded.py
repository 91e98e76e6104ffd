"""rpc/encoded against PHP's SoapServer: SOAP-encoded arrays both ways, structs, simple parts.

The peer serves tests/conformance/wsdl/wsdl_rpc_encoded.wsdl at /rpc-encoded
(tests/interop/php/RpcEncodedService.php). PHP decodes our soapenc:Array / arrayType / xsi:type
request and answers in its own encoding (``xsi:type="ns1:ArrayOfString"`` arrays, typed items),
which the bridge decodes to typed JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from starlette.testclient import TestClient

import bridge
from tests.interop.envelopes import checked_load

pytestmark = pytest.mark.interop

WSDL = Path(__file__).resolve().parents[1] / "conformance" / "wsdl" / "wsdl_rpc_encoded.wsdl"
SOAPENC = "http://schemas.xmlsoap.org/soap/encoding/"


@pytest.fixture(scope="module")
def peer(php_server: str) -> Iterator[bridge.Bridge]:
    with checked_load(WSDL, endpoint=f"{php_server}/rpc-encoded") as b:
        yield b


def test_array_in_the_request(peer: bridge.Bridge) -> None:
    assert peer.call("Join", {"words": ["a", "b", "c"], "separator": "-"}) == {"result": "a-b-c"}
    assert peer.call("Join", {"words": [], "separator": "-"}) == {"result": ""}


def test_array_in_the_reply(peer: bridge.Bridge) -> None:
    assert peer.call("Split", {"text": "x y z"}) == {"words": ["x", "y", "z"]}
    assert peer.call("Split", {"text": ""}) == {"words": []}


def test_arrays_of_structs_both_ways(peer: bridge.Bridge) -> None:
    assert peer.call("FindPeople", {"names": ["ann", "bobby"], "minAge": 30}) == {
        "people": [{"name": "ann", "age": 33}, {"name": "bobby", "age": 35}],
        "oldest": {"name": "bobby", "age": 35},
    }


def test_php_reply_is_soap_encoded(php_server: str, peer: bridge.Bridge) -> None:
    """What PHP answers is really section-5 encoded, so the decode above is not trivially literal."""
    op = peer.operation("Split")
    r = httpx.post(
        f"{php_server}/rpc-encoded",
        content=peer.encode_request(op, {"text": "p q"}),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{op.soap_action}"'},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    words = etree.fromstring(r.content).find(".//words")
    assert words is not None and words.get(f"{{{SOAPENC}}}arrayType", "").endswith("string[2]")
    assert [w.get("{http://www.w3.org/2001/XMLSchema-instance}type") for w in words] == ["xsd:string", "xsd:string"]


def test_through_rest(php_server: str) -> None:
    b = checked_load(WSDL, endpoint=f"{php_server}/rpc-encoded")
    with TestClient(b.asgi()) as c:
        r = c.post("/RpcEncodedService/FindPeople", json={"names": ["zoë"], "minAge": 1})
        empty = c.post("/RpcEncodedService/FindPeople", json={"names": [], "minAge": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"people": [{"name": "zoë", "age": 4}], "oldest": {"name": "zoë", "age": 4}}
    assert empty.status_code == 422 and "names must not be empty" in empty.json()["detail"]
