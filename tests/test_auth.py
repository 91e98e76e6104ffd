"""Inbound authentication and authorization (bridge/auth.py, docs/auth.md): the security suite.

On every route of the orders sample, each bad credential gets its documented status and the SOAP
backend receives nothing (requests are counted at the backend). Tokens are minted with PyJWT and
cryptography (the JOSE oracle); the forged ones (alg none, HS256 over the RSA public key) are built
by hand from RFC 7515's definition, as an attacker would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from starlette.testclient import TestClient

import bridge
from bridge.auth import hash_key
from bridge.errors import ConfigError
from bridge.mock import MockService
from bridge.wsdl.loader import load_model
from tests.conftest import sample

ORDERS = sample("orders.wsdl")
ISSUER = "https://idp.example"
AUDIENCE = "soapbridge"
PROBLEM = "application/problem+json"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
TNS = "http://soapbridge.dev/samples/orders"


class Backend:
    """The generated mock behind a recorder: every request that reaches the SOAP service."""

    def __init__(self, wsdl: Path) -> None:
        self.mock = MockService(load_model(wsdl)).asgi()
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.mock(scope, receive, send)
            return
        chunks = []
        while True:
            m = await receive()
            chunks.append(m.get("body", b""))
            if not m.get("more_body"):
                break
        body = b"".join(chunks)
        self.requests.append(({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.mock(scope, replay, send)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    def __init__(self, tmp: Path) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # not in the JWKS
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update(kid="k1", use="sig", alg="RS256")
        self.jwks = tmp / "jwks.json"
        self.jwks.write_text(json.dumps({"keys": [jwk]}))
        self.public_pem = self.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def claims(self, **over: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": ISSUER, "aud": AUDIENCE, "sub": "partner-j", "iat": now, "nbf": now, "exp": now + 300, **over}

    def token(self, *, kid: str = "k1", key: Any = None, **claims: Any) -> str:
        return jwt.encode(self.claims(**claims), key or self.private, algorithm="RS256", headers={"kid": kid})

    def forged(self, alg: str) -> str:
        header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "k1"}).encode())
        payload = _b64(json.dumps(self.claims()).encode())
        signing_input = f"{header}.{payload}".encode()
        if alg == "none":
            return f"{header}.{payload}."
        # HS256 with the RSA public key (as published) as the HMAC secret: the classic confusion attack
        return f"{header}.{payload}.{_b64(hmac.new(self.public_pem, signing_input, hashlib.sha256).digest())}"

    def tampered(self, token: str | None = None) -> str:
        token = token or self.token()
        header, payload, sig = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["sub"] = "partner-b"  # a different consumer, signature kept
        return f"{header}.{_b64(json.dumps(claims).encode())}.{sig}"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("jwks"))


def auth_config(keys: Keys, **extra: Any) -> dict[str, Any]:
    return {
        "api_key_header": "X-API-Key",
        "api_keys": [
            {"consumer": "partner-a", "sha256": hash_key("key-a"), "operations": ["OrderService.*"]},
            {"consumer": "partner-b", "sha256": hash_key("key-b")},
            {"consumer": "outsider", "sha256": hash_key("key-outsider"), "operations": ["InventoryService.*"]},
        ],
        "jwt": {"jwks": str(keys.jwks), "issuer": ISSUER, "audience": AUDIENCE, "algorithms": ["RS256"], "leeway": 5},
        "consumers": {
            "partner-a": {"upstream": {"soap_headers": {"auth": {"apiKey": "upstream-key-a", "tenant": "tenant-a"}}}},
            "partner-b": {"upstream": {"soap_headers": {"auth": {"apiKey": "upstream-key-b", "tenant": "tenant-b"}}, "basic": {"username": "b-user", "password": "b-secret"}}},
        },
        **extra,
    }


def make(keys: Keys, **auth_extra: Any) -> tuple[TestClient, Backend, bridge.Bridge]:
    backend = Backend(ORDERS)
    b = bridge.load(ORDERS, endpoint="http://backend.invalid/soap", transport=httpx.ASGITransport(app=backend), auth=auth_config(keys, **auth_extra))
    return TestClient(b.asgi()), backend, b


def routes(b: bridge.Bridge) -> list[tuple[str, str, Any]]:
    spec = b.openapi()
    out = []
    for op in b.routed:
        body = spec["paths"][op.path][op.http_method.lower()]["requestBody"]["content"]["application/json"]["example"]
        out.append((op.http_method, op.path, body))
    return out


# (case, request headers, status): every way in that must fail, and how
def bad_credentials(keys: Keys) -> list[tuple[str, dict[str, str], int]]:
    expired = keys.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200)
    return [
        ("no credentials", {}, 401),
        ("wrong key", {"X-API-Key": "key-c"}, 401),
        ("key of a consumer not allowed the operation", {"X-API-Key": "key-outsider"}, 403),
        ("expired JWT", {"Authorization": f"Bearer {expired}"}, 401),
        ("alg none", {"Authorization": f"Bearer {keys.forged('none')}"}, 401),
        ("HS256 signed with the RS public key", {"Authorization": f"Bearer {keys.forged('HS256')}"}, 401),
        ("wrong aud", {"Authorization": f"Bearer {keys.token(aud='another-api')}"}, 401),
        ("wrong iss", {"Authorization": f"Bearer {keys.token(iss='https://evil.example')}"}, 401),
        ("unknown kid", {"Authorization": f"Bearer {keys.token(kid='k9', key=keys.other)}"}, 401),
        ("known kid, other key", {"Authorization": f"Bearer {keys.token(key=keys.other)}"}, 401),
        ("tampered signature", {"Authorization": f"Bearer {keys.tampered()}"}, 401),
        ("not yet valid", {"Authorization": f"Bearer {keys.token(nbf=int(time.time()) + 3600)}"}, 401),
        ("basic instead of bearer", {"Authorization": "Basic cGFydG5lci1hOmtleS1h"}, 401),
    ]


def test_every_route_refuses_bad_credentials_and_the_backend_receives_nothing(keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    client, backend, b = make(keys)
    caplog.set_level(logging.DEBUG)
    cases = bad_credentials(keys)
    for method, path, body in routes(b):
        for case, headers, status in cases:
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == status, (path, case, r.text)
            assert r.headers["content-type"] == PROBLEM
            problem = r.json()
            assert problem["status"] == status and problem["type"] == f"urn:soapbridge:problem:{'unauthorized' if status == 401 else 'forbidden'}"
            if status == 401:
                assert r.headers["WWW-Authenticate"], case
            for secret in [*headers.values(), *(v.split(" ", 1)[-1] for v in headers.values())]:
                assert secret not in r.text  # never echoed
    assert backend.requests == []
    logged = caplog.text
    for _, headers, _ in cases:
        for v in headers.values():
            assert v.split(" ", 1)[-1] not in logged  # never logged


def test_valid_credentials_reach_the_backend(keys: Keys) -> None:
    client, backend, b = make(keys)
    for method, path, body in routes(b):
        for headers in ({"X-API-Key": "key-a"}, {"Authorization": f"Bearer {keys.token()}"}):
            n = len(backend.requests)
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code in (200, 204), (path, r.text)
            assert len(backend.requests) == n + 1


def test_a_refused_request_says_why_without_the_secret(keys: Keys) -> None:
    client, _, _ = make(keys)
    expired = keys.token(exp=int(time.time()) - 60, iat=int(time.time()) - 600, nbf=int(time.time()) - 600)
    r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in r.json()["detail"]
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    r = client.post("/OrderService/GetOrder", json={"orderId": "1"})
    challenges = r.headers["WWW-Authenticate"]
    assert "Bearer" in challenges and "X-API-Key" in challenges


def test_leeway_admits_a_token_just_expired(keys: Keys) -> None:
    client, backend, _ = make(keys)
    now = int(time.time())
    r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token(exp=now - 2)}"})
    assert r.status_code == 200, r.text  # leeway 5 s
    r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token(exp=now - 30)}"})
    assert r.status_code == 401
    assert len(backend.requests) == 1


def test_a_verified_token_is_kept_no_longer_than_its_life(keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    import bridge.auth

    client, backend, _ = make(keys)
    token = keys.token(exp=int(time.time()) + 120)
    h = {"Authorization": f"Bearer {token}"}
    assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers=h).status_code == 200
    assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers=h).status_code == 200  # from the cache
    # a changed byte is another token: verified, and refused
    r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.tampered(token)}"})
    assert r.status_code == 401
    import datetime as dt

    import jwt.api_jwt

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return dt.datetime.now(tz) + dt.timedelta(seconds=130)

    real = time.time
    # both clocks (ours and PyJWT's) 130 s on: past exp + leeway (5 s)
    monkeypatch.setattr(bridge.auth.time, "time", lambda: real() + 130)
    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers=h).status_code == 401
    assert len(backend.requests) == 2


def test_consumer_sees_only_its_operations(keys: Keys) -> None:
    client, backend, _ = make(keys, api_keys=[{"consumer": "reader", "sha256": hash_key("key-r"), "operations": ["OrderService.Get*", "OrderService.List*"]}])
    h = {"X-API-Key": "key-r"}
    assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers=h).status_code == 200
    r = client.post("/OrderService/CreateOrder", json={}, headers=h)
    assert r.status_code == 403 and "CreateOrder" in r.json()["detail"]
    assert len(backend.requests) == 1
    # the port-qualified form matches too
    client, _, _ = make(keys, api_keys=[{"consumer": "r2", "sha256": hash_key("key-r2"), "operations": ["OrderService.OrderSoap.GetOrder"]}])
    assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"X-API-Key": "key-r2"}).status_code == 200
    assert client.post("/OrderService/ListOrders", json={}, headers={"X-API-Key": "key-r2"}).status_code == 403


def test_scopes_required_per_operation(keys: Keys) -> None:
    jwt_cfg = {"jwks": str(keys.jwks), "issuer": ISSUER, "audience": AUDIENCE, "require": [
        {"operations": ["OrderService.CreateOrder"], "scopes": ["orders.write"]},
        {"routes": ["/OrderService/*"], "claims": {"tenant": "acme"}},
    ]}  # fmt: skip
    client, backend, b = make(keys, jwt=jwt_cfg)
    read = keys.token(scope="orders.read", tenant="acme")
    write = keys.token(scope="orders.read orders.write", tenant="acme")
    other_tenant = keys.token(scope="orders.write", tenant="globex")
    create = next(r for r in routes(b) if r[1].endswith("CreateOrder"))
    body = create[2]
    r = client.post("/OrderService/CreateOrder", json=body, headers={"Authorization": f"Bearer {read}"})
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert client.post("/OrderService/CreateOrder", json=body, headers={"Authorization": f"Bearer {other_tenant}"}).status_code == 403
    assert backend.requests == []
    assert client.post("/OrderService/CreateOrder", json=body, headers={"Authorization": f"Bearer {write}"}).status_code == 200
    assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {read}"}).status_code == 200
    assert len(backend.requests) == 2
    spec = b.openapi()
    security = spec["paths"]["/OrderService/CreateOrder"]["post"]["security"]
    assert {"bearer": ["orders.write"]} in security


def _auth_header(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body)
    el = root.find(f".//{{{TNS}}}AuthHeader")
    assert el is not None
    return {etree.QName(c).localname: c.text or "" for c in el}


def test_upstream_credentials_follow_the_consumer_and_the_body_cannot_override_them(keys: Keys) -> None:
    client, backend, _ = make(keys)
    forged = {"orderId": "1", "$headers": {"auth": {"apiKey": "upstream-key-b", "tenant": "tenant-b"}}}
    # partner-a asks for partner-b's credentials three ways: a body header, an HTTP header, a query parameter
    r = client.post("/OrderService/GetOrder?consumer=partner-b", json=forged, headers={"X-API-Key": "key-a", "X-Consumer": "partner-b"})
    assert r.status_code == 200, r.text
    headers, body = backend.requests[-1]
    assert _auth_header(body) == {"apiKey": "upstream-key-a", "tenant": "tenant-a"}
    assert "authorization" not in headers  # partner-b's Basic credentials are not sent for partner-a
    r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"X-API-Key": "key-b"})
    assert r.status_code == 200
    headers, body = backend.requests[-1]
    assert _auth_header(body) == {"apiKey": "upstream-key-b", "tenant": "tenant-b"}
    assert headers["authorization"] == "Basic " + base64.b64encode(b"b-user:b-secret").decode()


def test_upstream_credentials_from_jwt_claims(keys: Keys) -> None:
    consumers = {"partner-j": {"upstream": {
        "wsse": {"username": "-", "password": "j-secret", "timestamp": 0},
        "soap_headers": {"auth": {"apiKey": "upstream-key-j", "tenant": "?"}},
        "claims": {"wsse.username": "preferred_username", "soap_headers.auth.tenant": "tenant"},
    }}}  # fmt: skip
    client, backend, _ = make(keys, consumers=consumers)
    token = keys.token(preferred_username="jane", tenant="acme")
    client.post("/OrderService/GetOrder", json={"orderId": "1", "$headers": {"auth": {"apiKey": "x", "tenant": "evil"}}}, headers={"Authorization": f"Bearer {token}"})
    _, body = backend.requests[-1]
    assert _auth_header(body) == {"apiKey": "upstream-key-j", "tenant": "acme"}
    root = etree.fromstring(body)
    assert root.findtext(f".//{{{WSSE}}}UsernameToken/{{{WSSE}}}Username") == "jane"
    assert root.findtext(f".//{{{WSSE}}}UsernameToken/{{{WSSE}}}Password") == "j-secret"
    # a token without the claim the mapping needs: refused before the backend
    n = len(backend.requests)
    r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token(tenant='acme')}"})
    assert r.status_code == 403 and len(backend.requests) == n


def test_consumer_state_is_set_for_later_middleware(keys: Keys) -> None:
    seen: list[Any] = []
    _client, _, b = make(keys)
    app = b.asgi()

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope.get("state", {}).get("consumer"))
        await inner(scope, receive, send)

    inner = app.router
    app.router = spy  # type: ignore[assignment]
    c = TestClient(app)
    c.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"X-API-Key": "key-a"})
    c.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token()}"})
    c.get("/healthz")
    assert seen == ["partner-a", "partner-j", None]


def test_public_paths_need_no_credentials(keys: Keys) -> None:
    client, _, _ = make(keys)
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    assert client.get("/docs/init.js").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.post("/nowhere", json={}).status_code == 404


def test_the_spec_tells_the_truth(keys: Keys) -> None:
    client, _, _b = make(keys, api_key_query="api_key")
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["apiKeyQuery"]["in"] == "query" and schemes["apiKeyQuery"]["name"] == "api_key"
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert {"apiKey": []} in spec["security"]
    for item in spec["paths"].values():
        for op in item.values():
            assert op["security"] and "401" in op["responses"] and "403" in op["responses"]
            assert op["responses"]["401"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    from openapi_spec_validator import validate

    validate(spec)
    # the key in the query parameter works as the spec says
    assert client.post("/OrderService/GetOrder?api_key=key-a", json={"orderId": "1"}).status_code == 200
    # Swagger UI shows its Authorize control for a spec with securitySchemes: /docs loads this one
    init = client.get("/docs/init.js").text
    assert '"/openapi.json"' in init


def test_the_spec_without_auth_says_none() -> None:
    b = bridge.load(ORDERS, endpoint="http://x.invalid/")
    spec = b.openapi()
    assert spec["security"] == [] and "securitySchemes" not in spec["components"]
    assert all("security" not in op and "401" not in op["responses"] for item in spec["paths"].values() for op in item.values())
    b2 = bridge.load(ORDERS, endpoint="http://x.invalid/", auth={"enabled": False})
    assert b2.openapi()["security"] == []
    c = TestClient(b2.asgi(), raise_server_exceptions=True)
    assert c.get("/openapi.json").json()["security"] == []


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"api_keys": [{"consumer": "a", "sha256": "abc"}]}, "64 hex digits"),
        ({"api_keys": [{"consumer": "a", "sha256": hash_key("k"), "operation": ["x"]}]}, "unknown key(s): operation"),
        ({}, "enabled: false"),
        ({"jwt": {"jwks": "x.json", "issuer": "i", "audience": "a", "algorithms": ["none"]}}, "unsigned tokens"),
        ({"jwt": {"jwks": "x.json", "issuer": "i", "audience": "a", "algorithms": ["HS256"]}}, "HS/RS confusion"),
        ({"jwt": {"jwks": "http://idp.example/jwks", "issuer": "i", "audience": "a"}}, "https://"),
        ({"enabled": "no"}, "true or false"),
    ],
)
def test_bad_config_is_refused(auth: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        bridge.load(ORDERS, endpoint="http://x.invalid/", auth=auth)
    assert message in str(e.value)


def test_cors_is_off_by_default_and_configurable(keys: Keys) -> None:
    client, _, _ = make(keys)
    r = client.options("/OrderService/GetOrder", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers
    b = bridge.load(ORDERS, endpoint="http://x.invalid/", auth=auth_config(keys), cors={"allow_origins": ["https://app.example"]})
    c = TestClient(b.asgi())
    r = c.options("/OrderService/GetOrder", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://app.example"
    r = c.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Origin": "https://app.example"})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == "https://app.example"  # the browser may read the problem


# --- the JWKS URL ------------------------------------------------------------------------------


class Idp:
    """A JWKS endpoint that counts its fetches."""

    def __init__(self, jwks: dict[str, Any], cache_control: str) -> None:
        self.jwks = jwks
        self.cache_control = cache_control
        self.fetches = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] in ("http", "lifespan")
        if scope["type"] == "lifespan":
            while (m := await receive())["type"] != "lifespan.shutdown":
                await send({"type": m["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.fetches += 1
        body = json.dumps(self.jwks).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"), (b"cache-control", self.cache_control.encode())]})
        await send({"type": "http.response.body", "body": body})


def test_jwks_url_is_cached_and_unknown_kids_do_not_hammer_the_idp(keys: Keys) -> None:
    from tests.conftest import ServerThread

    idp = Idp(json.loads(keys.jwks.read_text()), "public, max-age=3600")
    with ServerThread(idp) as server:
        cfg = {"jwks": f"{server.url}/jwks", "issuer": ISSUER, "audience": AUDIENCE, "jwks_min_refresh": 3600}
        client, backend, _ = make(keys, jwt=cfg)
        with client:  # one event loop for the whole test
            for _ in range(3):
                r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token()}"})
                assert r.status_code == 200
            assert idp.fetches == 1  # cached per max-age
            for _ in range(10):
                r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token(kid='k9', key=keys.other)}"})
                assert r.status_code == 401
            assert idp.fetches == 1  # no fetch within jwks_min_refresh of the last, whatever the kids

        assert len(backend.requests) == 3


def test_jwks_url_refresh_finds_a_rotated_key(keys: Keys) -> None:
    from tests.conftest import ServerThread

    idp = Idp(json.loads(keys.jwks.read_text()), "max-age=3600")
    with ServerThread(idp) as server:
        cfg = {"jwks": f"{server.url}/jwks", "issuer": ISSUER, "audience": AUDIENCE, "jwks_min_refresh": 0}
        client, _, _ = make(keys, jwt=cfg)
        with client:
            assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token()}"}).status_code == 200
            new = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys.other.public_key()))
            new.update(kid="k2", use="sig")
            idp.jwks = {"keys": [*idp.jwks["keys"], new]}  # the IdP rotates in a key
            r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token(kid='k2', key=keys.other)}"})
            assert r.status_code == 200, r.text
            assert idp.fetches == 2


def test_an_unreachable_jwks_url_is_a_503_not_a_500(keys: Keys) -> None:
    from tests.conftest import free_port

    cfg = {"jwks": f"http://127.0.0.1:{free_port()}/jwks", "issuer": ISSUER, "audience": AUDIENCE}
    client, backend, _ = make(keys, jwt=cfg)
    r = client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"Authorization": f"Bearer {keys.token()}"})
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    assert backend.requests == []


# --- mutual TLS ------------------------------------------------------------------------------


def _pki(tmp: Path) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1, a client certificate from the CA and one from another CA (cryptography)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def key() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def cert(subject: str, k: Any, issuer: Any | None, issuer_key: Any, ca: bool = False, san: bool = False) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Partners")])
        b = (
            x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name).public_key(k.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )  # fmt: skip
        if ca:
            b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False)
        else:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        if san:
            b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    out = {}

    def write(name: str, c: x509.Certificate, k: Any) -> None:
        (tmp / f"{name}.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
        (tmp / f"{name}.key").write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        out[name], out[name + "_key"] = str(tmp / f"{name}.pem"), str(tmp / f"{name}.key")

    ca_key, rogue_key = key(), key()
    ca = cert("Test CA", ca_key, None, ca_key, ca=True)
    rogue = cert("Rogue CA", rogue_key, None, rogue_key, ca=True)
    write("ca", ca, ca_key)
    sk, ck, rk, ok = key(), key(), key(), key()
    write("server", cert("127.0.0.1", sk, ca, ca_key, san=True), sk)
    write("client", cert("partner-m", ck, ca, ca_key), ck)
    write("stranger", cert("partner-x", ok, ca, ca_key), ok)
    write("rogue", cert("partner-m", rk, rogue, rogue_key), rk)
    return out


def test_mtls_client_certificate_names_the_consumer(keys: Keys, tmp_path: Path) -> None:
    from bridge.server import uvicorn_options
    from tests.conftest import ServerThread

    pki = _pki(tmp_path)
    auth = auth_config(keys, mtls={"subject_field": "CN", "consumers": {"partner-m": "partner-a"}})
    backend = Backend(ORDERS)
    b = bridge.load(ORDERS, endpoint="http://backend.invalid/soap", transport=httpx.ASGITransport(app=backend), auth=auth)
    options = uvicorn_options(b.settings, certfile=pki["server"], keyfile=pki["server_key"], client_ca=pki["ca"])

    def tls(who: str | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=pki["ca"])
        if who:
            ctx.load_cert_chain(pki[who], pki[who + "_key"])
        return ctx
    with ServerThread(b.asgi(), **options) as server:
        url = f"https://127.0.0.1:{server.port}/OrderService/GetOrder"
        with httpx.Client(verify=tls("client")) as c:
            r = c.post(url, json={"orderId": "1"})
            assert r.status_code == 200, r.text
        _, body = backend.requests[-1]
        assert _auth_header(body)["apiKey"] == "upstream-key-a"  # partner-m is mapped to partner-a
        n = len(backend.requests)
        with httpx.Client(verify=tls("stranger")) as c:
            r = c.post(url, json={"orderId": "1"})  # a valid certificate of a subject not mapped
            assert r.status_code == 403
        with httpx.Client(verify=tls(None)) as c:
            r = c.post(url, json={"orderId": "1"})  # no certificate, no key
            assert r.status_code == 401
            r = c.post(url, json={"orderId": "1"}, headers={"X-API-Key": "key-b"})  # a key still works over TLS
            assert r.status_code == 200
        with httpx.Client(verify=tls("rogue")) as c, pytest.raises(httpx.HTTPError):
            c.post(url, json={"orderId": "1"})  # the same CN from another CA: the handshake fails
        assert len(backend.requests) == n + 1


# --- fuzzing the authenticated API --------------------------------------------------------------


@pytest.mark.slow
def test_schemathesis_against_the_authenticated_api(keys: Keys) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import ignored_auth

    from bridge.contract import CHECKS
    from bridge.jsonschema import exact_decimals

    _client, backend, b = make(keys)
    schema = schemathesis.openapi.from_dict(exact_decimals(b.openapi()))
    schema.app = b.asgi()
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE], max_examples=15, deterministic=True)
    for result in schema.get_all_operations():
        op = result.ok()

        @given(case=op.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"X-API-Key": "key-a"}, checks=[*CHECKS, ignored_auth])

        run()
    assert backend.requests  # the authenticated cases reached the service


# --- from the config file, through the CLI ----------------------------------------------------


DOCS = Path(__file__).resolve().parents[1] / "docs" / "auth.md"


def _yaml_blocks() -> list[str]:
    import re

    return re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.S)


def test_the_documented_configs_load(keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "jwks.json").write_text(keys.jwks.read_text())
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "partner-a").write_text("s3cret\n")
    for name in ("REPORTING_KEY_SHA256",):
        monkeypatch.setenv(name, hash_key("the reporting key"))
    for name in ("PARTNER_A_SERVICE_KEY", "REPORTING_SOAP_PASSWORD", "PARTNER_A_PASSWORD", "SHARED_SOAP_PASSWORD", "SERVICE_KEY"):
        monkeypatch.setenv(name, "s3cret")
    blocks = _yaml_blocks()
    assert len(blocks) >= 4
    for i, text in enumerate(blocks):
        config = tmp_path / f"c{i}.yaml"
        data = yaml.safe_load(text)
        config.write_text(text)
        backend = Backend(ORDERS)
        b = bridge.load(ORDERS, config=config, endpoint="http://backend.invalid/", transport=httpx.ASGITransport(app=backend))
        assert b.settings.auth is not None or b.settings.cors is not None
        if i == 0:  # the complete example: the key "test" is partner-a's, and partner-a's SOAP header goes upstream
            assert "auth" in data and "cors" in data
            c = TestClient(b.asgi())
            r = c.post("/OrderService/GetOrder", json={"orderId": "A-1"}, headers={"X-API-Key": "test"})
            assert r.status_code == 200, r.text
            assert _auth_header(backend.requests[-1][1]) == {"apiKey": "s3cret", "tenant": "partner-a"}
            r = c.post("/OrderService/CreateOrder", json={}, headers={"X-API-Key": "the reporting key"})
            assert r.status_code == 403


def _serve(*argv: str) -> Any:
    from tests.test_cli import Running

    return Running("serve", *argv, "--port", "0", until="soapbridge: ")


def test_serve_warns_without_an_auth_section_and_is_quiet_when_it_says_off(tmp_path: Path) -> None:
    from tests.test_cli import Running

    server = Running("serve", "calculator", "--port", "0", until="auth.md")
    try:
        assert "WARNING: no 'auth' section" in server.text
    finally:
        server.stop()
    off = tmp_path / "off.yaml"
    off.write_text("auth: {enabled: false}\n")
    server = Running("serve", "calculator", "--port", "0", "--config", str(off), until="authentication")
    try:
        assert "authentication is off" in server.text and "WARNING" not in server.text
    finally:
        server.stop()


def test_serve_with_mtls_needs_a_client_ca(tmp_path: Path) -> None:
    import subprocess

    from tests.test_cli import CLI

    config = tmp_path / "mtls.yaml"
    config.write_text("auth: {mtls: {subject_field: CN}}\n")
    out = subprocess.run([CLI, "serve", "calculator", "--port", "0", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "--client-ca" in out.stderr


def test_serve_https_with_client_certificates_end_to_end(tmp_path: Path, calculator_mock_server: Any) -> None:
    from tests.test_cli import Running

    pki = _pki(tmp_path)
    config = tmp_path / "bridge.yaml"
    config.write_text("auth:\n  mtls: {subject_field: CN, consumers: {partner-m: partner-a}}\n")
    server = Running(
        "serve", "calculator", "--port", "0", "--config", str(config), "--backend", calculator_mock_server.url + "/",
        "--certfile", pki["server"], "--keyfile", pki["server_key"], "--client-ca", pki["ca"], until="authentication",
    )  # fmt: skip
    try:
        import re

        url = re.search(r"https://[^ /]+", server.text)
        assert url, server.text
        ctx = ssl.create_default_context(cafile=pki["ca"])
        ctx.load_cert_chain(pki["client"], pki["client_key"])
        with httpx.Client(verify=ctx) as c:
            r = c.post(url.group(0) + "/CalculatorService/Add", json={"a": 1, "b": 2})
            assert r.status_code == 200, r.text
        with httpx.Client(verify=ssl.create_default_context(cafile=pki["ca"])) as c:
            assert c.post(url.group(0) + "/CalculatorService/Add", json={"a": 1, "b": 2}).status_code == 401
    finally:
        server.stop()


def test_the_documented_python_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    monkeypatch.chdir(DOCS.parents[1])
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    assert blocks
    for code in blocks:
        scope: dict[str, Any] = {}
        exec(compile(code, str(DOCS), "exec"), scope)
        app = scope["app"]
        r = TestClient(app).post("/OrderService/GetOrder", json={"orderId": "1"})
        assert r.status_code == 401


def test_custom_routes_with_path_parameters_are_guarded_too(keys: Keys) -> None:
    backend = Backend(ORDERS)
    b = bridge.load(ORDERS, endpoint="http://backend.invalid/soap", transport=httpx.ASGITransport(app=backend), auth=auth_config(keys),
                    routes={"GetOrder": {"method": "GET", "path": "/orders/{orderId}"}})  # fmt: skip
    c = TestClient(b.asgi())
    for method in ("GET", "HEAD"):
        assert c.request(method, "/orders/A-1").status_code == 401
        assert c.request(method, "/orders/A-1", headers={"X-API-Key": "key-outsider"}).status_code == 403
    assert backend.requests == []
    assert c.get("/orders/A-1", headers={"X-API-Key": "key-a"}).status_code == 200
    assert len(backend.requests) == 1


def test_a_soap_header_part_no_operation_declares_is_a_config_error(keys: Keys) -> None:
    cfg = auth_config(keys)
    cfg["consumers"]["partner-a"]["upstream"]["soap_headers"] = {"Auth": {"apiKey": "x", "tenant": "y"}}  # the part is "auth"
    with pytest.raises(ConfigError, match="SOAP header part"):
        bridge.load(ORDERS, endpoint="http://x.invalid/", auth=cfg)


def test_a_key_the_idp_withdraws_stops_its_cached_tokens(keys: Keys) -> None:
    from tests.conftest import ServerThread

    idp = Idp(json.loads(keys.jwks.read_text()), "no-cache")
    with ServerThread(idp) as server:
        cfg = {"jwks": f"{server.url}/jwks", "issuer": ISSUER, "audience": AUDIENCE, "jwks_min_refresh": 0}
        client, backend, _ = make(keys, jwt=cfg)
        h = {"Authorization": f"Bearer {keys.token()}"}
        with client:
            assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers=h).status_code == 200
            idp.jwks = {"keys": []}  # k1 withdrawn (compromised, say)
            assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers=h).status_code == 401
        assert len(backend.requests) == 1


def test_a_key_is_hashed_as_the_bytes_sent(keys: Keys) -> None:
    key = "clé-ünïcode"  # sha256sum hashes its UTF-8 bytes
    client, backend, _ = make(keys, api_key_query="api_key", api_keys=[{"consumer": "u", "sha256": hashlib.sha256(key.encode()).hexdigest()}])
    assert client.post("/OrderService/GetOrder", json={"orderId": "1"}, headers={"X-API-Key": key.encode()}).status_code == 200
    assert client.post("/OrderService/GetOrder?api_key=cl%C3%A9-%C3%BCn%C3%AFcode", json={"orderId": "1"}).status_code == 200
    assert client.post("/OrderService/GetOrder?api_key=cl%E9", json={"orderId": "1"}).status_code == 401
    assert len(backend.requests) == 2
