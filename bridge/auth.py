"""Inbound authentication and authorization of REST consumers, and the upstream credentials each
consumer's calls carry (docs/auth.md).

Consumers authenticate with an API key (kept in the config as its SHA-256, compared in constant
time), an OAuth 2.0 bearer JWT (PyJWT checks the JWS; keys from a JWKS file or URL) or a TLS client
certificate (``serve --client-ca``; OpenSSL verifies the chain, the subject names the consumer).
An operation pattern (``fnmatch``, case-sensitive) is matched against ``Service.Operation`` and
``Service.Port.Operation`` with the WSDL's names, so ``OrderService.*`` is every operation of that
service. Tokens and keys never reach a log or a problem body.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import observability
from .envvars import config_path, expand_env, read_config_file, read_secret, section_keys
from .errors import AuthUnavailable, ConfigError, Forbidden, Unauthenticated

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from .model import Operation
    from .settings import BackendAuth, Settings
    from .wsse import Security, WsseSettings

log = logging.getLogger("soapbridge.auth")

# JWS algorithms a JWKS may verify: asymmetric only. "none" and the HMAC family (HS*) are refused at
# load, so a token signed with HS256 using the RSA public key as the secret can never pass.
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_KTY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
JWKS_MAX_BYTES = 1024 * 1024
# Verified tokens are kept (by their exact text) this long at most, and never past their exp: a
# client sends the same token for its whole life, and checking it costs ~0.2 ms (PyJWT's base64 checks
# and the RSA verify). A changed byte is another key; a JWKS refresh that changes the keys empties it.
TOKEN_CACHE_SECONDS = 60.0
TOKEN_CACHE_SIZE = 4096
SUBJECT_FIELDS = {"CN": "2.5.4.3", "O": "2.5.4.10", "OU": "2.5.4.11", "serialNumber": "2.5.4.5", "emailAddress": "1.2.840.113549.1.9.1"}


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    """What a consumer's calls carry to the SOAP service, in place of the global ``wsse`` and
    ``backend_auth``: a WS-Security UsernameToken, HTTP Basic credentials, SOAP header values.
    ``claims`` fills values from the consumer's JWT: target (``wsse.username``,
    ``basic.username`` or ``soap_headers.<part>.<field>``) -> claim name."""

    wsse: WsseSettings | None = None
    basic: BackendAuth | None = field(default=None, repr=False)
    soap_headers: dict[str, Any] = field(default_factory=dict, repr=False)
    claims: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Consumer:
    operations: tuple[str, ...] = ("*",)
    upstream: Upstream | None = None


@dataclass(frozen=True)
class ApiKey:
    consumer: str
    sha256: str = field(repr=False)
    operations: tuple[str, ...] | None = None  # None: the consumer's (``consumers``), else every operation


@dataclass(frozen=True)
class Rule:
    """Scopes and claims a token must hold for the operations or routes the rule names."""

    operations: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JwtSettings:
    jwks: str  # a file path, or an https:// URL
    issuer: str
    audience: tuple[str, ...]
    algorithms: tuple[str, ...] = ("RS256",)
    leeway: int = 30  # seconds of clock skew allowed on exp, nbf and iat
    consumer_claim: str = "sub"
    require: tuple[Rule, ...] = ()
    jwks_min_refresh: float = 60.0  # seconds between two fetches of a JWKS URL for an unknown kid
    jwks_max_age: float = 86400.0  # a Cache-Control max-age above this is cut to it
    jwks_ca: str | None = None  # CA bundle for the JWKS URL's certificate; None: certifi's


@dataclass(frozen=True)
class MtlsSettings:
    subject_field: str = "CN"  # CN, O, OU, serialNumber, emailAddress, or "DN" (the RFC 4514 string)
    consumers: dict[str, str] = field(default_factory=dict)  # subject value -> consumer; empty: the value itself


@dataclass(frozen=True)
class AuthSettings:
    """The ``auth`` section: how consumers authenticate, what they may call, what goes upstream."""

    enabled: bool = True
    api_key_header: str | None = "X-API-Key"
    api_key_query: str | None = None
    api_keys: tuple[ApiKey, ...] = ()
    jwt: JwtSettings | None = None
    mtls: MtlsSettings | None = None
    consumers: dict[str, Consumer] = field(default_factory=dict)
    public: tuple[str, ...] = ()  # more paths reachable without credentials (fnmatch patterns)

    def spec_view(self) -> dict[str, Any]:
        """What the OpenAPI document depends on (the spec cache's key): never a key hash."""
        return {
            "enabled": self.enabled,
            "header": self.api_key_header if self.api_keys else None,
            "query": self.api_key_query if self.api_keys else None,
            "jwt": [self.jwt.issuer, *((r.operations, r.routes, r.scopes) for r in self.jwt.require)] if self.jwt else None,
            "mtls": self.mtls is not None,
        }


_AUTH_KEYS = {"enabled", "api_key_header", "api_key_query", "api_keys", "jwt", "mtls", "consumers", "public"}



def _patterns(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise ConfigError(f"{where}: expected a list of operation patterns such as \"OrderService.*\"")
    return tuple(value)


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty name")
    return value


def parse_settings(data: Any, base: Path | None = None) -> AuthSettings | None:
    """The ``auth`` section of a config as typed settings; relative paths from ``base``."""
    if data is None or isinstance(data, AuthSettings):
        return data
    d = section_keys(data, "auth", _AUTH_KEYS)
    enabled = d.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"auth.enabled: expected true or false, got {enabled!r}")
    header = d.get("api_key_header", "X-API-Key")
    query = d.get("api_key_query")
    for name, v in (("api_key_header", header), ("api_key_query", query)):
        if v is not None and (not isinstance(v, str) or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", v)):
            raise ConfigError(f"auth.{name}: expected a header or parameter name, got {v!r}")
    consumers: dict[str, Consumer] = {}
    raw_consumers = d.get("consumers") or {}
    if not isinstance(raw_consumers, dict):
        raise ConfigError("auth.consumers: expected a mapping of consumer name to operations and upstream")
    for cname, c in raw_consumers.items():
        where = f"auth.consumers.{cname}"
        c = section_keys(c or {}, where, {"operations", "upstream"})
        ops = _patterns(c["operations"], f"{where}.operations") if "operations" in c else ("*",)
        up = _upstream(c["upstream"], f"{where}.upstream", base) if c.get("upstream") is not None else None
        consumers[_name(cname, where)] = Consumer(ops, up)
    keys: list[ApiKey] = []
    raw_keys = d.get("api_keys") or []
    if not isinstance(raw_keys, list):
        raise ConfigError("auth.api_keys: expected a list of {consumer, sha256, operations}")
    seen: set[str] = set()
    for i, k in enumerate(raw_keys):
        where = f"auth.api_keys[{i}]"
        k = section_keys(k, where, {"consumer", "sha256", "operations"})
        digest = expand_env(k.get("sha256"), f"{where}.sha256")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
            raise ConfigError(f"{where}.sha256: expected the 64 hex digits of the key's SHA-256 (`printf %s KEY | sha256sum`)")
        if digest.lower() in seen:
            raise ConfigError(f"{where}.sha256: the same key is listed twice")
        seen.add(digest.lower())
        key_ops = _patterns(k["operations"], f"{where}.operations") if "operations" in k else None
        keys.append(ApiKey(_name(k.get("consumer"), f"{where}.consumer"), digest.lower(), key_ops))
    if keys and header is None and query is None:
        raise ConfigError("auth: api_keys are given, but api_key_header and api_key_query are both null")
    jwt = _jwt(d["jwt"], base) if d.get("jwt") is not None else None
    mtls = None
    if d.get("mtls") is not None:
        m = section_keys(d["mtls"], "auth.mtls", {"subject_field", "consumers"})
        sf = m.get("subject_field", "CN")
        if sf != "DN" and sf not in SUBJECT_FIELDS:
            raise ConfigError(f"auth.mtls.subject_field: expected DN or one of {', '.join(SUBJECT_FIELDS)}, got {sf!r}")
        mc = m.get("consumers") or {}
        if not isinstance(mc, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mc.items()):
            raise ConfigError("auth.mtls.consumers: expected a mapping of certificate subject value to consumer name")
        mtls = MtlsSettings(sf, dict(mc))
    public = _patterns(d["public"], "auth.public") if d.get("public") else ()
    s = AuthSettings(enabled, header, query, tuple(keys), jwt, mtls, consumers, public)
    if enabled and not (keys or jwt or mtls):
        raise ConfigError("auth: configure api_keys, jwt or mtls (or say enabled: false to serve without authentication)")
    return s


def _jwt(data: Any, base: Path | None) -> JwtSettings:
    d = section_keys(data, "auth.jwt", {"jwks", "issuer", "audience", "algorithms", "leeway", "consumer_claim", "require", "jwks_min_refresh", "jwks_max_age", "jwks_ca"})
    for name in ("jwks", "issuer", "audience"):
        if d.get(name) in (None, "", []):
            raise ConfigError(f"auth.jwt.{name}: required")
    jwks = expand_env(d["jwks"], "auth.jwt.jwks")
    if not isinstance(jwks, str):
        raise ConfigError("auth.jwt.jwks: expected a JWKS file path or an https:// URL")
    if "://" in jwks:
        u = urlsplit(jwks)
        if u.scheme != "https" and not (u.scheme == "http" and _loopback(u.hostname or "")):
            raise ConfigError("auth.jwt.jwks: a JWKS URL must be https:// (http:// only on a loopback address)")
    else:
        jwks = str(config_path(jwks, "auth.jwt.jwks", base))
    audience = d["audience"]
    audience = (audience,) if isinstance(audience, str) else audience
    if not isinstance(audience, (list, tuple)) or not all(isinstance(a, str) and a for a in audience):
        raise ConfigError("auth.jwt.audience: expected a string or a list of strings")
    algorithms = d.get("algorithms", ["RS256"])
    if isinstance(algorithms, str):
        algorithms = [algorithms]
    if not isinstance(algorithms, list) or not algorithms:
        raise ConfigError("auth.jwt.algorithms: expected a list such as [RS256]")
    for a in algorithms:
        if a not in ASYMMETRIC:
            why = " (symmetric keys are not accepted: no HS/RS confusion)" if str(a).upper().startswith("HS") else ""
            why = " (unsigned tokens are never accepted)" if str(a).lower() == "none" else why
            raise ConfigError(f"auth.jwt.algorithms: {a!r} is not allowed{why}; choose from {', '.join(ASYMMETRIC)}")
    if "://" not in jwks:  # read now: a bad file fails the start, not the first request
        _parse_jwks(_read_file(jwks), tuple(algorithms), f"auth.jwt.jwks ({jwks})", config=True)
    leeway = d.get("leeway", 30)
    if not isinstance(leeway, int) or isinstance(leeway, bool) or not 0 <= leeway <= 300:
        raise ConfigError(f"auth.jwt.leeway: expected 0 to 300 seconds, got {leeway!r}")
    rules = []
    for i, r in enumerate(d.get("require") or []):
        where = f"auth.jwt.require[{i}]"
        r = section_keys(r, where, {"operations", "routes", "scopes", "claims"})
        if not r.get("operations") and not r.get("routes"):
            raise ConfigError(f"{where}: name the operations or routes the rule applies to")
        scopes = r.get("scopes") or []
        if isinstance(scopes, str):
            scopes = scopes.split()
        claims = r.get("claims") or {}
        if not isinstance(scopes, list) or not all(isinstance(x, str) for x in scopes) or not isinstance(claims, dict):
            raise ConfigError(f"{where}: scopes is a list of strings, claims a mapping of claim name to value")
        rules.append(
            Rule(
                _patterns(r["operations"], f"{where}.operations") if r.get("operations") else (),
                _patterns(r["routes"], f"{where}.routes") if r.get("routes") else (),
                tuple(scopes),
                dict(claims),
            )
        )
    numbers: dict[str, Any] = {}
    for name, default in (("jwks_min_refresh", 60.0), ("jwks_max_age", 86400.0)):
        v = d.get(name, default)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
            raise ConfigError(f"auth.jwt.{name}: expected a number of seconds, got {v!r}")
        numbers[name] = float(v)
    ca = d.get("jwks_ca")
    if ca is not None:
        cp = config_path(ca, "auth.jwt.jwks_ca", base)
        if not cp.exists():
            raise ConfigError(f"auth.jwt.jwks_ca: the CA bundle {cp} does not exist")
        numbers["jwks_ca"] = str(cp)
    return JwtSettings(
        jwks, _name(d["issuer"], "auth.jwt.issuer"), tuple(audience), tuple(algorithms), leeway,
        _name(d.get("consumer_claim", "sub"), "auth.jwt.consumer_claim"), tuple(rules), **numbers,
    )  # fmt: skip


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_file(path: str) -> bytes:
    return read_config_file(Path(path), "auth.jwt.jwks")


def _upstream(data: Any, where: str, base: Path | None) -> Upstream:
    d = section_keys(data, where, {"wsse", "basic", "soap_headers", "claims"})
    claims = d.get("claims") or {}
    if not isinstance(claims, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in claims.items()):
        raise ConfigError(f"{where}.claims: expected a mapping of target (wsse.username, basic.username, soap_headers.PART.FIELD) to claim name")
    for target in claims:
        if not (target in ("wsse.username", "basic.username") or re.fullmatch(r"soap_headers\.[^.]+(\.[^.]+)*", target)):
            raise ConfigError(f"{where}.claims: unknown target {target!r} (wsse.username, basic.username or soap_headers.PART.FIELD)")
    wsse = None
    if d.get("wsse") is not None:
        from .wsse import parse_settings as parse_wsse

        w = dict(d["wsse"]) if isinstance(d["wsse"], dict) else d["wsse"]
        if isinstance(w, dict) and "wsse.username" in claims:
            w.setdefault("username", "-")  # replaced by the claim on each call
        for own in ("services", "verify_reply"):  # replies are checked per WSDL service (the top-level wsse), not per consumer
            if isinstance(w, dict) and own in w:
                raise ConfigError(f"{where}.wsse.{own}: not available per consumer; set it in the top-level wsse section")
        wsse = parse_wsse(w, base=base)
    basic = None
    if d.get("basic") is not None:
        from .settings import BackendAuth

        b = section_keys(d["basic"], f"{where}.basic", {"username", "password", "password_file"})
        if "basic.username" in claims:
            b.setdefault("username", "-")
        password = read_secret(b, "password", f"{where}.basic", base)
        username = expand_env(b.get("username"), f"{where}.basic.username")
        if not isinstance(username, str) or not username or ":" in username or not isinstance(password, str):
            raise ConfigError(f"{where}.basic: expected a username (without ':') and a password")
        basic = BackendAuth("basic", username, password)
    for target in claims:
        if target == "wsse.username" and wsse is None:
            raise ConfigError(f"{where}.claims: wsse.username needs {where}.wsse (with a password)")
        if target == "basic.username" and basic is None:
            raise ConfigError(f"{where}.claims: basic.username needs {where}.basic (with a password)")
    headers = d.get("soap_headers") or {}
    if not isinstance(headers, dict):
        raise ConfigError(f"{where}.soap_headers: expected a mapping of SOAP header part name to its value")
    return Upstream(wsse, basic, _expand_all(headers, f"{where}.soap_headers"), dict(claims))


def _expand_all(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _expand_all(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_all(v, where) for v in value]
    return expand_env(value, where)


# --- credentials ---------------------------------------------------------------------------------


@dataclass
class Credentials:
    """What one authenticated request's upstream call carries (``Bridge.acall(credentials=)``):
    a WS-Security header builder, an ``Authorization`` header, SOAP header values by part name."""

    wsse: Security | None = None
    authorization: str | None = field(default=None, repr=False)
    soap_headers: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Principal:
    """An authenticated consumer: its name, how it proved it, its operation patterns, claims, upstream credentials."""

    consumer: str
    method: str  # api_key | jwt | mtls
    operations: tuple[str, ...]
    claims: dict[str, Any] = field(default_factory=dict, repr=False)
    credentials: Credentials | None = None


def op_names(op: Operation) -> tuple[str, str]:
    """The names operation patterns are matched against."""
    return f"{op.service}.{op.name}", f"{op.service}.{op.port}.{op.name}"


def matches(patterns: tuple[str, ...], op: Operation) -> bool:
    names = op_names(op)
    return any(fnmatchcase(n, p) for p in patterns for n in names)


def token_scopes(claims: dict[str, Any]) -> set[str]:
    """RFC 8693's ``scope`` (space-separated) and the ``scp`` list some IdPs send."""
    out: set[str] = set()
    for name in ("scope", "scp"):
        v = claims.get(name)
        if isinstance(v, str):
            out.update(v.split())
        elif isinstance(v, list):
            out.update(x for x in v if isinstance(x, str))
    return out


def _claim_holds(value: Any, wanted: Any) -> bool:
    if isinstance(value, list):
        return wanted in value
    return bool(value == wanted)


def _pointer_set(data: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        nxt = data.get(key)
        if not isinstance(nxt, dict):
            nxt = data[key] = {}
        else:
            nxt = data[key] = dict(nxt)
        data = nxt
    data[path[-1]] = value


def _pem_to_der(pem: str) -> bytes:
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    return base64.b64decode(body)


@functools.lru_cache(maxsize=256)
def cert_subject(pem: str, subject_field: str) -> str | None:
    """A client certificate's subject value (``CN`` etc., or the whole RFC 4514 ``DN``)."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(_pem_to_der(pem))
    if subject_field == "DN":
        return str(cert.subject.rfc4514_string())
    attrs = cert.subject.get_attributes_for_oid(x509.ObjectIdentifier(SUBJECT_FIELDS[subject_field]))
    return str(attrs[0].value) if attrs else None


class Jwks:
    """The verification keys: a JWKS file read once, or a URL fetched and kept for its
    Cache-Control max-age, fetched again for an unknown ``kid`` at most every ``jwks_min_refresh``."""

    def __init__(self, s: JwtSettings, settings: Settings) -> None:
        self.s = s
        self.settings = settings
        self.url = s.jwks if "://" in s.jwks else None
        self.keys: dict[str | None, Any] = {}
        self.generation = 0  # counts key sets: tokens verified under an older one are checked again
        self.expires = 0.0
        self.last_fetch = float("-inf")
        self._lock = asyncio.Lock()
        if self.url is None:
            self.keys = _parse_jwks(_read_file(s.jwks), s.algorithms, "auth.jwt.jwks")
            self.expires = float("inf")

    async def fresh(self) -> None:
        """Fetches the JWKS URL again when its lifetime is over."""
        if self.url is not None and time.monotonic() >= self.expires:
            await self._refresh(force=False)

    async def key(self, kid: str | None) -> Any | None:
        await self.fresh()
        found = self._find(kid)
        if found is None and self.url is not None:
            await self._refresh(force=True)
            found = self._find(kid)
        return found

    def _find(self, kid: str | None) -> Any | None:
        if kid is not None:
            return self.keys.get(kid)
        return next(iter(self.keys.values())) if len(self.keys) == 1 else None  # a token without kid: only with one key

    async def _refresh(self, force: bool) -> None:
        async with self._lock:
            now = time.monotonic()
            if force and now - self.last_fetch < self.s.jwks_min_refresh:
                return  # unknown kids must not make the bridge hammer the IdP
            if not force and now < self.expires:
                return  # another request fetched it meanwhile
            self.last_fetch = now
            try:
                keys, max_age = await self._fetch()
            except AuthUnavailable:
                if not self.keys:
                    raise
                self.expires = now + min(self.s.jwks_min_refresh, 60.0)  # keep the old keys a while
                return
            if set(keys) != set(self.keys) or any(keys[k].key_type != self.keys[k].key_type for k in keys):
                self.generation += 1
            self.keys = keys
            self.expires = now + max_age

    async def _fetch(self) -> tuple[dict[str | None, Any], float]:
        import httpx

        from .client import _tls_context

        assert self.url is not None
        st = self.settings
        # The IdP's certificate: against jwks_ca, else certifi's bundle; never unchecked (verify_tls is the SOAP service's)
        verify = _tls_context(self.s.jwks_ca or True)
        timeout = httpx.Timeout(st.read_timeout, connect=st.connect_timeout)
        proxy = st.proxy if st.proxy not in (None, "env") else None
        host = urlsplit(self.url).hostname or "?"
        try:
            client = httpx.AsyncClient(verify=verify, timeout=timeout, trust_env=st.proxy == "env", proxy=proxy, follow_redirects=False)
            async with client, client.stream("GET", self.url, headers={"Accept": "application/json"}) as r:
                if r.status_code != 200:
                    raise AuthUnavailable(f"the JWKS at {host} answered HTTP {r.status_code}")
                body = bytearray()
                async for chunk in r.aiter_bytes():
                    body += chunk
                    if len(body) > JWKS_MAX_BYTES:
                        raise AuthUnavailable(f"the JWKS at {host} is larger than {JWKS_MAX_BYTES} bytes")
                cache_control = r.headers.get("cache-control", "")
        except httpx.HTTPError as exc:
            log.warning("cannot fetch the JWKS from %s: %s", host, type(exc).__name__)
            raise AuthUnavailable(f"the JWKS at {host} cannot be fetched ({type(exc).__name__})") from None
        try:
            keys = _parse_jwks(bytes(body), self.s.algorithms, f"the JWKS at {host}")
        except ConfigError as exc:
            log.warning("%s", exc)
            raise AuthUnavailable(str(exc)) from None
        return keys, self._max_age(cache_control)

    def _max_age(self, cache_control: str) -> float:
        directives = {k.strip().lower(): v for k, _, v in (p.partition("=") for p in cache_control.split(","))}
        if "no-store" in directives or "no-cache" in directives:
            return self.s.jwks_min_refresh
        try:
            age = float(directives.get("max-age", "").strip().strip('"'))
        except ValueError:
            age = 300.0  # no lifetime given: five minutes, as common JWKS clients do
        return max(self.s.jwks_min_refresh, min(age, self.s.jwks_max_age))


def _parse_jwks(data: bytes, algorithms: tuple[str, ...], where: str, config: bool = False) -> dict[str | None, Any]:
    """kid -> PyJWK of a JWKS, keeping the keys an allowed algorithm can use (by ``kty``)."""
    import jwt

    try:
        doc = json.loads(data)
        raw = doc["keys"]
        assert isinstance(raw, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise ConfigError(f"{where}: not a JWKS (a JSON object with a \"keys\" list)") from None
    kinds = {_KTY[a[:2]] for a in algorithms}
    out: dict[str | None, Any] = {}
    for k in raw:
        if not isinstance(k, dict) or k.get("kty") not in kinds or k.get("use", "sig") != "sig":
            continue
        if k.get("kty") == "oct":  # never: a symmetric key is refused whatever the algorithms say
            continue
        try:
            out[k.get("kid")] = jwt.PyJWK(k)
        except jwt.PyJWKError:
            continue
    if not out and config:
        raise ConfigError(f"{where}: holds no signing key usable with the allowed algorithms")
    return out


class Authenticator:
    """Checks one request's credentials and whether they allow its operation."""

    def __init__(self, s: AuthSettings, settings: Settings) -> None:
        self.s = s
        self.keys = {bytes.fromhex(k.sha256): k for k in s.api_keys}
        self.jwks = Jwks(s.jwt, settings) if s.jwt else None
        self._tokens: dict[str, tuple[dict[str, Any], float, int]] = {}  # token -> claims, valid until, JWKS generation
        self._static: dict[str, Credentials | None] = {}
        for name, c in s.consumers.items():
            self._static[name] = self._credentials(c.upstream, {}) if c.upstream and not c.upstream.claims else None
        self.challenges = ", ".join(self._challenges())

    def _challenges(self) -> list[str]:
        out = []
        if self.s.jwt:
            out.append('Bearer realm="soapbridge"')
        if self.s.api_keys and self.s.api_key_header:
            out.append(f'ApiKey realm="soapbridge", header="{self.s.api_key_header}"')
        if self.s.mtls:
            out.append('Mutual realm="soapbridge"')
        return out or ['ApiKey realm="soapbridge"']

    def _credentials(self, up: Upstream | None, claims: dict[str, Any]) -> Credentials | None:
        if up is None:
            return None
        from .client import basic_authorization

        values: dict[str, Any] = {}
        for target, claim in up.claims.items():
            v = claims.get(claim)
            if not isinstance(v, (str, int)) or isinstance(v, bool) or str(v) == "":
                raise Forbidden(f"the token has no usable {claim!r} claim, which this consumer's upstream credentials need")
            values[target] = str(v)
        wsse = None
        if up.wsse is not None:
            from .wsse import Security

            ws = up.wsse if "wsse.username" not in values else replace(up.wsse, username=values["wsse.username"])
            wsse = Security(ws)
        authorization = None
        if up.basic is not None:
            b = up.basic if "basic.username" not in values else replace(up.basic, username=values["basic.username"])
            if ":" in b.username:
                raise Forbidden("the token's user name for the SOAP service holds ':', which HTTP Basic cannot carry")
            authorization = basic_authorization(b)
        headers = json.loads(json.dumps(up.soap_headers))  # a copy per call
        for target, v in values.items():
            if target.startswith("soap_headers."):
                _pointer_set(headers, target.split(".")[1:], v)
        return Credentials(wsse, authorization, headers)

    async def authenticate(self, scope: Scope) -> Principal:
        """The consumer of a request (an API key first, then a bearer token, then a client certificate);
        raises ``Unauthenticated`` without valid credentials."""
        headers = _headers(scope)
        auth = headers.get("authorization")
        header = headers.get(self.s.api_key_header.lower()) if self.s.api_key_header and self.s.api_keys else None
        # the bytes the client sent: a header's as they are, a query parameter's percent-decoded as UTF-8
        key = header.encode("latin-1") if header is not None else None
        if key is None and self.s.api_key_query and self.s.api_keys:
            query = scope.get("query_string", b"").decode("latin-1")
            key = next((v.encode("utf-8", "surrogateescape") for k, v in parse_qsl(query, errors="surrogateescape") if k == self.s.api_key_query), None)
        if key is not None:
            return self._api_key(key)
        if auth is not None and self.jwks is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return await self._jwt(token.strip())
            raise Unauthenticated("the Authorization header is not a Bearer token", self.challenges)
        if self.s.mtls:
            pem = (scope.get("extensions") or {}).get("tls", {}).get("client_cert_chain") or []
            if pem:
                return self._mtls(pem[0])
        raise Unauthenticated("this operation needs credentials: " + self._wanted(), self.challenges)

    def _wanted(self) -> str:
        ways = []
        if self.s.api_keys:
            where = [f"the {self.s.api_key_header} header" if self.s.api_key_header else "", f"the {self.s.api_key_query} query parameter" if self.s.api_key_query else ""]
            ways.append("an API key in " + " or ".join(w for w in where if w))
        if self.s.jwt:
            ways.append("a bearer token (Authorization: Bearer ...)")
        if self.s.mtls:
            ways.append("a TLS client certificate")
        return ", or ".join(ways)

    def _consumer(self, name: str, method: str, operations: tuple[str, ...] | None, claims: dict[str, Any]) -> Principal:
        c = self.s.consumers.get(name)
        ops = operations if operations is not None else (c.operations if c else ("*",))
        if c is not None and c.upstream is not None and c.upstream.claims:
            creds = self._credentials(c.upstream, claims)
        else:
            creds = self._static.get(name)
        return Principal(name, method, ops, claims, creds)

    def _api_key(self, key: bytes) -> Principal:
        digest = hashlib.sha256(key).digest()
        found = None
        for known, entry in self.keys.items():  # every entry compared, in constant time
            if hmac.compare_digest(known, digest):
                found = entry
        if found is None:
            raise Unauthenticated("the API key is not valid", self.challenges)
        return self._consumer(found.consumer, "api_key", found.operations, {})

    async def _jwt(self, token: str) -> Principal:
        s = self.s.jwt
        assert s is not None and self.jwks is not None
        await self.jwks.fresh()  # a key set whose lifetime is over is fetched again before any cached token counts
        hit = self._tokens.get(token)
        if hit is not None:
            claims, until, generation = hit
            if time.time() < until and generation == self.jwks.generation:
                return self._consumer(claims[s.consumer_claim], "jwt", None, claims)
            del self._tokens[token]
        claims = await self._verify(token)
        until = min(float(claims["exp"]) + s.leeway, time.time() + TOKEN_CACHE_SECONDS)
        if len(self._tokens) >= TOKEN_CACHE_SIZE:
            del self._tokens[next(iter(self._tokens))]  # the oldest
        self._tokens[token] = (claims, until, self.jwks.generation)
        return self._consumer(claims[s.consumer_claim], "jwt", None, claims)

    async def _verify(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature, algorithm, key, iss, aud, exp and nbf check out."""
        import jwt

        s = self.s.jwt
        assert s is not None and self.jwks is not None
        invalid = 'Bearer realm="soapbridge", error="invalid_token"'
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not a JWS", invalid) from None
        alg = header.get("alg")
        if alg not in s.algorithms:
            raise Unauthenticated(f"the token's algorithm is not one of the allowed ({', '.join(s.algorithms)})", invalid)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("the token's kid is not a string", invalid)
        key = await self.jwks.key(kid)
        if key is None:
            raise Unauthenticated("the token is signed with a key the identity provider's JWKS does not hold", invalid)
        if key.key_type != _KTY[alg[:2]]:
            raise Unauthenticated("the token's algorithm does not fit its key", invalid)
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[alg], audience=list(s.audience), issuer=s.issuer, leeway=s.leeway,
                options={"require": ["exp", "iss", "aud"], "verify_signature": True},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", invalid) from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the token is not valid yet (nbf or iat in the future)", invalid) from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token is not meant for this API (aud)", invalid) from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token is from another issuer (iss)", invalid) from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"the token has no {exc.claim!r} claim", invalid) from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token's signature does not verify", invalid) from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid", invalid) from None
        name = claims.get(s.consumer_claim)
        if not isinstance(name, str) or not name:
            raise Unauthenticated(f"the token has no {s.consumer_claim!r} claim naming the consumer", invalid)
        if not isinstance(claims.get("exp"), (int, float)):
            raise Unauthenticated("the token's exp is not a number", invalid)
        return dict(claims)

    def _mtls(self, pem: str) -> Principal:
        m = self.s.mtls
        assert m is not None
        try:
            subject = cert_subject(pem, m.subject_field)
        except ValueError:
            subject = None
        if not subject:
            raise Unauthenticated(f"the client certificate has no {m.subject_field} in its subject", self.challenges)
        name = m.consumers.get(subject) if m.consumers else subject
        if name is None:
            raise Forbidden("the client certificate's subject is not a known consumer")
        return self._consumer(name, "mtls", None, {})

    def authorize(self, p: Principal, op: Operation, path: str) -> None:
        """Raises ``Forbidden`` unless the consumer may call ``op`` (its patterns, and a token's ``require`` rules)."""
        if not matches(p.operations, op):
            raise Forbidden(f"the consumer {p.consumer!r} is not allowed the operation {op.service}.{op.name}")
        if p.method != "jwt" or self.s.jwt is None:
            return
        have = token_scopes(p.claims)
        for rule in self.s.jwt.require:
            if not (matches(rule.operations, op) or any(fnmatchcase(path, r) for r in rule.routes)):
                continue
            missing = [x for x in rule.scopes if x not in have]
            if missing:
                raise Forbidden(
                    f"the token lacks the scope(s) {' '.join(missing)} this operation needs",
                    f'Bearer realm="soapbridge", error="insufficient_scope", scope="{" ".join(rule.scopes)}"',
                )
            for claim, wanted in rule.claims.items():
                if not _claim_holds(p.claims.get(claim), wanted):
                    raise Forbidden(f"the token's {claim!r} claim does not allow this operation")


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        name = k.decode("latin-1").lower()
        if name not in out:  # the first of repeated headers: a second one must not slip past
            out[name] = v.decode("latin-1")
    return out


# --- the middleware ---------------------------------------------------------------------------


Problem = Callable[..., Any]


class AuthMiddleware:
    """Runs before routing: finds the operation a request is for, authenticates and authorizes it,
    and sets ``scope["state"]["consumer"]`` (None when authentication is off) and, for the route,
    ``scope["state"]["upstream"]`` (the consumer's ``Credentials``). Other paths (the spec, the docs,
    health, unknown routes) pass without credentials; an unknown route is a 404 either way."""

    def __init__(self, app: ASGIApp, *, auth: Authenticator | None, routed: list[Operation], base: str, problem: Problem) -> None:
        from starlette.routing import compile_path

        self.app = app
        self.auth = auth
        self.problem = problem
        self.fixed: dict[tuple[str, str], Operation] = {}
        self.templated: list[tuple[re.Pattern[str], str, Operation]] = []
        for op in routed:
            methods = [op.http_method, "HEAD"] if op.http_method == "GET" else [op.http_method]
            for m in methods:
                if "{" in op.path:
                    self.templated.append((compile_path(op.path)[0], m, op))
                else:
                    self.fixed[(op.path, m)] = op
        self.base = base

    def operation(self, scope: Scope) -> Operation | None:
        """The routed operation a request is for, or None (the spec, docs, health, unknown routes)."""
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
            path = path[len(root) :]
        method = scope["method"]
        op = self.fixed.get((path, method))
        if op is None:
            op = next((o for rx, m, o in self.templated if m == method and rx.match(path)), None)
        return op

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticates and authorizes an operation's request before it reaches the route."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["upstream"] = None
        if self.auth is None:
            # Off: an enclosing ASGI middleware (the embedding app's own authentication) may have
            # named the consumer, and rate limits count by that name; it never picks credentials.
            state.setdefault("consumer", None)
            await self.app(scope, receive, send)
            return
        state["consumer"] = None
        op = self.operation(scope)
        if op is not None:  # a 401 or 403 is counted under the operation it refused
            observability.label(op.service, op.name)
        if op is None or any(fnmatchcase(scope["path"], p) for p in self.auth.s.public):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self.auth.authenticate(scope)
            self.auth.authorize(principal, op, scope["path"])
        except Unauthenticated as exc:
            log.info("%s %s -> 401: %s", scope["method"], scope["path"], exc)
            r = self.problem(401, "unauthorized", "Authentication required", str(exc))
            r.headers["WWW-Authenticate"] = exc.challenge or self.auth.challenges
            await r(scope, receive, send)
            return
        except Forbidden as exc:
            log.info("%s %s -> 403: %s", scope["method"], scope["path"], exc)
            r = self.problem(403, "forbidden", "Forbidden", str(exc))
            if exc.challenge:
                r.headers["WWW-Authenticate"] = exc.challenge
            await r(scope, receive, send)
            return
        except AuthUnavailable as exc:
            r = self.problem(503, "auth-unavailable", "The identity provider's keys cannot be fetched", str(exc))
            r.headers["Retry-After"] = "30"
            await r(scope, receive, send)
            return
        state["consumer"] = principal.consumer
        state["upstream"] = principal.credentials
        await self.app(scope, receive, send)


def build(settings: Settings) -> Authenticator | None:
    """The authenticator of these settings, or None when authentication is off."""
    s = settings.auth
    if s is None or not s.enabled:
        return None
    return Authenticator(s, settings)


# --- the spec ----------------------------------------------------------------------------------


def security_schemes(s: AuthSettings | None) -> dict[str, Any]:
    """The spec's ``components.securitySchemes`` for these settings (none when authentication is off)."""
    if s is None or not s.enabled:
        return {}
    out: dict[str, Any] = {}
    if s.api_keys and s.api_key_header:
        out["apiKey"] = {"type": "apiKey", "in": "header", "name": s.api_key_header, "description": "An API key the bridge's config lists (as its SHA-256)."}
    if s.api_keys and s.api_key_query:
        out["apiKeyQuery"] = {"type": "apiKey", "in": "query", "name": s.api_key_query, "description": "An API key, as a query parameter."}
    if s.jwt:
        out["bearer"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": f"An OAuth 2.0 access token (JWT) from {s.jwt.issuer}."}
    if s.mtls:
        out["mutualTLS"] = {"type": "mutualTLS", "description": "A TLS client certificate issued by the CA the bridge trusts."}
    return out


def operation_security(s: AuthSettings | None, op: Operation) -> list[dict[str, list[str]]]:
    """The security requirement of one operation: any one of the configured schemes; for the
    bearer token, the scopes the ``require`` rules ask for this operation."""
    schemes = security_schemes(s)
    if not schemes:
        return []
    assert s is not None
    out = []
    for name in schemes:
        scopes: list[str] = []
        if name == "bearer" and s.jwt:
            for rule in s.jwt.require:
                if matches(rule.operations, op) or any(fnmatchcase(op.path, r) for r in rule.routes):
                    scopes += [x for x in rule.scopes if x not in scopes]
        out.append({name: scopes})
    return out


def hash_key(key: str) -> str:
    """The ``sha256`` of an API key, as the config lists it."""
    return hashlib.sha256(key.encode()).hexdigest()


__all__ = [
    "AuthMiddleware",
    "AuthSettings",
    "Authenticator",
    "Credentials",
    "Principal",
    "build",
    "hash_key",
    "operation_security",
    "parse_settings",
    "security_schemes",
]
