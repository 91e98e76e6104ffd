"""``Bridge``: one loaded WSDL, its REST routes, its spec, and calls to the SOAP service."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import functools
import importlib
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import gcpause, observability
from .app import WRITES_LARGE, LargeResult, create_app, dumps
from .cache import CacheEntry, json_loads, load_model_cached
from .client import Body, Reply, ReplySink, SoapClient
from .errors import (
    ConfigError,
    OperationNotFound,
    RequestTooLarge,
    SoapFault,
    UpstreamError,
    ValidationError,
    Violation,
    XmlError,
)
from .jsonschema import exact_decimals, reachable_components
from .model import HEADERS_KEY, Operation, ServiceModel
from .pieces import Located, Pieces, targets
from .routing import assign_routes
from .settings import Settings, make_settings
from .validators import make_validator
from .xsd.lexical import readable

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx
    from lxml import etree
    from starlette.applications import Starlette

    from .auth import Credentials
    from .codec import Codec
    from .compiled import CompiledCodec
    from .mime import Lifted, Limits
    from .wsse import Security

log = logging.getLogger("soapbridge")

# What the first call needs and a warm start does not, with their import times here: the upstream
# HTTP client (0.3 s), lxml and the codecs (40 ms), the JSON Schema validator (30 ms), the JSON writer.
WARM_UP = ("aiohttp", "bridge.envelope", "bridge.compiled", "jsonschema_rs", "orjson")


# Replies of this size or more are decoded off the event loop (Bridge._afinish); smaller ones
# take a few milliseconds at most, less than the hand-over to a thread would cost them.
OFFLOAD_BYTES = 256 * 1024
LIFT_BYTES = 256 * 1024  # a base64Binary value this large (and over the MTOM threshold) is lifted out before encoding


def _breaks(error: Any, where: Located | None = None) -> list[str]:
    """Where and how a reply breaks its schema, without the values the messages quote: the JSON
    pointer and the keyword broken (for "required", the missing name). Under anyOf/oneOf (a nillable
    or polymorphic element), the branches' own breaks, leaving out the ones that failed only on their
    type (the null branch of a nillable element)."""
    branches = getattr(error.kind, "context", None)
    if branches:
        kept = [b for b in branches if not (len(b) == 1 and list(b[0].schema_path)[-1:] == ["type"])] or branches
        return [line for branch in kept for sub in branch for line in _breaks(sub, where)]
    path = list(error.schema_path)
    keyword = str(path[-1]) if path else "the schema"
    if keyword == "required":
        name = getattr(error.kind, "property", None)
        keyword = f"required ({name} missing)" if isinstance(name, str) else keyword
    path = where.path(error.instance_path) if where is not None else list(error.instance_path)
    return [f"{_pointer(path) or '/'}: breaks {keyword}"]


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class Bridge:
    """One loaded WSDL: its operations, REST routes and OpenAPI spec, and calls to its SOAP service.

    Made by ``load()``. ``call``/``acall`` send JSON data as SOAP and return the reply as JSON;
    ``encode_request``/``decode_response`` do the conversion alone; ``asgi()`` is the REST app.
    Close it (or use it as a context manager) to release the upstream connections.
    """

    def __init__(
        self,
        model: ServiceModel,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | httpx.BaseTransport | None = None,
        cache: CacheEntry | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.routed = assign_routes(model, settings)
        self.client = SoapClient(settings, transport=transport)
        # WS-Security per WSDL service; keys and certificates are checked now: a bad one fails the load
        self._wsse: dict[str, Security | None] = {}
        if settings.wsse is not None:
            from .wsse import Security

            services = {op.service for op in model.operations}
            unknown = sorted(set(settings.wsse.services) - services)
            if unknown:
                raise ConfigError(f"wsse.services: no service named {', '.join(unknown)} (services: {', '.join(sorted(services))})")
            built: dict[int, Security] = {}
            for service in services:
                ws = settings.wsse.for_service(service)
                if ws is not None:
                    self._wsse[service] = built.get(id(ws)) or built.setdefault(id(ws), Security(ws))
        if settings.auth is not None:  # a consumer's SOAP header blocks must be parts some operation declares
            parts = {p.name for op in self.routed for p in op.input.header_parts}
            for name, consumer in settings.auth.consumers.items():
                unknown = sorted(set(consumer.upstream.soap_headers if consumer.upstream else ()) - parts)
                if unknown:
                    raise ConfigError(
                        f"auth.consumers.{name}.upstream.soap_headers: no routed operation has the SOAP header part(s) {', '.join(unknown)}"
                        f" (header parts: {', '.join(sorted(parts)) or 'none'})"
                    )
        self._idempotent: set[int] = set()
        for name in settings.idempotent:
            try:
                self._idempotent.add(id(self.operation(name)))
            except OperationNotFound as exc:
                raise ConfigError(f"idempotent: {exc}") from None
        self._cache = cache  # where the spec is kept on disk, when the model came through the cache
        self._spec: dict[str, Any] | None = None
        self._spec_json: bytes | None = None
        self._schemas: dict[str, Any] | None = None
        self._validators: dict[str, Any] = {}
        self._documents: dict[str, dict[str, Any]] = {}  # each validator's schema, for validation in pieces
        self._pieces: dict[tuple[str, tuple[tuple[str, ...], ...]], Pieces] = {}
        self._decoder: concurrent.futures.ThreadPoolExecutor | None = None  # for large replies (_afinish)
        self._binary_tags: dict[int, frozenset[str]] = {}  # per operation: its base64Binary elements (MTOM)
        self._swarefs: dict[int, frozenset[str]] = {}  # per message: its WS-I swaRef elements

    @functools.cached_property
    def codec(self) -> Codec:
        """The generic codec (built on first use: a warm start does not import it)."""
        from .codec import Codec

        return Codec(self.model)

    @functools.cached_property
    def compiled(self) -> CompiledCodec:
        """The compiled codec over ``codec``."""
        from .compiled import CompiledCodec

        return CompiledCodec(self.codec)

    # --- discovery ------------------------------------------------------------------

    @property
    def operations(self) -> list[Operation]:
        """Every operation: the routed ones first, then those of other ports."""
        routed = {id(op) for op in self.routed}
        return self.routed + [op for op in self.model.operations if id(op) not in routed]

    def operation(self, name: str | Operation) -> Operation:
        """The operation by key (``Service.Port.Op``), qualified name or bare name when that is
        unambiguous. Raises ``OperationNotFound`` naming the operations there are."""
        if isinstance(name, Operation):
            return name
        for op in self.operations:
            if name in (op.key, op.qualified_name):
                return op
        candidates = [op for op in self.operations if op.name == name]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise OperationNotFound(
                f"{name!r} is ambiguous; use one of: {', '.join(op.qualified_name for op in candidates)}"
            )
        known = ", ".join(op.key for op in self.routed[:20])
        raise OperationNotFound(f"no operation named {name!r} (operations: {known}{' ...' if len(self.routed) > 20 else ''})")

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of the REST API (a copy: changing it changes nothing here)."""
        return copy.deepcopy(self._openapi())

    def openapi_bytes(self) -> bytes:
        """The spec as compact JSON (what GET /openapi.json serves): read from the disk cache when
        warm, so a server starts without building or even parsing it."""
        if self._spec_json is None and self._cache is not None:
            self._spec_json = self._cache.load_spec(self.settings, "spec")
        if self._spec_json is None:
            self._openapi()
        assert self._spec_json is not None
        return self._spec_json

    def _openapi(self) -> dict[str, Any]:
        if self._spec is None:
            data = self._spec_json
            if data is None and self._cache is not None:
                data = self._cache.load_spec(self.settings, "spec")
            if data is not None:
                self._spec_json, self._spec = data, json_loads(data)
                return self._spec
            from .openapi import build_openapi  # the generator (and elementpath): only when not cached

            self._spec = build_openapi(self.model, self.routed, self.settings)
            from .restbinary import describe

            describe(self._spec, self.routed, forms=self.settings.form_requests_in_spec)  # form requests, octet-stream replies
            self._spec_json = dumps(self._spec)
            if self._cache is not None:
                self._cache.store_spec(self.settings, "spec", self._spec_json)
                # The schemas alone, for validators: a fifth of a large spec, whose bulk is examples.
                self._cache.store_spec(self.settings, "schemas", dumps(self._spec["components"]["schemas"]))
        return self._spec

    def _components(self) -> dict[str, Any]:
        """The spec's component schemas, which is all validators need."""
        if self._schemas is None:
            data = None
            if self._spec is None and self._cache is not None:
                data = self._cache.load_spec(self.settings, "schemas")
            self._schemas = json_loads(data) if data is not None else self._openapi()["components"]["schemas"]
        return self._schemas

    # --- validation -----------------------------------------------------------------

    def _validator(self, op: Operation, which: str) -> Any:
        key = f"{id(op)}:{which}"
        v = self._validators.get(key)
        if v is None:
            schemas = self._components()
            name = f"{op.operation_id}{which}"
            if name not in schemas:
                # Operations without a REST route still validate: build their schemas on demand.
                from .openapi import build_openapi

                schemas = build_openapi(self.model, [op], self.settings)["components"]["schemas"]
            root = {"$ref": f"#/components/schemas/{name}"}
            # fractionDigits checked exactly here, where the spec only annotates it
            schema = {**root, "components": {"schemas": exact_decimals(reachable_components(root, schemas))}}
            v = make_validator(schema)  # jsonschema_rs, unless its compiled form would take GBs
            self._validators[key] = v
            self._documents[key] = schema
        return v

    def _in_pieces(self, op: Operation, data: Any) -> Pieces | None:
        """Validators that check ``data``'s long arrays a chunk at a time (bridge.pieces), or None
        to validate it whole."""
        key = f"{id(op)}:Response"
        doc = self._documents[key]
        found = targets(doc, data)
        if not found:
            return None
        pkey = (key, tuple(path for path, _ in found))
        pieces = self._pieces.get(pkey)
        if pieces is None:
            pieces = Pieces.build(doc, found, make_validator)
            self._pieces[pkey] = pieces
        return pieces

    def validate_input(self, operation: str | Operation, data: Any) -> None:
        """Checks JSON input against the operation's request schema; raises ``ValidationError``
        listing every violation with its JSON pointer."""
        op = self.operation(operation)
        validator = self._validator(op, "Request")
        try:
            if validator.is_valid(data):
                return  # is_valid stops early and collects nothing: about twice as fast as iter_errors on valid data
            errors = [Violation(_pointer(list(e.instance_path)), readable(e.message)) for e in validator.iter_errors(data)]
        except ValueError as exc:  # jsonschema_rs gives up past about 250 levels of nesting
            raise ValidationError(f"the request for {op.key} cannot be checked: {exc}", [Violation("", str(exc))]) from None
        if errors:
            raise ValidationError(f"the request for {op.key} breaks its schema ({len(errors)} violation(s))", errors)

    def _check_output(self, op: Operation, data: Any) -> None:
        if self.settings.reply_validation == "off" or op.output is None:
            return
        validator = self._validator(op, "Response")
        pieces = self._in_pieces(op, data)
        if pieces is not None:  # long arrays: the GIL is handed over between chunks
            found = list(pieces.errors(data))
        elif validator.is_valid(data):
            return
        else:
            found = [Located(e) for e in validator.iter_errors(data)]
        if not found:
            return
        if self.settings.reply_validation == "strict":
            errors = [f"{_pointer(f.path(f.error.instance_path)) or '/'}: {readable(f.error.message)}" for f in found]
            raise UpstreamError("bad_reply", f"the reply to {op.key} does not match the WSDL: " + "; ".join(errors[:10]))
        # lax: passed on, and logged by path and broken keyword only: the messages quote values.
        where = [line for f in found for line in _breaks(f.error, f)]
        log.warning("the reply to %s does not match the WSDL, passed on (reply_validation=lax): %s", op.key, "; ".join(where[:10]))

    # --- SOAP -----------------------------------------------------------------------

    def encode_request(self, operation: str | Operation, data: Any) -> bytes:
        """JSON input -> the SOAP request envelope's bytes, after ``validate_input``."""
        op = self.operation(operation)
        with observability.span("soapbridge.validate"):
            self.validate_input(op, data)
        return self._encode(op, data)

    def _encode(self, op: Operation, data: Any, lifted: int = 0) -> bytes:
        """Validated data -> the envelope; ``lifted``: the characters of values taken out before
        (``mime.lift``), counted against ``max_request_bytes`` as if they were there."""
        with observability.span("soapbridge.encode"):
            envelope = self.compiled.encode_request(op, data)
        limit = self.settings.max_request_bytes
        size = len(envelope) + lifted
        if size > limit:  # escaping can make the envelope a few times the JSON's size
            raise RequestTooLarge(
                f"the request for {op.key} makes a SOAP envelope of {size} bytes, over the limit of {limit}",
                [Violation("", f"the envelope would be {size} bytes; the limit (max_request_bytes) is {limit}")],
            )
        return envelope

    def decode_response(self, operation: str | Operation, body: bytes) -> dict[str, Any]:
        """A SOAP reply's bytes -> JSON-ready data. Raises ``SoapFault`` for a fault and
        ``UpstreamError`` (``bad_reply``) for XML that is unsafe or breaks the WSDL."""
        return self._decode_reply(self.operation(operation), body)

    def _decode_reply(
        self, op: Operation, body: bytes | etree._Element, resolved: list[tuple[etree._Element, str]] | None = None
    ) -> dict[str, Any]:
        """A reply's bytes, or the tree of an MTOM/SwA reply's envelope (bridge.mime), decoded.
        ``resolved``: its swaRef elements with their text as received, which the signature covers."""
        if isinstance(body, bytes) and OFFLOAD_BYTES <= len(body) <= self.settings.max_reply_bytes:
            data = self._decode_streaming(op, body)
            if data is not None:
                return data
        try:
            from .envelope import find_fault, from_root, parse  # imported on first use: a warm start does not need lxml

            what = f"the SOAP reply to {op.key}"
            if isinstance(body, bytes):
                env = parse(body, max_bytes=self.settings.max_reply_bytes, max_depth=self.settings.max_xml_depth, what=what)
            else:
                env = from_root(body, what)
            del body
            wsse = self._wsse.get(op.service)
            if wsse is not None:  # before anything of the reply is used, faults included
                from .mime import as_received

                with as_received(resolved or []):
                    wsse.verify(env.header, env.body, op.key)
            if resolved:
                resolved.clear()  # its elements would keep the tree alive while the result is validated
            fault = find_fault(env)
        except XmlError as exc:
            raise UpstreamError("bad_reply", str(exc)) from None
        if fault is not None:
            name, detail = self.codec.decode_fault_detail(op, fault.detail, undeclared=self.settings.fault_detail == "all")
            raise SoapFault(
                fault.code,
                fault.reason,
                category=fault.category,
                subcodes=fault.subcodes,
                actor=fault.actor,
                name=name,
                detail=detail,
                soap_version=fault.version,
            )
        if op.output is None:
            return {}
        from .codec import LAX, DecodeError

        relaxed: list[str] | None = None if self.settings.reply_validation == "strict" else []
        token = LAX.set(relaxed)
        try:
            data = self.compiled.decode_message(op, op.output, env.body_children, env.header_children)
        except DecodeError as exc:
            raise UpstreamError("bad_reply", f"the reply to {op.key} does not match the WSDL: {exc}") from None
        finally:
            LAX.reset(token)
        del env  # the tree, several times the reply's size, is not needed to validate
        self._log_relaxed(op, relaxed)
        self._check_output(op, data)
        return data

    def _log_relaxed(self, op: Operation, relaxed: list[str] | None) -> None:
        if relaxed:  # paths and reasons, never values
            log.warning(
                "the reply to %s breaks the WSDL, kept what fits (reply_validation=%s): %s",
                op.key, self.settings.reply_validation, "; ".join(relaxed[:10]),
            )

    def _decode_streaming(self, op: Operation, body: bytes) -> dict[str, Any] | None:
        """A large reply decoded while it is parsed (bridge.streaming), or None for a shape that
        needs the whole tree (a fault, among others)."""
        from .codec import LAX, DecodeError
        from .streaming import decode_streaming

        relaxed: list[str] | None = None if self.settings.reply_validation == "strict" else []
        token = LAX.set(relaxed)
        try:
            data = decode_streaming(self.compiled, op, body, max_depth=self.settings.max_xml_depth, what=f"the SOAP reply to {op.key}")
        except XmlError as exc:
            raise UpstreamError("bad_reply", str(exc)) from None
        except DecodeError as exc:
            raise UpstreamError("bad_reply", f"the reply to {op.key} does not match the WSDL: {exc}") from None
        finally:
            LAX.reset(token)
        if data is not None:
            self._log_relaxed(op, relaxed)
            self._check_output(op, data)
        return data

    def endpoint(self, op: Operation) -> str:
        """The URL calls to ``op`` go to: the ``endpoint`` setting, else the port's soap:address."""
        url = self.settings.endpoint or op.address
        if not url:
            raise UpstreamError("unavailable", f"{op.key} has no endpoint address: pass endpoint= or --backend")
        return url

    def _prepare(
        self, operation: str | Operation, data: Any, headers: dict[str, Any] | None, credentials: Credentials | None = None
    ) -> tuple[Operation, Body, dict[str, str]]:
        op = self.operation(operation)
        if headers:
            if not isinstance(data, dict):
                raise ValidationError("the request must be an object", [Violation("", "expected an object")])
            data = {**data, HEADERS_KEY: {**data.get(HEADERS_KEY, {}), **headers}}
        wsse = self._wsse.get(op.service)
        if credentials is not None and credentials.wsse is not None:
            wsse = credentials.wsse  # the authenticated consumer's own UsernameToken, in place of the global one
        tags = self._mtom_tags(op)
        if tags and not op.input.attachments and not self._swaref_tags(op.input) and not (wsse is not None and wsse.signs):
            # MTOM will apply: large binaries are lifted out before encoding, so that the envelope
            # is built, parsed and sent small and each value is decoded once (bridge.mime.lift)
            from .mime import Unlifted, lift

            with observability.span("soapbridge.validate"):
                self.validate_input(op, data)
            small, lifted = lift(data, max(self.settings.mtom.threshold, LIFT_BYTES))
            if lifted:
                try:
                    return self._assemble(op, self._encode(op, small, lifted.chars), wsse, credentials, lifted)
                except RequestTooLarge:
                    raise
                except (Unlifted, ValidationError):
                    pass  # a marker outside a base64Binary element (or refused there): encoded as it is
            del small, lifted
            return self._assemble(op, self._encode(op, data), wsse, credentials)
        return self._assemble(op, self.encode_request(op, data), wsse, credentials)

    def _mtom_tags(self, op: Operation) -> frozenset[str]:
        """The tags of the base64Binary elements of ``op``'s input that may go as MTOM parts (none
        when MTOM is off for it); swaRef elements are not among them: they are parts already."""
        m = self.settings.mtom
        if not (m.enabled is True or (m.enabled == "auto" and op.mtom_policy)):
            return frozenset()
        got = self._binary_tags.get(id(op))
        if got is None:
            from .mime import binary_tags

            got = self._binary_tags[id(op)] = binary_tags(op.input) - self._swaref_tags(op.input)
        return got

    def _assemble(
        self, op: Operation, body: bytes, wsse: Security | None, credentials: Credentials | None, lifted: Lifted | None = None
    ) -> tuple[Operation, Body, dict[str, str]]:
        """The envelope addressed, secured and packed (MTOM, SwA) as it is sent, and its HTTP headers."""
        from .envelope import http_headers

        action = op.soap_action
        addressing = self.settings.addressing
        if addressing is True or (addressing == "auto" and op.wsa_policy):
            body, action = self._addressed(op, body), op.wsa_action  # before WS-Security, which may sign them
        http = http_headers(op.soap_version, action)
        if op.input.attachments:  # SwA: signed (if at all) once the bound parts are out of the envelope
            body, http = self._swa(op, body, http, wsse)
        else:
            swarefs: list[tuple[str, bytes]] = []
            tags = self._swaref_tags(op.input)
            if tags:  # WS-I swaRef values become parts, cid: URIs in their place: what is signed and sent
                from .mime import take_swarefs

                body, swarefs = take_swarefs(body, tags)
            if wsse is not None:
                body = wsse.apply(body)
            sent, http = self._mtom(op, body, http, action, exact=wsse is not None and wsse.signs, extra=swarefs, lifted=lifted)
            return op, sent, self._authorized(http, credentials)
        return op, body, self._authorized(http, credentials)

    @staticmethod
    def _authorized(http: dict[str, str], credentials: Credentials | None) -> dict[str, str]:
        if credentials is not None and credentials.authorization is not None:
            return {**http, "Authorization": credentials.authorization}  # the consumer's Basic credentials
        return http

    def _swa(self, op: Operation, body: bytes, http: dict[str, str], wsse: Security | None) -> tuple[bytes, dict[str, str]]:
        """The request as SOAP with Attachments (the WSDL binds parts to MIME parts). WS-Security
        applies to the envelope as sent, without those parts: signed before, its signature would cover
        elements the receiver never sees. The attachments themselves are not signed (no WSS SwA profile)."""
        from .mime import bound_parts, pack_swa

        swa = pack_swa(body, op.soap_version, bound_parts(op.input, op.style), op.input.attachments, finish=wsse.apply if wsse else None)
        return swa.body, {**http, "Content-Type": swa.content_type}

    def _swaref_tags(self, message: Any) -> frozenset[str]:
        """The tags of a message's WS-I swaRef elements (bridge.mime), once per message."""
        tags = self._swarefs.get(id(message))
        if tags is None:
            from .mime import swaref_tags

            tags = self._swarefs[id(message)] = swaref_tags(message)
        return tags

    def _mtom(
        self,
        op: Operation,
        body: bytes,
        http: dict[str, str],
        action: str,
        *,
        exact: bool = False,
        extra: list[tuple[str, bytes]] | None = None,
        lifted: Lifted | None = None,
    ) -> tuple[Body, dict[str, str]]:
        """The request as MTOM (bridge.mime) when configured or the WSDL's policy asks for it and a
        base64Binary value reaches the threshold; else as it is. Either way the Accept header says an
        MTOM reply is welcome: the JAX-WS RI answers a plain request with MTOM only when it says so.
        ``exact``: the envelope is signed, so only canonical base64 values become parts (``mime.pack``).
        ``extra``: swaRef parts the envelope refers to: sent along, as SwA when nothing goes as MTOM.
        ``lifted``: values taken out before encoding, sent as parts (``mime.pack`` raises ``Unlifted``
        if one cannot be)."""
        m = self.settings.mtom
        on = m.enabled is True or (m.enabled == "auto" and op.mtom_policy)
        if not on and not extra:
            return body, http
        from .mime import XOP_MEDIA, pack

        tags = frozenset[str]()
        if on:
            tags = self._mtom_tags(op)
            soap_type = "application/soap+xml" if op.soap_version == "1.2" else "text/xml"
            http = {**http, "Accept": f"{XOP_MEDIA}, multipart/related, {soap_type}"}
        packed = pack(body, op.soap_version, action, tags, m.threshold, exact=exact, extra=extra, lifted=lifted)
        if packed is None:
            return body, http
        # lifted: large parts, sent piece by piece (bridge.client.Body), not joined into one more copy
        return packed.pieces if lifted is not None else packed.body, {**http, "Content-Type": packed.content_type}

    def _mime_limits(self) -> Limits:
        from .mime import Limits

        s = self.settings
        return Limits(
            max_part_bytes=s.mtom.max_part_bytes or s.max_reply_bytes,
            max_parts=s.mtom.max_parts,
            spool_bytes=s.mtom.spool_bytes,
            max_xml_bytes=s.max_reply_bytes,
            max_depth=s.max_xml_depth,
        )

    def _reply_sink(self, op: Operation) -> Callable[[str], ReplySink | None]:
        """For the client: a multipart/related reply's bytes go into the MIME parser as they arrive
        (bridge.mime.PartStream, parts spooled), never whole in memory; any other reply is read whole."""

        def sink(content_type: str) -> ReplySink | None:
            if "multipart" not in content_type[:24].lower():
                return None  # the plain reply's path: nothing more than this test
            from .mime import PartStream, is_multipart

            if not is_multipart(content_type):
                return None
            return PartStream(content_type, self._mime_limits(), f"the SOAP reply to {op.key}")

        return sink

    @staticmethod
    def _discard(reply: Reply | None) -> None:
        """Deletes the spooled parts of a streamed reply nothing decoded (the call failed first)."""
        if reply is not None and reply.streamed is not None:
            from .mime import close_parts

            parts, reply.streamed = reply.streamed[0], None
            close_parts(parts)

    def _unpack(self, op: Operation, reply: Reply, resolved: list[tuple[etree._Element, str]]) -> etree._Element:
        """A multipart/related reply (MTOM or SwA) as its envelope's tree, the parts inlined: from the
        parts the client streamed them into, else (a reply read whole) from its body. ``resolved``
        gets the swaRef elements and their cid: text (which a signature covers)."""
        from .mime import bound_parts, unpack, unpack_parts

        what = f"the SOAP reply to {op.key}"
        swarefs = self._swaref_tags(op.output)
        try:
            bound = bound_parts(op.output, op.style)
            if reply.streamed is not None:
                (parts, params), reply.streamed = reply.streamed, None
                return unpack_parts(parts, params, self._mime_limits(), what, bound=bound, swarefs=swarefs, resolved=resolved)
            return unpack([reply.body], reply.content_type, self._mime_limits(), what=what, bound=bound, swarefs=swarefs, resolved=resolved)
        except XmlError as exc:
            raise UpstreamError("bad_reply", str(exc), status=reply.status if reply.status >= 400 else None) from None

    def _addressed(self, op: Operation, body: bytes) -> bytes:
        """The envelope with WS-Addressing headers; wsa:To is the endpoint without its credentials."""
        import uuid

        from .envelope import add_addressing

        scheme, sep, rest = self.endpoint(op).partition("://")
        authority, slash, path = rest.partition("/")
        to = f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}"
        return add_addressing(body, op.soap_version, op.wsa_action, to, f"urn:uuid:{uuid.uuid4()}")

    def _finish(self, op: Operation, reply: Reply) -> dict[str, Any]:
        from .mime import is_multipart

        if reply.streamed is not None or (is_multipart(reply.content_type) and reply.body.strip()):
            resolved: list[tuple[etree._Element, str]] = []
            tree = [self._unpack(op, reply, resolved)]
            reply.body = b""  # the raw message is no longer needed: not held while decoding
            try:
                # passed on, not kept here: _decode_reply frees the tree (its 4/3-size base64 text) before validating
                return self._decode_reply(op, tree.pop(), resolved)
            except UpstreamError as exc:
                if reply.status >= 400:
                    raise UpstreamError(exc.kind, f"HTTP {reply.status}: {exc}", status=reply.status) from None
                raise
        if not reply.body.strip():
            if op.output is None and reply.status < 300:
                return {}
            raise UpstreamError("bad_reply", f"{op.key}: the SOAP service answered HTTP {reply.status} with an empty body", status=reply.status)
        if "xml" not in reply.content_type and not reply.body.lstrip().startswith(b"<"):
            if reply.status in (401, 407):  # said plainly: the usual cause is the configuration
                who = "the SOAP service" if reply.status == 401 else "the proxy"
                setting = "backend_auth" if reply.status == 401 else "the proxy URL's credentials"
                raise UpstreamError("bad_reply", f"{op.key}: {who} refused the credentials (HTTP {reply.status}); check {setting}", status=reply.status)
            raise UpstreamError(
                "bad_reply",
                f"{op.key}: the SOAP service answered HTTP {reply.status} with {reply.content_type or 'no content type'}, not SOAP",
                status=reply.status,
            )
        try:
            return self.decode_response(op, reply.body)
        except UpstreamError as exc:
            if reply.status >= 400:
                raise UpstreamError(exc.kind, f"HTTP {reply.status}: {exc}", status=reply.status) from None
            raise

    def _outcome(self, op: Operation, started: float, exc: BaseException | None, reply: Reply | None) -> None:
        """One log line per call with its outcome, as the REST app answers it (not the service's
        HTTP status): never values, never credentials. In a served request the app's request log line
        says it (bridge.observability), with the upstream failure's cause added here."""
        rec = observability.CURRENT.get()
        if rec is not None:
            if isinstance(exc, UpstreamError) and exc.cause:
                rec.cause = exc.cause
            return
        if not log.isEnabledFor(logging.INFO):
            return
        ms = (time.perf_counter() - started) * 1000
        http = f" (the service answered HTTP {reply.status})" if reply is not None else ""
        st = self.settings.status
        if exc is None:
            log.info("%s -> %d in %.1f ms%s", op.key, 204 if op.output is None else 200, ms, http)
        elif isinstance(exc, SoapFault):
            log.info("%s -> %d SOAP fault (%s) in %.1f ms%s", op.key, st.for_fault(exc.category), exc.category, ms, http)
        elif isinstance(exc, UpstreamError):
            cause = f": {exc.cause}" if exc.cause else ""
            log.info("%s -> %d upstream %s in %.1f ms%s%s", op.key, st.for_upstream(exc.kind), exc.kind, ms, http, cause)
        elif isinstance(exc, ValidationError):
            log.info("%s -> 400 invalid request (%d violation(s))", op.key, len(exc.violations))
        elif isinstance(exc, asyncio.CancelledError):
            log.info("%s -> cancelled after %.1f ms (the caller went away)", op.key, ms)
        else:
            log.info("%s -> failed in %.1f ms: %s", op.key, ms, type(exc).__name__)

    def call(self, operation: str | Operation, data: Any, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send the request and return the output message as JSON-ready data.

        ``data`` is the input message as JSON (SOAP headers under ``"$headers"``); ``headers``
        adds HTTP headers. Raises ``ValidationError`` (bad input), ``SoapFault`` (the service's
        fault) or ``UpstreamError`` (unreachable, timed out, or a bad reply)."""
        op = self.operation(operation)
        started = time.perf_counter()
        reply: Reply | None = None
        try:
            op, body, http = self._prepare(op, data, headers)
            reply = self.client.post(
                self.endpoint(op), body, http, what=op.key, idempotent=id(op) in self._idempotent, sink=self._reply_sink(op)
            )
            result = self._finish(op, reply)
        except BaseException as exc:
            self._discard(reply)
            self._outcome(op, started, exc, reply)
            raise
        self._outcome(op, started, None, reply)
        return result

    async def acall(
        self, operation: str | Operation, data: Any, *, headers: dict[str, Any] | None = None, credentials: Credentials | None = None
    ) -> dict[str, Any]:
        """``call`` for asyncio: the same result and errors, over a pooled async connection.
        ``credentials``: an authenticated REST consumer's upstream credentials (bridge.auth)."""
        op = self.operation(operation)
        started = time.perf_counter()
        reply: Reply | None = None
        try:
            op, body, http = self._prepare(op, data, headers, credentials)
            reply = await self.client.apost(
                self.endpoint(op), body, http, what=op.key, idempotent=id(op) in self._idempotent, sink=self._reply_sink(op)
            )
            with observability.span("soapbridge.decode", **{"soapbridge.reply_bytes": reply.size}):
                result = await self._afinish(op, reply)
        except BaseException as exc:
            self._discard(reply)
            self._outcome(op, started, exc, reply)
            raise
        self._outcome(op, started, None, reply)
        return result

    async def _afinish(self, op: Operation, reply: Reply) -> dict[str, Any]:
        """``_finish``, in a decoder thread for a large reply: decoding 45 MB takes seconds, and
        on the event loop every other request (and /healthz) would wait for it. One thread, one reply
        at a time, so that concurrent large replies queue rather than multiply peak memory."""
        if reply.size < OFFLOAD_BYTES:
            return self._finish(op, reply)
        if self._decoder is None:
            self._decoder = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="soapbridge-decode")
        gcpause.hold()  # no collections walking the growing result (bridge.gcpause)
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._decoder, self._finish, op, reply)
        except BaseException:
            gcpause.release()
            raise
        large = LargeResult(result)  # the REST app writes its JSON off the loop too
        del result
        if WRITES_LARGE.get():  # held until the app's writer thread has freed it
            weakref.finalize(large, gcpause.release)
        else:  # a library caller may keep it for long: the collector walks it once more
            gcpause.release()
        return large

    # --- serving --------------------------------------------------------------------

    def asgi(self, *, name: str | None = None, process_metrics: bool = True) -> Starlette:
        """The REST API as an ASGI app (Starlette): one route per operation, ``/openapi.json``,
        ``/docs`` and ``/healthz``. Serve it with any ASGI server, e.g. ``uvicorn``.
        ``name`` and ``process_metrics``: as ``bridge.app.create_app`` says (a gateway sets them)."""
        return create_app(self, name=name, process_metrics=process_metrics)

    def close(self) -> None:
        """Closes the upstream connections ``call`` opened."""
        self.client.close()
        if self._decoder is not None:
            self._decoder.shutdown(wait=False)
            self._decoder = None

    async def aclose(self) -> None:
        """Closes the upstream connections ``acall`` opened in the running event loop."""
        await self.client.aclose()

    async def aprobe(self, url: str, timeout: float) -> int:
        """The HTTP status a backend answers a GET of ``url`` with (for /readyz); raises when none came."""
        return await self.client.aprobe(url, timeout)

    def warm_up(self) -> threading.Thread | None:
        """Starts importing, in a background thread, what the first call needs and a warm start
        does not (the served app calls it at start-up), so that neither waits for all of it."""
        names = [n for n in WARM_UP if n not in sys.modules and (n != "aiohttp" or not self.client.in_process)]
        if not names:
            return None

        def run() -> None:
            for name in names:
                importlib.import_module(name)

        # Not a daemon: the interpreter waits for it before finalising. A daemon thread still importing
        # (aiohttp -> attr -> unicodedata) when the process exited ran importlib after finalisation had
        # freed the import lock: a segfault (gdb on a core of `serve` on a busy port: 2 in about 1,800 runs).
        t = threading.Thread(target=run, name="soapbridge-warm-up", daemon=False)
        t.start()
        return t

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Bridge:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def load(
    source: str | os.PathLike[str],
    *,
    endpoint: str | None = None,
    config: str | os.PathLike[str] | None = None,
    transport: httpx.AsyncBaseTransport | httpx.BaseTransport | None = None,
    progress: Callable[[str], None] | None = None,
    **settings: Any,
) -> Bridge:
    """Load a WSDL (a path, or a URL with ``allow_network=True``) and everything it imports.

    ``transport``: an httpx transport for the calls to the SOAP service, used by ``acall`` and the
    REST app when it is an ``AsyncBaseTransport``, by ``call`` when it is a ``BaseTransport``, by both
    when it is both.
    The model and spec come from the disk cache (``cache_dir``) when no document changed.
    ``progress`` is told each stage of the load as text (the CLI shows it in a spinner, ``bridge.console.Stages``)."""
    s = make_settings(config, endpoint=endpoint, **settings)
    model, entry = load_model_cached(source, s, progress=progress)
    if progress is not None:
        progress("assigning the REST routes")
    return Bridge(model, s, transport=transport, cache=entry)
