"""What WS-Security costs a call: calls/s of the library's ``call`` on the calculator's Add with no
security, with a UsernameToken (PasswordDigest and Timestamp), signed (RSA-SHA256, 2048-bit key),
and signed with the reply's signature verified, each as a ratio to the plain call in the same run.

The service is an in-process transport answering a fixed reply, so the figures are the bridge's own
CPU per call (encode, WS-Security, decode), not the network's. Keys are made for the run.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

import bridge
from bridge.wsse import Security, SignSettings, WsseSettings

from .timing import compare

WSDL = Path(__file__).resolve().parents[1] / "wsdl" / "calculator.wsdl"
REPLY = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<c:AddResponse xmlns:c="http://soapbridge.dev/samples/calculator"><c:result>3</c:result></c:AddResponse>'
    b"</soap:Body></soap:Envelope>"
)


class _Fixed(httpx.BaseTransport):
    def __init__(self, reply: Callable[[], bytes]) -> None:
        self.reply = reply

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return httpx.Response(200, content=self.reply(), headers={"content-type": "text/xml; charset=utf-8"})


def _keys(d: Path, name: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    k, c = d / f"{name}.key", d / f"{name}.crt"
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(k), str(c)


def run_wsse(quick: bool, log: Callable[[str], None]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="soapbridge-bench-wsse-") as tmp:
        d = Path(tmp)
        ck, cc = _keys(d, "client")
        sk, sc = _keys(d, "service")
        # the service's signed reply, made once (its Timestamp lasts the run): the row times the bridge only
        signed_reply = Security(WsseSettings(timestamp=3600, sign=SignSettings(key=sk, cert=sc))).apply(REPLY)

        def make(wsse: dict[str, Any] | None, reply: Callable[[], bytes] = lambda: REPLY) -> Callable[[], object]:
            b = bridge.load(WSDL, endpoint="http://bench.invalid/calc", transport=_Fixed(reply), wsse=wsse, cache_dir=None)
            return lambda: b.call("Add", {"a": 1, "b": 2})

        sign = {"key": ck, "cert": cc}
        calls = {
            "plain": make(None),
            "UsernameToken (digest) + Timestamp": make({"username": "bench", "password": "bench-password", "password_type": "digest"}),
            "signed (RSA-SHA256)": make({"sign": sign}),
            "signed + reply verified": make({"sign": sign, "verify_reply": {"cert": sc}}, lambda: signed_reply),
        }
        log(f"wsse: {len(calls)} kinds of call, {'quick' if quick else 'full'} run")
        seconds = compare(calls, budget=1.0 if quick else 5.0)
    plain = seconds["plain"]
    return [
        {"call": name, "calls_per_s": 1 / s, "ms": s * 1000, "x_plain": plain / s}
        for name, s in seconds.items()
    ]
