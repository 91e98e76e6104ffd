"""WS-I swaRef against the JAX-WS RI (Metro), which maps ``wsi:swaRef`` to a DataHandler
(``jaxws_claims_server``, tests/interop/jaxws/ClaimServer.java, wsimport from wsdl/claims.wsdl).

The oracle is the Java service: SendClaim answers the size and SHA-256 it computed of the attachment
its swaRef named (read by the RI, not by us), and GetClaimForm returns those bytes as the RI writes a
swaRef reply (SwA, its own Content-IDs, no ``start``); the bridge must give them back byte-identical,
through the library (sync and async paths), ``soapbridge call`` and the REST app.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import subprocess
import sys

import httpx
import pytest
from starlette.testclient import TestClient

import bridge
from tests.conftest import sample

pytestmark = pytest.mark.interop

WSDL = sample("claims.wsdl")


def _id(data: bytes) -> str:
    return f"{len(data)}:{hashlib.sha256(data).hexdigest()}"


@pytest.mark.parametrize("size", [1, 1_000_000], ids=["1B", "1MB"])
def test_library_sends_and_reads_swaref_byte_identical(jaxws_claims_server: str, size: int) -> None:
    data = random.Random(size).randbytes(size)
    with bridge.load(WSDL, endpoint=f"{jaxws_claims_server}/claims", cache_dir=None, max_request_bytes=8 * 1024 * 1024) as b:
        sent = b.call("SendClaim", {"name": "n", "claimForm": base64.b64encode(data).decode()})
        assert sent == {"claimId": _id(data)}  # the RI found the attachment the cid: named, whole
        assert httpx.get(f"{jaxws_claims_server}/last-request").text.startswith("multipart/related")
        assert base64.b64decode(b.call("GetClaimForm", {"claimId": sent["claimId"]})["claimForm"]) == data
        got = asyncio.run(b.acall("GetClaimForm", {"claimId": sent["claimId"]}))  # aiohttp, streamed
        assert base64.b64decode(got["claimForm"]) == data


def test_the_peer_answers_swaref_as_swa(jaxws_claims_server: str) -> None:
    """What the download tests read is the RI's SwA reply with a cid: in the element."""
    envelope = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:GetClaimForm xmlns:c="http://soapbridge.dev/samples/claims">'
        "<c:claimId>none</c:claimId></c:GetClaimForm></s:Body></s:Envelope>"
    )
    r = httpx.post(
        f"{jaxws_claims_server}/claims", content=envelope, headers={"content-type": "text/xml", "soapaction": '"http://soapbridge.dev/samples/claims/GetClaimForm"'}
    )
    assert r.headers["content-type"].startswith("multipart/related") and 'type="text/xml"' in r.headers["content-type"]
    assert b"<claimForm>cid:" in r.content


def test_rest_and_cli(jaxws_claims_server: str) -> None:
    data = random.Random(7).randbytes(50_000)
    with bridge.load(WSDL, endpoint=f"{jaxws_claims_server}/claims", cache_dir=None) as b:
        client = TestClient(b.asgi())
        r = client.post("/ClaimService/SendClaim", data={"json": json.dumps({"name": "n", "claimForm": "cid:form"})}, files={"form": ("f.pdf", data)})
        assert r.status_code == 200 and r.json() == {"claimId": _id(data)}, r.text
        r = client.post("/ClaimService/GetClaimForm", json={"claimId": _id(data)}, headers={"accept": "application/octet-stream"})
        assert r.status_code == 200 and r.content == data
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "call", str(WSDL), "GetClaimForm", "--data", json.dumps({"claimId": _id(data)}),
         "--backend", f"{jaxws_claims_server}/claims", "--no-cache"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert base64.b64decode(json.loads(out.stdout)["claimForm"]) == data
