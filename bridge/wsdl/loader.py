"""Load a WSDL and everything it imports: zeep walks the document graph through our offline
transport, then ``WsdlReader`` models what was loaded. zeep's own view of the operations is
kept as a cross-check, so operations zeep drops silently are reported rather than lost.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable
from urllib.parse import urlparse

import zeep
import zeep.wsdl

from ..errors import BridgeError, WsdlError
from ..model import ServiceModel
from ..proxies import Proxies
from .reader import WsdlReader
from .sources import resolve_location
from .transport import LoaderTransport

log = logging.getLogger("soapbridge.wsdl")


def zeep_settings() -> zeep.Settings:
    """zeep's settings for loading: DTDs and entities refused (the transport decides what may be fetched)."""
    # Loading: DTDs and entities refused; the transport enforces the catalogue/offline rule.
    return zeep.Settings(strict=False, forbid_dtd=True, forbid_entities=True, forbid_external=False, xml_huge_tree=True)


def load_model(
    source: str | os.PathLike[str],
    *,
    allow_network: bool = False,
    timeout: float = 30.0,
    verify_tls: bool | str = True,
    progress: Callable[[str], None] | None = None,
) -> ServiceModel:
    """The service model of a WSDL (path or URL) and what it imports; raises ``WsdlError`` when it cannot be
    loaded, is a URL while ``allow_network`` is off, or yields no SOAP operation. ``progress`` is told each
    stage as text (the CLI's spinner, ``bridge.console.Stages``)."""
    return load_model_traced(source, allow_network=allow_network, timeout=timeout, verify_tls=verify_tls, progress=progress)[0]


def load_model_traced(
    source: str | os.PathLike[str],
    *,
    allow_network: bool = False,
    timeout: float = 30.0,
    verify_tls: bool | str = True,
    proxies: Proxies | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[ServiceModel, dict[str, tuple[str, str, bool]]]:
    """The model, and where every document asked for came from: URL -> (kind, path or URL, loaded?)
    (see ``LoaderTransport.sources``), for the disk cache to re-check. ``progress``: as ``load_model``."""
    location = resolve_location(source)
    if urlparse(location).scheme in ("http", "https") and not allow_network:
        raise WsdlError(f"{location} is a URL and network loading is off (allow_network=True / --allow-network)")
    transport = LoaderTransport(allow_network=allow_network, timeout=timeout, verify_tls=verify_tls, proxies=proxies)
    if progress is not None:
        progress("parsing the WSDL and its imports")
        transport.loaded = lambda n: progress(f"parsing the WSDL and its imports ({n} document{'s' if n > 1 else ''})")
    zeep_ops: dict[str, set[str]] | None = None
    zeep_error: str | None = None
    # zeep reports what it drops only as UserWarnings: keep them as the notes' reasons, and
    # out of the caller's stderr.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # zeep annotates ``transport`` as a class, but it takes (and uses) an instance
            document = zeep.wsdl.Document(location, transport, settings=zeep_settings())  # type: ignore[arg-type]
            # by binding: a WSDL without wsdl:service still has bindings to compare
            zeep_ops = {
                name: set(binding._operations)
                for definition in document._definitions.values()
                for name, binding in definition.bindings.items()
            }
        except BridgeError as exc:
            zeep_error = str(exc)
        except Exception as exc:  # zeep raises many unrelated types; we report and go on
            zeep_error = f"{type(exc).__name__}: {exc}"
    zeep_warnings = [str(w.message) for w in caught if "zeep" in (w.filename or "")]
    if progress is not None:
        progress("reading the schemas and operations")
    model = WsdlReader(transport.load).read(location)
    model.documents = dict(transport.documents)
    _refuse_offline_gaps(location, model, transport.refused)
    _cross_check(model, zeep_ops, zeep_error, zeep_warnings)
    if not model.operations:
        raise WsdlError(f"{location} yields no callable SOAP operation: {_why_none(model)}")
    return model, dict(transport.sources)


def _refuse_offline_gaps(location: str, model: ServiceModel, refused: list[str]) -> None:
    """An xs:import whose schemaLocation is an http(s) URL outside the catalogue, with network
    loading off, fails the load: the schema is named explicitly, so serving without it would
    silently turn its types into anyType. (wsdl:import and xs:include fail in the reader already.)
    A namespace imported *without* schemaLocation is only a hint and stays a Skipped entry."""
    if not refused:
        return
    urls = set(refused)
    for s in model.skipped:
        if s.kind == "schema" and s.name in urls and "without schemaLocation" not in s.reason:
            raise WsdlError(f"{location}: {s.reason}")


def _why_none(model: ServiceModel) -> str:
    """One sentence for the common causes, then the first reasons verbatim."""
    ops = [s for s in model.skipped if s.kind == "operation"]
    undefined = [s for s in ops if "which is not defined" in s.reason]
    http = [s for s in ops if "HTTP GET/POST" in s.reason]
    first = "; ".join(f"{s.name}: {s.reason}" for s in model.skipped[:3])
    if ops and len(undefined) == len(ops):
        namespaces = sorted({s.reason.split("{", 1)[1].split("}", 1)[0] for s in undefined if "{" in s.reason})
        where = "its wsdl:types defines no schema" if not model.elements else "no schema in it defines them"
        return (
            f"all {len(ops)} operation(s) use elements of {', '.join(namespaces) or 'a namespace'} and {where} "
            f"(the provider publishes those XSDs separately; import them). First: {first}"
        )
    if ops and len(http) == len(ops):
        return f"it has only HTTP GET/POST bindings ({len(ops)} operation(s)), and soapbridge serves SOAP bindings. First: {first}"
    return first or "it declares no operation"


def _cross_check(
    model: ServiceModel, zeep_ops: dict[str, set[str]] | None, zeep_error: str | None, zeep_warnings: list[str]
) -> None:
    """Notes for what zeep, the usual Python SOAP client, would lose: soapbridge serves it.

    zeep drops a wsdl:message when it cannot resolve one of its parts (e.g. a type from an
    xsd:import placed straight under wsdl:types, which zeep ignores), then the portType
    operation using that message, then the binding operation, each with only a warning. The
    note names the operations and zeep's first reason."""
    if zeep_error is not None:
        model.notes.append(f"zeep could not load this WSDL ({zeep_error}); soapbridge's own reader did")
        return
    assert zeep_ops is not None
    seen_bindings: set[str] = set()
    for port in model.ports:
        key = str(port.binding)
        if key in seen_bindings or port.kind not in ("soap11", "soap12"):
            continue
        seen_bindings.add(key)
        ours = {op.name for op in port.operations}
        missing = sorted(ours - zeep_ops.get(key, set()))
        if not missing:
            continue
        # Not skipped by us: the note says zeep alone would have lost them.
        why = _zeep_reason(zeep_warnings, missing)
        model.notes.append(
            f"binding {port.binding.name} (port {port.service}.{port.name}): zeep silently drops {len(missing)} of its "
            f"{len(ours)} operation(s), which soapbridge reads from the binding itself and serves: {', '.join(missing)}"
            + (f". zeep's reason: {why}" if why else "")
        )
        log.info("zeep dropped %d operations of binding %s", len(missing), key)


_INVALID_PART = re.compile(r"The wsdl:message for '([^']*)' contains an invalid part \('([^']*)'\): (.*)")


def _zeep_reason(zeep_warnings: list[str], missing: list[str]) -> str | None:
    """zeep's first warning about an invalid message part, as a sentence; or its first warning."""
    for w in zeep_warnings:
        m = _INVALID_PART.match(w)
        if m:
            return (
                f"message {m.group(1)} has a part {m.group(2)!r} whose type or element zeep cannot resolve "
                f"({m.group(3)}), so it drops the message and every operation using it"
            )
    names = set(missing)
    for w in zeep_warnings:
        if any(f"'{n}'" in w for n in names):
            return w
    return zeep_warnings[0] if zeep_warnings else None
