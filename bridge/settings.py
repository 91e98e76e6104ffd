"""Settings: safety limits, timeouts, status mapping and REST routing overrides.

A config file (YAML or JSON) holds the same keys as ``Settings``; unknown keys are errors,
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

MiB = 1024 * 1024


@dataclass(frozen=True)
class StatusMap:
    """HTTP statuses the REST app answers upstream failures with."""

    client_fault: int = 422
    server_fault: int = 502
    timeout: int = 504
    unavailable: int = 503
    bad_reply: int = 502

    def for_upstream(self, kind: str) -> int:
        """The status of an UpstreamError of this kind."""
        return {"timeout": self.timeout, "unavailable": self.unavailable}.get(kind, self.bad_reply)

    def for_fault(self, category: str) -> int:
        return self.client_fault if category == "client" else self.server_fault


@dataclass(frozen=True)
class Route:
    """Maps one operation to another method and path; ``{name}`` path segments and
    ``query`` names are taken from simple top-level fields of the input."""

    method: str = "POST"
    path: str | None = None
    query: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
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
    reply_validation: str = "strict"  # strict | lax | off: replies checked against the spec
    # declared | all: what of a fault's detail REST consumers see. "declared": only a declared
    # fault's typed content; "all": also the detail of undeclared faults, as generic JSON (which
    # may carry stack traces and host names).
    fault_detail: str = "declared"
    status: StatusMap = field(default_factory=StatusMap)
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

    def merged(self, **overrides: Any) -> Settings:
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
    return replace(s, status=status, routes=routes, cache_dir=cache_dir, idempotent=tuple(idempotent))


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
    return data


def make_settings(config: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {}
    if config is not None:
        values.update(load_config(config))
    # None means "not given", except for cache_dir, where it turns the cache off.
    values.update({k: v for k, v in overrides.items() if v is not None or k == "cache_dir"})
    return Settings().merged(**values)
