"""Settings: safety limits, timeouts, status mapping and REST routing overrides.

A config file (YAML or JSON) holds the same keys as ``Settings``; unknown keys are errors,
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from .envvars import config_path, expand_env, read_secret
from .errors import ConfigError, FaultCategory, UpstreamKind

if TYPE_CHECKING:
    from .auth import AuthSettings
    from .wsse import WsseSettings

MiB = 1024 * 1024
#: ``Settings.reply_validation``: replies checked against the spec strictly, leniently, or not.
ReplyValidation = Literal["strict", "lax", "off"]
#: ``Settings.fault_detail``: which faults' detail REST consumers see.
FaultDetail = Literal["declared", "all"]


@dataclass(frozen=True)
class StatusMap:
    """HTTP statuses the REST app answers upstream failures with."""

    client_fault: int = 422
    server_fault: int = 502
    timeout: int = 504
    unavailable: int = 503
    bad_reply: int = 502

    def for_upstream(self, kind: UpstreamKind) -> int:
        """The status of an UpstreamError of this kind."""
        return {"timeout": self.timeout, "unavailable": self.unavailable}.get(kind, self.bad_reply)

    def for_fault(self, category: FaultCategory) -> int:
        """The status of a SoapFault of this category (``client`` or ``server``)."""
        return self.client_fault if category == "client" else self.server_fault


@dataclass(frozen=True)
class JsonLimits:
    """What a REST request body may hold, checked before validation (Membrane's JSON protection
    defaults). Each breach is a 400 problem; the total size is ``max_request_bytes`` (413)."""

    max_depth: int = 50  # nesting of objects and arrays
    max_keys: int = 1000  # keys per object
    max_items: int = 1000  # items per array
    max_string_length: int = 256 * 1024  # characters in a string value
    max_key_length: int = 256  # characters in an object key


@dataclass(frozen=True)
class ServerLimits:
    """How ``soapbridge serve`` treats slow or greedy clients (NGINX's defaults; docs/hostile-clients.md says why)."""

    header_timeout: float = 60.0  # seconds for a request's headers, from its first byte (408, closed)
    body_timeout: float = 60.0  # seconds for the whole body once the headers are in (408, closed)
    keepalive_timeout: float = 75.0  # seconds an idle connection is kept between requests
    max_connections: int = 512  # open client connections; more are answered 503 and closed
    max_header_bytes: int = 32 * 1024  # request line and headers together (431, closed)


@dataclass(frozen=True)
class LogSettings:
    """The server's log (docs/operations.md): one line per request, JSON or text."""

    format: str = "json"  # json | text
    level: str = "info"  # debug | info | warning | error; "warning" drops the per-request lines


@dataclass(frozen=True)
class TracingSettings:
    """OpenTelemetry tracing (the ``tracing`` extra); off by default, and then nothing of it is imported."""

    enabled: bool = False
    # otlp (OTLP over HTTP to endpoint; needs opentelemetry-exporter-otlp-proto-http), console, or
    # none: the tracer provider already installed in the process (opentelemetry-instrument, an embedding app)
    exporter: str = "none"
    endpoint: str | None = None
    service_name: str = "soapbridge"


@dataclass(frozen=True)
class ReadinessSettings:
    """What ``/readyz`` checks besides the loaded model: optionally, a recent answer from each backend."""

    probe_backends: bool = False
    interval: float = 10.0  # seconds between probes (a background task, never per /readyz request)
    timeout: float = 2.0  # seconds a probe may take
    max_age: float | None = None  # a backend's last answer counts this long; None: 3 x interval


@dataclass(frozen=True)
class ShutdownSettings:
    """SIGTERM: /readyz says 503 at once; new connections are taken for ``drain_seconds`` more (so
    that a load balancer sees the 503 first), then refused; in-flight calls get ``grace_seconds``."""

    drain_seconds: float = 0.0
    grace_seconds: float = 30.0


@dataclass(frozen=True)
class Route:
    """Maps one operation to another method and path; ``{name}`` path segments and
    ``query`` names are taken from simple top-level fields of the input."""

    method: str = "POST"
    path: str | None = None
    query: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientCert:
    """A client certificate for mutual TLS with the service (PEM files)."""

    cert: str
    key: str | None = None  # None: the key is in the cert file
    password: str | None = field(default=None, repr=False)  # of an encrypted key


@dataclass(frozen=True)
class BackendAuth:
    """HTTP authentication to the service."""

    type: str = "basic"  # basic | digest
    username: str = ""
    password: str = field(default="", repr=False)


#: ``RateLimits.on_storage_error``: what a request gets while the counters cannot be reached.
OnStorageError = Literal["allow", "deny"]


@dataclass(frozen=True)
class ConsumerLimits:
    """One consumer's limits; in the config a rate alone (``partner-a: 10/second``) or a mapping."""

    rate: str | None = None  # None: the default rate
    concurrency: int | None = None  # None: rate_limits.concurrency
    max_request_bytes: int | None = None  # None: rate_limits.max_request_bytes, else the global one


@dataclass(frozen=True)
class RateLimits:
    """Rate limits of REST consumers (docs/rate-limits.md), in the ``limits`` library's notation
    (``100/second``, ``10/second;1000/day``). A consumer is the name authentication gives it, else
    the client address."""

    default: str | None = None  # every consumer without its own entry; None: those are not limited
    consumers: dict[str, ConsumerLimits] = field(default_factory=dict)  # consumer name -> its limits
    # operation pattern ("OrderService.*", "PlaceOrder") -> a limit each consumer has on it, on top
    operations: dict[str, str] = field(default_factory=dict)
    storage: str = field(default="memory://", repr=False)  # memory:// or redis(s)://...; repr: may hold a password
    on_storage_error: OnStorageError = "allow"  # allow (fail open) or deny (fail closed, 503)
    # seconds one request waits for the counters at most; it includes the time a busy event loop takes
    # to get back to the request, so it is not a Redis round trip (under 1 ms) but a bound on a dead one
    storage_timeout: float = 0.5
    # Requests of one consumer in flight at once, per worker process; None: not limited
    concurrency: int | None = None
    # Request body size of one consumer; None: the global max_request_bytes
    max_request_bytes: int | None = None


@dataclass(frozen=True)
class Cors:
    """CORS for browsers on other origins (Starlette's CORSMiddleware); off unless configured."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")
    allow_headers: tuple[str, ...] = ("Content-Type", "Authorization", "X-API-Key")
    allow_credentials: bool = False
    expose_headers: tuple[str, ...] = ()
    max_age: int = 600


@dataclass(frozen=True)
class Mtom:
    """Binary content (bridge.mime, docs/binary.md). Sending: ``enabled`` true sends every
    base64Binary value of at least ``threshold`` bytes as an MTOM attachment, "auto" only where
    the WSDL's policy asks for MTOM (wsoma:OptimizedMimeSerialization), false never. Receiving
    (MTOM and SwA replies are always understood): at most ``max_parts`` parts of ``max_part_bytes``
    each (None: ``max_reply_bytes``), each part kept in memory up to ``spool_bytes``, on disk above."""

    enabled: bool | str = "auto"
    threshold: int = 1024
    max_parts: int = 100
    max_part_bytes: int | None = None
    spool_bytes: int = 1 * MiB


@dataclass(frozen=True)
class Settings:
    """Everything a ``Bridge`` can be configured with (docs/configuration.md).

    ``load()`` and ``make_settings()`` build it from keyword arguments and a YAML or JSON config
    file; the defaults are the safe ones (TLS verified, no network loading, bounded sizes).
    """

    endpoint: str | None = None  # overrides every port's soap:address
    allow_network: bool = False  # may the loader fetch http(s) documents?
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # Overall deadline of one upstream call (connect, send, the whole reply, a retry), whatever the
    # service's pace; None: connect_timeout + read_timeout.
    call_timeout: float | None = None
    verify_tls: bool | str = True  # False, True or a CA bundle path
    max_request_bytes: int = 10 * MiB  # REST request body
    max_reply_bytes: int = 50 * MiB  # SOAP reply body
    max_xml_depth: int = 256
    max_connections: int = 100
    reply_validation: ReplyValidation = "strict"  # strict | lax | off: replies checked against the spec
    # declared | all: what of a fault's detail REST consumers see. "declared": only a declared
    # fault's typed content; "all": also the detail of undeclared faults, as generic JSON (which
    # may carry stack traces and host names).
    fault_detail: FaultDetail = "declared"
    status: StatusMap = field(default_factory=StatusMap)
    json_limits: JsonLimits = field(default_factory=JsonLimits)
    server: ServerLimits = field(default_factory=ServerLimits)
    ports: dict[str, str] = field(default_factory=dict)  # service -> preferred port
    routes: dict[str, Route] = field(default_factory=dict)  # operation key -> route
    # Operations safe to send twice: retried once after a connection failure even when the service
    # may have processed the request (others only when a reused connection failed before replying).
    idempotent: tuple[str, ...] = ()
    base_path: str = ""
    # The spec's info.license and info.contact (OpenAPI's fields: license name/identifier/url,
    # contact name/url/email); left out when not given.
    license: dict[str, str] | None = None
    contact: dict[str, str] | None = None
    # Disk cache of the loaded model and spec: "auto" ($SOAPBRIDGE_CACHE_DIR, else the user's cache
    # directory), a directory, or None for no cache. See bridge.cache.
    cache_dir: str | None = "auto"
    # --- transport to the service (docs/upstream.md) ---
    client_cert: ClientCert | None = None  # mutual TLS
    # None: no proxy (the HTTP(S)_PROXY variables are ignored); "env": those variables; or a URL
    proxy: str | None = field(default=None, repr=False)  # repr: a proxy URL may hold credentials
    no_proxy: str | None = None  # hosts that bypass the proxy (NO_PROXY syntax); None: $NO_PROXY
    backend_auth: BackendAuth | None = None
    # WS-Addressing headers: true (every request), false (none), auto (where the WSDL's binding asks for them)
    addressing: bool | str = "auto"
    # WS-Security of the calls to the service (bridge.wsse): a mapping as in the config file, or None
    wsse: WsseSettings | None = None
    # Inbound authentication and authorization of REST consumers (bridge.auth, docs/auth.md): a mapping
    # as in the config file, or None (no section: `serve` warns that anyone may call every operation)
    auth: AuthSettings | None = None
    cors: Cors | None = None  # off unless configured
    # Rate limits of REST consumers; None: none
    rate_limits: RateLimits | None = None
    # --- operations (docs/operations.md) ---
    metrics: bool = True  # /metrics and the request counters
    log: LogSettings = field(default_factory=LogSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    readiness: ReadinessSettings = field(default_factory=ReadinessSettings)
    shutdown: ShutdownSettings = field(default_factory=ShutdownSettings)
    # MTOM/XOP and SOAP with Attachments (bridge.mime): when requests send binaries as attachments,
    # and the bounds of multipart replies
    mtom: Mtom = field(default_factory=Mtom)
    # Describe the multipart/form-data request of operations with base64Binary input in the spec
    # (the app takes it either way). Off: openapi-python-client 0.29 writes clients that do not import
    # for a request body with two media types (docs/code-generators.md)
    form_requests_in_spec: bool = False

    def merged(self, **overrides: Any) -> Settings:
        """A copy with ``overrides`` applied and checked; unknown names raise ``ConfigError``."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return _coerce(replace(self, **overrides))


def _coerce(s: Settings) -> Settings:
    """Validate values and turn plain dicts (from files or kwargs) into typed ones."""
    status = s.status
    if isinstance(status, dict):
        status = _build(StatusMap, status, "status")
    json_limits = _build(JsonLimits, s.json_limits, "json_limits") if isinstance(s.json_limits, dict) else s.json_limits
    server = _build(ServerLimits, s.server, "server") if isinstance(s.server, dict) else s.server
    _positive(json_limits, "json_limits", int)
    _positive(server, "server", float)
    routes: dict[str, Route] = {}
    for key, value in (s.routes or {}).items():
        if isinstance(value, Route):
            routes[key] = value
        elif isinstance(value, dict):
            value = dict(value)
            if "query" in value:
                value["query"] = tuple(value["query"])
            if "method" in value:
                value["method"] = str(value["method"]).upper()
            routes[key] = _build(Route, value, f"routes.{key}")
        else:
            raise ConfigError(f"routes.{key}: expected a mapping with method/path/query")
    for name in ("connect_timeout", "read_timeout"):
        v = getattr(s, name)
        if not isinstance(v, (int, float)) or v <= 0:
            raise ConfigError(f"{name}: expected a positive number of seconds, got {v!r}")
    if s.call_timeout is not None and (not isinstance(s.call_timeout, (int, float)) or isinstance(s.call_timeout, bool) or s.call_timeout <= 0):
        raise ConfigError(f"call_timeout: expected a positive number of seconds or null, got {s.call_timeout!r}")
    idempotent = s.idempotent
    if not isinstance(idempotent, (list, tuple)) or not all(isinstance(k, str) for k in idempotent):
        raise ConfigError(f"idempotent: expected a list of operation names, got {idempotent!r}")
    for name in ("max_request_bytes", "max_reply_bytes", "max_xml_depth", "max_connections"):
        v = getattr(s, name)
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ConfigError(f"{name}: expected a positive integer, got {v!r}")
    if not isinstance(s.verify_tls, (bool, str)):
        raise ConfigError(f"verify_tls: expected true, false or a CA bundle path, got {s.verify_tls!r}")
    if isinstance(s.verify_tls, str) and not Path(s.verify_tls).exists():
        raise ConfigError(f"verify_tls: the CA bundle {s.verify_tls} does not exist")
    if s.reply_validation not in ("strict", "lax", "off"):
        raise ConfigError(f"reply_validation: expected strict, lax or off, got {s.reply_validation!r}")
    if s.fault_detail not in ("declared", "all"):
        raise ConfigError(f"fault_detail: expected declared or all, got {s.fault_detail!r}")
    if not isinstance(s.ports, dict):
        raise ConfigError("ports: expected a mapping of service name to port name")
    for name, allowed, needed in (("license", ("name", "identifier", "url"), "name"), ("contact", ("name", "url", "email"), None)):
        v = getattr(s, name)
        if v is None:
            continue
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
            raise ConfigError(f"{name}: expected a mapping of {', '.join(allowed)} to strings, got {v!r}")
        if unknown_keys := sorted(set(v) - set(allowed)):
            raise ConfigError(f"{name}: unknown key(s): {', '.join(unknown_keys)} (known: {', '.join(allowed)})")
        if needed and needed not in v:
            raise ConfigError(f"{name}: '{needed}' is required")
    cache_dir = s.cache_dir
    if isinstance(cache_dir, os.PathLike):
        cache_dir = os.fspath(cache_dir)
    if cache_dir is not None and (not isinstance(cache_dir, str) or not cache_dir.strip()):
        raise ConfigError(f"cache_dir: expected a directory, \"auto\" or null (no cache), got {cache_dir!r}")
    client_cert = _client_cert(s.client_cert)
    backend_auth = _backend_auth(s.backend_auth)
    proxy = _proxy(s.proxy)
    if s.no_proxy is not None and not isinstance(s.no_proxy, str):
        raise ConfigError(f"no_proxy: expected a comma-separated list of hosts, got {s.no_proxy!r}")
    if not isinstance(s.addressing, bool) and s.addressing != "auto":
        raise ConfigError(f"addressing: expected true, false or auto, got {s.addressing!r}")
    ops = _operations(s)
    wsse = s.wsse
    if wsse is not None:
        from .wsse import parse_settings  # only when configured: a warm start does not import it

        wsse = parse_settings(wsse)
    auth = s.auth
    if auth is not None:
        from .auth import parse_settings as parse_auth

        auth = parse_auth(auth)
        if backend_auth is not None and backend_auth.type == "digest" and auth is not None and any(c.upstream and c.upstream.basic for c in auth.consumers.values()):
            raise ConfigError("auth.consumers: upstream.basic cannot go with backend_auth of type digest (one Authorization header)")
    return replace(
        s, status=status, routes=routes, cache_dir=cache_dir, idempotent=tuple(idempotent), json_limits=json_limits, server=server, wsse=wsse,
        client_cert=client_cert, backend_auth=backend_auth, proxy=proxy, auth=auth, cors=_cors(s.cors),
        rate_limits=_rate_limits(s.rate_limits), mtom=_mtom(s.mtom), **ops,
    )  # fmt: skip


def _mtom(value: Any) -> Mtom:
    m = _build(Mtom, value, "mtom") if isinstance(value, dict) else value
    if not isinstance(m, Mtom):
        raise ConfigError(f"mtom: expected a mapping of enabled, threshold, max_parts, max_part_bytes, spool_bytes, got {value!r}")
    if not isinstance(m.enabled, bool) and m.enabled != "auto":
        raise ConfigError(f"mtom.enabled: expected true, false or auto, got {m.enabled!r}")
    for name in ("threshold", "max_parts", "spool_bytes", "max_part_bytes"):
        v = getattr(m, name)
        if name == "max_part_bytes" and v is None:
            continue
        if not isinstance(v, int) or isinstance(v, bool) or v < (0 if name in ("threshold", "spool_bytes") else 1):
            raise ConfigError(f"mtom.{name}: expected a {'non-negative' if name in ('threshold', 'spool_bytes') else 'positive'} integer, got {v!r}")
    return m


def _cors(value: Any) -> Cors | None:
    if value is None or isinstance(value, Cors):
        return value
    if not isinstance(value, dict):
        raise ConfigError("cors: expected a mapping with allow_origins (and allow_methods, allow_headers, ...)")
    data = dict(value)
    for name in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
        if name in data:
            v = data[name]
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ConfigError(f"cors.{name}: expected a list of strings")
            data[name] = tuple(v)
    cors: Cors = _build(Cors, data, "cors")
    if not cors.allow_origins:
        raise ConfigError("cors.allow_origins: list the origins allowed (\"*\" for any)")
    if cors.allow_credentials and "*" in cors.allow_origins:
        raise ConfigError("cors: allow_credentials cannot go with the origin \"*\"; list the origins")
    if not isinstance(cors.max_age, int) or isinstance(cors.max_age, bool) or cors.max_age < 0 or not isinstance(cors.allow_credentials, bool):
        raise ConfigError("cors: max_age is a number of seconds, allow_credentials true or false")
    return cors

def _operations(s: Settings) -> dict[str, Any]:
    """The metrics, log, tracing, readiness and shutdown settings, typed and checked."""
    if not isinstance(s.metrics, bool):
        raise ConfigError(f"metrics: expected true or false, got {s.metrics!r}")
    log = _build(LogSettings, s.log, "log") if isinstance(s.log, dict) else s.log
    if log.format not in ("json", "text"):
        raise ConfigError(f"log.format: expected json or text, got {log.format!r}")
    if not isinstance(log.level, str) or log.level.lower() not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"log.level: expected debug, info, warning or error, got {log.level!r}")
    tracing = _build(TracingSettings, s.tracing, "tracing") if isinstance(s.tracing, dict) else s.tracing
    if not isinstance(tracing.enabled, bool):
        raise ConfigError(f"tracing.enabled: expected true or false, got {tracing.enabled!r}")
    if tracing.exporter not in ("otlp", "console", "none"):
        raise ConfigError(f"tracing.exporter: expected otlp, console or none, got {tracing.exporter!r}")
    readiness = _build(ReadinessSettings, s.readiness, "readiness") if isinstance(s.readiness, dict) else s.readiness
    for name in ("interval", "timeout", "max_age"):
        v = getattr(readiness, name)
        if (v is not None or name != "max_age") and (not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0):
            raise ConfigError(f"readiness.{name}: expected a positive number of seconds, got {v!r}")
    shutdown = _build(ShutdownSettings, s.shutdown, "shutdown") if isinstance(s.shutdown, dict) else s.shutdown
    for name in ("drain_seconds", "grace_seconds"):
        v = getattr(shutdown, name)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
            raise ConfigError(f"shutdown.{name}: expected a number of seconds (0 or more), got {v!r}")
    return {"log": replace(log, level=log.level.lower()), "tracing": tracing, "readiness": readiness, "shutdown": shutdown}


def _positive(limits: Any, where: str, kind: type) -> None:
    """Every field a positive number: seconds may be fractional, counts and sizes are integers."""
    for f in fields(limits):
        v = getattr(limits, f.name)
        integer = kind is int or f.name.startswith("max_")
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if not ok or isinstance(v, bool) or v <= 0:
            what = "a positive integer" if integer else "a positive number of seconds"
            raise ConfigError(f"{where}.{f.name}: expected {what}, got {v!r}")


# --- secrets and transport settings -----------------------------------------------------------

def _client_cert(value: Any) -> ClientCert | None:
    if value is None or isinstance(value, ClientCert):
        cc = value
    elif isinstance(value, dict):
        data = dict(value)
        # a password_file in a config file was made absolute by resolve_paths
        data["password"] = read_secret(data, "password", "client_cert", None)
        for k in ("cert", "key"):
            v = data.get(k)
            data[k] = str(config_path(v, f"client_cert.{k}", None)) if isinstance(v, str) else v
        if not isinstance(data.get("cert"), str):
            raise ConfigError("client_cert.cert: expected the path of a PEM certificate file")
        cc = _build(ClientCert, data, "client_cert")
    else:
        raise ConfigError("client_cert: expected a mapping with cert, key and password")
    if cc is not None:
        check_client_cert(cc)
    return cc


def check_client_cert(cc: ClientCert) -> None:
    """Reads the certificate and key (with cryptography) and loads them as the TLS client will, so
    that a bad one fails at start with a ConfigError saying what is wrong (never the password)."""
    import ssl
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key_path = cc.key or cc.cert
    for what, path in (("cert", cc.cert), ("key", key_path)):
        if not Path(path).is_file():
            raise ConfigError(f"client_cert.{what}: the file {path} does not exist")
    try:
        cert = x509.load_pem_x509_certificate(Path(cc.cert).read_bytes())
    except ValueError:
        raise ConfigError(f"client_cert.cert: {cc.cert} is not a PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), cc.password.encode() if cc.password else None)
    except TypeError:  # cryptography: a password for a plain key, or none for an encrypted one
        need = "the key is not encrypted: remove client_cert.password" if cc.password else "the key is encrypted: set client_cert.password"
        raise ConfigError(f"client_cert: {key_path}: {need}") from None
    except ValueError:
        if b"ENCRYPTED" in Path(key_path).read_bytes():
            raise ConfigError(f"client_cert.password: cannot decrypt the key {key_path} (wrong password?)") from None
        raise ConfigError(f"client_cert.key: {key_path} is not a PEM private key") from None
    except Exception:  # unsupported key types
        raise ConfigError(f"client_cert.key: {key_path} is not a usable private key") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != cert.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise ConfigError(f"client_cert: the certificate {cc.cert} does not match the key {key_path}")
    now = datetime.now(UTC)
    if cert.not_valid_after_utc < now:
        raise ConfigError(f"client_cert.cert: the certificate {cc.cert} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    if cert.not_valid_before_utc > now:
        raise ConfigError(f"client_cert.cert: the certificate {cc.cert} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    try:  # what the TLS client will do with them
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cc.cert, cc.key, password=cc.password or "")
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigError(f"client_cert: OpenSSL cannot use {cc.cert} and {key_path} ({type(exc).__name__})") from None


def _backend_auth(value: Any) -> BackendAuth | None:
    if value is None or isinstance(value, BackendAuth):
        auth = value
    elif isinstance(value, dict):
        data = dict(value)
        data["password"] = read_secret(data, "password", "backend_auth", None)
        data["username"] = expand_env(data.get("username"), "backend_auth.username")
        auth = _build(BackendAuth, data, "backend_auth")
    else:
        raise ConfigError("backend_auth: expected a mapping with type, username and password")
    if auth is None:
        return None
    if auth.type not in ("basic", "digest"):
        raise ConfigError(f"backend_auth.type: expected basic or digest, got {auth.type!r} (NTLM is not supported)")
    if not isinstance(auth.username, str) or not auth.username or not isinstance(auth.password, str):
        raise ConfigError("backend_auth: expected a username and a password")
    if auth.type == "basic" and ":" in auth.username:
        raise ConfigError("backend_auth.username: HTTP Basic user names cannot contain ':'")
    return auth


_STORAGE_SCHEMES = ("memory", "redis", "rediss", "async+memory", "async+redis", "async+rediss")


def _rate_limits(value: Any) -> RateLimits | None:
    if value is None or isinstance(value, RateLimits):
        rl = value
    elif isinstance(value, dict):
        data = dict(value)
        if "storage" in data:
            data["storage"] = expand_env(data["storage"], "rate_limits.storage")
        rl = _build(RateLimits, data, "rate_limits")
    else:
        raise ConfigError("rate_limits: expected a mapping with default, consumers, operations and storage")
    if rl is None:
        return None
    from limits import parse_many  # only when configured: a warm start does not import it

    def check(limit: Any, where: str) -> None:
        try:
            if not isinstance(limit, str) or not (items := parse_many(limit)):
                raise ValueError
        except ValueError:
            raise ConfigError(f"{where}: expected a rate limit such as 100/second or 10/second;1000/day, got {limit!r}") from None
        windows = [item.get_expiry() for item in items]
        if len(set(windows)) < len(windows):
            raise ConfigError(f"{where}: {limit!r} gives two limits for the same window")

    if rl.default is not None:
        check(rl.default, "rate_limits.default")
    for name in ("consumers", "operations"):
        if not isinstance(getattr(rl, name), dict):
            raise ConfigError(f"rate_limits.{name}: expected a mapping of names to rate limits")
    for key, limit in rl.operations.items():
        check(limit, f"rate_limits.operations.{key}")

    def count(v: Any, where: str) -> None:
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
            raise ConfigError(f"{where}: expected a positive integer, got {v!r}")

    consumers: dict[str, ConsumerLimits] = {}
    for key, value in rl.consumers.items():
        where = f"rate_limits.consumers.{key}"
        if isinstance(value, str):
            value = ConsumerLimits(rate=value)
        elif isinstance(value, dict):
            value = _build(ConsumerLimits, value, where)
        elif not isinstance(value, ConsumerLimits):
            raise ConfigError(f"{where}: expected a rate limit, or a mapping with rate, concurrency and max_request_bytes")
        if value.rate is not None:
            check(value.rate, where + (".rate" if not isinstance(rl.consumers[key], str) else ""))
        count(value.concurrency, f"{where}.concurrency")
        count(value.max_request_bytes, f"{where}.max_request_bytes")
        consumers[key] = value
    count(rl.concurrency, "rate_limits.concurrency")
    count(rl.max_request_bytes, "rate_limits.max_request_bytes")
    scheme = rl.storage.split("://", 1)[0] if isinstance(rl.storage, str) and "://" in rl.storage else None
    if scheme not in _STORAGE_SCHEMES:
        # the value is not echoed: a Redis URL may hold a password
        raise ConfigError("rate_limits.storage: expected memory:// or a redis:// or rediss:// URL")
    if rl.on_storage_error not in ("allow", "deny"):
        raise ConfigError(f"rate_limits.on_storage_error: expected allow or deny, got {rl.on_storage_error!r}")
    t = rl.storage_timeout
    if not isinstance(t, (int, float)) or isinstance(t, bool) or t <= 0:
        raise ConfigError(f"rate_limits.storage_timeout: expected a positive number of seconds, got {t!r}")
    return replace(rl, consumers=consumers, operations=dict(rl.operations))


def _proxy(value: Any) -> str | None:
    if value is None or value == "env":
        return value  # type: ignore[no-any-return]
    value = expand_env(value, "proxy")
    if not isinstance(value, str) or not value.startswith(("http://", "https://")) or not urlsplit(value).hostname:
        # the value is not echoed: it may hold credentials
        raise ConfigError("proxy: expected \"env\" or an http:// or https:// proxy URL")
    return value


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(unknown)}")
    try:
        return cls(**data)
    except TypeError as exc:  # pragma: no cover - dataclass arity errors
        raise ConfigError(f"{where}: {exc}") from None


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML or JSON config file into keyword arguments for ``Settings``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml and json raise different types
        raise ConfigError(f"config file {p} is not valid {p.suffix.lstrip('.') or 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {p}: the top level must be a mapping")
    return resolve_paths(data, p.parent)


def resolve_paths(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The config's file paths (client_cert, backend_auth, auth, wsse) made relative to ``folder``, the
    config file's, wherever the bridge runs; ``auth`` and ``wsse`` parsed. ``data`` is updated and returned."""
    # Files are relative to the config file's folder, wherever the bridge runs.
    if isinstance(data.get("verify_tls"), str):
        data["verify_tls"] = str(config_path(data["verify_tls"], "verify_tls", folder))
    for section, keys in (("client_cert", ("cert", "key", "password_file")), ("backend_auth", ("password_file",))):
        value = data.get(section)
        if isinstance(value, dict):
            data[section] = {k: str(config_path(v, f"{section}.{k}", folder)) if k in keys and isinstance(v, str) else v for k, v in value.items()}
    if data.get("auth") is not None:
        from .auth import parse_settings as parse_auth

        data["auth"] = parse_auth(data["auth"], base=folder)
    if data.get("wsse") is not None:
        from .wsse import parse_settings

        data["wsse"] = parse_settings(data["wsse"], base=folder)
    return data


def make_settings(config: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Settings from a config file (YAML or JSON) with keyword overrides on top; an override of None leaves
    the file's value, except ``cache_dir=None``, which turns the cache off. Raises ``ConfigError``."""
    values: dict[str, Any] = {}
    try:
        if config is not None:
            values.update(load_config(config))
        # None means "not given", except for cache_dir, where it turns the cache off.
        values.update({k: v for k, v in overrides.items() if v is not None or k == "cache_dir"})
        return Settings().merged(**values)
    except ConfigError as exc:
        message = str(exc)
        if config is None or message.startswith(("cannot read config file", "config file ")):
            raise
        from .configmarks import locate, marks

        try:  # file:line of the key the message names, when it is in the file
            text = Path(config).read_text(encoding="utf-8")
        except OSError:
            raise exc from None
        found = marks(str(config), text)
        located = locate(found, (), message)
        if located.startswith(f"{config}:"):
            raise ConfigError(located) from None
        raise
