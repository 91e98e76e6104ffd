"""MTOM against the JAX-WS RI (Metro) with MTOMFeature on (jaxws_files_server, FileServer.java):
upload and download of 1 byte, 1 MB and 50 MB through the bridge, SOAP 1.1 and 1.2, byte-identical.

The oracle is the Java service: Upload answers the size and SHA-256 it computed of the bytes it
received (after its own MTOM decoding), and the peer reports the Content-Type of the request it got
(the bridge must have sent MTOM). Download returns what was uploaded, as an MTOM reply, and its
SHA-256 is compared with the bytes sent. The 50 MB case runs the bridge in its own process and
reports its peak RSS (VmHWM).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import subprocess
import sys
import textwrap
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

import bridge
from tests.conftest import sample

pytestmark = pytest.mark.interop

WSDL = sample("files.wsdl")
OPS = {"1.1": ("Upload", "Download"), "1.2": ("FileService.FileSoap12.Upload", "FileService.FileSoap12.Download")}
PATHS = {"1.1": "soap11", "1.2": "soap12"}
MiB = 1024 * 1024
# Large enough for 50 MB: the envelope before packing holds the value in base64 (67 MB)
BIG = {"max_request_bytes": 100 * MiB, "max_reply_bytes": 60 * MiB, "json_limits": {"max_string_length": 100 * MiB}}


def payload(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def _load(base: str, version: str, **settings: Any) -> bridge.Bridge:
    return bridge.load(WSDL, endpoint=f"{base}/{PATHS[version]}", cache_dir=None, **settings)


def _check_upload(base: str, result: dict[str, Any], data: bytes) -> None:
    assert result == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    sent = httpx.get(f"{base}/last-request").text
    if len(data) >= 1024:  # mtom.threshold: smaller values go inline, in a plain envelope
        assert sent.startswith("multipart/related") and 'type="application/xop+xml"' in sent, sent
    else:
        assert not sent.startswith("multipart/"), sent


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("size", [1, 1_000_000], ids=["1B", "1MB"])
def test_library_upload_and_download_are_byte_identical(jaxws_files_server: str, version: str, size: int) -> None:
    data = payload(size)
    upload, download = OPS[version]
    name = f"lib-{version}-{size}"
    with _load(jaxws_files_server, version, **BIG) as b:
        _check_upload(jaxws_files_server, b.call(upload, {"name": name, "content": base64.b64encode(data).decode()}), data)
        assert base64.b64decode(b.call(download, {"name": name})["content"]) == data  # sync path (httpx)
        got = asyncio.run(b.acall(download, {"name": name}))  # async path (aiohttp)
        assert hashlib.sha256(base64.b64decode(got["content"])).digest() == hashlib.sha256(data).digest()


def test_the_peer_answers_a_download_with_mtom(jaxws_files_server: str) -> None:
    """What the download tests decode is an MTOM reply: the RI answers one to the bridge's request."""
    seen: list[httpx.Response] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            seen.append(response)
            return response

    with bridge.load(WSDL, endpoint=f"{jaxws_files_server}/soap11", cache_dir=None, transport=Recording()) as b:  # type: ignore[arg-type]
        b.call("Upload", {"name": "probe", "content": base64.b64encode(b"x" * 5000).decode()})
        # a plain request (no binary in it): the RI answers MTOM because the Accept header asks for it
        assert base64.b64decode(b.call("Download", {"name": "probe"})["content"]) == b"x" * 5000
    assert seen[-1].headers["content-type"].startswith("multipart/related")
    assert 'type="application/xop+xml"' in seen[-1].headers["content-type"]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_rest_upload_and_download_of_1_mb(jaxws_files_server: str, version: str) -> None:
    data = payload(1_000_000)
    with _load(jaxws_files_server, version, ports={"FileService": "FileSoap" if version == "1.1" else "FileSoap12"}, **BIG) as b:
        client = TestClient(b.asgi())
        paths = {op.name: op.path for op in b.routed if op.soap_version == version}
        r = client.post(paths["Upload"], json={"name": f"rest-{version}", "content": base64.b64encode(data).decode()})
        assert r.status_code == 200, r.text
        _check_upload(jaxws_files_server, r.json(), data)
        r = client.post(paths["Download"], json={"name": f"rest-{version}"})
        assert r.status_code == 200, r.text
        assert base64.b64decode(r.json()["content"]) == data


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_soapbridge_call_uploads_and_downloads(jaxws_files_server: str, version: str) -> None:
    data = payload(64 * 1024)  # the JSON goes on the command line: under Linux's 128 KiB per argument
    upload, download = OPS[version]
    base = [sys.executable, "-m", "bridge", "call", str(WSDL)]
    backend = ["--backend", f"{jaxws_files_server}/{PATHS[version]}", "--no-cache"]
    up = subprocess.run([*base, upload, "--data", json.dumps({"name": f"cli-{version}", "content": base64.b64encode(data).decode()}), *backend],
                        capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert up.returncode == 0, up.stderr
    _check_upload(jaxws_files_server, json.loads(up.stdout), data)
    down = subprocess.run([*base, download, "--data", json.dumps({"name": f"cli-{version}"}), *backend], capture_output=True, text=True, timeout=120, check=False)
    assert down.returncode == 0, down.stderr
    assert base64.b64decode(json.loads(down.stdout)["content"]) == data


# The bridge in its own process, for its peak RSS (VmHWM): the library's sync path, one 50 MB
# upload or one 50 MB download per process, measured from after load and warm-up. The upload's
# figure includes the caller's own 67 MB base64 string; the download's, the 67 MB string it returns.
FIFTY_MB = textwrap.dedent(
    """
    import base64, hashlib, json, random, sys
    import bridge
    wsdl, endpoint, op, mode, settings = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
    # VmHWM, this process's own peak: ru_maxrss keeps the parent's (pytest's) RSS across fork and exec
    rss = lambda: int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1])
    with bridge.load(wsdl, endpoint=endpoint, cache_dir=None, **settings) as b:
        b.call(op, {"name": "warm", "content": "AA=="} if mode == "upload" else {"name": "warm"})  # connection, codec
        base = rss()
        if mode == "upload":
            content = base64.b64encode(random.Random(50_000_000).randbytes(50_000_000)).decode()
            out = b.call(op, {"name": "big", "content": content})
        else:
            out = hashlib.sha256(base64.b64decode(b.call(op, {"name": "big"})["content"])).hexdigest()
    print(json.dumps({"result": out, "base_kib": base, "peak_kib": rss()}))
    """
)


def _fifty_mb(base: str, version: str, mode: str) -> dict[str, Any]:
    upload, download = OPS[version]
    r = subprocess.run(
        [sys.executable, "-c", FIFTY_MB, str(WSDL), f"{base}/{PATHS[version]}", upload if mode == "upload" else download, mode, json.dumps({**BIG, "read_timeout": 120})],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    out: dict[str, Any] = json.loads(r.stdout)
    growth = (out["peak_kib"] - out["base_kib"]) / 1024
    print(f"SOAP {version}, 50 MB {mode}: peak RSS {out['peak_kib'] / 1024:.0f} MiB, {growth:.0f} MiB over the {out['base_kib'] / 1024:.0f} MiB after warm-up")
    # Generous: the JSON value is a 67 MB base64 string, held with its envelope and the decoded
    # bytes; 12 times the payload would mean an unbounded copy somewhere, not a tight budget.
    assert growth < 12 * 50_000_000 / MiB
    return out


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_50_mb_both_ways_byte_identical_with_bounded_rss(jaxws_files_server: str, version: str) -> None:
    digest = hashlib.sha256(random.Random(50_000_000).randbytes(50_000_000)).hexdigest()
    assert _fifty_mb(jaxws_files_server, version, "upload")["result"] == {"size": 50_000_000, "sha256": digest}
    assert _fifty_mb(jaxws_files_server, version, "download")["result"] == digest


def test_rest_form_upload_and_octet_stream_download_of_1_mb(jaxws_files_server: str) -> None:
    """The REST side without base64: a multipart/form-data upload, an application/octet-stream download."""
    data = payload(1_000_000)
    with _load(jaxws_files_server, "1.1", max_request_bytes=10 * MiB) as b:  # json_limits as default: the file is no JSON string
        client = TestClient(b.asgi())
        r = client.post("/FileService/Upload", data={"json": json.dumps({"name": "form", "content": "cid:file"})}, files={"file": ("a.bin", data)})
        assert r.status_code == 200, r.text
        _check_upload(jaxws_files_server, r.json(), data)
        r = client.post("/FileService/Download", json={"name": "form"}, headers={"accept": "application/octet-stream"})
        assert r.status_code == 200 and r.content == data
