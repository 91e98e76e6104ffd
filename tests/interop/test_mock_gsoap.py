"""The mock (``soapbridge mock files --attachments mtom|swa``, run as its own process) against an
independent client: gSOAP 2.8's proxy for wsdl/files.wsdl with MTOM on (tests/interop/gsoap/files_client.cpp,
built by the ``gsoap_files_client`` fixture).

Upload: gSOAP sends N bytes (byte i is i mod 251) as an MTOM part; the mock must accept the request and
answer something gSOAP deserializes without error. The request gSOAP wrote is read back here with the
stdlib email parser, to check it was MTOM and carried those bytes. The mock's UploadResponse is made up,
so what it decoded is not compared (tests/test_mtom.py checks its unpacking, and it does not check
binary length facets, see docs/mock.md).
Download: gSOAP decodes the mock's reply and says whether the value came from a MIME part; the bytes it
decoded must equal the value in the reply it read (saved by the client), decoded here independently with
the stdlib email parser and ElementTree, not with bridge.mime.

gSOAP reads SwA's ``href="cid:…"`` only in SOAP 1.1: in a SOAP 1.2 reply it ignores the attribute and
decodes an empty value without error (SwA is defined for SOAP 1.1 only), so SwA is checked with SOAP 1.1.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import sample
from tests.interop.conftest import _serve_process

pytestmark = pytest.mark.interop

WSDL = sample("files.wsdl")
NS = "http://soapbridge.dev/samples/files"
XOP = "http://www.w3.org/2004/08/xop/include"
VERSIONS = pytest.mark.parametrize("version", ["1.1", "1.2"])
SIZES = pytest.mark.parametrize("size", [0, 1, 1_000_000], ids=["0B", "1B", "1MB"])
MODES = ["mtom", "swa", "none"]
STOCK = pytest.mark.parametrize("mock", [(mode, None) for mode in MODES], indirect=True, ids=MODES)
# SwA with SOAP 1.2 apart: gSOAP ignores the href there (test_gsoap_ignores_an_swa_href_in_soap_1_2)
_DOWNLOAD_CASES = [
    ((mode, size), version) for mode in MODES for size in (None, 1, 1_000_000) for version in ("1.1", "1.2") if (mode, version) != ("swa", "1.2")
]
DOWNLOADS = pytest.mark.parametrize(
    ("mock", "version"), _DOWNLOAD_CASES, indirect=["mock"],
    ids=[f"{mode}-{'example' if size is None else f'{size}B'}-{version}" for (mode, size), version in _DOWNLOAD_CASES],
)  # fmt: skip


def pattern(size: int) -> bytes:
    """What the client uploads: byte i is i mod 251."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def sized_wsdl(directory: Path, size: int) -> Path:
    """wsdl/files.wsdl with DownloadResponse's content restricted to ``size`` octets (xsd:length), so the
    mock's example has that size. Same names and namespaces: the client built from files.wsdl reads it."""
    text = WSDL.read_text()
    response = text.index('<xsd:element name="DownloadResponse">')
    plain = '<xsd:element name="content" type="xsd:base64Binary"/>'
    at = text.index(plain, response)
    sized = f'<xsd:element name="content"><xsd:simpleType><xsd:restriction base="xsd:base64Binary"><xsd:length value="{size}"/></xsd:restriction></xsd:simpleType></xsd:element>'
    path = directory / f"files-{size}.wsdl"
    path.write_text(text[:at] + sized + text[at + len(plain) :])
    return path


@pytest.fixture(scope="module")
def mock(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int | None, str]]:
    """``(mode, download size, base URL)`` of ``soapbridge mock files --attachments mode`` (none: off) run as a process;
    parametrized indirectly by ``(mode, download size)``, size None for the stock WSDL (4 to 8 bytes)."""
    mode, size = request.param
    directory = tmp_path_factory.mktemp(f"mock-{mode}")
    wsdl = "files" if size is None else str(sized_wsdl(directory, size))
    extra = [] if mode == "none" else ["--attachments", mode]
    command = [sys.executable, "-m", "bridge", "mock", wsdl, "--no-cache", "--seed", "17", *extra]
    # GET on any path answers 200, so /health tells when it listens
    with _serve_process(f"soapbridge mock --attachments {mode}", lambda port: [*command, "--port", str(port)], directory / "mock.log") as url:
        yield mode, size, url


def run(client: Path, *args: str) -> dict[str, str]:
    r = subprocess.run([str(client), *args], capture_output=True, text=True, timeout=120, check=False)
    out = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    assert r.returncode == 0 and out.get("status") == "ok", (r.returncode, r.stdout, r.stderr)
    return out


def dechunk(body: bytes) -> bytes:
    """An HTTP/1.1 chunked body's content (RFC 9112 §7.1; no trailers expected)."""
    out = bytearray()
    while True:
        line, body = body.split(b"\r\n", 1)
        size = int(line.split(b";", 1)[0], 16)
        if size == 0:
            return bytes(out)
        out += body[:size]
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]


def http_message(raw: bytes) -> email.message.Message:
    """An HTTP/1.1 message (status or request line, header, body) read by the stdlib email parser."""
    _, rest = raw.split(b"\r\n", 1)
    head, body = rest.split(b"\r\n\r\n", 1)
    message = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.HTTP)
    if message.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
        del message["transfer-encoding"]
    else:
        assert len(body) == int(message["content-length"])
    return email.message_from_bytes(head + b"\r\n\r\n" + body, policy=email.policy.HTTP)


def _cid(ref: str) -> str:
    assert ref.startswith("cid:"), ref
    return "<" + ref[4:] + ">"


def content_of(message: email.message.Message, element: str) -> tuple[bytes, str]:
    """The value of the ``content`` child of ``element`` in a SOAP message, and how it came: "inline"
    (base64 text), "xop" (an xop:Include) or "href" (SwA's href="cid:")."""
    if message.get_content_maintype() != "multipart":
        root = ET.fromstring(message.get_payload(decode=True))
        parts: dict[str, bytes] = {}
    else:
        children = message.get_payload()
        assert isinstance(children, list)
        start = message.get_param("start")
        by_id = {str(p["content-id"]).strip(): p for p in children}
        root_part = by_id[str(start).strip()] if start else children[0]
        root = ET.fromstring(root_part.get_payload(decode=True))
        parts = {cid: p.get_payload(decode=True) for cid, p in by_id.items() if p is not root_part}
    content = root.find(f".//{{{NS}}}{element}/{{{NS}}}content")
    assert content is not None, ET.tostring(root)
    include = content.find(f"{{{XOP}}}Include")
    if include is not None:
        return parts[_cid(include.attrib["href"])], "xop"
    if "href" in content.attrib:
        return parts[_cid(content.attrib["href"])], "href"
    return base64.b64decode(content.text or ""), "inline"


@STOCK
@VERSIONS
@SIZES
@pytest.mark.parametrize("coding", ["upload", "upload-chunked"], ids=["length", "chunked"])
def test_gsoap_uploads_mtom_and_reads_the_reply(
    mock: tuple[str, int | None, str], gsoap_files_client: Path, version: str, size: int, coding: str, tmp_path: Path
) -> None:
    """gSOAP's MTOM upload, with a Content-Length or chunked (SOAP_IO_CHUNK)."""
    mode, _, url = mock
    sent = tmp_path / "request.http"
    out = run(gsoap_files_client, f"{url}/", version, coding, str(size), str(sent))
    # gSOAP deserialized the reply: UploadResponse's long and string
    assert int(out["size"]) >= 0 and out["sha256"]
    ctype = out["content_type"]
    soap_type = "application/soap+xml" if version == "1.2" else "text/xml"
    if mode == "none":
        assert ctype.startswith(soap_type), ctype
    else:  # no binary in UploadResponse, still multipart/related as asked
        assert ctype.startswith("multipart/related"), ctype
    # what gSOAP sent: MTOM, the pattern in an XOP part
    request = http_message(sent.read_bytes())
    head = sent.read_bytes().split(b"\r\n\r\n", 1)[0].lower()
    assert (b"\r\ntransfer-encoding: chunked" in head) == (coding == "upload-chunked"), head
    assert request.get_content_type() == "multipart/related" and request.get_param("type") == "application/xop+xml"
    assert request.get_param("start-info") == soap_type
    assert content_of(request, "Upload") == (pattern(size), "xop")


@DOWNLOADS
def test_gsoap_decodes_the_download_reply(mock: tuple[str, int | None, str], gsoap_files_client: Path, version: str, tmp_path: Path) -> None:
    mode, size, url = mock
    got = tmp_path / "content.bin"
    out = run(gsoap_files_client, f"{url}/", version, "download", str(got))
    reply = http_message((tmp_path / "content.bin.reply").read_bytes())
    value, how = content_of(reply, "DownloadResponse")
    assert how == {"mtom": "xop", "swa": "href", "none": "inline"}[mode]
    assert len(value) == size if size is not None else 4 <= len(value) <= 8, len(value)
    # gSOAP took the value from the MIME part (it sets the id then), not from inline base64
    assert out["attachment"] == ("0" if mode == "none" else "1"), out
    if mode != "none":
        assert _cid(out["id"]) in {str(p["content-id"]).strip() for p in reply.iter_parts()}
    assert got.read_bytes() == value
    assert out["sha256"] == hashlib.sha256(value).hexdigest() and int(out["size"]) == len(value)
    if mode == "mtom":
        assert reply.get_param("type") == "application/xop+xml"
        assert reply.get_param("start-info") == ("application/soap+xml" if version == "1.2" else "text/xml")


@pytest.mark.parametrize("mock", [("swa", 1)], indirect=True, ids=["swa-1B"])
def test_gsoap_ignores_an_swa_href_in_soap_1_2(mock: tuple[str, int | None, str], gsoap_files_client: Path, tmp_path: Path) -> None:
    """What docs/mock.md says of SwA with SOAP 1.2: the mock's reply carries the part and refers to it by
    href="cid:", but gSOAP (which reads href only as SOAP 1.1 encoding does) decodes an empty value, no error."""
    _, _, url = mock
    got = tmp_path / "content.bin"
    out = run(gsoap_files_client, f"{url}/", "1.2", "download", str(got))
    value, how = content_of(http_message((tmp_path / "content.bin.reply").read_bytes()), "DownloadResponse")
    assert (len(value), how) == (1, "href")
    assert (out["attachment"], out["size"], got.read_bytes()) == ("0", "0", b"")
