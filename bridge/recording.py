"""Recorded contracts: what goes over the wire for each operation, captured once and replayed.

A recording holds, per exchange, the REST request, the SOAP request the bridge sent, the SOAP
reply it got and the REST response it gave. Envelopes are stored canonicalised (inclusive
Canonical XML 1.0 of an indented tree) so the files diff line by line and are byte-stable.
Replaying sends the recorded REST request to a bridge whose upstream returns the recorded reply;
any change in the envelope the bridge writes or in the JSON it answers shows up as a diff.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from lxml import etree

from .client import Body, Reply, SinkFor, SoapClient
from .codec import to_json_ready
from .errors import BridgeError, XmlError
from .examples import message_example
from .facade import Bridge
from .mock import FAULT_HEADER, MockService
from .model import Operation, Port, ServiceModel
from .routing import chosen_ports
from .settings import Settings, make_settings
from .wsdl.loader import load_model
from .xmlparse import parse_untrusted

FORMAT = 1
MOCK_ENDPOINT = "http://mock.invalid/soap"
REST_BASE = "http://bridge.invalid"
SOAP_HEADERS = ("content-type", "soapaction")  # the ones the bridge sets; httpx's own (user-agent, ...) are left out
SUFFIX = ".yaml"
_HEADER = "# Recorded by `soapbridge record`; replayed by tests/test_recorded_contracts.py. Re-record: make contracts\n"


# --- canonical XML ------------------------------------------------------------------------


_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DS = "http://www.w3.org/2000/09/xmldsig#"
REDACTED = "***"
# WS-Security values that are secret (passwords, key material) or new on every call (nonces,
# times, signatures): recorded as REDACTED, so recordings hold no secret and stay byte-stable.
_REDACT = {
    f"{{{_WSSE}}}Password", f"{{{_WSSE}}}Nonce", f"{{{_WSSE}}}BinarySecurityToken", f"{{{_WSSE}}}KeyIdentifier",
    f"{{{_WSU}}}Created", f"{{{_WSU}}}Expires", f"{{{_DS}}}DigestValue", f"{{{_DS}}}SignatureValue",
    f"{{{_DS}}}X509Certificate",
    "{http://www.w3.org/2005/08/addressing}MessageID",  # a new urn:uuid per call (addressing)
}  # fmt: skip


def _redact(root: etree._Element) -> None:
    """Redacts WS-Security secrets, and numbers the wsu:Ids (random per call) in document order."""
    ids: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in _REDACT and len(el) == 0:
            el.text = REDACTED
        wid = el.get(f"{{{_WSU}}}Id")
        if wid is not None:
            ids[wid] = f"id-{len(ids) + 1}"
            el.set(f"{{{_WSU}}}Id", ids[wid])
    if ids:
        for el in root.iter(f"{{{_DS}}}Reference", f"{{{_WSSE}}}Reference"):
            uri = el.get("URI", "")
            if uri.startswith("#") and uri[1:] in ids:
                el.set("URI", "#" + ids[uri[1:]])


def redact_url(url: str) -> str:
    """An endpoint URL without the credentials of its userinfo (HTTP Basic in the URL)."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if sep and "@" in authority:
        return f"{scheme}://{REDACTED}@{authority.rpartition('@')[2]}{slash}{path}"
    return url


def canonical_xml(data: bytes) -> str:
    """Inclusive C14N 1.0 of the document, indented two spaces: stable, and one element per line.

    Whitespace-only text between elements is not significant in SOAP bodies, so it is replaced by
    the indentation; text in leaf elements is kept as it is. WS-Security secrets are redacted.
    """
    root = parse_untrusted(data, max_bytes=1 << 26, max_depth=512, what="the envelope")
    _redact(root)
    for el in root.iter():
        if len(el) and el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    etree.indent(root, space="  ")
    return etree.tostring(root, method="c14n", exclusive=False, with_comments=False).decode("utf-8") + "\n"


# The random tokens (uuid4 hex) of a multipart message's boundary and Content-IDs, which change
# with every message: recorded as TOKEN, so a recording is stable (consistently within a message,
# so a recorded reply still parses when replayed).
_MIME_TOKEN = re.compile(r"[0-9a-f]{32}")


def _stable(content_type: str) -> str:
    """A Content-Type with a multipart message's random tokens as TOKEN."""
    return _MIME_TOKEN.sub("TOKEN", content_type) if content_type.lower().startswith("multipart/") else content_type


def _soap_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: _stable(v) if k == "content-type" else v for k, v in headers.items()}


def _soap_body(content: bytes, content_type: str = "") -> dict[str, Any]:
    """The recorded form of a SOAP body: canonical envelope, raw text if it is not XML, nothing if empty;
    a multipart (MTOM, SwA) message as ``mime``: its bytes as Latin-1 text (binary parts kept
    exactly), its random tokens as TOKEN."""
    if not content.strip():
        return {"envelope": None}
    if content_type.lower().startswith("multipart/"):
        return {"mime": _MIME_TOKEN.sub("TOKEN", content.decode("latin-1"))}
    try:
        return {"envelope": canonical_xml(content)}
    except XmlError:
        return {"text": content.decode("utf-8", "replace")}


def _soap_bytes(recorded: dict[str, Any]) -> bytes:
    if recorded.get("mime") is not None:
        return str(recorded["mime"]).encode("latin-1")
    if recorded.get("envelope") is not None:
        return str(recorded["envelope"]).encode()
    return str(recorded.get("text") or "").encode()


# --- capture --------------------------------------------------------------------------------


@dataclass
class _Captured:
    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    content_type: str = ""
    reply: bytes = b""


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to ``inner`` and keeps a copy of each request and reply.

    ``fault`` adds the mock's ``X-Mock-Fault`` header, so a declared fault can be recorded; the
    header is not part of the recording, since the bridge never sends it.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.fault: str | None = None
        self.captured: list[_Captured] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Sends the request on, with the fault header when set, and keeps both the request and the reply."""
        body = await request.aread()
        seen = _Captured(str(request.url), {k: request.headers[k] for k in SOAP_HEADERS if k in request.headers}, body)
        if self.fault:
            request.headers[FAULT_HEADER] = self.fault
        response = await self.inner.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])  # type: ignore[attr-defined]
        await response.aclose()
        decoded = httpx.Response(response.status_code, headers=response.headers, content=raw)
        seen.status, seen.content_type, seen.reply = response.status_code, response.headers.get("content-type", ""), decoded.content
        self.captured.append(seen)
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw), extensions=response.extensions)

    async def aclose(self) -> None:
        """Does nothing: the recorder closes the inner transport once, when done."""
        pass  # shared by one bridge per port; the recorder closes the inner transport once, at the end


class RecordingClient(SoapClient):
    """The bridge's own upstream client (client certificate, proxy, backend_auth: as ``call``
    uses them) that keeps a copy of each request and reply, for recording against a live backend.
    What it keeps is what the bridge wrote (its SOAP headers, not the Authorization it adds)."""

    fault: str | None = None  # a live backend cannot be made to fault on demand

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.captured: list[_Captured] = []

    async def apost(
        self, url: str, body: Body, headers: dict[str, str], *, what: str = "the SOAP call", idempotent: bool = False, sink: SinkFor | None = None
    ) -> Reply:
        """``SoapClient.apost``, keeping the request as written and the reply (read whole, for the recording: no ``sink``)."""
        whole = body if isinstance(body, bytes) else b"".join(body)  # recorded whole: a tool for examples, not for 50 MB
        seen = _Captured(url, {k.lower(): v for k, v in headers.items() if k.lower() in SOAP_HEADERS}, whole)
        reply = await super().apost(url, body, headers, what=what, idempotent=idempotent)
        seen.status, seen.content_type, seen.reply = reply.status, reply.content_type, reply.body
        self.captured.append(seen)
        return reply


_Recorder = RecordingTransport | RecordingClient


@dataclass
class RecordedOperation:
    """What was recorded for one operation of one port (for ``record``'s progress and summary)."""

    operation_id: str
    port: str
    file: str
    outcomes: list[str]  # per exchange, "example: 200" or "fault InvalidOrder: 422"


Recorded = Callable[[RecordedOperation, int, int], None]  # told each operation recorded, with done and total


def _outcome(exchange: dict[str, Any]) -> str:
    """An exchange's REST status, and the problem's title when it was not an asked-for fault."""
    response = exchange["rest_response"]
    body = response.get("body")
    title = body.get("title") if isinstance(body, dict) and exchange["name"] == "example" and response["status"] >= 400 else None
    return f"{exchange['name']}: {response['status']}" + (f" {title}" if title else "")


def rest_request(op: Operation, seed: int) -> dict[str, Any]:
    """The deterministic example request of an operation (the spec's example for seed 0)."""
    return {"method": op.http_method, "path": op.path, "body": to_json_ready(message_example(op, op.input, seed))}


async def _send_rest(client: httpx.AsyncClient, request: dict[str, Any]) -> dict[str, Any]:
    r = await client.request(
        request["method"], request["path"], content=json.dumps(request["body"]).encode(), headers={"content-type": "application/json"}
    )
    content_type = r.headers.get("content-type", "")
    body = r.json() if r.content else None
    if isinstance(body, dict) and content_type.startswith("application/problem+json"):
        body.pop("request_id", None)  # a problem's request ID is new each time: not part of the contract
    return {"status": r.status_code, "content_type": content_type, "body": body}


async def _exchange(client: httpx.AsyncClient, transport: _Recorder, op: Operation, seed: int, fault: str | None) -> dict[str, Any]:
    transport.fault = fault
    transport.captured.clear()
    request = rest_request(op, seed)
    response = await _send_rest(client, request)
    if len(transport.captured) > 1:  # pragma: no cover - the bridge sends one envelope per call
        raise BridgeError(f"{op.key}: the bridge sent {len(transport.captured)} SOAP requests for one REST call")
    out: dict[str, Any] = {"name": f"fault {fault}" if fault else "example", "rest_request": request}
    if transport.captured:
        c = transport.captured[0]
        out["soap_request"] = {"url": redact_url(c.url), "headers": _soap_headers(c.headers), **_soap_body(c.body, c.headers.get("content-type", ""))}
        out["soap_reply"] = {"status": c.status, "content_type": _stable(c.content_type), **_soap_body(c.reply, c.content_type)}
    else:
        out["soap_request"] = out["soap_reply"] = None
    out["rest_response"] = response
    return out


def _recorded_ports(model: ServiceModel) -> list[tuple[Port, bool]]:
    """Every SOAP port, and whether the REST routes use it by default.

    A port the default routing leaves out (the SOAP 1.2 twin of a SOAP 1.1 port, say) is recorded
    through a bridge configured to prefer it, so its envelopes are pinned too.
    """
    default = {id(p) for p in chosen_ports(model, make_settings())}
    return [(p, id(p) in default) for p in model.ports if p.kind in ("soap11", "soap12")]


def file_name(operation_id: str, port: str, default: bool) -> str:
    """``<operationId>.yaml`` for the default routes, ``<operationId>@<port>.yaml`` for another port."""
    return f"{operation_id}{SUFFIX}" if default else f"{operation_id}@{port}{SUFFIX}"


async def _record_port(
    b: Bridge, transport: _Recorder, ops: list[Operation], seed: int, faults: bool, done: Callable[[Operation, list[dict[str, Any]]], None]
) -> list[list[dict[str, Any]]]:
    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=b.asgi()), base_url=REST_BASE) as client:
        try:
            for op in ops:
                exchanges = [await _exchange(client, transport, op, seed, None)]
                if faults and op.faults:
                    exchanges.append(await _exchange(client, transport, op, seed, op.faults[0].name))
                out.append(exchanges)
                done(op, exchanges)
        finally:
            await b.client.aclose()
    return out


async def _record_ports(
    wsdl: str | Path,
    model: ServiceModel,
    backend: str | None,
    seed: int,
    allow_network: bool,
    config: str | Path | None = None,
    recorded: Recorded | None = None,
) -> dict[str, str]:
    inner = httpx.ASGITransport(app=MockService(model, seed=seed).asgi())  # type: ignore[arg-type]
    mocked = RecordingTransport(inner)
    files: dict[str, str] = {}
    ports = _recorded_ports(model)
    # every operation of every port, less those a port's bridge does not route (known port by port)
    total = sum(len(p.operations) for p, _ in ports)
    count = 0

    def done(port: Port, default: bool, op: Operation, exchanges: list[dict[str, Any]]) -> None:
        nonlocal count
        count += 1
        if recorded is not None:
            name = file_name(op.operation_id, port.name, default)
            recorded(RecordedOperation(op.operation_id, port.name, name, [_outcome(e) for e in exchanges]), count, total)

    try:
        for port, default in ports:
            # Routing rewrites every operation's key and path, so each bridge is used up before the next.
            settings = make_settings(config, endpoint=backend or MOCK_ENDPOINT, allow_network=allow_network, ports={port.service: port.name})
            transport: _Recorder = mocked
            if backend:  # the configured client, as `call` has it: client_cert, proxy, backend_auth
                b = Bridge(model, settings)
                b.client = transport = RecordingClient(settings)
            else:
                b = Bridge(model, settings, transport=mocked)
            routed = {id(op) for op in b.routed}
            ops = sorted((op for op in port.operations if id(op) in routed), key=lambda o: o.operation_id)
            total -= len(port.operations) - len(ops)
            exchanges_by_op = await _record_port(b, transport, ops, seed, faults=backend is None, done=functools.partial(done, port, default))
            for op, exchanges in zip(ops, exchanges_by_op, strict=True):
                doc = {
                    "format": FORMAT,
                    "wsdl": Path(str(wsdl)).name,
                    "operation": op.key,
                    "operation_id": op.operation_id,
                    "service": op.service,
                    "port": op.port,
                    "soap_version": op.soap_version,
                    "seed": seed,
                    "backend": "mock" if backend is None else redact_url(backend),
                    "exchanges": exchanges,
                }
                files[file_name(op.operation_id, port.name, default)] = _HEADER + dump_yaml(doc)
    finally:
        await inner.aclose()
    return files


def recordings(
    wsdl: str | Path,
    *,
    backend: str | None = None,
    seed: int = 0,
    allow_network: bool = False,
    config: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    recorded: Recorded | None = None,
) -> dict[str, str]:
    """The recording of each operation of each SOAP port, as file name -> YAML text.

    ``config``: a config file whose settings the bridge uses (its ``wsse``, say; the secrets and
    per-call values of WS-Security headers are recorded redacted, as are credentials in URLs).

    With the mock (the default) each operation that declares faults also gets an exchange that
    ends in its first declared fault; a live backend cannot be made to fault on demand.

    ``progress`` is told the stages of loading the WSDL as text; ``recorded`` each operation once
    recorded, with the number done and the total (the CLI's bar and summary).
    """
    model = load_model(wsdl, allow_network=allow_network, progress=progress)
    if progress is not None:
        progress("building the mock")
    return asyncio.run(_record_ports(wsdl, model, backend, seed, allow_network, config, recorded))


def record(
    wsdl: str | Path,
    out_dir: str | Path,
    *,
    backend: str | None = None,
    seed: int = 0,
    allow_network: bool = False,
    config: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    recorded: Recorded | None = None,
) -> list[Path]:
    """Write the recordings of a WSDL to ``out_dir/<wsdl stem>/``, replacing what was there; ``progress``
    and ``recorded``: as ``recordings``."""
    files = recordings(wsdl, backend=backend, seed=seed, allow_network=allow_network, config=config, progress=progress, recorded=recorded)
    target = Path(out_dir) / Path(str(wsdl)).stem
    try:
        target.mkdir(parents=True, exist_ok=True)
        for stale in target.glob("*" + SUFFIX):
            if stale.name not in files:
                stale.unlink()
        written = []
        for name, text in sorted(files.items()):
            path = target / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise BridgeError(f"cannot write recordings to {target}: {exc.strerror}") from None
    return written


# --- YAML with block scalars ------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Multi-line strings (the envelopes) as literal blocks: one XML line per YAML line.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    """Recording data as YAML, envelopes as literal blocks (one XML line per YAML line)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 16, default_flow_style=False)


def load_recording(path: str | Path) -> dict[str, Any]:
    """Reads a recording file; raises ``BridgeError`` when it is unreadable or not a recording of this format."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BridgeError(f"cannot read recording {p}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BridgeError(f"{p} is not a soapbridge recording (format {FORMAT})")
    return data


# --- replay --------------------------------------------------------------------------------


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers every SOAP request with the recorded reply and keeps what the bridge sent."""

    def __init__(self) -> None:
        self.reply: dict[str, Any] | None = None
        self.sent: list[_Captured] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Keeps what the bridge sent and answers the recorded reply (a 599 when the recording has none)."""
        body = await request.aread()
        self.sent.append(_Captured(str(request.url), {k: request.headers[k] for k in SOAP_HEADERS if k in request.headers}, body))
        if self.reply is None:
            return httpx.Response(599, content=b"the recording has no SOAP exchange for this request")
        headers = {"content-type": self.reply["content_type"]} if self.reply.get("content_type") else {}
        return httpx.Response(self.reply["status"], headers=headers, content=_soap_bytes(self.reply))


@dataclass
class Replayed:
    """What the bridge did with one recorded exchange, in the recording's own shape."""

    name: str
    soap_request: dict[str, Any] | None
    rest_response: dict[str, Any]
    recorded: dict[str, Any] = field(repr=False, default_factory=dict)


def replay(wsdl: str | Path, recording: dict[str, Any], *, allow_network: bool = False) -> list[Replayed]:
    """Send each recorded REST request to a bridge whose upstream plays back the recorded reply."""
    model = load_model(wsdl, allow_network=allow_network)
    transport = ReplayTransport()
    exchanges = recording["exchanges"]
    url = next((e["soap_request"]["url"] for e in exchanges if e.get("soap_request")), MOCK_ENDPOINT)
    b = Bridge(model, make_settings(endpoint=url, ports={recording["service"]: recording["port"]}), transport=transport)

    async def run() -> list[Replayed]:
        out = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=b.asgi()), base_url=REST_BASE) as client:
            for e in exchanges:
                transport.reply = e.get("soap_reply")
                transport.sent.clear()
                response = await _send_rest(client, e["rest_request"])
                sent = None
                if transport.sent:
                    c = transport.sent[0]
                    sent = {"url": redact_url(c.url), "headers": _soap_headers(c.headers), **_soap_body(c.body, c.headers.get("content-type", ""))}
                out.append(Replayed(e["name"], sent, response, e))
        await b.client.aclose()
        return out

    return asyncio.run(run())


def differences(replayed: Replayed) -> list[str]:
    """Unified diffs, recorded against now, of the SOAP request sent and the REST response given."""
    out = []
    for key, now in (("soap_request", replayed.soap_request), ("rest_response", replayed.rest_response)):
        before = dump_yaml(replayed.recorded.get(key))
        after = dump_yaml(now)
        if before != after:
            diff = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), f"recorded {key}", f"replayed {key}")
            out.append(f"{replayed.name}: the {key.replace('_', ' ')} changed\n" + "".join(diff))
    return out


def recording_files(directory: str | Path) -> Iterator[Path]:
    """The recording files in ``directory``, sorted by name."""
    yield from sorted(Path(directory).glob("*" + SUFFIX))


__all__ = [
    "RecordedOperation",
    "RecordingClient",
    "RecordingTransport",
    "ReplayTransport",
    "Replayed",
    "canonical_xml",
    "differences",
    "dump_yaml",
    "file_name",
    "load_recording",
    "record",
    "recordings",
    "replay",
]
