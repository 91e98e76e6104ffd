"""Safe defaults: no DTDs or entities from replies, size and depth limits, TLS verification on."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import bridge
from bridge.settings import Settings
from tests.conftest import sample

CALC_NS = "http://soapbridge.dev/samples/calculator"


def _reply(inner: str, prolog: str = "") -> bytes:
    return (
        f'{prolog}<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        f'<c:AddResponse xmlns:c="{CALC_NS}"><c:result>{inner}</c:result></c:AddResponse></s:Body></s:Envelope>'
    ).encode()


@pytest.fixture(scope="module")
def calc() -> bridge.Bridge:
    return bridge.load(sample("calculator.wsdl"))


def test_entities_are_refused(calc: bridge.Bridge) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "1234567890"><!ENTITY b "&a;&a;&a;&a;">]>'
    with pytest.raises(bridge.UpstreamError, match="DTD") as info:
        calc.decode_response("Add", _reply("&b;", bomb))
    assert info.value.kind == "bad_reply"


def test_external_entities_are_not_loaded(calc: bridge.Bridge, tmp_path: object) -> None:
    xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(bridge.UpstreamError, match="has a DTD, which is refused") as info:
        calc.decode_response("Add", _reply("&x;", xxe))
    assert info.value.kind == "bad_reply" and "root:" not in str(info.value)


def test_reply_size_limit() -> None:
    b = bridge.load(sample("calculator.wsdl"), max_reply_bytes=200)
    with pytest.raises(bridge.UpstreamError, match="over the limit"):
        b.decode_response("Add", _reply("1" + " " * 500))


def test_depth_limit() -> None:
    b = bridge.load(sample("calculator.wsdl"), max_xml_depth=10)
    deep = "<x>" * 20 + "</x>" * 20
    with pytest.raises(bridge.UpstreamError, match="deeper than the limit"):
        b.decode_response("Add", _reply(deep))


def test_safe_defaults() -> None:
    s = Settings()
    assert s.verify_tls is True
    assert s.allow_network is False
    assert 0 < s.connect_timeout <= 10 and 0 < s.read_timeout <= 60
    assert s.max_reply_bytes > 0 and s.max_request_bytes > 0 and s.max_xml_depth > 0


def test_wsdl_with_dtd_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    p = Path(str(tmp_path)) / "evil.wsdl"
    text = sample("calculator.wsdl").read_text()
    text = text.replace("?>", '?><!DOCTYPE d [<!ENTITY e "x">]>', 1) if text.startswith("<?xml") else '<!DOCTYPE d [<!ENTITY e "x">]>' + text
    p.write_text(text)
    with pytest.raises(bridge.WsdlError, match=r"evil\.wsdl has a DOCTYPE; DTDs are refused"):
        bridge.load(p)


def test_tls_verification_failure_is_reported() -> None:
    import ssl

    import httpx

    from bridge.client import SoapClient

    exc = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    exc.__cause__ = ssl.SSLCertVerificationError("verify failed")
    mapped = SoapClient(Settings())._map(exc, "Op", "https://x")
    assert mapped.kind == "tls"


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return str(cert), str(key)


@pytest.mark.parametrize("call", ["sync", "async"])
def test_tls_is_verified_against_a_real_server(tmp_path: Path, call: str) -> None:
    """A self-signed certificate is refused by default (a 'tls' error), and accepted when its CA
    bundle is configured, on both the sync (httpx) and the async (aiohttp) path."""
    from bridge.client import SoapClient
    from bridge.errors import UpstreamError
    from bridge.settings import make_settings
    from tests.conftest import ServerThread

    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="text/xml")

    cert, key = _self_signed(tmp_path)
    with ServerThread(Starlette(routes=[Route("/", echo, methods=["POST"])]), tls=(cert, key)) as server:
        assert server.url.startswith("https://")

        def post(client: SoapClient) -> bytes:
            if call == "sync":
                try:
                    return client.post(server.url + "/", b"<x/>", {}).body
                finally:
                    client.close()  # an open keep-alive connection would hold the server's shutdown

            async def go() -> bytes:
                try:
                    return (await client.apost(server.url + "/", b"<x/>", {})).body
                finally:
                    await client.aclose()

            return asyncio.run(go())

        with pytest.raises(UpstreamError) as refused:
            post(SoapClient(make_settings()))
        assert refused.value.kind == "tls" and "TLS verification" in str(refused.value)
        assert post(SoapClient(make_settings(verify_tls=cert))) == b"<x/>"


def test_a_missing_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    from bridge.errors import ConfigError
    from bridge.settings import make_settings

    with pytest.raises(ConfigError, match=r"verify_tls: the CA bundle .* does not exist"):
        make_settings(verify_tls=str(tmp_path / "missing.pem"))
    assert make_settings(verify_tls=str(tmp_path)).verify_tls == str(tmp_path)  # a directory of certificates
