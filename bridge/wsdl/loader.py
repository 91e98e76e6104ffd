"""Load a WSDL and everything it imports: zeep walks the document graph through our offline
transport, then ``WsdlReader`` models what was loaded. zeep's own view of the operations is
kept as a cross-check, so operations zeep drops silently are reported rather than lost.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlparse

import zeep
import zeep.wsdl

from ..errors import BridgeError, WsdlError
from ..model import ServiceModel
from .reader import WsdlReader
from .transport import LoaderTransport

log = logging.getLogger("soapbridge.wsdl")


def _location(source: str | os.PathLike[str]) -> str:
    s = os.fspath(source)
    scheme = urlparse(s).scheme.lower()
    if scheme in ("http", "https", "file"):
        return s
    p = Path(s).expanduser()
    if not p.exists():
        raise WsdlError(f"WSDL file not found: {s}")
    if p.is_dir():
        raise WsdlError(f"{s} is a directory, not a WSDL file")
    return str(p.resolve())


def zeep_settings() -> zeep.Settings:
    # Loading: DTDs and entities refused; the transport enforces the catalogue/offline rule.
    return zeep.Settings(strict=False, forbid_dtd=True, forbid_entities=True, forbid_external=False, xml_huge_tree=True)


def load_model(
    source: str | os.PathLike[str], *, allow_network: bool = False, timeout: float = 30.0, verify_tls: bool | str = True
) -> ServiceModel:
    location = _location(source)
    if urlparse(location).scheme in ("http", "https") and not allow_network:
        raise WsdlError(f"{location} is a URL and network loading is off (allow_network=True / --allow-network)")
    transport = LoaderTransport(allow_network=allow_network, timeout=timeout, verify_tls=verify_tls)
    zeep_ops: dict[str, set[str]] | None = None
    zeep_error: str | None = None
    try:
        document = zeep.wsdl.Document(location, transport, settings=zeep_settings())
        zeep_ops = {
            f"{sname}.{pname}": set(port.binding._operations)
            for sname, service in document.services.items()
            for pname, port in service.ports.items()
        }
    except BridgeError as exc:
        zeep_error = str(exc)
    except Exception as exc:  # zeep raises many unrelated types; we report and go on
        zeep_error = f"{type(exc).__name__}: {exc}"
    model = WsdlReader(transport.load).read(location)
    model.documents = dict(transport.documents)
    _cross_check(model, zeep_ops, zeep_error)
    if not model.operations:
        raise WsdlError(f"{location} yields no callable SOAP operation: {_why_none(model)}")
    return model


def _why_none(model: ServiceModel) -> str:
    """One sentence for the common causes, then the first reasons verbatim."""
    ops = [s for s in model.skipped if s.kind == "operation"]
    undefined = [s for s in ops if "which is not defined" in s.reason]
    http = [s for s in ops if "HTTP GET/POST" in s.reason]
    first = "; ".join(f"{s.name}: {s.reason}" for s in model.skipped[:3])
    if ops and len(undefined) == len(ops) and not model.elements and not model.types:
        return (
            f"its wsdl:types defines no schema, so the {len(ops)} operation(s) refer to elements nothing defines "
            f"(the provider publishes the XSDs separately; get them and import them). First: {first}"
        )
    if ops and len(http) == len(ops):
        return f"it has only HTTP GET/POST bindings ({len(ops)} operation(s)), and soapbridge serves SOAP bindings. First: {first}"
    return first or "it declares no operation"


def _cross_check(model: ServiceModel, zeep_ops: dict[str, set[str]] | None, zeep_error: str | None) -> None:
    if zeep_error is not None:
        model.notes.append(f"zeep could not load this WSDL ({zeep_error}); soapbridge's own reader did")
        return
    assert zeep_ops is not None
    for port in model.ports:
        key = f"{port.service}.{port.name}"
        seen = zeep_ops.get(key)
        ours = {op.name for op in port.operations}
        missing = sorted(ours - (seen or set()))
        if missing and port.kind in ("soap11", "soap12"):
            # Not skipped by us: the note says zeep alone would have lost them.
            names = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            model.notes.append(
                f"{key}: zeep silently drops {len(missing)} operation(s) ({names}); "
                "soapbridge reads them from the binding itself"
            )
            log.info("zeep dropped %d operations on %s", len(missing), key)
