"""MTOM/XOP and SOAP with Attachments (bridge.mime): replies received, requests sent, the mock.

Oracles: the replies are written as the XOP 1.0 spec's example and the JAX-WS RI's wire format
(JAX-WS's boundary, Content-IDs and root type) by hand, or built with the stdlib ``email`` package;
the requests the bridge sends are read back with the stdlib ``email`` parser, not with bridge.mime.
Interop with the JAX-WS RI's @MTOM endpoint is in tests/interop/test_mtom_jaxws.py, with gSOAP's in
tests/interop/test_mtom_gsoap.py; gSOAP's wire shape is reproduced here from a capture.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import email.message
import email.policy
import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

import httpx
import pytest
from lxml import etree
from starlette.testclient import TestClient

import bridge
from bridge.errors import UpstreamError
from tests.conftest import mock_transport, sample

FILES = sample("files.wsdl")
NS = "http://soapbridge.dev/samples/files"
XOP = "http://www.w3.org/2004/08/xop/include"
PAYLOAD = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"  # 10 KiB, with a CRLF-dash run inside


def _reply_transport(
    body: bytes, content_type: str, status: int = 200, seen: list[httpx.Request] | None = None
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    return httpx.MockTransport(handler)


def _bridge(transport: httpx.BaseTransport, **settings: Any) -> bridge.Bridge:
    return bridge.load(FILES, endpoint="http://backend.invalid/files", transport=transport, cache_dir=None, **settings)  # type: ignore[arg-type]


def _jaxws_mtom_reply(
    data: bytes, *, version: str = "1.1", boundary: str = "uuid:0b5f5a3c-8f0e-4a49-9d0b-6a6f1a4c3b21"
) -> tuple[bytes, str]:
    """A Download reply as the JAX-WS RI writes one with @MTOM (its boundary, Content-IDs and types)."""
    env_ns = "http://schemas.xmlsoap.org/soap/envelope/" if version == "1.1" else "http://www.w3.org/2003/05/soap-envelope"
    soap_type = "text/xml" if version == "1.1" else "application/soap+xml"
    root = (
        f'<?xml version="1.0" ?><S:Envelope xmlns:S="{env_ns}"><S:Body><ns2:DownloadResponse xmlns:ns2="{NS}">'
        f'<ns2:content><xop:Include xmlns:xop="{XOP}" href="cid:5aeaa450-17f0-4484-b845-a8480c363444@example.jaxws.sun.com"/>'
        "</ns2:content></ns2:DownloadResponse></S:Body></S:Envelope>"
    ).encode()
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Id: <rootpart*0b5f5a3c@example.jaxws.sun.com>\r\nContent-Type: application/xop+xml;charset=utf-8;type="{soap_type}"\r\n'
            "Content-Transfer-Encoding: binary\r\n\r\n"
        ).encode()
        + root
        + (
            f"\r\n--{boundary}\r\n"
            "Content-Id: <5aeaa450-17f0-4484-b845-a8480c363444@example.jaxws.sun.com>\r\nContent-Type: application/octet-stream\r\n"
            "Content-Transfer-Encoding: binary\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--".encode()
    )
    ct = f'multipart/related;start="<rootpart*0b5f5a3c@example.jaxws.sun.com>";type="application/xop+xml";boundary="{boundary}";start-info="{soap_type}"'
    return body, ct


def _gsoap_mtom_reply(data: bytes, *, version: str = "1.1") -> tuple[bytes, str]:
    """A Download reply as gSOAP 2.8.124 writes one with SOAP_ENC_MTOM (captured from
    tests/interop/gsoap/files_server.cpp): a boundary of base64 characters between "==" (so "/", "+"
    and "=" in it), ``charset`` before it, the root's Content-ID ``<SOAP-ENV:Envelope>`` (no "@"),
    the part's ``<id1>`` (``cid:id1``), SOAP 1.2's ``action`` beside ``start-info`` rather than in it,
    the XML declaration on a line of its own and no CRLF after the closing delimiter."""
    boundary = "==h9cHwp+hBh8n+B+XqcrWP4cqsw77yv8UsYbcCa+D76q67pRmF88U1Y+hJ5c7/=="
    env_ns, enc_ns = (
        ("http://schemas.xmlsoap.org/soap/envelope/", "http://schemas.xmlsoap.org/soap/encoding/")
        if version == "1.1"
        else ("http://www.w3.org/2003/05/soap-envelope", "http://www.w3.org/2003/05/soap-encoding")
    )
    soap_type = "text/xml" if version == "1.1" else "application/soap+xml"
    root = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="{env_ns}" xmlns:SOAP-ENC="{enc_ns}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:ns1="{NS}"><SOAP-ENV:Body><ns1:DownloadResponse><ns1:content><xop:Include xmlns:xop="{XOP}" href="cid:id1"/>'
        "</ns1:content></ns1:DownloadResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()
    body = (
        f'--{boundary}\r\nContent-Type: application/xop+xml; charset=utf-8; type="{soap_type}"\r\n'
        "Content-Transfer-Encoding: binary\r\nContent-ID: <SOAP-ENV:Envelope>\r\n\r\n"
    ).encode()
    body += root + f"\r\n\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n".encode()
    body += b"Content-Transfer-Encoding: binary\r\nContent-ID: <id1>\r\n\r\n" + data + f"\r\n--{boundary}--".encode()
    ct = f'multipart/related; charset=utf-8; boundary="{boundary}"; type="application/xop+xml"; start="<SOAP-ENV:Envelope>"; start-info="{soap_type}"'
    if version == "1.2":
        ct += '; action="http://soapbridge.dev/samples/files/Download"'
    return body, ct


def _swa_reply(data: bytes) -> tuple[bytes, str]:
    """A SwA Download reply built by the stdlib email package: the element refers to the part by href="cid:"
    (%-escaped, RFC 2392), both parts in base64 transfer encoding."""
    msg = MIMEMultipart("related", type="text/xml", start="<env@example.org>")
    root = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<f:DownloadResponse xmlns:f="{NS}"><f:content href="cid:blob%40example.org"/></f:DownloadResponse>'
        "</soap:Body></soap:Envelope>"
    )
    env = MIMEText(root, "xml", "utf-8")
    env.replace_header("Content-Type", "text/xml; charset=utf-8")
    env["Content-ID"] = "<env@example.org>"
    att = MIMEApplication(data, "octet-stream")  # in base64 transfer encoding, as the email package writes it
    att["Content-ID"] = "<blob@example.org>"
    msg.attach(env)
    msg.attach(att)
    raw = msg.as_bytes(policy=email.policy.HTTP)
    _, _, body = raw.partition(b"\r\n\r\n")
    return body, msg["Content-Type"]


# --- receiving ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_a_jaxws_style_mtom_reply_gives_the_binary_as_base64(version: str) -> None:
    body, ct = _jaxws_mtom_reply(PAYLOAD, version=version)
    with _bridge(_reply_transport(body, ct)) as b:
        op = "Download" if version == "1.1" else "FileService.FileSoap12.Download"
        got = b.call(op, {"name": "x"})
        assert base64.b64decode(got["content"]) == PAYLOAD
        assert asyncio.run(b.acall(op, {"name": "x"}))["content"] == got["content"]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("data", [PAYLOAD, b"\x00", b""], ids=["10KiB", "1B", "empty"])
def test_a_gsoap_style_mtom_reply_gives_the_binary_as_base64(version: str, data: bytes) -> None:
    """gSOAP's shape (see _gsoap_mtom_reply): its boundary, Content-IDs and parameters are read as
    MIME says; an empty attachment is an empty value. Live: tests/interop/test_mtom_gsoap.py."""
    body, ct = _gsoap_mtom_reply(data, version=version)
    with _bridge(_reply_transport(body, ct), ports={"FileService": "FileSoap" if version == "1.1" else "FileSoap12"}) as b:
        assert base64.b64decode(b.call("Download", {"name": "x"})["content"]) == data
        assert base64.b64decode(asyncio.run(b.acall("Download", {"name": "x"}))["content"]) == data
        r = TestClient(b.asgi()).post("/FileService/Download", json={"name": "x"}, headers={"accept": "application/octet-stream"})
    assert r.status_code == 200 and r.content == data


def test_a_swa_reply_with_an_href_cid_reference_gives_the_binary_as_base64() -> None:
    body, ct = _swa_reply(PAYLOAD)
    with _bridge(_reply_transport(body, ct)) as b:
        assert base64.b64decode(b.call("Download", {"name": "x"})["content"]) == PAYLOAD


def test_a_large_part_is_spooled_to_disk_and_still_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from bridge import mime

    rolled: list[bool] = []
    real = tempfile.SpooledTemporaryFile

    class Watched(real):  # type: ignore[misc, valid-type]
        def close(self) -> None:
            rolled.append(self._rolled)
            super().close()

    monkeypatch.setattr(mime.tempfile, "SpooledTemporaryFile", Watched)
    data = bytes(range(256)) * 4096  # 1 MiB
    body, ct = _jaxws_mtom_reply(data)
    with _bridge(_reply_transport(body, ct), mtom={"spool_bytes": 64 * 1024}) as b:
        assert (
            hashlib.sha256(base64.b64decode(b.call("Download", {"name": "x"})["content"])).digest()
            == hashlib.sha256(data).digest()
        )
    assert rolled == [False, True]  # the root part in memory, the 1 MiB part on disk; both closed


def _malformed() -> dict[str, tuple[bytes, str]]:
    good, ct = _jaxws_mtom_reply(PAYLOAD)
    nested_body = good.replace(b"Content-Type: application/octet-stream", b'Content-Type: multipart/mixed; boundary="inner"')
    return {
        "wrong boundary": (good, ct.replace("uuid:0b5f5a3c", "uuid:ffffffff")),
        "no boundary": (good, 'multipart/related;type="application/xop+xml"'),
        "cut short": (good[: len(good) // 2], ct),
        "start names a missing part": (good, ct.replace("rootpart*0b5f5a3c", "rootpart*gone")),
        "xop:Include to a missing cid": (good.replace(b'href="cid:5aeaa450', b'href="cid:00000000'), ct),
        "nested multipart": (nested_body, ct),
        "root not XML": (good.replace(b'application/xop+xml;charset=utf-8;type="text/xml"', b"image/png"), ct),
        "root has a DTD": (
            good.replace(b'<?xml version="1.0" ?>', b'<?xml version="1.0" ?><!DOCTYPE x [<!ENTITY a "aaaa">]>'),
            ct,
        ),
    }


@pytest.mark.parametrize("case", list(_malformed()))
def test_malformed_multipart_is_a_bad_reply_naming_what(case: str) -> None:
    body, ct = _malformed()[case]
    with _bridge(_reply_transport(body, ct)) as b, pytest.raises(UpstreamError) as err:
        b.call("Download", {"name": "x"})
    assert err.value.kind == "bad_reply"
    assert "multipart" in str(err.value) or "MIME" in str(err.value) or "cid:" in str(err.value) or "DTD" in str(err.value)


def test_a_part_over_the_limit_is_refused_before_it_is_all_read() -> None:
    body, ct = _jaxws_mtom_reply(PAYLOAD)
    with (
        _bridge(_reply_transport(body, ct), mtom={"max_part_bytes": 4096}) as b,
        pytest.raises(UpstreamError, match="larger than the limit of 4096 bytes"),
    ):
        b.call("Download", {"name": "x"})


def test_too_many_parts_are_refused() -> None:
    body, ct = _jaxws_mtom_reply(PAYLOAD)
    with (
        _bridge(_reply_transport(body, ct), mtom={"max_parts": 1}) as b,
        pytest.raises(UpstreamError, match="more than the limit of 1 MIME parts"),
    ):
        b.call("Download", {"name": "x"})


@pytest.mark.parametrize("case", ["wrong boundary", "xop:Include to a missing cid", "nested multipart"])
def test_rest_answers_malformed_multipart_with_a_502_problem(case: str) -> None:
    body, ct = _malformed()[case]
    with _bridge(_reply_transport(body, ct)) as b:
        r = TestClient(b.asgi()).post("/FileService/Download", json={"name": "x"})
    assert r.status_code == 502, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 502 and "Download" in problem["detail"]


# --- sending -----------------------------------------------------------------------------------


def _sent(version: str, data: bytes, **settings: Any) -> tuple[httpx.Request, dict[str, Any]]:
    seen: list[httpx.Request] = []
    reply = (
        '<soap:Envelope xmlns:soap="{}"><soap:Body><f:UploadResponse xmlns:f="{}"><f:size>1</f:size><f:sha256>x</f:sha256>'
        "</f:UploadResponse></soap:Body></soap:Envelope>"
    ).format("http://schemas.xmlsoap.org/soap/envelope/" if version == "1.1" else "http://www.w3.org/2003/05/soap-envelope", NS)
    soap_ct = "text/xml" if version == "1.1" else "application/soap+xml"
    with _bridge(_reply_transport(reply.encode(), soap_ct, seen=seen), **settings) as b:
        out = b.call(
            "Upload" if version == "1.1" else "FileService.FileSoap12.Upload",
            {"name": "n", "content": base64.b64encode(data).decode()},
        )
    return seen[0], out


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_a_binary_over_the_threshold_is_sent_as_an_mtom_attachment(version: str) -> None:
    request, _ = _sent(version, PAYLOAD)  # the WSDL's policy asks for MTOM: mtom.enabled auto sends it
    ct = request.headers["content-type"]
    raw = f"Content-Type: {ct}\r\nMIME-Version: 1.0\r\n\r\n".encode() + request.content
    msg = email.message_from_bytes(raw, policy=email.policy.HTTP)
    assert msg.get_content_type() == "multipart/related"
    assert msg.get_param("type") == "application/xop+xml"
    soap_type = "text/xml" if version == "1.1" else "application/soap+xml"
    assert msg.get_param("start-info").split(";")[0] == soap_type
    parts = list(msg.iter_parts())
    assert len(parts) == 2
    root = next(p for p in parts if p["Content-ID"] == msg.get_param("start"))
    assert root.get_content_type() == "application/xop+xml" and root.get_param("type").split(";")[0] == soap_type
    env = etree.fromstring(root.get_payload(decode=True))
    include = env.find(f".//{{{NS}}}content/{{{XOP}}}Include")
    assert include is not None and include.get("href", "").startswith("cid:")
    binary = next(p for p in parts if p is not root)
    assert binary["Content-ID"] == f"<{include.get('href')[4:]}>"
    assert binary.get_payload(decode=True) == PAYLOAD
    if version == "1.1":
        assert request.headers["soapaction"] == '"http://soapbridge.dev/samples/files/Upload"'
    else:
        assert msg.get_param("action") == "http://soapbridge.dev/samples/files/Upload"


def _parts(request: httpx.Request) -> list[email.message.Message]:
    raw = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + request.content
    return list(email.message_from_bytes(raw, policy=email.policy.HTTP).iter_parts())


def test_a_binary_under_the_threshold_stays_inline() -> None:
    request, _ = _sent("1.1", b"small")
    assert request.headers["content-type"].startswith("text/xml")
    assert base64.b64encode(b"small") in request.content
    assert "application/xop+xml" in request.headers["accept"]  # asks for an MTOM reply all the same


@pytest.mark.parametrize(("setting", "parts"), [({"enabled": False}, 0), ({"enabled": True, "threshold": 100_000}, 0), ({"enabled": True, "threshold": 0}, 2)])
def test_the_mtom_setting_decides(setting: dict[str, Any], parts: int) -> None:
    request, _ = _sent("1.1", PAYLOAD, mtom=setting)
    assert request.headers["content-type"].startswith("multipart/related") is bool(parts)
    if parts:
        assert len(_parts(request)) == parts


def test_without_the_policy_mtom_is_off_unless_enabled(tmp_path: Path) -> None:
    plain = tmp_path / "files.wsdl"
    plain.write_text(FILES.read_text().replace("<wsoma:OptimizedMimeSerialization/>", ""))
    seen: list[httpx.Request] = []
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:UploadResponse xmlns:f="{NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'
    for enabled, multipart in (("auto", False), (True, True)):
        with bridge.load(
            plain,
            endpoint="http://b.invalid/",
            transport=_reply_transport(reply.encode(), "text/xml", seen=seen),
            cache_dir=None,
            mtom={"enabled": enabled},
        ) as b:  # type: ignore[arg-type]
            b.call("Upload", {"name": "n", "content": base64.b64encode(PAYLOAD).decode()})
        assert seen[-1].headers["content-type"].startswith("multipart/related") is multipart


def test_bad_mtom_settings_are_refused() -> None:
    from bridge.errors import ConfigError
    from bridge.settings import make_settings

    for bad in ({"enabled": "yes"}, {"threshold": -1}, {"max_parts": 0}, {"colour": 1}):
        with pytest.raises(ConfigError, match="mtom"):
            make_settings(mtom=bad)


# --- the mock, and both directions through it -------------------------------------------------


@pytest.mark.parametrize("mode", ["mtom", "swa"])
def test_the_mock_answers_multipart_and_the_bridge_reads_it(mode: str) -> None:
    from bridge.mock import MockService
    from bridge.wsdl.loader import load_model

    mock = MockService(load_model(FILES), attachments=mode)
    request = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:Download xmlns:f="{NS}"><f:name>a</f:name></f:Download></s:Body></s:Envelope>'
    status, body, ct = mock.handle(request.encode(), "text/xml", "http://soapbridge.dev/samples/files/Download", None)
    assert status == 200
    msg = email.message_from_bytes(f"Content-Type: {ct}\r\n\r\n".encode() + body, policy=email.policy.HTTP)
    parts = list(msg.iter_parts())
    assert len(parts) == 2
    assert parts[0].get_content_type() == ("application/xop+xml" if mode == "mtom" else "text/xml")
    env = etree.fromstring(parts[0].get_payload(decode=True))
    content = env.find(f".//{{{NS}}}content")
    ref = content.find(f"{{{XOP}}}Include").get("href") if mode == "mtom" else content.get("href")
    assert f"<{ref[4:]}>" == parts[1]["Content-ID"]
    with bridge.load(
        FILES, endpoint="http://mock.invalid/", transport=mock_transport(FILES, attachments=mode), cache_dir=None
    ) as b:  # type: ignore[arg-type]
        got = asyncio.run(b.acall("Download", {"name": "a"}))
    assert base64.b64decode(got["content"]) == parts[1].get_payload(decode=True)


def test_an_mtom_upload_reaches_the_mock_whole() -> None:
    """The mock unpacks MTOM requests; it would fault on an envelope whose content was lost."""
    with bridge.load(
        FILES,
        endpoint="http://mock.invalid/",
        transport=mock_transport(FILES),
        cache_dir=None,
        mtom={"enabled": True, "threshold": 1},
    ) as b:  # type: ignore[arg-type]
        assert set(asyncio.run(b.acall("Upload", {"name": "a", "content": base64.b64encode(PAYLOAD).decode()}))) == {
            "size",
            "sha256",
        }


def test_soapbridge_call_downloads_and_uploads_through_the_mock() -> None:
    from bridge.mock import MockService
    from bridge.wsdl.loader import load_model
    from tests.conftest import ServerThread

    with ServerThread(MockService(load_model(FILES), attachments="mtom").asgi()) as server:
        for op, data in (("Download", {"name": "a"}), ("Upload", {"name": "a", "content": base64.b64encode(PAYLOAD).decode()})):
            out = subprocess.run(
                [sys.executable, "-m", "bridge", "call", str(FILES), op, "--data", json.dumps(data), "--backend", server.url + "/files"],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert out.returncode == 0, out.stderr
            result = json.loads(out.stdout)
            if op == "Download":
                base64.b64decode(result["content"], validate=True)
            else:
                assert set(result) == {"size", "sha256"}


# --- SOAP with Attachments bound by the WSDL (mime:multipartRelated) ---------------------------

# rpc/literal, as the WS-I Attachments Profile 1.0's sample binds it: the photo in a MIME part
SWA_WSDL = """<?xml version="1.0"?>
<wsdl:definitions targetNamespace="urn:claims" xmlns:tns="urn:claims" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:mime="http://schemas.xmlsoap.org/wsdl/mime/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:message name="SendClaim"><wsdl:part name="ClaimDetail" type="xsd:string"/><wsdl:part name="ClaimPhoto" type="xsd:base64Binary"/></wsdl:message>
  <wsdl:message name="SendClaimResponse"><wsdl:part name="status" type="xsd:string"/></wsdl:message>
  <wsdl:message name="GetPhoto"><wsdl:part name="id" type="xsd:string"/></wsdl:message>
  <wsdl:message name="GetPhotoResponse"><wsdl:part name="status" type="xsd:string"/><wsdl:part name="photo" type="xsd:base64Binary"/></wsdl:message>
  <wsdl:portType name="Claims">
    <wsdl:operation name="SendClaim"><wsdl:input message="tns:SendClaim"/><wsdl:output message="tns:SendClaimResponse"/></wsdl:operation>
    <wsdl:operation name="GetPhoto"><wsdl:input message="tns:GetPhoto"/><wsdl:output message="tns:GetPhotoResponse"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="ClaimsSoap" type="tns:Claims">
    <soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="SendClaim">
      <soap:operation soapAction="urn:claims/SendClaim"/>
      <wsdl:input><mime:multipartRelated>
        <mime:part><soap:body parts="ClaimDetail" use="literal" namespace="urn:claims"/></mime:part>
        <mime:part><mime:content part="ClaimPhoto" type="image/jpeg"/></mime:part>
      </mime:multipartRelated></wsdl:input>
      <wsdl:output><soap:body use="literal" namespace="urn:claims"/></wsdl:output>
    </wsdl:operation>
    <wsdl:operation name="GetPhoto">
      <soap:operation soapAction="urn:claims/GetPhoto"/>
      <wsdl:input><soap:body use="literal" namespace="urn:claims"/></wsdl:input>
      <wsdl:output><mime:multipartRelated>
        <mime:part><soap:body parts="status" use="literal" namespace="urn:claims"/></mime:part>
        <mime:part><mime:content part="photo" type="image/png"/></mime:part>
      </mime:multipartRelated></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="ClaimsService"><wsdl:port name="ClaimsSoap" binding="tns:ClaimsSoap">
    <soap:address location="http://localhost/claims"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""


@pytest.fixture
def swa_wsdl(tmp_path: Path) -> Path:
    path = tmp_path / "claims.wsdl"
    path.write_text(SWA_WSDL)
    return path


def test_a_part_bound_to_mime_is_sent_as_a_swa_attachment(swa_wsdl: Path) -> None:
    seen: list[httpx.Request] = []
    reply = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:SendClaimResponse xmlns:c="urn:claims"><status>ok</status></c:SendClaimResponse></s:Body></s:Envelope>'
    with bridge.load(swa_wsdl, endpoint="http://b.invalid/", transport=_reply_transport(reply.encode(), "text/xml", seen=seen), cache_dir=None) as b:  # type: ignore[arg-type]
        assert b.call("SendClaim", {"ClaimDetail": "dented", "ClaimPhoto": base64.b64encode(PAYLOAD).decode()}) == {"status": "ok"}
    request = seen[0]
    raw = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + request.content
    msg = email.message_from_bytes(raw, policy=email.policy.HTTP)
    assert msg.get_content_type() == "multipart/related" and msg.get_param("type") == "text/xml"
    root, photo = msg.iter_parts()
    assert root["Content-ID"] == msg.get_param("start") and root.get_content_type() == "text/xml"
    env = etree.fromstring(root.get_payload(decode=True))
    wrapper = env.find(".//{urn:claims}SendClaim")
    assert [c.tag for c in wrapper] == ["ClaimDetail"]  # the photo is not in the Body (WS-I AP R2902)
    assert photo.get_content_type() == "image/jpeg" and photo["Content-ID"].startswith("<ClaimPhoto=")  # WS-I AP R2933
    assert photo.get_payload(decode=True) == PAYLOAD
    assert request.headers["soapaction"] == '"urn:claims/SendClaim"'


def test_a_part_bound_to_mime_is_read_from_its_attachment(swa_wsdl: Path) -> None:
    msg = MIMEMultipart("related", type="text/xml", start="<root@example.org>")
    env = MIMEText(
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:GetPhotoResponse xmlns:c="urn:claims">'
        "<status>found</status></c:GetPhotoResponse></s:Body></s:Envelope>",
        "xml",
        "utf-8",
    )
    env.replace_header("Content-Type", "text/xml; charset=utf-8")
    env["Content-ID"] = "<root@example.org>"
    photo = MIMEApplication(PAYLOAD, "png")
    photo.replace_header("Content-Type", "image/png")
    photo["Content-ID"] = "<photo=8d2c@example.org>"
    msg.attach(env)
    msg.attach(photo)
    body = msg.as_bytes(policy=email.policy.HTTP).partition(b"\r\n\r\n")[2]
    with bridge.load(swa_wsdl, endpoint="http://b.invalid/", transport=_reply_transport(body, msg["Content-Type"]), cache_dir=None) as b:  # type: ignore[arg-type]
        got = b.call("GetPhoto", {"id": "1"})
    assert got["status"] == "found" and base64.b64decode(got["photo"]) == PAYLOAD


def test_swa_both_ways_through_the_mock(swa_wsdl: Path) -> None:
    with bridge.load(swa_wsdl, endpoint="http://mock.invalid/", transport=mock_transport(swa_wsdl), cache_dir=None) as b:  # type: ignore[arg-type]
        assert set(asyncio.run(b.acall("SendClaim", {"ClaimDetail": "d", "ClaimPhoto": base64.b64encode(PAYLOAD).decode()}))) == {"status"}
        got = asyncio.run(b.acall("GetPhoto", {"id": "1"}))
    assert set(got) == {"status", "photo"}
    base64.b64decode(got["photo"], validate=True)


# --- the REST side: multipart/form-data requests, application/octet-stream replies -------------


def _form(json_part: dict[str, Any], files: dict[str, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body written by the stdlib email package (not by bridge code)."""
    msg = MIMEMultipart("form-data")
    j = MIMEApplication(json.dumps(json_part).encode(), "json")
    j.add_header("Content-Disposition", "form-data", name="json")
    msg.attach(j)
    for name, data in files.items():
        f = MIMEApplication(data, "octet-stream")
        f.add_header("Content-Disposition", "form-data", name=name, filename=f"{name}.bin")
        msg.attach(f)
    raw = msg.as_bytes(policy=email.policy.HTTP)
    return raw.partition(b"\r\n\r\n")[2], msg["Content-Type"]


def test_rest_form_upload_sends_the_file_as_an_mtom_part() -> None:
    seen: list[httpx.Request] = []
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:UploadResponse xmlns:f="{NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'
    body, ct = _form({"name": "n", "content": "cid:file"}, {"file": PAYLOAD})
    with _bridge(_reply_transport(reply.encode(), "text/xml", seen=seen)) as b:
        r = TestClient(b.asgi()).post("/FileService/Upload", content=body, headers={"content-type": ct})
    assert r.status_code == 200, r.text
    (binary,) = [p for p in _parts(seen[0]) if p.get_content_type() == "application/octet-stream"]
    assert binary.get_payload(decode=True) == PAYLOAD


def test_rest_form_mismatch_is_a_400_naming_where() -> None:
    body, ct = _form({"name": "n", "content": "cid:nope"}, {"file": b"x"})
    with _bridge(_reply_transport(b"", "text/xml")) as b:
        r = TestClient(b.asgi()).post("/FileService/Upload", content=body, headers={"content-type": ct})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in r.json()["errors"]] == ["/content"]
    assert "nope" in r.json()["errors"][0]["detail"]


def test_rest_form_field_names_may_be_any_unicode() -> None:
    """Found by `soapbridge contract`: a name outside Latin-1 was a 500."""
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:UploadResponse xmlns:f="{NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'
    with _bridge(_reply_transport(reply.encode(), "text/xml")) as b:
        r = TestClient(b.asgi()).post(
            "/FileService/Upload", data={"json": json.dumps({"name": "n", "content": "cid:\U00024923ф"})}, files={"\U00024923ф": ("a", b"xyz")}
        )
    assert r.status_code == 200, r.text


def test_rest_form_file_nothing_refers_to_is_ignored() -> None:
    """As an unknown property is: the spec cannot name the file fields, so schemathesis sends extra ones."""
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:UploadResponse xmlns:f="{NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'
    body, ct = _form({"name": "n", "content": "cid:file"}, {"file": b"x", "extra": b"y"})
    with _bridge(_reply_transport(reply.encode(), "text/xml")) as b:
        assert TestClient(b.asgi()).post("/FileService/Upload", content=body, headers={"content-type": ct}).status_code == 200


def test_rest_form_without_a_json_part_or_boundary_is_a_400() -> None:
    body, ct = _form({"name": "n"}, {})
    with _bridge(_reply_transport(b"", "text/xml")) as b:
        client = TestClient(b.asgi())
        assert client.post("/FileService/Upload", content=body.replace(b'name="json"', b'name="other"'), headers={"content-type": ct}).status_code == 400
        assert client.post("/FileService/Upload", content=body, headers={"content-type": "multipart/form-data"}).status_code == 400


def test_rest_accept_octet_stream_returns_the_binary_field_itself() -> None:
    body, ct = _jaxws_mtom_reply(PAYLOAD)
    with _bridge(_reply_transport(body, ct)) as b:
        client = TestClient(b.asgi())
        r = client.post("/FileService/Download", json={"name": "x"}, headers={"accept": "application/octet-stream"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
        assert r.content == PAYLOAD
        assert base64.b64decode(client.post("/FileService/Download", json={"name": "x"}).json()["content"]) == PAYLOAD  # JSON stays the default


def test_the_spec_describes_the_form_request_and_the_octet_stream_reply() -> None:
    with _bridge(_reply_transport(b"", "text/xml")) as b:
        plain = b.openapi()
    assert list(plain["paths"]["/FileService/Upload"]["post"]["requestBody"]["content"]) == ["application/json"]  # off by default
    with _bridge(_reply_transport(b"", "text/xml"), form_requests_in_spec=True) as b:
        spec = b.openapi()
    upload = spec["paths"]["/FileService/Upload"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["required"] == ["json"] and form["encoding"]["json"]["contentType"] == "application/json"
    assert "application/octet-stream" not in upload["responses"]["200"]["content"]  # no binary in its reply
    download = spec["paths"]["/FileService/Download"]["post"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
    assert "multipart/form-data" not in download["requestBody"]["content"]  # no binary in its request
    from openapi_spec_validator import validate

    validate(spec)


# --- memory: a multipart reply goes into its parts as it arrives --------------------------------


class _Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body sent in 64 KiB chunks, as a socket delivers it (httpx's own stream would be one chunk)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def _chunks(self) -> Iterator[bytes]:
        view = memoryview(self.body)
        for i in range(0, len(view), 64 * 1024):
            yield bytes(view[i : i + 64 * 1024])

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk


class _Replies(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answers each call with the next of ``replies`` (body, Content-Type), streamed in chunks."""

    def __init__(self, replies: list[tuple[bytes, str]]) -> None:
        self.replies = replies

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body, ct = self.replies.pop(0)
        return httpx.Response(200, headers={"content-type": ct, "content-length": str(len(body))}, stream=_Chunks(body))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)


def _streaming_app(replies: list[tuple[bytes, str]]) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    async def answer(request: Any) -> StreamingResponse:
        body, ct = replies.pop(0)
        return StreamingResponse(_Chunks(body).__aiter__(), media_type=None, headers={"content-type": ct})

    return Starlette(routes=[Route("/files", answer, methods=["POST"])])


@pytest.mark.parametrize("path", ["sync (httpx)", "async (aiohttp, a socket)", "async (in-process httpx)"])
def test_a_multipart_reply_is_never_held_whole(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The peak of Python's allocations from the call's start until the reply is decoded stays far
    under the 20 MiB attachment: its bytes went into the MIME parser, and the part to disk, as they
    arrived. A reply read whole (then parsed) peaks at its size or more."""
    import random
    import tracemalloc

    from tests.conftest import ServerThread

    data = random.Random(20).randbytes(20 * 1024 * 1024)
    replies = [_jaxws_mtom_reply(b"warm up"), _jaxws_mtom_reply(data)]
    peaks: list[int] = []
    real = bridge.Bridge._finish

    def finish(self: bridge.Bridge, op: Any, reply: Any) -> Any:
        peaks.append(tracemalloc.get_traced_memory()[1])  # before the reply is decoded (a base64 string of 27 MB)
        return real(self, op, reply)

    monkeypatch.setattr(bridge.Bridge, "_finish", finish)
    settings: dict[str, Any] = {"max_reply_bytes": 64 * 1024 * 1024, "mtom": {"spool_bytes": 1024 * 1024}}
    with contextlib.ExitStack() as stack:
        if path.startswith("async (aiohttp"):
            server = stack.enter_context(ServerThread(_streaming_app(replies)))
            b = stack.enter_context(bridge.load(FILES, endpoint=server.url + "/files", cache_dir=None, **settings))
        else:
            b = stack.enter_context(_bridge(_Replies(replies), **settings))

        def call() -> dict[str, Any]:
            return b.call("Download", {"name": "x"}) if path.startswith("sync") else asyncio.run(b.acall("Download", {"name": "x"}))

        assert base64.b64decode(call()["content"]) == b"warm up"  # imports and connections, before measuring
        tracemalloc.start()
        try:
            got = call()
        finally:
            tracemalloc.stop()
    assert peaks[-1] < len(data) // 5, f"{peaks[-1] / 2**20:.1f} MiB allocated before decoding a reply with a 20 MiB part"
    assert hashlib.sha256(base64.b64decode(got["content"])).digest() == hashlib.sha256(data).digest()


def test_a_form_upload_is_never_held_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The REST side: a 20 MiB file in a multipart/form-data body (written by httpx, streamed from
    a file object over a socket) goes into the form parser as it arrives; until the form's fields
    are read out of the spooled parts, Python's allocations stay far under the file's size. A body
    read whole (then parsed) peaks at its size or more."""
    import io
    import random
    import tracemalloc

    from bridge import restbinary
    from tests.conftest import ServerThread

    data = random.Random(21).randbytes(20 * 1024 * 1024)
    peaks: list[int] = []
    real = restbinary.form_fields

    def fields(parts: Any) -> Any:
        peaks.append(tracemalloc.get_traced_memory()[1])
        return real(parts)

    monkeypatch.setattr(restbinary, "form_fields", fields)
    seen: list[httpx.Request] = []
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:UploadResponse xmlns:f="{NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'
    form = {"json": json.dumps({"name": "n", "content": "cid:file"})}
    with (
        _bridge(_reply_transport(reply.encode(), "text/xml", seen=seen), max_request_bytes=64 * 1024 * 1024) as b,
        ServerThread(b.asgi()) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        assert client.post("/FileService/Upload", data=form, files={"file": ("a.bin", b"warm up")}).status_code == 200
        tracemalloc.start()
        try:
            r = client.post("/FileService/Upload", data=form, files={"file": ("a.bin", io.BytesIO(data))})
        finally:
            tracemalloc.stop()
    assert r.status_code == 200, r.text
    assert peaks[-1] < len(data) // 5, f"{peaks[-1] / 2**20:.1f} MiB allocated before the form's fields were read"
    (binary,) = [p for p in _parts(seen[-1]) if p.get_content_type() == "application/octet-stream"]
    assert hashlib.sha256(binary.get_payload(decode=True)).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("declared", [True, False], ids=["Content-Length", "chunked"])
def test_a_form_over_max_request_bytes_is_a_413_while_it_streams(declared: bool) -> None:
    body, ct = _form({"name": "n", "content": "cid:file"}, {"file": bytes(300_000)})
    with _bridge(_reply_transport(b"", "text/xml"), max_request_bytes=100_000) as b:
        client = TestClient(b.asgi())
        content: Any = body if declared else _Chunks(body)._chunks()  # an iterator: sent chunked, no Content-Length
        r = client.post("/FileService/Upload", content=content, headers={"content-type": ct})
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert "100000" in r.json()["detail"]


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_multipart_reply_over_max_reply_bytes_is_cut_off_while_it_streams(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted as it arrives: a 502 bad_reply (REST too), and the parts spooled so far are deleted."""
    import tempfile

    from bridge import mime

    closed: list[bool] = []
    real = tempfile.SpooledTemporaryFile

    class Watched(real):  # type: ignore[misc, valid-type]
        def close(self) -> None:
            closed.append(True)
            super().close()

    monkeypatch.setattr(mime.tempfile, "SpooledTemporaryFile", Watched)
    body, ct = _jaxws_mtom_reply(bytes(2 * 1024 * 1024))
    with _bridge(_Replies([(body, ct), (body, ct)]), max_reply_bytes=1024 * 1024) as b:
        with pytest.raises(UpstreamError, match="larger than the limit of 1048576 bytes") as err:
            b.call("Download", {"name": "x"}) if path == "sync" else asyncio.run(b.acall("Download", {"name": "x"}))
        assert err.value.kind == "bad_reply"
        assert len(closed) == 2  # the root part and the part cut short: both deleted
        r = TestClient(b.asgi()).post("/FileService/Download", json={"name": "x"})
    assert r.status_code == 502 and "larger than the limit" in r.json()["detail"]


# --- WS-I swaRef (wsdl/claims.wsdl) ------------------------------------------------------------

CLAIMS = sample("claims.wsdl")
CLAIMS_NS = "http://soapbridge.dev/samples/claims"
SWAREF_NS = "http://ws-i.org/profiles/basic/1.1/xsd"
# swaref.xsd as WS-I AP 1.0 §4.4 defines it, written here: the oracle does not use the bridge's catalogue copy
WSI_SWAREF_XSD = (
    f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="{SWAREF_NS}">'
    '<xsd:simpleType name="swaRef"><xsd:restriction base="xsd:anyURI"/></xsd:simpleType></xsd:schema>'
)


def _claims_schema(tmp_path: Path) -> Any:
    import xmlschema

    swaref = tmp_path / "swaref.xsd"
    swaref.write_text(WSI_SWAREF_XSD)
    inline = next(etree.parse(str(CLAIMS)).iter("{http://www.w3.org/2001/XMLSchema}schema"))
    to_local = {"http://ws-i.org/profiles/basic/1.1/swaref.xsd": swaref.as_uri()}
    return xmlschema.XMLSchema10(etree.tostring(inline).decode(), uri_mapper=lambda url: to_local.get(url, url))


def _claims(transport: Any) -> bridge.Bridge:
    return bridge.load(CLAIMS, endpoint="http://claims.invalid/claims", transport=transport, cache_dir=None)


def test_a_swaref_value_goes_as_a_swa_part_its_cid_in_the_element(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:SendClaimResponse xmlns:c="{CLAIMS_NS}"><c:claimId>c-1</c:claimId></c:SendClaimResponse></s:Body></s:Envelope>'
    with _claims(_reply_transport(reply.encode(), "text/xml", seen=seen)) as b:
        assert b.call("SendClaim", {"name": "Dent", "claimForm": base64.b64encode(PAYLOAD).decode()}) == {"claimId": "c-1"}
    msg = email.message_from_bytes(f"Content-Type: {seen[0].headers['content-type']}\r\n\r\n".encode() + seen[0].content, policy=email.policy.HTTP)
    assert msg.get_content_type() == "multipart/related" and msg.get_param("type") == "text/xml"  # SwA, not MTOM
    root, attachment = msg.iter_parts()
    assert root["Content-ID"] == msg.get_param("start") and root.get_content_type() == "text/xml"
    env = etree.fromstring(root.get_payload(decode=True))
    request = env.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
    ref = request.findtext(f"{{{CLAIMS_NS}}}claimForm")
    assert ref.startswith("cid:") and attachment["Content-ID"] == f"<{unquote(ref[4:])}>"
    assert attachment.get_payload(decode=True) == PAYLOAD
    schema = _claims_schema(tmp_path)
    schema.validate(request)  # what was sent is valid against the WSDL's schema: a cid: anyURI, not base64
    # the oracle can fail: the same request with the value inline where the schema wants a URI of one token
    request.find(f"{{{CLAIMS_NS}}}claimForm").text = None
    etree.SubElement(request.find(f"{{{CLAIMS_NS}}}claimForm"), "inline")
    assert not schema.is_valid(request)


def _wsi_example_reply(data: bytes, *, ref: str = "cid:b0a597fd-5ef7-4f0c-9d85-6666239f1d25@example.jaxws.sun.com") -> tuple[bytes, str]:
    """A GetClaimForm reply in the shape of WS-I AP 1.0's swaRef example (as the JAX-WS RI sends it):
    Multipart/Related with type=text/xml and no start parameter, a root part without Content-ID, the
    element holding the cid: URI between whitespace, the attachment application/pdf, binary."""
    boundary = "----=_Part_5_32550604.1118953563502"
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">\n'
        f'    <soapenv:Body>\n        <c:GetClaimFormResponse xmlns:c="{CLAIMS_NS}">\n'
        f"            <c:claimForm>{ref}</c:claimForm>\n"
        "        </c:GetClaimFormResponse>\n    </soapenv:Body>\n</soapenv:Envelope>"
    )
    body = (
        f"--{boundary}\r\nContent-Type: text/xml; charset=utf-8\r\n\r\n{envelope}\r\n"
        f"--{boundary}\r\nContent-Type: application/pdf\r\nContent-ID: <b0a597fd-5ef7-4f0c-9d85-6666239f1d25@example.jaxws.sun.com>\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--".encode()
    return body, f"Multipart/Related; boundary={boundary}; type=text/xml"


def test_a_swaref_in_a_reply_gives_the_part_as_base64() -> None:
    pdf = b"%PDF-1.7\n" + PAYLOAD
    body, ct = _wsi_example_reply(pdf)
    with _claims(_Replies([(body, ct), (body, ct), (body, ct)])) as b:
        assert base64.b64decode(b.call("GetClaimForm", {"claimId": "c-1"})["claimForm"]) == pdf
        assert base64.b64decode(asyncio.run(b.acall("GetClaimForm", {"claimId": "c-1"}))["claimForm"]) == pdf
        r = TestClient(b.asgi()).post("/ClaimService/GetClaimForm", json={"claimId": "c-1"}, headers={"accept": "application/octet-stream"})
    assert r.status_code == 200 and r.content == pdf


@pytest.mark.parametrize("case", ["cid of no part", "not multipart"])
def test_a_swaref_that_names_no_part_is_a_502(case: str) -> None:
    body, ct = _wsi_example_reply(PAYLOAD, ref="cid:gone@example.org")
    if case == "not multipart":  # a plain reply cannot carry the part a swaRef names
        body, ct = body.split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0], "text/xml; charset=utf-8"
    with _claims(_reply_transport(body, ct)) as b:
        with pytest.raises(UpstreamError) as err:
            b.call("GetClaimForm", {"claimId": "c-1"})
        assert err.value.kind == "bad_reply"
        assert ("cid:gone@example.org" in str(err.value)) if case == "cid of no part" else ("base64" in str(err.value))
        r = TestClient(b.asgi()).post("/ClaimService/GetClaimForm", json={"claimId": "c-1"})
    assert r.status_code == 502 and r.headers["content-type"].startswith("application/problem+json")


def test_swaref_both_ways_through_the_mock_and_a_rest_form() -> None:
    with _claims(mock_transport(CLAIMS)) as b:
        assert set(asyncio.run(b.acall("SendClaim", {"name": "n", "claimForm": base64.b64encode(PAYLOAD).decode()}))) == {"claimId"}
        base64.b64decode(asyncio.run(b.acall("GetClaimForm", {"claimId": "c"}))["claimForm"], validate=True)
    seen: list[httpx.Request] = []
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:SendClaimResponse xmlns:c="{CLAIMS_NS}"><c:claimId>c-1</c:claimId></c:SendClaimResponse></s:Body></s:Envelope>'
    body, ct = _form({"name": "n", "claimForm": "cid:form"}, {"form": PAYLOAD})
    with _claims(_reply_transport(reply.encode(), "text/xml", seen=seen)) as b:
        r = TestClient(b.asgi()).post("/ClaimService/SendClaim", content=body, headers={"content-type": ct})
    assert r.status_code == 200, r.text
    (attachment,) = [p for p in _parts(seen[0]) if p.get_content_type() == "application/octet-stream"]
    assert attachment.get_payload(decode=True) == PAYLOAD


def test_checking_a_large_base64_value_makes_no_copy_of_it() -> None:
    """The codec's check of a base64Binary value (what a 50 MB download's JSON holds) goes a piece at a
    time: a copy, or a decode of the whole, would take more memory than the value's own size."""
    import binascii
    import tracemalloc

    from bridge.model import SimpleType
    from bridge.xsd.lexical import from_lexical

    t = SimpleType(None, "base64Binary")
    value = base64.b64encode(bytes(range(256)) * 80_000).decode()  # 27 MB of base64
    tracemalloc.start()
    try:
        assert from_lexical(t, value, "/content") is value
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(value) // 20, f"{peak / 2**20:.1f} MiB to check {len(value) / 2**20:.0f} MiB of base64"
    # the same verdicts as the stdlib's strict decoder, at the ends and across a piece's edge
    for bad in (value[:-1], value[:-4] + "AA=A", value[:262_144] + "AA==" + value[262_148:], value[:262_140] + "AA==" + value[262_144:], value[:5] + "é" + value[6:]):
        with pytest.raises(ValueError):
            binascii.a2b_base64(bad, strict_mode=True)
        with pytest.raises(Exception, match="invalid base64"):
            from_lexical(t, bad, "/content")


@pytest.mark.parametrize("where", ["start-info and top level", "start-info only", "top level only"])
def test_the_mock_reads_a_soap12_mtom_requests_action_from_its_content_type(where: str) -> None:
    """SOAP 1.2 sends no SOAPAction header: the action is a Content-Type parameter, which MTOM's HTTP binding
    (and the bridge) also puts inside start-info, quoted and escaped. The mock requiring WS-Addressing
    compares it with wsa:Action; it once read the escaped copy (\\"urn…\\") and refused the request."""
    from bridge.mock import MockService
    from bridge.wsdl.loader import load_model

    action = "http://soapbridge.dev/samples/files/Upload"
    start_info = 'application/soap+xml; action=\\"' + action + '\\"' if where != "top level only" else "application/soap+xml"
    ctype = f'multipart/related; type="application/xop+xml"; boundary="b1"; start="<root@x>"; start-info="{start_info}"'
    if where != "start-info only":
        ctype += f'; action="{action}"'
    envelope = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"<s:Header><wsa:Action>{action}</wsa:Action><wsa:To>http://mock/</wsa:To><wsa:MessageID>urn:uuid:1</wsa:MessageID></s:Header>"
        f'<s:Body><f:Upload xmlns:f="{NS}"><f:name>a</f:name><f:content><xop:Include xmlns:xop="{XOP}" href="cid:p1@x"/></f:content></f:Upload></s:Body>'
        "</s:Envelope>"
    )
    body = (
        f'--b1\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\nContent-ID: <root@x>\r\n\r\n{envelope}\r\n'
        "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <p1@x>\r\n\r\n"
    ).encode() + PAYLOAD + b"\r\n--b1--\r\n"
    client = TestClient(MockService(load_model(FILES), addressing=True).asgi())
    r = client.post("/files", content=body, headers={"content-type": ctype})
    assert r.status_code == 200, r.text
    assert etree.fromstring(r.content).find(f".//{{{NS}}}UploadResponse") is not None


# --- uploads: the request side's memory ------------------------------------------------------


def _upload_sink(got: list[tuple[dict[str, str], IO[bytes]]]) -> Any:
    """A backend that keeps each request's headers and body and answers an UploadResponse. The
    body goes to a file as it arrives (not into this process's memory, which the tests measure)."""
    import tempfile

    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:UploadResponse xmlns:f="{NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'

    async def answer(request: Any) -> Response:
        f = tempfile.TemporaryFile()  # noqa: SIM115 - outlives the request: the test reads it, then it is collected
        async for chunk in request.stream():
            f.write(chunk)
        got.append((dict(request.headers), f))
        return Response(reply, media_type="text/xml")

    return Starlette(routes=[Route("/files", answer, methods=["POST"])])


def _received(headers: dict[str, str], body: bytes | IO[bytes]) -> tuple[etree._Element, list[email.message.Message]]:
    """The root envelope and the parts of an MTOM request, as Python's email package reads them."""
    if not isinstance(body, bytes):
        body.seek(0)
        body = body.read()
    raw = f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + body
    parts = list(email.message_from_bytes(raw, policy=email.policy.HTTP).iter_parts())
    return etree.fromstring(parts[0].get_payload(decode=True)), parts[1:]


@pytest.mark.parametrize("path", ["sync (httpx)", "async (aiohttp)"])
def test_an_mtom_upload_is_not_copied_over_and_over(path: str) -> None:
    """One 20 MiB binary given as base64 (27 MB, the caller's): from the call's start to its end,
    Python's allocations peak under twice the binary (its decoded bytes, once, and a few MB of
    work), not at the several copies an envelope holding the base64 text, parsed back and
    serialized again, would take. What arrives is the binary, byte for byte, with a Content-Length."""
    import random
    import tracemalloc

    from tests.conftest import ServerThread

    data = random.Random(22).randbytes(20 * 1024 * 1024)
    content = base64.b64encode(data).decode()
    got: list[tuple[dict[str, str], IO[bytes]]] = []
    settings: dict[str, Any] = {"max_request_bytes": 64 * 1024 * 1024, "mtom": {"enabled": True}}
    with ServerThread(_upload_sink(got)) as server, bridge.load(FILES, endpoint=server.url + "/files", cache_dir=None, **settings) as b:

        def call(value: str) -> dict[str, Any]:
            request = {"name": "n", "content": value}
            return b.call("Upload", request) if path.startswith("sync") else asyncio.run(b.acall("Upload", request))

        call("AA==")  # imports and connections, before measuring
        got.clear()
        tracemalloc.start()
        try:
            call(content)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    (headers, file), = got
    assert headers.get("content-length") == str(file.seek(0, 2)) and "transfer-encoding" not in headers
    root, parts = _received(headers, file)
    include = root.find(f".//{{{NS}}}content/{{{XOP}}}Include")
    assert include is not None and f"<{unquote(include.get('href')[4:])}>" == parts[0]["Content-ID"]
    assert hashlib.sha256(parts[0].get_payload(decode=True)).digest() == hashlib.sha256(data).digest()
    assert peak < 2 * len(data), f"{peak / 2**20:.1f} MiB allocated to send a 20 MiB binary"


def test_a_rest_form_upload_is_not_copied_over_and_over() -> None:
    """The REST side: a 20 MiB file in a multipart/form-data body, over a socket, to an MTOM
    request upstream. From the form's first byte to the reply, Python's allocations (the app's,
    the upstream's and the client's, all in this process) stay under four times the file: its
    base64 (the JSON value it stands for), its decoded bytes once, a few MB of work."""
    import io
    import random
    import tracemalloc

    from tests.conftest import ServerThread

    data = random.Random(23).randbytes(20 * 1024 * 1024)
    got: list[tuple[dict[str, str], IO[bytes]]] = []
    form = {"json": json.dumps({"name": "n", "content": "cid:file"})}
    settings: dict[str, Any] = {"max_request_bytes": 64 * 1024 * 1024, "mtom": {"enabled": True}}
    with (
        ServerThread(_upload_sink(got)) as upstream,
        bridge.load(FILES, endpoint=upstream.url + "/files", cache_dir=None, **settings) as b,
        ServerThread(b.asgi()) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        assert client.post("/FileService/Upload", data=form, files={"file": ("a.bin", b"warm up")}).status_code == 200
        got.clear()
        file = io.BytesIO(data)
        tracemalloc.start()
        try:
            r = client.post("/FileService/Upload", data=form, files={"file": ("a.bin", file)})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert r.status_code == 200, r.text
    (headers, file), = got
    _, parts = _received(headers, file)
    assert hashlib.sha256(parts[0].get_payload(decode=True)).digest() == hashlib.sha256(data).digest()
    assert peak < 4 * len(data), f"{peak / 2**20:.1f} MiB allocated to pass on a 20 MiB file"


def test_a_large_base64_string_outside_a_binary_element_stays_inline() -> None:
    """A string that only looks like base64 (here the xs:string ``name``) is lifted out like a
    binary, then found outside a base64Binary element: the request is encoded as it is, the name
    inline, character for character, and the binary still an MTOM part."""
    name = "QUJD" * 100_000  # 400 KB of base64 alphabet
    data = bytes(range(256)) * 2048  # 512 KiB
    seen: list[httpx.Request] = []
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:UploadResponse xmlns:f="{NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'
    with _bridge(_reply_transport(reply.encode(), "text/xml", seen=seen), mtom={"enabled": True}) as b:
        b.call("Upload", {"name": name, "content": base64.b64encode(data).decode()})
    root, parts = _received(dict(seen[0].headers), seen[0].content)
    assert root.findtext(f".//{{{NS}}}name") == name
    (part,) = parts
    assert part.get_payload(decode=True) == data


def test_a_lifted_binary_still_counts_against_max_request_bytes() -> None:
    """The envelope is built without the binary's text, but the limit is on the request as the
    envelope would hold it: 700 KB of base64 with a 600 KB limit is refused, before any send."""
    from bridge.errors import RequestTooLarge

    seen: list[httpx.Request] = []
    with (
        _bridge(_reply_transport(b"", "text/xml", seen=seen), mtom={"enabled": True}, max_request_bytes=600_000) as b,
        pytest.raises(RequestTooLarge, match="over the limit of 600000"),
    ):
        b.call("Upload", {"name": "n", "content": base64.b64encode(bytes(512 * 1024)).decode()})
    assert not seen


@pytest.mark.parametrize("path", ["sync", "async (in-process httpx)"])
def test_a_lifted_binary_goes_as_a_part_with_its_content_length(path: str) -> None:
    """Over httpx with a transport given (in-process), both ways: a 512 KiB binary, lifted out of the
    request, is the message's one part, byte for byte, and the Content-Length is the body's."""
    data = bytes(range(256)) * 2048
    seen: list[httpx.Request] = []
    reply = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><f:UploadResponse xmlns:f="{NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'
    request = {"name": "n", "content": base64.b64encode(data).decode()}
    with _bridge(_reply_transport(reply.encode(), "text/xml", seen=seen), mtom={"enabled": True}) as b:
        b.call("Upload", request) if path == "sync" else asyncio.run(b.acall("Upload", request))
    (sent,) = seen
    assert sent.headers["content-length"] == str(len(sent.content)) and "transfer-encoding" not in sent.headers
    root, parts = _received(dict(sent.headers), sent.content)
    assert root.find(f".//{{{NS}}}content/{{{XOP}}}Include") is not None
    assert [p.get_payload(decode=True) for p in parts] == [data]
