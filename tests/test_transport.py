"""Transport to the service (issue 14): mutual TLS, HTTP(S) proxies with NO_PROXY, HTTP Basic and
Digest auth, secrets from the environment, and bad configuration failing at load.

The peers are real: a uvicorn TLS server that requires a client certificate (from a test CA made
here with ``cryptography``), a forwarding proxy on 127.0.0.1 (CONNECT and absolute-form, written
here), and servers that check credentials. Each call goes through the sync path (httpx), the async
path (aiohttp) and the REST app.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import logging
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from starlette.testclient import TestClient

import bridge
from bridge.errors import ConfigError, UpstreamError
from bridge.mock import MockService
from bridge.settings import make_settings
from bridge.wsdl.loader import load_model
from tests.conftest import ServerThread, sample

HOW = ["sync", "async", "rest"]
ADD = {"a": 2, "b": 3}


def call(b: bridge.Bridge, how: str) -> Any:
    """One Add call through the library's sync or async path, or through the REST app (as JSON,
    or the problem's type)."""
    if how == "sync":
        with b:
            return b.call("Add", ADD)
    if how == "async":

        async def run() -> Any:
            try:
                return await b.acall("Add", ADD)
            finally:
                await b.aclose()

        return asyncio.run(run())
    r = TestClient(b.asgi()).post("/CalculatorService/Add", json=ADD)
    return r.json() if r.status_code == 200 else r.json()["type"]


def ok(result: Any) -> bool:
    """Whether a call returned the Add reply (the mock answers with a generated number)."""
    return isinstance(result, dict) and isinstance(result.get("result"), int)


def outcome(b: bridge.Bridge, how: str) -> Any:
    try:
        return call(b, how)
    except UpstreamError as exc:
        return f"urn:soapbridge:problem:upstream:{exc.kind}"


# --- a test CA --------------------------------------------------------------------------------


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path  # encrypted with PASSWORD
    other_key: Path  # a key that is not the client certificate's
    expired_cert: Path
    expired_key: Path
    rogue_cert: Path  # a client certificate from another CA
    rogue_key: Path


PASSWORD = "s3cret-key-pass"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(subject: str, key: rsa.RSAPrivateKey, issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None, *, ca: bool = False,
          server: bool = False, days: tuple[int, int] = (-1, 30)) -> x509.Certificate:  # fmt: skip
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if server:
        import ipaddress

        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate | None = None, key: rsa.RSAPrivateKey | None = None, password: str | None = None) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
        )
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca = _cert("soapbridge test CA", ca_key, None, ca=True)
    issuer = (ca.subject, ca_key)
    server_key, client_key, expired_key, rogue_ca_key, rogue_key = _key(), _key(), _key(), _key(), _key()
    rogue_ca = _cert("another CA", rogue_ca_key, None, ca=True)
    return Pki(
        ca=_write(d / "ca.crt", ca),
        server_cert=_write(d / "server.crt", _cert("127.0.0.1", server_key, issuer, server=True)),
        server_key=_write(d / "server.key", key=server_key),
        client_cert=_write(d / "client.crt", _cert("svc-client", client_key, issuer)),
        client_key=_write(d / "client.key", key=client_key, password=PASSWORD),
        other_key=_write(d / "other.key", key=_key()),
        expired_cert=_write(d / "expired.crt", _cert("svc-client", expired_key, issuer, days=(-30, -1))),
        expired_key=_write(d / "expired.key", key=expired_key),
        rogue_cert=_write(d / "rogue.crt", _cert("svc-client", rogue_key, (rogue_ca.subject, rogue_ca_key))),
        rogue_key=_write(d / "rogue.key", key=rogue_key),
    )


def calculator_app() -> Any:
    return MockService(load_model(sample("calculator.wsdl"))).asgi()


@pytest.fixture(scope="module")
def mtls_server(pki: Pki) -> Iterator[ServerThread]:
    """The calculator mock over https, refusing any client without a certificate from the test CA."""
    with ServerThread(calculator_app(), tls=(str(pki.server_cert), str(pki.server_key)), ssl_ca_certs=str(pki.ca), ssl_cert_reqs=ssl.CERT_REQUIRED) as server:
        yield server


# --- mutual TLS -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", HOW)
def test_mtls_with_the_client_certificate_reaches_a_service_that_requires_one(how: str, pki: Pki, mtls_server: ServerThread,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("KEY_PASSWORD", PASSWORD)
    cfg = {"cert": str(pki.client_cert), "key": str(pki.client_key), "password": "${KEY_PASSWORD}"}
    b = bridge.load(sample("calculator.wsdl"), endpoint=mtls_server.url, verify_tls=str(pki.ca), client_cert=cfg)
    assert ok(call(b, how))


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("cert", ["none", "another CA's"])
def test_mtls_without_a_trusted_client_certificate_is_refused(how: str, cert: str, pki: Pki, mtls_server: ServerThread) -> None:
    extra: dict[str, Any] = {}
    if cert != "none":
        extra["client_cert"] = {"cert": str(pki.rogue_cert), "key": str(pki.rogue_key)}
    b = bridge.load(sample("calculator.wsdl"), endpoint=mtls_server.url, verify_tls=str(pki.ca), **extra)
    assert outcome(b, how) in ("urn:soapbridge:problem:upstream:tls", "urn:soapbridge:problem:upstream:unavailable")


def _config(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "soapbridge.json"
    path.write_text(json.dumps(data))
    return path


def test_client_cert_paths_in_a_config_file_are_relative_to_it(tmp_path: Path, pki: Pki, mtls_server: ServerThread,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "client.crt").write_bytes(pki.client_cert.read_bytes())
    (keys / "client.key").write_bytes(pki.client_key.read_bytes())
    (keys / "key-password").write_text(PASSWORD + "\n")
    cfg = _config(tmp_path, {"client_cert": {"cert": "keys/client.crt", "key": "keys/client.key", "password_file": "keys/key-password"},
                             "verify_tls": str(pki.ca)})  # fmt: skip
    monkeypatch.chdir(Path("/"))
    b = bridge.load(sample("calculator.wsdl"), endpoint=mtls_server.url, config=cfg)
    assert ok(call(b, "sync"))


def bad_client_certs(pki: Pki) -> list[tuple[dict[str, Any], str]]:
    return [
        ({"cert": str(pki.client_cert.with_name("missing.crt")), "key": str(pki.client_key), "password": PASSWORD}, "does not exist"),
        ({"cert": str(pki.client_cert), "key": str(pki.client_key.with_name("missing.key")), "password": PASSWORD}, "does not exist"),
        ({"cert": str(pki.client_cert), "key": str(pki.client_key), "password": "wrong-password"}, "wrong password"),
        ({"cert": str(pki.client_cert), "key": str(pki.client_key)}, "the key is encrypted: set client_cert.password"),
        ({"cert": str(pki.client_cert), "key": str(pki.other_key)}, "does not match the key"),
        ({"cert": str(pki.expired_cert), "key": str(pki.expired_key)}, "expired on"),
        ({"cert": str(pki.client_cert), "key": str(pki.client_key), "password": "${UNSET_KEY_PASSWORD}"}, "UNSET_KEY_PASSWORD is not set"),
    ]


def test_a_bad_client_certificate_is_a_config_error_at_load(pki: Pki) -> None:
    for cfg, message in bad_client_certs(pki):
        with pytest.raises(ConfigError) as err:
            bridge.load(sample("calculator.wsdl"), client_cert=cfg)
        assert message in str(err.value), (cfg, str(err.value))
        assert "wrong-password" not in str(err.value) and PASSWORD not in str(err.value)


# --- proxies ----------------------------------------------------------------------------------


class Proxy:
    """A forwarding HTTP proxy on 127.0.0.1: CONNECT tunnels (https) and absolute-form requests
    (http, one per connection). ``seen`` lists each request line and its Proxy-Authorization."""

    def __init__(self, require: str | None = None) -> None:
        self.require = require  # a Proxy-Authorization value to insist on (407 otherwise)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.seen: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    def __enter__(self) -> Proxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.closing(conn):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            head, _, rest = head.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            with self.lock:
                self.seen.append((f"{method} {target}", fields.get("proxy-authorization")))
            if self.require is not None and fields.get("proxy-authorization") != self.require:
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                upstream = socket.create_connection((host, int(port)))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:  # absolute-form: forwarded in origin-form, the connection closed after the reply
                url = urlsplit(target)
                upstream = socket.create_connection((url.hostname or "", url.port or 80))
                kept = [line for line in lines[1:] if not line.lower().startswith(("proxy-", "connection:"))]
                origin = url.path + (f"?{url.query}" if url.query else "")
                upstream.sendall("\r\n".join([f"{method} {origin} {version}", *kept, "Connection: close", "", ""]).encode("latin-1") + rest)
            self._pipe(conn, upstream)

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        def copy(src: socket.socket, dst: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := src.recv(65536):
                    dst.sendall(data)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        t = threading.Thread(target=copy, args=(b, a), daemon=True)
        t.start()
        copy(a, b)
        t.join(timeout=30)
        b.close()


@pytest.fixture(scope="module")
def plain_server() -> Iterator[ServerThread]:
    with ServerThread(calculator_app()) as server:
        yield server


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("how", HOW)
def test_http_goes_through_the_proxy_in_absolute_form(how: str, plain_server: ServerThread, no_proxy_env: None) -> None:
    with Proxy() as proxy:
        b = bridge.load(sample("calculator.wsdl"), endpoint=plain_server.url + "/soap", proxy=proxy.url)
        assert ok(call(b, how))
    assert proxy.seen == [(f"POST {plain_server.url}/soap", None)]


@pytest.mark.parametrize("how", HOW)
def test_https_goes_through_the_proxy_by_connect_with_mtls_inside(how: str, pki: Pki, mtls_server: ServerThread, no_proxy_env: None) -> None:
    cfg = {"cert": str(pki.client_cert), "key": str(pki.client_key), "password": PASSWORD}
    with Proxy() as proxy:
        b = bridge.load(sample("calculator.wsdl"), endpoint=mtls_server.url, proxy=proxy.url, verify_tls=str(pki.ca), client_cert=cfg)
        assert ok(call(b, how))
    assert proxy.seen == [(f"CONNECT 127.0.0.1:{mtls_server.port}", None)]


@pytest.mark.parametrize("how", HOW)
def test_proxy_credentials_in_its_url_are_sent_to_it(how: str, plain_server: ServerThread, no_proxy_env: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    expected = "Basic " + base64.b64encode(b"proxy-user:proxy-pass").decode()
    monkeypatch.setenv("PROXY_PASSWORD", "proxy-pass")
    with Proxy(require=expected) as proxy:
        url = proxy.url.replace("http://", "http://proxy-user:${PROXY_PASSWORD}@")
        b = bridge.load(sample("calculator.wsdl"), endpoint=plain_server.url + "/soap", proxy=url)
        assert ok(call(b, how))
    assert proxy.seen == [(f"POST {plain_server.url}/soap", expected)]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("where", ["setting", "environment"])
def test_no_proxy_hosts_bypass_the_proxy(how: str, where: str, plain_server: ServerThread, no_proxy_env: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    extra: dict[str, Any] = {}
    if where == "setting":
        extra["no_proxy"] = "example.org, 127.0.0.1"
    else:
        monkeypatch.setenv("NO_PROXY", "example.org,127.0.0.1")
    with Proxy() as proxy:
        b = bridge.load(sample("calculator.wsdl"), endpoint=plain_server.url + "/soap", proxy=proxy.url, **extra)
        assert ok(call(b, how))
    assert proxy.seen == []


@pytest.mark.parametrize("how", HOW)
def test_proxy_env_variables_are_used_only_with_proxy_env(how: str, plain_server: ServerThread, no_proxy_env: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    with Proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        assert ok(call(bridge.load(sample("calculator.wsdl"), endpoint=plain_server.url + "/soap"), how))
        assert proxy.seen == []  # not configured: the variables are ignored
        assert ok(call(bridge.load(sample("calculator.wsdl"), endpoint=plain_server.url + "/soap", proxy="env"), how))
        assert proxy.seen == [(f"POST {plain_server.url}/soap", None)]


def test_a_bad_proxy_setting_is_a_config_error_without_its_value() -> None:
    for value in ("socks5://user:hunter22@proxy:1080", "proxy.internal:3128", 3128):
        with pytest.raises(ConfigError) as err:
            make_settings(proxy=value)
        assert "hunter22" not in str(err.value) and "proxy:" in str(err.value)


# --- HTTP authentication ------------------------------------------------------------------------

BASIC_PASSWORD = "b4sic-Pa55word"


def basic_checking_app(username: str, password: str) -> Callable[..., Awaitable[None]]:
    """The calculator mock behind a check of HTTP Basic credentials (401 otherwise), done with
    Python's base64, not the bridge's code."""
    inner = calculator_app()
    expected = b"Basic " + base64.b64encode(f"{username}:{password}".encode())

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401, "headers": [(b"www-authenticate", b'Basic realm="svc"'), (b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await inner(scope, receive, send)

    return app


@pytest.mark.parametrize("how", HOW)
def test_basic_auth_reaches_a_service_that_checks_it(how: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("BASIC_PASSWORD", BASIC_PASSWORD)
    caplog.set_level(logging.DEBUG)
    with ServerThread(basic_checking_app("svc", BASIC_PASSWORD)) as server:
        auth = {"type": "basic", "username": "svc", "password": "${BASIC_PASSWORD}"}
        good = bridge.load(sample("calculator.wsdl"), endpoint=server.url, backend_auth=auth)
        assert ok(call(good, how))
        wrong = bridge.load(sample("calculator.wsdl"), endpoint=server.url, backend_auth={**auth, "password": "nope"})
        none = bridge.load(sample("calculator.wsdl"), endpoint=server.url)
        for b in (wrong, none):
            if how == "rest":
                r = TestClient(b.asgi()).post("/CalculatorService/Add", json=ADD)
                assert r.status_code == 502 and "refused the credentials (HTTP 401); check backend_auth" in r.json()["detail"]
                assert BASIC_PASSWORD not in r.text
            else:
                with pytest.raises(UpstreamError, match=r"refused the credentials \(HTTP 401\); check backend_auth"):
                    call(b, how)
    assert BASIC_PASSWORD not in caplog.text
    assert base64.b64encode(f"svc:{BASIC_PASSWORD}".encode()).decode() not in caplog.text


@pytest.mark.parametrize("how", ["sync", "async"])
def test_digest_auth_reaches_a_service_that_checks_it(how: str) -> None:
    """The digest is checked by aiohttp's server-side-free check: httpx's DigestAuth and aiohttp's
    middleware both answer the challenge of a real server (werkzeug is not here, so the challenge
    and its check are written to RFC 7616's MD5 formula in the test)."""
    import hashlib

    realm, nonce, user, password = "svc", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "svc", "d1gest-pass"
    inner = calculator_app()

    def h(s: str) -> str:
        return hashlib.md5(s.encode()).hexdigest()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await inner(scope, receive, send)
        header = dict(scope["headers"]).get(b"authorization", b"").decode()
        if header.startswith("Digest "):
            import urllib.request

            fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[7:]))
            ha1, ha2 = h(f"{user}:{realm}:{password}"), h(f"POST:{fields.get('uri')}")
            if fields.get("qop"):
                expected = h(f"{ha1}:{nonce}:{fields.get('nc')}:{fields.get('cnonce')}:{fields.get('qop')}:{ha2}")
            else:
                expected = h(f"{ha1}:{nonce}:{ha2}")
            if fields.get("response") == expected and fields.get("username") == user:
                return await inner(scope, receive, send)
        challenge = f'Digest realm="{realm}", nonce="{nonce}", qop="auth", algorithm=MD5'.encode()
        await send({"type": "http.response.start", "status": 401, "headers": [(b"www-authenticate", challenge), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    with ServerThread(app) as server:
        auth = {"type": "digest", "username": user, "password": password}
        assert ok(call(bridge.load(sample("calculator.wsdl"), endpoint=server.url, backend_auth=auth), how))
        assert not ok(outcome(bridge.load(sample("calculator.wsdl"), endpoint=server.url, backend_auth={**auth, "password": "x"}), how))


def test_backend_auth_is_checked_at_load() -> None:
    for cfg, message in [
        ({"type": "ntlm", "username": "u", "password": "p"}, "NTLM is not supported"),
        ({"type": "basic", "password": "p"}, "expected a username and a password"),
        ({"type": "basic", "username": "a:b", "password": "p"}, "cannot contain ':'"),
        ({"type": "basic", "username": "u", "password": "${NOT_SET_ANYWHERE}"}, "NOT_SET_ANYWHERE is not set"),
        ({"type": "basic", "username": "u", "pasword": "p"}, "unknown key(s): pasword"),
    ]:
        with pytest.raises(ConfigError) as err:
            make_settings(backend_auth=cfg)
        assert message in str(err.value)


def test_secrets_are_not_in_the_settings_repr(pki: Pki) -> None:
    s = make_settings(
        backend_auth={"type": "basic", "username": "u", "password": BASIC_PASSWORD},
        client_cert={"cert": str(pki.client_cert), "key": str(pki.client_key), "password": PASSWORD},
        proxy="http://u:proxy-secret@proxy.internal:3128",
    )
    assert BASIC_PASSWORD not in repr(s) and PASSWORD not in repr(s) and "proxy-secret" not in repr(s)


# --- the spec -----------------------------------------------------------------------------------


def test_the_openapi_document_is_unchanged_by_transport_settings(pki: Pki, no_proxy_env: None) -> None:
    plain = bridge.load(sample("calculator.wsdl"), cache_dir=None).openapi_bytes()
    configured = bridge.load(
        sample("calculator.wsdl"),
        cache_dir=None,
        client_cert={"cert": str(pki.client_cert), "key": str(pki.client_key), "password": PASSWORD},
        proxy="http://proxy.internal:3128",
        backend_auth={"type": "basic", "username": "svc", "password": BASIC_PASSWORD},
        addressing=True,
    ).openapi_bytes()
    assert configured == plain
    assert BASIC_PASSWORD.encode() not in configured


def test_a_wsdl_loaded_over_the_network_goes_through_the_proxy_unless_bypassed(plain_server: ServerThread, no_proxy_env: None,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    url = plain_server.url + "/?wsdl"  # the mock serves its WSDL
    with Proxy() as proxy:
        b = bridge.load(url, allow_network=True, cache_dir=None, proxy=proxy.url)
        assert b.operation("Add")
        assert proxy.seen == [(f"GET {url}", None)]
        bridge.load(url, allow_network=True, cache_dir=None, proxy=proxy.url, no_proxy="127.0.0.1")
        monkeypatch.setenv("HTTP_PROXY", proxy.url)  # the environment alone does not route through it
        bridge.load(url, allow_network=True, cache_dir=None)
        assert len(proxy.seen) == 1


def test_soapbridge_call_uses_the_config_s_transport(tmp_path: Path, pki: Pki, mtls_server: ServerThread, no_proxy_env: None,
                                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """`soapbridge call --config`: mutual TLS through the proxy, the key password from the environment."""
    from bridge.cli import main

    monkeypatch.setenv("KEY_PASSWORD", PASSWORD)
    with Proxy() as proxy:
        cfg = _config(tmp_path, {"client_cert": {"cert": str(pki.client_cert), "key": str(pki.client_key), "password": "${KEY_PASSWORD}"},
                                 "verify_tls": str(pki.ca), "proxy": proxy.url})  # fmt: skip
        args = ["call", str(sample("calculator.wsdl")), "Add", "--data", json.dumps(ADD), "--backend", mtls_server.url, "--config", str(cfg)]
        assert main(args) == 0
        assert ok(json.loads(capsys.readouterr().out))
        assert proxy.seen == [(f"CONNECT 127.0.0.1:{mtls_server.port}", None)]
        cfg.write_text(json.dumps({"client_cert": {"cert": str(pki.client_cert), "key": str(pki.client_key), "password": "wrong"}}))
        assert main(args) != 0
        err = capsys.readouterr().err
        assert "cannot decrypt the key" in err and "Traceback" not in err


def test_recordings_keep_no_basic_credentials() -> None:
    """What `soapbridge record` keeps of a request: the Authorization header reaches the service,
    but not the recording."""
    import httpx

    from bridge.recording import RecordingTransport
    from tests.conftest import mock_transport

    sent: list[httpx.Request] = []
    mock = mock_transport(sample("calculator.wsdl"))

    class Seen(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return await mock.handle_async_request(request)

    recording = RecordingTransport(Seen())
    auth = {"type": "basic", "username": "svc", "password": BASIC_PASSWORD}
    b = bridge.load(sample("calculator.wsdl"), endpoint="http://svc.example/calc", backend_auth=auth, transport=recording)
    assert ok(call(b, "async"))
    token = base64.b64encode(f"svc:{BASIC_PASSWORD}".encode()).decode()
    assert sent[0].headers["authorization"] == f"Basic {token}"
    kept = repr(recording.captured)
    assert token not in kept and BASIC_PASSWORD not in kept and "authorization" not in kept.lower()


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("failure", ["proxy down", "proxy refuses"])
def test_a_failing_proxy_is_said_plainly_without_its_credentials(how: str, failure: str, mtls_server: ServerThread, no_proxy_env: None,
                                                                caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    with Proxy(require="Basic nothing-matches") as proxy:
        url = proxy.url if failure == "proxy refuses" else f"http://127.0.0.1:{_closed_port()}"
        url = url.replace("http://", "http://proxy-user:pr0xy-secret@")
        b = bridge.load(sample("calculator.wsdl"), endpoint=mtls_server.url, proxy=url, verify_tls=False)
        if how == "rest":
            r = TestClient(b.asgi()).post("/CalculatorService/Add", json=ADD)
            assert r.status_code == 503 and "proxy" in r.json()["detail"], r.text
            text = r.text
        else:
            with pytest.raises(UpstreamError) as err:
                call(b, how)
            assert err.value.kind == "unavailable" and "proxy" in str(err.value)
            text = str(err.value)
    assert "pr0xy-secret" not in text and "pr0xy-secret" not in caplog.text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("how", ["sync", "async"])
def test_the_call_deadline_holds_through_the_proxy(how: str, no_proxy_env: None) -> None:
    """A backend that drips its reply a byte at a time is cut at the deadline through the proxy too
    (the proxied sync pool runs on the deadline-keeping network backend)."""
    from tests.test_upstream import RawServer, drip_handler

    with RawServer(drip_handler("body")) as server, Proxy() as proxy:
        b = bridge.load(sample("calculator.wsdl"), endpoint=server.url, proxy=proxy.url, connect_timeout=0.5, read_timeout=0.5)
        with pytest.raises(UpstreamError) as err:
            call(b, how)
        assert proxy.seen == [(f"POST {server.url}", None)]
    assert err.value.kind == "timeout" and "call deadline of 1 s" in str(err.value)


WSA = "http://www.w3.org/2005/08/addressing"


def test_soapbridge_record_against_a_live_backend_uses_the_config_s_transport(tmp_path: Path, pki: Pki, mtls_server: ServerThread,
                                                                              no_proxy_env: None, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`soapbridge record --backend --config`: the same client as `call` (mutual TLS through the proxy,
    Basic auth, WS-Security, WS-Addressing), and the recordings keep none of the secrets."""
    import yaml

    from bridge.cli import main

    monkeypatch.setenv("KEY_PASSWORD", PASSWORD)
    monkeypatch.setenv("BASIC_PASSWORD", BASIC_PASSWORD)
    monkeypatch.setenv("SOAP_PASSWORD", "wsse-" + BASIC_PASSWORD)
    with Proxy() as proxy:
        cfg = _config(tmp_path, {
            "client_cert": {"cert": str(pki.client_cert), "key": str(pki.client_key), "password": "${KEY_PASSWORD}"},
            "verify_tls": str(pki.ca), "proxy": proxy.url, "addressing": True,
            "backend_auth": {"type": "basic", "username": "svc", "password": "${BASIC_PASSWORD}"},
            "wsse": {"username": "svc-user", "password": "${SOAP_PASSWORD}", "password_type": "digest"},
        })  # fmt: skip
        out = tmp_path / "contracts"
        args = ["record", str(sample("calculator.wsdl")), "-o", str(out), "--backend", mtls_server.url, "--config", str(cfg)]
        assert main(args) == 0
        assert {line for line, _ in proxy.seen} == {f"CONNECT 127.0.0.1:{mtls_server.port}"}
    files = sorted((out / "calculator").glob("*.yaml"))
    assert files
    token = base64.b64encode(f"svc:{BASIC_PASSWORD}".encode()).decode()
    for f in files:
        text = f.read_text()
        assert BASIC_PASSWORD not in text and token not in text and PASSWORD not in text and "authorization" not in text.lower()
        for exchange in yaml.safe_load(text)["exchanges"]:
            assert exchange["soap_reply"]["status"] == 200, f.name
            sent = exchange["soap_request"]["envelope"]
            assert "<wsse:UsernameToken" in sent and f'<wsa:MessageID xmlns:wsa="{WSA}">***</wsa:MessageID>' in sent
    # without the client certificate the service refuses the connection: nothing recorded is a 200
    cfg.write_text(json.dumps({"verify_tls": str(pki.ca)}))
    main(args)
    for f in sorted((out / "calculator").glob("*.yaml")):
        assert all(e["soap_reply"] is None for e in yaml.safe_load(f.read_text())["exchanges"]), f.name
