"""A mock SOAP service generated from a WSDL: every operation, SOAP 1.1 and 1.2.

Replies are schema-valid examples, deterministic for a seed. Requests are checked against
the schema (structure by the codec, facets by the JSON Schema) and answered with a Client
fault when invalid. A declared fault is returned on demand: send the HTTP header
``X-Mock-Fault: <FaultName>`` (or ``client`` / ``server``), or configure ``faults``.
``wsse`` makes it require a UsernameToken, a signature or a Timestamp (bridge.wsse.MockRequirements)
and answer a Client fault naming what is missing or wrong, so a ``wsse`` configuration can be tried.
``addressing`` makes it require WS-Addressing 1.0 (wsa:Action, wsa:To, wsa:MessageID; the Action the
bridge computes for the operation) and refuse other requests with the faults of WS-Addressing's SOAP
binding (§6.4), as the JAX-WS RI does with ``@Addressing(required = true)``; replies then carry
wsa:Action (the output's action) and wsa:RelatesTo (the request's MessageID).
``attachments`` ("mtom" or "swa") makes replies multipart/related, every base64Binary value in its own
MIME part (bridge.mime). Requests may be MTOM too: they are unpacked before they are read.
"""

from __future__ import annotations

import random
import uuid
import zlib
from typing import Any

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .codec import Codec, DecodeError
from .envelope import SOAP12, WSA, WSA_ANONYMOUS, Envelope, build, build_fault, parse
from .errors import BridgeError, FaultCategory, XmlError
from .examples import example_for_element, message_example
from .jsonschema import SchemaBuilder, exact_decimals, reachable_components
from .model import Operation, ServiceModel, unwrapped_part
from .openapi import message_schema
from .portable_regex import portable_patterns
from .validators import make_validator
from .wsse import MockRequirements, RequestChecker

FAULT_HEADER = "x-mock-fault"
MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 256
WSA_FAULT_ACTION = f"{WSA}/fault"  # WS-Addressing 1.0 SOAP Binding §6: the Action of its faults
_REQUIRED_WSA = ("Action", "To", "MessageID")


class MockService:
    """A SOAP service for ``model`` that answers schema-valid made-up data (see the module docstring)."""

    def __init__(
        self,
        model: ServiceModel,
        *,
        seed: int = 0,
        faults: dict[str, str] | None = None,
        wsse: MockRequirements | None = None,
        addressing: bool = False,
        attachments: str | None = None,
    ) -> None:
        if attachments not in (None, "mtom", "swa"):
            raise BridgeError(f"attachments: expected mtom, swa or none, got {attachments!r}")
        self.attachments = attachments
        self.model = model
        self.addressing = addressing
        self.wsse = RequestChecker(wsse) if wsse is not None else None
        self.seed = seed
        self.faults = dict(faults or {})
        self.codec = Codec(model)
        builder = SchemaBuilder()
        self._schemas: dict[int, dict[str, Any]] = {
            id(op): message_schema(builder, op, op.input) for op in model.operations
        }
        self._components = builder.components
        self._validators: dict[int, Any] = {}
        for key, fault in self.faults.items():
            op = self._by_name(key)
            if op is None:
                raise BridgeError(f"--fault {key}={fault}: no operation named {key!r}")
            if fault not in ("client", "server") and fault not in {f.name for f in op.faults}:
                names = ", ".join(f.name for f in op.faults) or "none"
                raise BridgeError(f"--fault {key}={fault}: {op.name} declares no fault {fault!r} (declared: {names})")

    def _by_name(self, name: str) -> Operation | None:
        for op in self.model.operations:
            if name in (op.name, op.qualified_name):
                return op
        return None

    def _validator(self, op: Operation) -> Any:
        v = self._validators.get(id(op))
        if v is None:
            root = self._schemas[id(op)]
            schema = {**root, "components": {"schemas": reachable_components(root, self._components)}}
            # as the bridge validates: decimal facets exact, patterns read alike by every engine (a copy)
            schema = portable_patterns(exact_decimals(schema))
            v = make_validator(schema)  # jsonschema_rs, unless its compiled form would take GBs
            self._validators[id(op)] = v
        return v

    # --- dispatch -------------------------------------------------------------------

    def find_operation(self, env: Envelope, action: str | None) -> Operation | None:
        """The operation an envelope calls, chosen by SOAP version, SOAP action and the first Body element;
        None if none matches."""
        children = env.body_children
        candidates = [op for op in self.model.operations if op.soap_version == env.version] or self.model.operations
        if action:
            by_action = [op for op in candidates if op.soap_action == action]
            if by_action:
                candidates = by_action
        first = etree.QName(children[0]) if children else None
        for op in candidates:
            if op.style == "rpc":
                if first is not None and first.localname == op.name:
                    return op
                continue
            wrapped = unwrapped_part(op, op.input)
            names = [p.element.qname for p in op.input.body_parts]
            if wrapped is not None:
                if first is not None and first.localname == wrapped.element.qname.name and first.namespace == (wrapped.element.qname.namespace or None):
                    return op
            elif (first is not None and names and first.localname == names[0].name) or (not children and not names):
                return op
        return None

    def handle(self, body: bytes, content_type: str, action: str | None, fault_header: str | None) -> tuple[int, bytes, str]:
        """Answers one SOAP request as ``(status, body, content type)``: a reply (200), nothing for a one-way
        operation (202), or a fault (500) for a bad request or when a fault is asked for."""
        version = "1.2" if "soap+xml" in content_type else "1.1"
        from .envelope import from_root
        from .mime import Limits, bound_parts, is_multipart, swaref_tags, unpack

        if is_multipart(content_type):  # an MTOM or SwA request: one envelope again
            limits = Limits(max_part_bytes=MAX_BYTES, max_parts=100, spool_bytes=1024 * 1024, max_xml_bytes=MAX_BYTES, max_depth=MAX_DEPTH)
            try:
                root = unpack([body], content_type, limits, what="the SOAP request")
                # parts the WSDL binds to MIME (SwA): known once the operation is
                op = self.find_operation(from_root(root), action)
                if op is not None and (op.input.attachments or swaref_tags(op.input)):
                    root = unpack(
                        [body], content_type, limits, what="the SOAP request", bound=bound_parts(op.input, op.style), swarefs=swaref_tags(op.input)
                    )
                body = etree.tostring(root)
            except XmlError as exc:
                return self._fault(version, "client", str(exc))
        try:
            env = parse(body, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH, what="the SOAP request")
        except XmlError as exc:
            return self._fault(version, "client", str(exc))
        version = env.version
        if self.wsse is not None:
            refused = self.wsse.check(env.header, env.body)
            if refused:
                return self._fault(version, "client", refused)
        wsa: dict[str, str] = {}
        if self.addressing:
            wsa = {c.tag.rsplit("}", 1)[1]: (c.text or "").strip() for c in env.header_children if c.tag.startswith(f"{{{WSA}}}")}
            missing = next((name for name in _REQUIRED_WSA if not wsa.get(name)), None)
            if missing is not None:
                return self._wsa_fault(
                    version, ["MessageAddressingHeaderRequired"], f"A required header representing a Message Addressing Property is not present: wsa:{missing}",
                    "ProblemHeaderQName", f"wsa:{missing}", wsa.get("MessageID"),
                )  # fmt: skip
            if action and action != wsa["Action"]:  # WS-Addressing SOAP binding §4.1 (SOAP 1.1), SOAP 1.2's action parameter
                return self._wsa_fault(
                    version, ["InvalidAddressingHeader", "ActionMismatch"],
                    f"A header representing a Message Addressing Property is not valid: wsa:Action {wsa['Action']} is not the SOAP action {action}",
                    "ProblemHeaderQName", "wsa:Action", wsa["MessageID"],
                )  # fmt: skip
        op = self.find_operation(env, action)
        if op is None:
            first = env.body_children[0].tag if env.body_children else "an empty Body"
            return self._fault(version, "client", f"no operation of this service accepts {first}")
        if self.addressing and wsa["Action"] != op.wsa_action:
            return self._wsa_fault(
                version, ["ActionNotSupported"], f"The {wsa['Action']} cannot be processed at the receiver (expected {op.wsa_action} for {op.name})",
                "ProblemAction", wsa["Action"], wsa["MessageID"],
            )  # fmt: skip
        try:
            data = self.codec.decode_message(op, op.input, env.body_children, env.header_children)
        except DecodeError as exc:
            return self._fault(version, "client", f"invalid {op.name} request: {exc}")
        errors = [
            f"{''.join('/' + str(p) for p in e.instance_path) or '/'}: {e.message}"
            for e in self._validator(op).iter_errors(data)
        ]
        if errors:
            return self._fault(version, "client", f"invalid {op.name} request: " + "; ".join(errors[:10]))
        wanted = fault_header or self.faults.get(op.name) or self.faults.get(op.qualified_name)
        if wanted:
            return self._declared_fault(op, version, wanted)
        if op.output is None:
            return 202, b"", ""
        reply = message_example(op, op.output, self.seed)
        headers, children = self.codec.encode_message(op, op.output, reply, response=True)
        if self.addressing:
            headers = _reply_headers(op.wsa_reply_action, wsa["MessageID"]) + headers
        if op.output.attachments:  # the WSDL binds parts to MIME parts: SwA, whatever the flag
            from .mime import bound_parts, pack_swa

            swa = pack_swa(build(version, headers, children), version, bound_parts(op.output, op.style), op.output.attachments)
            return 200, swa.body, swa.content_type
        if self.attachments is not None:  # base64Binary values as MIME parts (bridge.mime)
            return self._multipart(op, version, headers, children)
        swarefs = swaref_tags(op.output)
        if swarefs:  # WS-I swaRef values are parts whatever the flag: SwA, as WS-I AP 1.0's example sends them
            from .mime import pack, take_swarefs

            envelope, parts = take_swarefs(build(version, headers, children), swarefs)
            packed = pack(envelope, version, "", frozenset(), 0, extra=parts)
            if packed is not None:
                return 200, packed.body, packed.content_type
        return 200, build(version, headers, children), _content_type(version)

    def _multipart(self, op: Operation, version: str, headers: list[etree._Element], children: list[etree._Element]) -> tuple[int, bytes, str]:
        """The reply as MTOM/XOP (``attachments="mtom"``) or SOAP with Attachments (``"swa"``): every
        base64Binary value in a binary part, referred to by xop:Include or href="cid:"."""
        from .mime import binary_tags, package, split_binaries, swaref_tags, take_swarefs

        envelope, swarefs = take_swarefs(build(version, headers, children), swaref_tags(op.output))
        root = etree.fromstring(envelope)
        parts = split_binaries(root, binary_tags(op.output) - swaref_tags(op.output), mtom=self.attachments == "mtom")
        parts += [(cid, "application/octet-stream", data) for cid, data in swarefs]
        content_type, body = package(etree.tostring(root, xml_declaration=True, encoding="utf-8"), version, parts, mtom=self.attachments == "mtom")
        return 200, body, content_type

    @staticmethod
    def _wsa_fault(version: str, subcodes: list[str], reason: str, problem: str, value: str, relates_to: str | None) -> tuple[int, bytes, str]:
        """A WS-Addressing fault (SOAP binding §6.4): Sender/Client with a wsa: subcode, the problem in the
        Detail (SOAP 1.2) or in a wsa:FaultDetail header (SOAP 1.1, §6.1), sent with the fault Action."""
        info = etree.Element(f"{{{WSA}}}{problem}", nsmap={"wsa": WSA})
        if problem == "ProblemAction":
            etree.SubElement(info, f"{{{WSA}}}Action").text = value
        else:
            info.text = value
        headers = _reply_headers(WSA_FAULT_ACTION, relates_to)
        detail: list[etree._Element] | None = [info]
        if version == "1.1":
            holder = etree.Element(f"{{{WSA}}}FaultDetail", nsmap={"wsa": WSA})
            holder.append(info)
            headers.append(holder)
            detail = None
        body = build_fault(version, "client", reason, detail, subcode=("wsa", WSA, subcodes), headers=headers)
        return 500, body, _content_type(version)

    def _declared_fault(self, op: Operation, version: str, wanted: str) -> tuple[int, bytes, str]:
        if wanted in ("client", "server"):
            category: FaultCategory = "client" if wanted == "client" else "server"
            return self._fault(version, category, f"mock {wanted} fault requested for {op.name}")
        for f in op.faults:
            if f.name == wanted:
                detail: list[etree._Element] = []
                if f.element is not None:
                    rng = random.Random(zlib.crc32(f"{self.seed}:{op.qualified_name}:{f.name}".encode()))
                    value = example_for_element(f.element, rng)
                    detail = self.codec.encode_element(None, f.element, value, "")
                return self._fault(version, "client", f"{f.name} (mock)", detail)
        return self._fault(version, "client", f"{op.name} declares no fault named {wanted!r}")

    @staticmethod
    def _fault(version: str, category: FaultCategory, reason: str, detail: list[etree._Element] | None = None) -> tuple[int, bytes, str]:
        return 500, build_fault(version, category, reason, detail), _content_type(version)

    # --- ASGI -----------------------------------------------------------------------

    def asgi(self) -> Starlette:
        """The Starlette app: SOAP requests by POST to any path; GET ``?wsdl`` returns the WSDL."""
        wsdl_bytes = self.model.documents.get(self.model.location, b"")

        async def endpoint(request: Request) -> Response:
            if request.method == "GET":
                if "wsdl" in {k.lower() for k in request.query_params} and wsdl_bytes:
                    return Response(wsdl_bytes, media_type="text/xml")
                return Response(f"soapbridge mock: POST SOAP envelopes here ({len(self.model.operations)} operations)\n", media_type="text/plain")
            body = await request.body()
            ct = request.headers.get("content-type", "")
            action = request.headers.get("soapaction")
            if action is None:
                action = _action_param(ct)
            action = action.strip().strip('"') if action else None
            status, payload, media = self.handle(body, ct, action, request.headers.get(FAULT_HEADER))
            return Response(payload, status_code=status, headers={"content-type": media} if media else None)

        return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])


def _reply_headers(action: str, relates_to: str | None) -> list[etree._Element]:
    """wsa:To (anonymous), wsa:Action, a new wsa:MessageID and wsa:RelatesTo, as the JAX-WS RI answers."""
    out = []
    values = [("To", WSA_ANONYMOUS), ("Action", action), ("MessageID", f"uuid:{uuid.uuid4()}"), ("RelatesTo", relates_to)]
    for name, text in values:
        if text:
            el = etree.Element(f"{{{WSA}}}{name}", nsmap={"wsa": WSA})
            el.text = text
            out.append(el)
    return out


def _action_param(content_type: str) -> str | None:
    """SOAP 1.2's action parameter: of the Content-Type, or for MTOM of its start-info (XOP/MTOM's HTTP
    binding puts it there, quoted and escaped inside the quoted start-info)."""
    from .mime import media_type

    _, params = media_type(content_type)
    if "action" in params:
        return params["action"]
    if "start-info" in params:
        return media_type(params["start-info"])[1].get("action")
    return None


def _content_type(version: str) -> str:
    return "application/soap+xml; charset=utf-8" if version == "1.2" else "text/xml; charset=utf-8"


__all__ = ["FAULT_HEADER", "SOAP12", "MockService"]
