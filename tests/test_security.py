"""Safe defaults: no DTDs or entities from replies, size and depth limits, TLS verification on."""

from __future__ import annotations

import pytest

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
    with pytest.raises(bridge.UpstreamError):
        calc.decode_response("Add", _reply("&x;", xxe))


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
    with pytest.raises(bridge.WsdlError):
        bridge.load(p)


def test_tls_verification_failure_is_reported() -> None:
    import ssl

    import httpx

    from bridge.client import _map

    exc = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    exc.__cause__ = ssl.SSLCertVerificationError("verify failed")
    mapped = _map(exc, "https://x", Settings())
    assert mapped.kind == "tls"
