"""REST routing rules: which port serves each operation, its key, path and operationId.

Rule: within a service, ports are grouped by portType; each group is served by one port,
the configured one if any, else the first SOAP 1.1 port, else the first SOAP 1.2 port.
So a SOAP 1.1 and a SOAP 1.2 port of the same interface never yield duplicate routes.

Path segments are the WSDL names with their XML name escapes decoded (``names.path_segment``:
``WSF_x0020_Schedule`` is served at ``/WSF_Schedule/...``); a decoded name that would meet another
name's segment gets the first free ``_2``, ``_3``... OperationIds are made from the decoded names too.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from .errors import ConfigError
from .model import Operation, Port, ServiceModel
from .names import NameTable, ascii_name, path_segment, xml_decode
from .settings import Settings

_RANK = {"soap11": 0, "soap12": 1}
BODY_METHODS = ("POST", "PUT", "PATCH")  # the methods whose route takes the input as a JSON body


def api_title(routed: list[Operation]) -> str:
    """The spec's title: the names of the services served, else "SOAP service"."""
    return ", ".join(sorted({op.service for op in routed})) or "SOAP service"


_PARAM = re.compile(r"\{[^}]+\}")


def _ident(text: str) -> str:
    return ascii_name(xml_decode(text))


def _segments(names: Iterable[str]) -> dict[str, str]:
    """Each name's path segment, distinct for distinct names: names without escapes keep theirs."""
    raw = sorted(set(names))
    out = {n: n for n in raw if path_segment(n) == n}
    taken = set(out)
    for name in raw:
        if name in out:
            continue
        seg = candidate = path_segment(name)
        n = 2
        while candidate in taken:
            candidate = f"{seg}_{n}"
            n += 1
        out[name] = candidate
        taken.add(candidate)
    return out


def chosen_ports(model: ServiceModel, settings: Settings) -> list[Port]:
    """The port that serves each interface of each service (rule in the module docstring); raises
    ``ConfigError`` when the ``ports`` setting names a port the WSDL lacks."""
    by_service: dict[str, list[Port]] = defaultdict(list)
    for port in model.ports:
        if port.kind in _RANK:
            by_service[port.service].append(port)
    for service, wanted in settings.ports.items():
        if not any(p.service == service and p.name == wanted for p in model.ports):
            known = ", ".join(f"{p.service}.{p.name}" for p in model.ports) or "none"
            raise ConfigError(f"ports: {service}.{wanted} is not a SOAP port of this WSDL (ports: {known})")
    chosen: list[Port] = []
    for service, ports in by_service.items():
        groups: dict[object, list[Port]] = defaultdict(list)
        for port in ports:
            groups[port.port_type].append(port)
        for group in groups.values():
            configured = settings.ports.get(service)
            pick = next((p for p in group if p.name == configured), None)
            if pick is None:
                pick = min(group, key=lambda p: (_RANK[p.kind], ports.index(p)))
            chosen.append(pick)
    return chosen


def assign_routes(model: ServiceModel, settings: Settings) -> list[Operation]:
    """Sets key, path, method and operation_id on every operation; returns the routed ones."""
    routed_ports = chosen_ports(model, settings)
    routed = [op for port in routed_ports for op in port.operations]
    routed_ids = {id(op) for op in routed}
    name_count = Counter(op.name for op in routed)
    per_service = Counter((op.service, op.name) for op in routed)
    for op in model.operations:
        op.key = op.qualified_name
        op.path = ""
        op.http_method = ""
        op.operation_id = _ident(f"{op.service}_{op.port}_{op.name}")
    base = settings.base_path.rstrip("/")
    services = _segments(op.service for op in routed)
    ports = _segments(op.port for op in routed)
    names = _segments(op.name for op in routed)
    for op in routed:
        if name_count[op.name] == 1:
            op.key = op.name
        clash = per_service[(op.service, op.name)] > 1
        service, port, name = services[op.service], ports[op.port], names[op.name]
        op.path = f"{base}/{service}/{port}/{name}" if clash else f"{base}/{service}/{name}"
        op.http_method = "POST"
        op.operation_id = _ident(f"{op.service}_{op.port}_{op.name}" if clash else f"{op.service}_{op.name}")
    seen_ids = Counter(op.operation_id for op in model.operations)
    for op in model.operations:
        if seen_ids[op.operation_id] > 1 and id(op) not in routed_ids:
            op.operation_id = _ident(f"{op.service}_{op.port}_{op.name}_{op.soap_version.replace('.', '')}")
    # operationIds become function names: unique case-insensitively, routed operations first.
    ids = NameTable()
    for op in sorted(model.operations, key=lambda o: id(o) not in routed_ids):
        op.operation_id = ids.unique(op.operation_id)
    by_key = {op.key: op for op in routed}
    by_key.update({op.qualified_name: op for op in routed})
    for key, route in settings.routes.items():
        target = by_key.get(key)
        if target is None:
            raise ConfigError(f"routes: {key!r} is not a routed operation (known: {', '.join(sorted(o.key for o in routed))})")
        if route.method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise ConfigError(f"routes.{key}: unsupported method {route.method!r}")
        target.http_method = route.method
        target.query = tuple(route.query)
        if route.path:
            target.path = base + "/" + route.path.lstrip("/")
    seen: dict[tuple[str, str], str] = {}
    for op in routed:
        k = (op.http_method, _PARAM.sub("{}", op.path) if "{" in op.path else op.path)
        if k in seen:
            raise ConfigError(f"routes: {op.key} and {seen[k]} both map to {op.http_method} {op.path}")
        seen[k] = op.key
    return routed
