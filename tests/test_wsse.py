"""WS-Security (bridge/wsse.py), checked against verifiers that are not ours.

- signatures the bridge makes are verified by the ``xmlsec1`` command-line tool with the certificate;
- signed replies the bridge checks are signed by ``xmlsec1`` from a template written here;
- PasswordDigest values are recomputed here from the OASIS formula, and by node-soap's ``passwordDigest``;
- the Security header validates against the wsse/wsu schemas with xmlschema.
Keys and certificates are made in the test with ``cryptography``; none is committed.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.message
import email.policy
import hashlib
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlschema
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

import bridge
from bridge.errors import ConfigError, WsseError
from bridge.mock import MockService
from bridge.wsdl.loader import load_model
from bridge.wsse import MockRequirements
from tests.conftest import ROOT, sample

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CALC = "http://soapbridge.dev/samples/calculator"
PASSWORD = "s3cret-Pa55word"
NS = {"wsse": WSSE, "wsu": WSU, "ds": DS}


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if _ci():
            pytest.fail(f"{tool} is not installed; CI=true requires it (run .ci/install-peers)", pytrace=False)
        pytest.skip(f"{tool} is not installed (run .ci/install-peers)")
    return path


# --- keys and certificates, made here ---------------------------------------------------------------


def make_pki(d: Path, name: str, *, days: int = 30, expired: bool = False, password: bytes | None = None, ski: bool = True) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    start, end = (now - dt.timedelta(days=10), now - dt.timedelta(days=1)) if expired else (now - dt.timedelta(days=1), now + dt.timedelta(days=days))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
    )  # fmt: skip
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    key_path, cert_path = d / f"{name}.key", d / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    out: dict[str, Path] = {}
    for name in ("client", "service", "other"):
        out[f"{name}.key"], out[f"{name}.crt"] = make_pki(d, name)
    out["expired.key"], out["expired.crt"] = make_pki(d, "expired", expired=True)
    out["locked.key"], out["locked.crt"] = make_pki(d, "locked", password=b"key-pass")
    out["noski.key"], out["noski.crt"] = make_pki(d, "noski", ski=False)
    return out


# --- a bridge whose upstream is a function ------------------------------------------------------------


class Upstream(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Keeps what the bridge sent; answers with ``reply`` (bytes, or a function of the request)."""

    def __init__(self, reply: Any = None) -> None:
        self.sent: list[bytes] = []
        self.reply = reply

    def _answer(self, body: bytes) -> httpx.Response:
        self.sent.append(body)
        reply = self.reply(body) if callable(self.reply) else self.reply
        if reply is None:
            reply = add_response(body, 3)
        return httpx.Response(200, content=reply, headers={"content-type": "text/xml; charset=utf-8"})

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(await request.aread())


def add_response(request: bytes | None, result: int, *, version: str = "1.1", body_id: str | None = None, security: str = "") -> bytes:
    ns = SOAP12 if version == "1.2" else SOAP11
    bid = f' wsu:Id="{body_id}"' if body_id else ""
    header = f"<soap:Header>{security}</soap:Header>" if security else ""
    return (
        f'<soap:Envelope xmlns:soap="{ns}" xmlns:wsu="{WSU}" xmlns:wsse="{WSSE}">{header}'
        f'<soap:Body{bid}><c:AddResponse xmlns:c="{CALC}"><c:result>{result}</c:result></c:AddResponse></soap:Body></soap:Envelope>'
    ).encode()


def load(wsse: dict[str, Any], upstream: Upstream | None = None, **settings: Any) -> tuple[bridge.Bridge, Upstream]:
    upstream = upstream or Upstream()
    b = bridge.load(sample("calculator.wsdl"), endpoint="http://service.invalid/calc", transport=upstream, wsse=wsse, **settings)
    return b, upstream


def security_of(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope)
    sec = root.find(f"{{{SOAP11}}}Header/{{{WSSE}}}Security")
    if sec is None:
        sec = root.find(f"{{{SOAP12}}}Header/{{{WSSE}}}Security")
    assert sec is not None, envelope
    return sec


# --- UsernameToken and Timestamp ---------------------------------------------------------------------


def test_password_text_token_and_must_understand() -> None:
    b, up = load({"username": "svc-user", "password": PASSWORD, "password_type": "text", "timestamp": 0})
    assert b.call("Add", {"a": 1, "b": 2}) == {"result": 3}
    sec = security_of(up.sent[0])
    assert sec.get(f"{{{SOAP11}}}mustUnderstand") == "1"
    token = sec.find("wsse:UsernameToken", NS)
    assert token.findtext("wsse:Username", namespaces=NS) == "svc-user"
    pw = token.find("wsse:Password", NS)
    assert pw.get("Type").endswith("#PasswordText") and pw.text == PASSWORD
    assert sec.find("wsu:Timestamp", NS) is None  # timestamp: 0


def test_password_digest_follows_the_oasis_formula() -> None:
    b, up = load({"username": "svc-user", "password": PASSWORD, "password_type": "digest"})
    b.call("Add", {"a": 1, "b": 2})
    b.call("Add", {"a": 1, "b": 2})
    nonces = []
    for sent in up.sent:
        token = security_of(sent).find("wsse:UsernameToken", NS)
        nonce = token.findtext("wsse:Nonce", namespaces=NS)
        created = token.findtext("wsu:Created", namespaces=NS)
        expected = base64.b64encode(hashlib.sha1(base64.b64decode(nonce) + created.encode() + PASSWORD.encode()).digest()).decode()
        pw = token.find("wsse:Password", NS)
        assert pw.get("Type").endswith("#PasswordDigest")
        assert pw.text == expected
        assert PASSWORD.encode() not in sent
        assert len(base64.b64decode(nonce)) == 16
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_password_digest_agrees_with_node_soap() -> None:
    node = _need("node")
    module = ROOT / "tests/interop/node/node_modules/soap"
    if not module.is_dir():
        if _ci():
            pytest.fail("node-soap is not installed; CI=true requires it (run .ci/install-peers)", pytrace=False)
        pytest.skip("node-soap is not installed (run .ci/install-peers)")
    b, up = load({"username": "svc-user", "password": PASSWORD, "password_type": "digest"})
    b.call("Add", {"a": 1, "b": 2})
    token = security_of(up.sent[0]).find("wsse:UsernameToken", NS)
    nonce, created = token.findtext("wsse:Nonce", namespaces=NS), token.findtext("wsu:Created", namespaces=NS)
    script = f"process.stdout.write(require({json.dumps(str(module))}).passwordDigest(process.argv[1], process.argv[2], process.argv[3]))"
    digest = subprocess.run([node, "-e", script, nonce, created, PASSWORD], capture_output=True, text=True, check=True, timeout=60).stdout
    assert digest == token.findtext("wsse:Password", namespaces=NS)


def test_timestamp_lasts_the_configured_ttl() -> None:
    b, up = load({"username": "u", "password": PASSWORD, "timestamp": 120})
    b.call("Add", {"a": 1, "b": 2})
    ts = security_of(up.sent[0]).find("wsu:Timestamp", NS)
    created = dt.datetime.fromisoformat(ts.findtext("wsu:Created", namespaces=NS).replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(ts.findtext("wsu:Expires", namespaces=NS).replace("Z", "+00:00"))
    assert expires - created == dt.timedelta(seconds=120)
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 60


def _wsse_schema() -> xmlschema.XMLSchema:
    schemas = ROOT / "bridge/xsd/schemas"
    base = Path(xmlschema.__file__).parent / "schemas"
    return xmlschema.XMLSchema(
        str(schemas / "oasis-wss-wssecurity-secext-1.0.xsd"),
        locations=[
            (WSU, str(schemas / "oasis-wss-wssecurity-utility-1.0.xsd")),
            (DS, str(base / "DSIG/xmldsig-core-schema.xsd")),
            ("http://www.w3.org/XML/1998/namespace", str(base / "XML/xml.xsd")),
        ],
    )


@pytest.mark.parametrize("password_type", ["text", "digest"])
def test_security_header_validates_against_the_wsse_schemas(pki: dict[str, Path], password_type: str) -> None:
    schema = _wsse_schema()
    sign = {"key": str(pki["client.key"]), "cert": str(pki["client.crt"])}
    b, up = load({"username": "svc-user", "password": PASSWORD, "password_type": password_type, "sign": sign})
    b.call("Add", {"a": 1, "b": 2})
    sec = security_of(up.sent[0])
    schema.validate(sec)
    wsu = xmlschema.XMLSchema(str(ROOT / "bridge/xsd/schemas/oasis-wss-wssecurity-utility-1.0.xsd"))
    wsu.validate(sec.find("wsu:Timestamp", NS))
    # the oracles can fail: Expires before Created, a UsernameToken without a Username
    assert not wsu.is_valid(etree.fromstring(f'<wsu:Timestamp xmlns:wsu="{WSU}"><wsu:Expires>x</wsu:Expires><wsu:Created>x</wsu:Created></wsu:Timestamp>'))
    assert not schema.is_valid(etree.fromstring(f'<s:Security xmlns:s="{WSSE}"><s:UsernameToken><s:Password>x</s:Password></s:UsernameToken></s:Security>'))


# --- signatures, verified by xmlsec1 -----------------------------------------------------------------


def xmlsec1_verify(envelope: bytes, cert: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    tool = _need("xmlsec1")
    f = tmp_path / "signed.xml"
    f.write_bytes(envelope)
    ids = []
    for ns, name in ((SOAP11, "Body"), (SOAP12, "Body"), (WSU, "Timestamp"), (CALC, "Route")):
        ids += ["--id-attr:Id", f"{ns}:{name}"]
    return subprocess.run([tool, "--verify", "--pubkey-cert-pem", str(cert), *ids, str(f)], capture_output=True, text=True, timeout=60)


def _referenced(sec: etree._Element) -> list[str]:
    return [r.get("URI") for r in sec.iterfind("ds:Signature/ds:SignedInfo/ds:Reference", NS)]


@pytest.mark.parametrize(
    ("port", "algorithm", "reference"),
    [
        ("CalculatorSoap", "rsa-sha256", "binary_token"),
        ("CalculatorSoap12", "rsa-sha256", "key_identifier"),
        ("CalculatorSoap", "rsa-sha1", "key_identifier"),
        ("CalculatorSoap12", "rsa-sha1", "binary_token"),
    ],
)
def test_xmlsec1_verifies_the_signature(pki: dict[str, Path], tmp_path: Path, port: str, algorithm: str, reference: str) -> None:
    sign = {"key": str(pki["client.key"]), "cert": str(pki["client.crt"]), "algorithm": algorithm, "reference": reference}
    version = "1.2" if port.endswith("12") else "1.1"
    up = Upstream(lambda body: add_response(body, 3, version=version))
    b, up = load({"sign": sign}, up, ports={"CalculatorService": port})
    assert b.call("Add", {"a": 1, "b": 2}) == {"result": 3}
    sent = up.sent[0]
    result = xmlsec1_verify(sent, pki["client.crt"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 2/2" in result.stderr
    root = etree.fromstring(sent)
    env = SOAP12 if version == "1.2" else SOAP11
    sec = security_of(sent)
    assert sec.get(f"{{{env}}}mustUnderstand") == ("true" if version == "1.2" else "1")
    body_id = root.find(f"{{{env}}}Body").get(f"{{{WSU}}}Id")
    ts_id = sec.find("wsu:Timestamp", NS).get(f"{{{WSU}}}Id")
    assert sorted(_referenced(sec)) == sorted([f"#{body_id}", f"#{ts_id}"])
    method = sec.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm")
    assert method.endswith(algorithm)
    assert sec.find("ds:Signature/ds:SignedInfo/ds:CanonicalizationMethod", NS).get("Algorithm") == "http://www.w3.org/2001/10/xml-exc-c14n#"
    str_ = sec.find("ds:Signature/ds:KeyInfo/wsse:SecurityTokenReference", NS)
    if reference == "binary_token":
        bst = sec.find("wsse:BinarySecurityToken", NS)
        der = x509.load_pem_x509_certificate(pki["client.crt"].read_bytes()).public_bytes(serialization.Encoding.DER)
        assert base64.b64decode(bst.text) == der
        assert str_.find("wsse:Reference", NS).get("URI") == "#" + bst.get(f"{{{WSU}}}Id")
    else:
        assert sec.find("wsse:BinarySecurityToken", NS) is None
        cert = x509.load_pem_x509_certificate(pki["client.crt"].read_bytes())
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        assert base64.b64decode(str_.findtext("wsse:KeyIdentifier", namespaces=NS)) == ski
    # the oracle can fail: a changed Body, or another certificate, does not verify
    tampered = sent.replace(b"<ns0:a>1</ns0:a>", b"<ns0:a>7</ns0:a>")
    assert tampered != sent
    assert xmlsec1_verify(tampered, pki["client.crt"], tmp_path).returncode != 0
    assert xmlsec1_verify(sent, pki["other.crt"], tmp_path).returncode != 0


def test_configured_headers_are_signed_and_every_id_is_unique(pki: dict[str, Path], tmp_path: Path) -> None:
    sign = {"key": str(pki["client.key"]), "cert": str(pki["client.crt"]), "headers": [f"{{{CALC}}}Route"]}
    b, up = load({"username": "u", "password": PASSWORD, "sign": sign})
    # a header the request carries (the WSDL declares none here: put one in, with an Id the Body gets too)
    original = b.encode_request

    def with_header(op: Any, data: Any) -> bytes:
        env = original(op, data)
        return env.replace(b"<soap:Body>", f'<soap:Header><c:Route xmlns:c="{CALC}" xmlns:wsu="{WSU}" wsu:Id="dup">east</c:Route></soap:Header><soap:Body xmlns:wsu="{WSU}" wsu:Id="dup">'.encode())

    b.encode_request = with_header  # type: ignore[method-assign]
    b.call("Add", {"a": 1, "b": 2})
    sent = up.sent[0]
    root = etree.fromstring(sent)
    ids = [el.get(f"{{{WSU}}}Id") for el in root.iter() if el.get(f"{{{WSU}}}Id")]
    assert len(ids) == len(set(ids)) == 5  # Body, Timestamp, UsernameToken, BinarySecurityToken, Route
    route = root.find(f"{{{SOAP11}}}Header/{{{CALC}}}Route")
    assert "#" + route.get(f"{{{WSU}}}Id") in _referenced(security_of(sent))
    result = xmlsec1_verify(sent, pki["client.crt"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 3/3" in result.stderr


# --- signed replies, signed by xmlsec1 ---------------------------------------------------------------


def xmlsec1_sign(template: bytes, key: Path, tmp_path: Path) -> bytes:
    tool = _need("xmlsec1")
    f = tmp_path / "template.xml"
    f.write_bytes(template)
    ids = ["--id-attr:Id", f"{SOAP11}:Body", "--id-attr:Id", f"{WSU}:Timestamp"]
    result = subprocess.run([tool, "--sign", "--privkey-pem", str(key), *ids, str(f)], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def signed_reply(
    key: Path, tmp_path: Path, *, expires: dt.timedelta = dt.timedelta(minutes=5), result: int = 3, token: Path | None = None
) -> bytes:
    """A reply as a WS-Security stack would send it, signed by xmlsec1 from this template."""
    now = dt.datetime.now(dt.UTC)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    ref = "".join(
        f'<ds:Reference URI="#{i}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>'
        for i in ("body-1", "ts-1")
    )
    bst = key_info = ""
    if token is not None:  # the signer's certificate in a BinarySecurityToken, referred to from KeyInfo
        der = x509.load_pem_x509_certificate(token.read_bytes()).public_bytes(serialization.Encoding.DER)
        x509v3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
        bst = (
            f'<wsse:BinarySecurityToken wsu:Id="cert-1" ValueType="{x509v3}" EncodingType="http://docs.oasis-open.org/wss/2004/01/'
            f'oasis-200401-wss-soap-message-security-1.0#Base64Binary">{base64.b64encode(der).decode()}</wsse:BinarySecurityToken>'
        )
        key_info = f'<ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#cert-1" ValueType="{x509v3}"/></wsse:SecurityTokenReference></ds:KeyInfo>'
    security = (
        f'<wsse:Security soap:mustUnderstand="1">{bst}<wsu:Timestamp wsu:Id="ts-1"><wsu:Created>{(now - dt.timedelta(minutes=1)).strftime(fmt)}</wsu:Created>'
        f"<wsu:Expires>{(now + expires).strftime(fmt)}</wsu:Expires></wsu:Timestamp>"
        f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        f'<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>{ref}</ds:SignedInfo>'
        f"<ds:SignatureValue/>{key_info}</ds:Signature></wsse:Security>"
    )
    return xmlsec1_sign(add_response(None, result, body_id="body-1", security=security), key, tmp_path)


def verifying(pki: dict[str, Path], reply: bytes | None, *, required: bool = True, cert: str = "service.crt") -> bridge.Bridge:
    wsse = {"verify_reply": {"cert": str(pki[cert]), "required": required}}
    b, _ = load(wsse, Upstream(reply if reply is not None else add_response(None, 3)))
    return b


def test_a_reply_signed_by_xmlsec1_is_accepted(pki: dict[str, Path], tmp_path: Path) -> None:
    reply = signed_reply(pki["service.key"], tmp_path, result=41)
    assert verifying(pki, reply).call("Add", {"a": 1, "b": 2}) == {"result": 41}


@pytest.mark.parametrize("case", ["tampered body", "wrong certificate", "expired timestamp", "missing signature", "wrapped body"])
def test_a_bad_reply_signature_is_a_502(pki: dict[str, Path], tmp_path: Path, case: str) -> None:
    reply = signed_reply(pki["service.key"], tmp_path, expires=dt.timedelta(minutes=-10) if case == "expired timestamp" else dt.timedelta(minutes=5))
    cert = "service.crt"
    if case == "tampered body":
        reply = reply.replace(b"<c:result>3</c:result>", b"<c:result>4</c:result>")
    elif case == "wrong certificate":
        cert = "other.crt"
    elif case == "missing signature":
        reply = add_response(None, 3)
    elif case == "wrapped body":  # the signed Body moved into the Header, a forged one in its place
        root = etree.fromstring(reply)
        body = root.find(f"{{{SOAP11}}}Body")
        root.find(f"{{{SOAP11}}}Header").append(body)
        forged = etree.SubElement(root, f"{{{SOAP11}}}Body")
        forged.append(etree.fromstring(f'<c:AddResponse xmlns:c="{CALC}"><c:result>666</c:result></c:AddResponse>'))
        reply = etree.tostring(root)
    b = verifying(pki, reply, cert=cert)
    with pytest.raises(WsseError) as info:
        b.call("Add", {"a": 1, "b": 2})
    expected = {
        "tampered body": "does not verify",
        "wrong certificate": "does not verify",
        "expired timestamp": "has expired",
        "missing signature": "is not signed",
        "wrapped body": "does not cover its SOAP Body",
    }[case]
    assert expected in str(info.value)
    # the REST app: a 502 problem saying what failed
    response = _rest(b)
    assert response.status_code == 502
    problem = response.json()
    assert problem["type"] == "urn:soapbridge:problem:upstream:security"
    assert expected in problem["detail"]


def _rest(b: bridge.Bridge) -> httpx.Response:
    import asyncio

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=b.asgi()), base_url="http://rest.invalid") as c:
            op = b.operation("Add")
            return await c.request(op.http_method, op.path, json={"a": 1, "b": 2})

    return asyncio.run(go())


def make_issued(d: Path, name: str, ca_key: Any, ca_cert: Any) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key_path, cert_path = d / f"{name}.key", d / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_a_reply_signed_under_the_configured_ca(pki: dict[str, Path], tmp_path: Path) -> None:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=60))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    key, cert = make_issued(tmp_path, "issued", ca_key, ca)

    def call(reply: bytes) -> Any:
        b, _ = load({"verify_reply": {"ca": str(tmp_path / "ca.crt")}}, Upstream(reply))
        return b.call("Add", {"a": 1, "b": 2})

    assert call(signed_reply(key, tmp_path, token=cert, result=12)) == {"result": 12}
    # a self-signed certificate, or one the signature's key does not match, is refused
    with pytest.raises(WsseError, match="not issued by the configured CA"):
        call(signed_reply(pki["other.key"], tmp_path, token=pki["other.crt"]))
    with pytest.raises(WsseError, match="does not verify"):
        call(signed_reply(pki["other.key"], tmp_path, token=cert))
    with pytest.raises(WsseError, match="does not refer to a BinarySecurityToken"):
        call(signed_reply(key, tmp_path))


def test_an_unsigned_reply_passes_when_not_required(pki: dict[str, Path]) -> None:
    assert verifying(pki, add_response(None, 5), required=False).call("Add", {"a": 1, "b": 2}) == {"result": 5}


# --- configuration -------------------------------------------------------------------------------------


def test_config_file_with_environment_secrets_is_used_by_the_cli(pki: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("client.key", "client.crt", "service.crt"):
        shutil.copy(pki[name], keys / name)
    config = tmp_path / "bridge.yaml"
    config.write_text(
        "wsse:\n  username: svc-user\n  password: ${SOAP_PASSWORD}\n  password_type: digest\n  timestamp: 300\n"
        "  sign: {key: keys/client.key, cert: keys/client.crt, algorithm: rsa-sha256}\n"
        "  verify_reply: {cert: keys/service.crt, required: false}\n"
    )
    monkeypatch.setenv("SOAP_PASSWORD", PASSWORD)
    b = bridge.load(sample("calculator.wsdl"), config=config, endpoint="http://x.invalid/")
    assert b.settings.wsse is not None and b.settings.wsse.password == PASSWORD
    assert PASSWORD not in repr(b.settings)
    monkeypatch.delenv("SOAP_PASSWORD")
    with pytest.raises(ConfigError, match="SOAP_PASSWORD is not set"):
        bridge.load(sample("calculator.wsdl"), config=config)


def _config_error(wsse: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        bridge.load(sample("calculator.wsdl"), wsse=wsse)
    assert PASSWORD not in str(info.value)
    return str(info.value)


def test_bad_configuration_is_a_config_error_at_load(pki: dict[str, Path], tmp_path: Path) -> None:
    k, c = str(pki["client.key"]), str(pki["client.crt"])
    assert "cannot read" in _config_error({"sign": {"key": str(tmp_path / "missing.key"), "cert": c}})
    assert "does not match the key" in _config_error({"sign": {"key": k, "cert": str(pki["other.crt"])}})
    assert "expired on" in _config_error({"sign": {"key": str(pki["expired.key"]), "cert": str(pki["expired.crt"])}})
    assert "expired on" in _config_error({"verify_reply": {"cert": str(pki["expired.crt"])}})
    assert "password is wrong" in _config_error({"sign": {"key": str(pki["locked.key"]), "cert": str(pki["locked.crt"]), "password": PASSWORD}})
    assert "is encrypted" in _config_error({"sign": {"key": str(pki["locked.key"]), "cert": str(pki["locked.crt"])}})
    assert "Subject Key Identifier" in _config_error({"sign": {"key": str(pki["noski.key"]), "cert": str(pki["noski.crt"]), "reference": "key_identifier"}})
    assert "password_type" in _config_error({"username": "u", "password": PASSWORD, "password_type": "plain"})
    assert "algorithm" in _config_error({"sign": {"key": k, "cert": c, "algorithm": "dsa-md5"}})
    assert "unknown key" in _config_error({"username": "u", "password": PASSWORD, "pasword_type": "text"})
    # the right password opens the encrypted key
    bridge.load(sample("calculator.wsdl"), wsse={"sign": {"key": str(pki["locked.key"]), "cert": str(pki["locked.crt"]), "password": "key-pass"}})


def test_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "soap-password"
    secret.write_text(PASSWORD + "\n")
    b, up = load({"username": "u", "password_file": str(secret)})
    b.call("Add", {"a": 1, "b": 2})
    assert security_of(up.sent[0]).findtext("wsse:UsernameToken/wsse:Password", namespaces=NS) == PASSWORD


def test_secrets_stay_out_of_logs_and_the_spec(pki: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    plain = bridge.load(sample("calculator.wsdl"), endpoint="http://x.invalid/").openapi()
    caplog.set_level(logging.DEBUG)
    sign = {"key": str(pki["client.key"]), "cert": str(pki["client.crt"])}
    b, _ = load({"username": "svc-user", "password": PASSWORD, "sign": sign}, Upstream(b"<not-soap/>"))
    with pytest.raises(Exception):  # noqa: B017 - any failure: what matters is what was logged
        b.call("Add", {"a": 1, "b": 2})
    assert caplog.records
    assert PASSWORD not in caplog.text
    assert b.openapi() == plain  # outbound security is not the REST consumer's concern
    assert PASSWORD not in json.dumps(b.openapi())


# --- the mock ------------------------------------------------------------------------------------------


def _mocked(wsse: dict[str, Any], req: MockRequirements) -> bridge.Bridge:
    model = load_model(sample("calculator.wsdl"))
    transport = httpx.ASGITransport(app=MockService(model, wsse=req).asgi())
    return bridge.load(sample("calculator.wsdl"), endpoint="http://mock.invalid/", transport=transport, wsse=wsse)  # type: ignore[arg-type]


async def _acall(b: bridge.Bridge) -> Any:
    return await b.acall("Add", {"a": 1, "b": 2})


@pytest.mark.parametrize("password_type", ["text", "digest"])
def test_the_mock_checks_the_username_token(password_type: str) -> None:
    import asyncio

    req = MockRequirements(username="svc-user", password=PASSWORD, timestamp=True)
    assert "result" in asyncio.run(_acall(_mocked({"username": "svc-user", "password": PASSWORD, "password_type": password_type}, req)))
    for wsse, reason in [
        ({"username": "svc-user", "password": "wrong", "password_type": password_type}, "wrong password"),
        ({"username": "svc-user", "password": PASSWORD, "timestamp": 0}, "no wsu:Timestamp"),
    ]:
        with pytest.raises(bridge.SoapFault) as info:
            asyncio.run(_acall(_mocked(wsse, req)))
        assert reason in info.value.reason


def test_the_mock_checks_the_signature(pki: dict[str, Path]) -> None:
    import asyncio

    req = MockRequirements(cert=str(pki["client.crt"]))
    assert "result" in asyncio.run(_acall(_mocked({"sign": {"key": str(pki["client.key"]), "cert": str(pki["client.crt"])}}, req)))
    with pytest.raises(bridge.SoapFault) as info:
        asyncio.run(_acall(_mocked({"sign": {"key": str(pki["other.key"]), "cert": str(pki["other.crt"])}}, req)))
    assert "does not verify" in info.value.reason
    with pytest.raises(bridge.SoapFault) as info:
        asyncio.run(_acall(_mocked({"username": "u", "password": PASSWORD}, req)))
    assert "not signed" in info.value.reason


# --- recorded contracts ----------------------------------------------------------------------------------


def test_recordings_redact_wsse_secrets_and_stay_stable(pki: dict[str, Path], tmp_path: Path) -> None:
    from bridge.recording import recordings, redact_url

    config = tmp_path / "bridge.json"
    sign = {"key": str(pki["client.key"]), "cert": str(pki["client.crt"])}
    config.write_text(json.dumps({"wsse": {"username": "svc-user", "password": PASSWORD, "password_type": "digest", "sign": sign}}))
    first = recordings(sample("calculator.wsdl"), config=config)
    text = "".join(first.values())
    assert "wsse:UsernameToken" in text and "ds:Signature" in text  # the bridge did sign what it recorded
    assert PASSWORD not in text
    cert_b64 = base64.b64encode(x509.load_pem_x509_certificate(pki["client.crt"].read_bytes()).public_bytes(serialization.Encoding.DER)).decode()
    assert cert_b64[:40] not in text
    for tag in ("wsse:Password", "wsse:Nonce", "ds:SignatureValue", "ds:DigestValue", "wsu:Created"):
        assert tag in text
    assert all(">***<" in line for line in text.splitlines() if "<ds:SignatureValue" in line or "<wsse:Nonce" in line or "<wsse:Password" in line)
    assert recordings(sample("calculator.wsdl"), config=config) == first  # nonces, times and Ids do not change the files
    assert redact_url(f"https://svc:{PASSWORD}@host.example:8443/calc?x=1") == "https://***@host.example:8443/calc?x=1"
    assert redact_url("http://host/calc") == "http://host/calc"


# --- the command line: soapbridge mock --require-wsse and soapbridge call --config ----------------------


@pytest.mark.slow
def test_cli_call_with_wsse_against_the_mock_that_requires_it(pki: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_cli import CLI, Running

    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("client.key", "client.crt"):
        shutil.copy(pki[name], keys / name)
    (tmp_path / "mock-wsse.yaml").write_text("username: svc-user\npassword: ${SOAP_PASSWORD}\ncert: keys/client.crt\ntimestamp: true\n")
    (tmp_path / "bridge.yaml").write_text(
        "wsse:\n  username: svc-user\n  password: ${SOAP_PASSWORD}\n  password_type: digest\n  sign: {key: keys/client.key, cert: keys/client.crt}\n"
    )
    (tmp_path / "plain.yaml").write_text("wsse:\n  username: svc-user\n  password: wrong-password\n")
    monkeypatch.setenv("SOAP_PASSWORD", PASSWORD)  # the subprocesses inherit it
    env = dict(os.environ)
    mock = Running("mock", "calculator", "--port", "0", "--require-wsse", str(tmp_path / "mock-wsse.yaml"), until="operations on")
    try:
        url = next(w for w in mock.text.split() if w.startswith("http://"))
        call = [CLI, "call", "calculator", "Add", "--data", '{"a": 2, "b": 3}', "--backend", url]
        ok = subprocess.run([*call, "--config", str(tmp_path / "bridge.yaml")], capture_output=True, text=True, env=env, timeout=120)
        assert ok.returncode == 0, ok.stderr
        assert "result" in ok.stdout
        refused = subprocess.run([*call, "--config", str(tmp_path / "plain.yaml")], capture_output=True, text=True, env=env, timeout=120)
        assert refused.returncode != 0
        assert "FailedAuthentication" in refused.stdout + refused.stderr
        assert PASSWORD not in ok.stdout + ok.stderr + refused.stdout + refused.stderr
    finally:
        mock.stop()


def test_settings_per_service() -> None:
    # the service's own keys over the section's: here its own password, the section's username
    b, up = load({"username": "svc-user", "password": "section-password", "services": {"CalculatorService": {"password": PASSWORD}}})
    b.call("Add", {"a": 1, "b": 2})
    token = security_of(up.sent[0]).find("wsse:UsernameToken", NS)
    assert token.findtext("wsse:Username", namespaces=NS) == "svc-user"
    assert token.findtext("wsse:Password", namespaces=NS) == PASSWORD
    # only the services listed get WS-Security when the section has nothing of its own
    b, up = load({"services": {"CalculatorService": {"username": "u", "password": PASSWORD}}})
    b.call("Add", {"a": 1, "b": 2})
    assert security_of(up.sent[0]).find("wsse:UsernameToken", NS) is not None
    assert "no service named Nope" in _config_error({"username": "u", "password": PASSWORD, "services": {"Nope": {"password_type": "digest"}}})
    assert "wsse.services.CalculatorService.password_type" in _config_error({"services": {"CalculatorService": {"username": "u", "password": "p", "password_type": "x"}}})


def test_must_understand_can_be_left_out() -> None:
    b, up = load({"username": "u", "password": PASSWORD, "must_understand": False})
    b.call("Add", {"a": 1, "b": 2})
    assert security_of(up.sent[0]).get(f"{{{SOAP11}}}mustUnderstand") is None


# --- WS-Security with MTOM attachments ---------------------------------------------------------------
# XOP semantics (XOP 1.0 §3.2, as WSS stacks apply it): a receiver puts the base64 of each part back
# where its xop:Include stands, and verifies the signature over that envelope. The reconstruction
# here is the stdlib email parser and lxml, not bridge.mime; the verifier is xmlsec1.

FILES_NS = "http://soapbridge.dev/samples/files"
XOP = "http://www.w3.org/2004/08/xop/include"


def _mime_parts(content_type: str, body: bytes) -> tuple[email.message.Message, list[email.message.Message]]:
    msg = email.message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP)
    return msg, list(msg.iter_parts())


def xop_reconstruct(content_type: str, body: bytes) -> tuple[bytes, int]:
    """The envelope of an MTOM message with every xop:Include replaced by its part's bytes in base64,
    and how many there were."""
    msg, parts = _mime_parts(content_type, body)
    assert msg.get_content_type() == "multipart/related" and msg.get_param("type") == "application/xop+xml"
    root_part = next(p for p in parts if p["Content-ID"] == msg.get_param("start"))
    by_cid = {p["Content-ID"].strip("<>"): p for p in parts if p is not root_part}
    root = etree.fromstring(root_part.get_payload(decode=True), etree.XMLParser(huge_tree=True))
    includes = list(root.iter(f"{{{XOP}}}Include"))
    for include in includes:
        parent = include.getparent()
        cid = include.get("href")[4:]
        parent.remove(include)
        parent.text = base64.b64encode(by_cid[cid].get_payload(decode=True)).decode()
    return etree.tostring(root), len(includes)


def files_bridge(pki: dict[str, Path], upstream: Upstream, **settings: Any) -> bridge.Bridge:
    sign = {"key": str(pki["client.key"]), "cert": str(pki["client.crt"])}
    return bridge.load(
        sample("files.wsdl"), endpoint="http://service.invalid/files", transport=upstream, cache_dir=None,
        wsse={"username": "u", "password": PASSWORD, "sign": sign}, **settings,
    )  # fmt: skip


class Recorder(Upstream):
    """Keeps each request's Content-Type with its body."""

    def __init__(self, reply: Any) -> None:
        super().__init__(reply)
        self.types: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.types.append(request.headers["content-type"])
        return super().handle_request(request)


def _upload_reply(body: bytes) -> bytes:
    return f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><f:UploadResponse xmlns:f="{FILES_NS}"><f:size>1</f:size><f:sha256>x</f:sha256></f:UploadResponse></s:Body></s:Envelope>'.encode()


@pytest.mark.parametrize(
    ("size", "content"),
    [
        (10_000, "canonical"),
        (9 * 1024 * 1024, "canonical"),  # base64 over libxml2's 10 MB text-node limit
        (10_000, "wrapped at 76"),  # MIME-style line breaks: not canonical base64, so it stays inline (XOP 1.0 §3.1)
    ],
)
def test_a_signed_mtom_request_verifies_after_xop_reconstruction(pki: dict[str, Path], tmp_path: Path, size: int, content: str) -> None:
    data = os.urandom(size)
    text = base64.b64encode(data).decode()
    if content == "wrapped at 76":
        text = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    up = Recorder(_upload_reply)
    with files_bridge(pki, up, max_request_bytes=64 * 1024 * 1024, json_limits={"max_string_length": 64 * 1024 * 1024}) as b:
        assert b.call("Upload", {"name": "n", "content": text}) == {"size": 1, "sha256": "x"}
    ctype, body = up.types[0], up.sent[0]
    if content == "wrapped at 76":
        assert ctype.startswith("text/xml")
        envelope, includes = body, 0
    else:
        assert ctype.startswith("multipart/related")
        envelope, includes = xop_reconstruct(ctype, body)
        assert includes == 1
        assert b"<xop:Include" not in envelope
    result = xmlsec1_verify(envelope, pki["client.crt"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 2/2" in result.stderr  # Body and Timestamp
    got = etree.fromstring(envelope, etree.XMLParser(huge_tree=True)).findtext(f".//{{{FILES_NS}}}content")
    assert base64.b64decode(got) == data
    if includes:  # the oracle can fail: one byte of the attachment changed, and the signature breaks
        _, parts = _mime_parts(ctype, body)
        binary = parts[1].get_payload(decode=True)
        tampered_body = body.replace(binary[:64], bytes([binary[0] ^ 1]) + binary[1:64], 1)
        tampered, _ = xop_reconstruct(ctype, tampered_body)
        assert xmlsec1_verify(tampered, pki["client.crt"], tmp_path).returncode != 0


def _signed_download(key: Path, tmp_path: Path, data: bytes) -> bytes:
    """A Download reply with the content inline, signed by xmlsec1 (Body and Timestamp)."""
    now = dt.datetime.now(dt.UTC)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    ref = "".join(
        f'<ds:Reference URI="#{i}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>'
        for i in ("body-1", "ts-1")
    )
    template = (
        f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:wsu="{WSU}" xmlns:wsse="{WSSE}"><soap:Header>'
        f'<wsse:Security soap:mustUnderstand="1"><wsu:Timestamp wsu:Id="ts-1"><wsu:Created>{(now - dt.timedelta(minutes=1)).strftime(fmt)}</wsu:Created>'
        f"<wsu:Expires>{(now + dt.timedelta(minutes=5)).strftime(fmt)}</wsu:Expires></wsu:Timestamp>"
        f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        f'<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>{ref}</ds:SignedInfo>'
        "<ds:SignatureValue/></ds:Signature></wsse:Security></soap:Header>"
        f'<soap:Body wsu:Id="body-1"><ns2:DownloadResponse xmlns:ns2="{FILES_NS}"><ns2:content>{base64.b64encode(data).decode()}</ns2:content>'
        "</ns2:DownloadResponse></soap:Body></soap:Envelope>"
    ).encode()
    return xmlsec1_sign(template, key, tmp_path)


def _as_mtom(envelope: bytes) -> tuple[bytes, str]:
    """A signed envelope sent as MTOM the way the JAX-WS RI writes it: the base64Binary value moved
    into a binary part, an xop:Include (declaring its own xop prefix) in its place."""
    root = etree.fromstring(envelope, etree.XMLParser(huge_tree=True))
    content = root.find(f".//{{{FILES_NS}}}content")
    data = base64.b64decode(content.text)
    content.text = None
    etree.SubElement(content, f"{{{XOP}}}Include", nsmap={"xop": XOP}).set("href", "cid:5aeaa450@example.jaxws.sun.com")
    boundary = "uuid:0b5f5a3c-8f0e-4a49-9d0b-6a6f1a4c3b21"
    body = (
        f'--{boundary}\r\nContent-Id: <rootpart*0b5f5a3c@example.jaxws.sun.com>\r\nContent-Type: application/xop+xml;charset=utf-8;type="text/xml"\r\n'
        "Content-Transfer-Encoding: binary\r\n\r\n".encode()
        + etree.tostring(root, xml_declaration=True, encoding="utf-8")
        + f"\r\n--{boundary}\r\nContent-Id: <5aeaa450@example.jaxws.sun.com>\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: binary\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--".encode()
    )
    ct = f'multipart/related;start="<rootpart*0b5f5a3c@example.jaxws.sun.com>";type="application/xop+xml";boundary="{boundary}";start-info="text/xml"'
    return body, ct


class MultipartReply(Upstream):
    def __init__(self, body: bytes, content_type: str) -> None:
        super().__init__()
        self.body, self.content_type = body, content_type

    def _answer(self, body: bytes) -> httpx.Response:
        return httpx.Response(200, content=self.body, headers={"content-type": self.content_type})


@pytest.mark.parametrize("case", ["as signed", "attachment changed"])
def test_a_signed_mtom_reply_is_verified_after_xop_reconstruction(pki: dict[str, Path], tmp_path: Path, case: str) -> None:
    data = os.urandom(50_000)
    signed = _signed_download(pki["service.key"], tmp_path, data)
    assert xmlsec1_verify(signed, pki["service.crt"], tmp_path).returncode == 0  # the signed inline envelope, as sent
    body, ct = _as_mtom(signed)
    if case == "attachment changed":
        body = body.replace(data[:32], bytes([data[0] ^ 1]) + data[1:32], 1)
    wsse = {"verify_reply": {"cert": str(pki["service.crt"])}}
    with bridge.load(sample("files.wsdl"), endpoint="http://service.invalid/files", transport=MultipartReply(body, ct), cache_dir=None, wsse=wsse) as b:
        if case == "as signed":
            assert base64.b64decode(b.call("Download", {"name": "x"})["content"]) == data
        else:
            with pytest.raises(WsseError, match="does not verify"):
                b.call("Download", {"name": "x"})


def test_a_signed_swa_request_signs_the_envelope_as_sent(pki: dict[str, Path], tmp_path: Path) -> None:
    """SwA (the WSDL binds the photo to a MIME part): the bound part leaves the Body before signing,
    so the root part as sent verifies; the attachment itself is not covered (no WSS SwA profile)."""
    from tests.test_mtom import SWA_WSDL

    wsdl = tmp_path / "claims.wsdl"
    wsdl.write_text(SWA_WSDL)
    reply = f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><c:SendClaimResponse xmlns:c="urn:claims"><status>ok</status></c:SendClaimResponse></s:Body></s:Envelope>'.encode()
    up = Recorder(reply)
    sign = {"key": str(pki["client.key"]), "cert": str(pki["client.crt"])}
    photo = os.urandom(5000)
    with bridge.load(wsdl, endpoint="http://service.invalid/claims", transport=up, cache_dir=None, wsse={"sign": sign}) as b:
        assert b.call("SendClaim", {"ClaimDetail": "dented", "ClaimPhoto": base64.b64encode(photo).decode()}) == {"status": "ok"}
    msg, parts = _mime_parts(up.types[0], up.sent[0])
    root = next(p for p in parts if p["Content-ID"] == msg.get_param("start"))
    envelope = root.get_payload(decode=True)
    assert b"ClaimPhoto" not in envelope and [p.get_payload(decode=True) for p in parts if p is not root] == [photo]
    result = xmlsec1_verify(envelope, pki["client.crt"], tmp_path)
    assert result.returncode == 0, result.stderr


def test_swaref_signed_both_ways(pki: dict[str, Path], tmp_path: Path) -> None:
    """A swaRef's value is its cid: URI (WS-I AP 1.0 §4.4; no XOP reconstruction): a signed request
    verifies on the envelope as sent, and a reply signed over its cid: text verifies though the
    bridge resolves it to the part's content."""
    from tests.test_mtom import CLAIMS, CLAIMS_NS

    form = os.urandom(3000)
    reply_env = (
        f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:wsu="{WSU}" xmlns:wsse="{WSSE}"><soap:Header><wsse:Security soap:mustUnderstand="1">'
        f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#body-1"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature></wsse:Security></soap:Header>"
        f'<soap:Body wsu:Id="body-1"><c:GetClaimFormResponse xmlns:c="{CLAIMS_NS}"><c:claimForm>cid:form-1@example.org</c:claimForm></c:GetClaimFormResponse></soap:Body></soap:Envelope>'
    ).encode()
    signed = xmlsec1_sign(reply_env, pki["service.key"], tmp_path)
    boundary = "MIME_boundary"
    body = (
        f"--{boundary}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <claim@example.org>\r\n\r\n".encode()
        + signed
        + f"\r\n--{boundary}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <form-1@example.org>\r\n\r\n".encode()
        + form
        + f"\r\n--{boundary}--\r\n".encode()
    )
    ct = f'multipart/related; boundary={boundary}; type="text/xml"; start="<claim@example.org>"'
    sign = {"key": str(pki["client.key"]), "cert": str(pki["client.crt"])}
    sent: list[tuple[str, bytes]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.headers["content-type"], request.read()))
        if "GetClaimForm" in request.headers["soapaction"]:
            return httpx.Response(200, content=body, headers={"content-type": ct})
        plain = f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><c:SendClaimResponse xmlns:c="{CLAIMS_NS}"><c:claimId>c</c:claimId></c:SendClaimResponse></s:Body></s:Envelope>'
        return httpx.Response(200, content=plain.encode(), headers={"content-type": "text/xml"})

    verify = {"required": False, "cert": str(pki["service.crt"])}  # the SendClaim reply here is not signed
    wsse = {"sign": sign, "verify_reply": verify}
    with bridge.load(CLAIMS, endpoint="http://service.invalid/claims", transport=httpx.MockTransport(answer), cache_dir=None, wsse=wsse) as b:
        assert base64.b64decode(b.call("GetClaimForm", {"claimId": "1"})["claimForm"]) == form
        assert b.call("SendClaim", {"name": "n", "claimForm": base64.b64encode(form).decode()}) == {"claimId": "c"}
        tampered = body.replace(b"cid:form-1@example.org", b"cid:form-2@example.org").replace(b"<form-1@", b"<form-2@")
        body = tampered  # another part named: the signed cid: text no longer matches
        with pytest.raises(WsseError, match="does not verify"):
            b.call("GetClaimForm", {"claimId": "1"})
    msg, parts = _mime_parts(*sent[1])
    root = next(p for p in parts if p["Content-ID"] == msg.get_param("start"))
    envelope = root.get_payload(decode=True)
    assert etree.fromstring(envelope).findtext(f".//{{{CLAIMS_NS}}}claimForm").startswith("cid:")
    result = xmlsec1_verify(envelope, pki["client.crt"], tmp_path)
    assert result.returncode == 0, result.stderr
