"""rpc/encoded nulls against Apache Axis 1.4, with the WSDL Axis generates from its Java class.

The peer (tests/interop/axis/NullService.java, fixture ``axis_server``) returns a null String,
Integer and bean, and a String[] with a null member, as xsi:nil; it echoes a String or String[]
that may be null, and counts the null members it received (``nullsIn``), so the request side is
judged by what Axis decoded, not by our own decoder. SOAP 1.1 (Axis 1 speaks nothing else).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from starlette.testclient import TestClient

import bridge
from tests.interop.envelopes import checked_load

pytestmark = pytest.mark.interop

SERVICE = "/axis/services/NullService"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


@pytest.fixture(scope="module")
def axis_wsdl(axis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The WSDL Axis publishes for the service (generated from the Java class), saved to a file."""
    with urllib.request.urlopen(f"{axis_server}{SERVICE}?wsdl", timeout=30) as response:
        text = response.read()
    path = tmp_path_factory.mktemp("axis-wsdl") / "NullService.wsdl"
    path.write_bytes(text)
    return path


@pytest.fixture(scope="module")
def peer(axis_server: str, axis_wsdl: Path) -> Iterator[bridge.Bridge]:
    with checked_load(axis_wsdl, endpoint=f"{axis_server}{SERVICE}") as b:
        yield b


def test_the_wsdl_is_axis_own_rpc_encoded(axis_wsdl: Path) -> None:
    root = etree.parse(str(axis_wsdl)).getroot()
    assert "WSDL created by Apache Axis version: 1.4" in etree.tostring(root).decode()
    bodies = root.findall(f"{{{WSDL_NS}}}binding/{{{WSDL_NS}}}operation/{{{WSDL_NS}}}output/{{{WSDL_SOAP}}}body")
    assert bodies and {b.get("use") for b in bodies} == {"encoded"}
    # the parts cannot say nillable: nothing in the WSDL lets null through but SOAP encoding itself
    parts = root.findall(f"{{{WSDL_NS}}}message/{{{WSDL_NS}}}part")
    assert parts and all(p.get("type") and not p.get("nillable") for p in parts)


def test_axis_answers_null_with_xsi_nil(axis_server: str, peer: bridge.Bridge) -> None:
    """What Axis sends is really xsi:nil, so the decoding below is not trivially of something else."""
    for name, tag in [("nothing", "nothingReturn"), ("noNumber", "noNumberReturn"), ("noItem", "noItemReturn"), ("names", "namesReturn")]:
        op = peer.operation(name)
        r = httpx.post(
            f"{axis_server}{SERVICE}",
            content=peer.encode_request(op, {}),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        accessor = etree.fromstring(r.content).find(f".//{tag}")
        assert accessor is not None
        nils = [accessor.get(XSI_NIL)] if name != "names" else [m.get(XSI_NIL) for m in accessor]
        assert nils == (["true"] if name != "names" else [None, "true", None])


def test_null_returns(peer: bridge.Bridge) -> None:
    assert peer.call("nothing", {}) == {"nothingReturn": None}
    assert peer.call("noNumber", {}) == {"noNumberReturn": None}
    assert peer.call("noItem", {}) == {"noItemReturn": None}
    assert peer.call("names", {}) == {"namesReturn": ["name1", None, "name3"]}
    assert peer.call("item", {"name": "box"}) == {"itemReturn": {"name": "box", "count": None}}  # a multiRef bean


def test_null_arguments_as_axis_decodes_them(peer: bridge.Bridge) -> None:
    assert peer.call("nullsIn", {"a": ["a", None, None]}) == {"nullsInReturn": "2 of 3"}
    assert peer.call("nullsIn", {"a": [None]}) == {"nullsInReturn": "1 of 1"}
    assert peer.call("nullsIn", {"a": []}) == {"nullsInReturn": "0 of 0"}
    assert peer.call("nullsIn", {"a": None}) == {"nullsInReturn": "null"}
    assert peer.call("echo", {"s": None}) == {"echoReturn": None}
    assert peer.call("echo", {"s": ""}) == {"echoReturn": ""}  # empty is not null
    assert peer.call("echoArray", {"a": ["x", None, "z"]}) == {"echoArrayReturn": ["x", None, "z"]}
    assert peer.call("echoArray", {"a": None}) == {"echoArrayReturn": None}


def test_through_rest(axis_server: str, axis_wsdl: Path) -> None:
    b = checked_load(axis_wsdl, endpoint=f"{axis_server}{SERVICE}")
    assert b.settings.reply_validation == "strict"  # null replies pass the spec, not a relaxed check
    with TestClient(b.asgi()) as c:
        calls = {
            "nothing": (c.post("/NullServiceService/nothing", json={}), {"nothingReturn": None}),
            "noNumber": (c.post("/NullServiceService/noNumber", json={}), {"noNumberReturn": None}),
            "noItem": (c.post("/NullServiceService/noItem", json={}), {"noItemReturn": None}),
            "names": (c.post("/NullServiceService/names", json={}), {"namesReturn": ["name1", None, "name3"]}),
            "echo": (c.post("/NullServiceService/echo", json={"s": None}), {"echoReturn": None}),
            "nullsIn": (c.post("/NullServiceService/nullsIn", json={"a": ["x", None]}), {"nullsInReturn": "1 of 2"}),
            "echoArray": (c.post("/NullServiceService/echoArray", json={"a": [None, "y"]}), {"echoArrayReturn": [None, "y"]}),
        }
        missing = c.post("/NullServiceService/echo", json={})
    for name, (r, expected) in calls.items():
        assert r.status_code == 200, f"{name}: {r.text}"
        assert r.json() == expected, name
    assert missing.status_code == 400  # null is allowed, absence is not: a part is required
