"""The REST application: one route per operation, problem+json errors, spec and docs pages.

It depends on the library facade only through ``BridgeLike``, so ``bridge.facade`` can build it
without an import cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound, Route, request_response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from . import observability
from .auth import AuthMiddleware, Credentials, build
from .errors import (
    BridgeError,
    RateLimited,
    RateLimitUnavailable,
    RequestTooLarge,
    SoapFault,
    UpstreamError,
    ValidationError,
    Violation,
)
from .model import Operation
from .restbinary import FormStream, attach, binary_field, is_form, octets, wants_octets
from .routing import BODY_METHODS, api_title
from .settings import JsonLimits, Settings

if TYPE_CHECKING:
    from .ratelimit import RateLimiter

log = logging.getLogger("soapbridge.app")
PROBLEM = "application/problem+json"


# Set by the app around its calls: a large result is written and freed by the app (_write_large),
# so the collector is held off until then (bridge.gcpause).
WRITES_LARGE: ContextVar[bool] = ContextVar("soapbridge_writes_large", default=False)


class LargeResult(dict[str, Any]):
    """The output of a call whose reply was large (decoded off the event loop): its JSON is
    written off the loop as well, and the freed memory handed back to the system after."""


def _trim_heap() -> None:
    """Return freed heap to the system (glibc keeps it otherwise: hundreds of MB after a large
    reply)."""
    import ctypes
    import ctypes.util
    import gc

    if gc.isenabled():  # cycles left while the collector was held (bridge.gcpause): freed first
        gc.collect(1)
    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(name).malloc_trim(0)


class BridgeLike(Protocol):
    """What the REST app needs of a ``Bridge``; a protocol, so this module need not import the facade."""

    settings: Settings
    routed: list[Operation]

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, as a dict."""

    def openapi_bytes(self) -> bytes:
        """The OpenAPI document as the JSON bytes served at ``/openapi.json``."""

    async def acall(
        self, operation: str | Operation, data: Any, *, headers: dict[str, Any] | None = None, credentials: Credentials | None = None
    ) -> dict[str, Any]:
        """Calls an operation with JSON-ready data and returns the decoded reply; ``credentials``: the consumer's upstream ones."""

    async def aclose(self) -> None:
        """Closes the upstream connections (on the app's shutdown)."""

    async def aprobe(self, url: str, timeout: float) -> int:
        """The HTTP status a backend answers a cheap GET with (for /readyz); raises when none."""

    def warm_up(self) -> object:
        """Starts loading what the first call needs (on the app's start-up)."""


def problem(status: int, kind: str, title: str, detail: str | None = None, **extra: Any) -> Response:
    """An RFC 9457 problem+json response; ``kind`` becomes the ``urn:soapbridge:problem:`` type and ``extra``
    adds members."""
    body: dict[str, Any] = {"type": f"urn:soapbridge:problem:{kind}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    rec = observability.CURRENT.get()
    if rec is not None:  # the served request's ID, and its kind for the log and metrics
        body["request_id"] = rec.request_id
        rec.kind = kind
    return Response(dumps(body), status_code=status, media_type=PROBLEM)


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def dumps(data: Any) -> bytes:
    """Compact JSON, as the app sends it (Decimals as numbers). orjson writes it about ten times
    faster than the json module (bench/); json takes what orjson refuses, such as integers
    beyond 64 bits."""
    import orjson  # imported on first use (17 ms of a warm start); warm_up loads it early

    try:
        return orjson.dumps(data, default=_default)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_default, allow_nan=False).encode()


PIECE = 1024  # list items written or freed per step of the two below


def dumps_in_pieces(data: Any) -> bytes | bytearray:
    """``dumps(data)``, byte for byte, with long lists written ``PIECE`` items per orjson call:
    one call on a 45 MB result holds the GIL for about 70 ms, so other threads (the event loop)
    run between pieces instead."""
    import orjson

    # One growing buffer (realloc moves no bytes once it is mmapped), sent as it is: each copy of
    # 45 MB holds the GIL for 20-40 ms, and a list of pieces left the heap fragmented.
    out = bytearray()

    def write(value: Any) -> None:
        if isinstance(value, dict):
            out.extend(b"{")
            for i, (k, v) in enumerate(value.items()):
                if not isinstance(k, str):
                    raise TypeError("a key that is not a string")  # orjson refuses it in a dict too
                if i:
                    out.extend(b",")
                out.extend(orjson.dumps(k))
                out.extend(b":")
                write(v)
            out.extend(b"}")
        elif isinstance(value, list) and len(value) > PIECE:
            out.extend(b"[")
            for start in range(0, len(value), PIECE):
                time.sleep(0)  # hand the GIL over
                if start:
                    out.extend(b",")
                out.extend(memoryview(orjson.dumps(value[start : start + PIECE], default=_default))[1:-1])
            out.extend(b"]")
        else:
            out.extend(orjson.dumps(value, default=_default))

    try:
        if isinstance(data, dict):
            write(data)
            return out
    except TypeError:  # what orjson refuses: json writes the whole, as dumps does
        pass
    return dumps(data)


def free_in_pieces(data: Any) -> None:
    """Empties ``data``'s long lists ``PIECE`` items at a time: dropping a 45 MB result at once
    holds the GIL for about 120 ms (millions of objects freed in one C call)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(v for v in value.values() if isinstance(v, (dict, list)))
            value.clear()
        elif isinstance(value, list) and len(value) > PIECE:
            while value:
                del value[-PIECE:]
                time.sleep(0)


def _write_large(box: list[LargeResult]) -> bytes | memoryview:
    """The JSON of a large result, which is then freed here rather than on the event loop."""
    data = box.pop()
    try:
        written = dumps_in_pieces(data)
        return memoryview(written) if isinstance(written, bytearray) else written
    finally:
        free_in_pieces(data)


def _fault_response(exc: SoapFault, settings: Settings) -> Response:
    status = settings.status.client_fault if exc.category == "client" else settings.status.server_fault
    return problem(
        status,
        f"soap-fault:{exc.category}",
        "SOAP fault" + (f": {exc.name}" if exc.name else ""),
        exc.reason or None,
        faultcode=exc.code,
        subcodes=exc.subcodes,
        faultactor=exc.actor,
        fault=exc.name,
        detail_data=exc.detail,
    )


def _upstream_response(exc: UpstreamError, settings: Settings) -> Response:
    status = settings.status.for_upstream(exc.kind)
    titles = {
        "timeout": "The SOAP service timed out",
        "unavailable": "The SOAP service is unavailable",
        "tls": "TLS verification of the SOAP service failed",
        "security": "The SOAP reply failed WS-Security verification",
    }
    return problem(status, f"upstream:{exc.kind}", titles.get(exc.kind, "The SOAP service gave a bad reply"), str(exc))


def validation_response(exc: ValidationError) -> Response:
    """The 400 problem for a request that breaks its schema, listing each violation in ``errors``."""
    return problem(
        400,
        "validation",
        "The request breaks the operation's schema",
        str(exc),
        errors=[v.as_dict() for v in exc.violations],
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_form(request: Request, content_type: str, limit: int, spool_bytes: int) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body streamed into its parts as it arrives (bridge.restbinary), within
    ``limit``: never held whole. The parser runs on the loop (about 1 GB/s, under a millisecond a
    chunk); turning the files into base64 runs in a thread."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge()
    form = FormStream(content_type, limit, spool_bytes)
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge()
            form.write(chunk)
    except BaseException:
        form.abort()
        raise
    return await run_in_threadpool(form.finish)


class _TooLarge(Exception):
    pass


class JsonRefused(Exception):
    """A request body over one of the JSON threat limits (``Settings.json_limits``)."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(detail)
        self.pointer = pointer
        self.detail = detail


# A \uD800-\uDFFF escape, or the UTF-8 form of one (which json.loads lets through): only then
# are strings checked for lone surrogates, which UTF-8 (and so XML) cannot carry.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _pointer_of(path: Any) -> str:
    """A JSON pointer from the (parent, key) chain the walk below keeps."""
    keys: list[str] = []
    while path:
        path, key = path
        keys.append("/" + str(key).replace("~", "~0").replace("/", "~1"))
    return "".join(reversed(keys))


def _lone_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def load_json(body: bytes, limits: JsonLimits) -> Any:
    """Parses a request body (numbers with a point or exponent as Decimal) and checks it against
    the limits without recursion; raises ValueError when it is not JSON, JsonRefused over a limit."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except RecursionError:  # json.loads recurses in C: about 1,000 levels
        raise JsonRefused("", f"nested deeper than the limit of {limits.max_depth}") from None
    surrogates = _SURROGATE.search(body) is not None
    max_string = limits.max_string_length

    def check_string(s: str, path: Any, what: str, limit: int) -> None:
        if len(s) > limit:
            raise JsonRefused(_pointer_of(path), f"{what} of {len(s)} characters is longer than the limit of {limit}")
        if surrogates and _lone_surrogate(s):
            raise JsonRefused(_pointer_of(path), f"{what} holds a lone UTF-16 surrogate, which is not a character")

    if type(data) is str:
        check_string(data, None, "the string", max_string)
    stack: list[tuple[Any, int, Any]] = [(data, 1, None)]
    while stack:
        value, depth, path = stack.pop()
        if type(value) is dict:
            items: Any = value.items()
            limit, what = limits.max_keys, "keys"
        elif type(value) is list:
            items = enumerate(value)
            limit, what = limits.max_items, "items"
        else:
            continue
        if depth > limits.max_depth:
            raise JsonRefused(_pointer_of(path), f"nested deeper than the limit of {limits.max_depth}")
        if len(value) > limit:
            raise JsonRefused(_pointer_of(path), f"{len(value)} {what}, over the limit of {limit}")
        for key, item in items:
            if what == "keys":
                check_string(key, path, f"the key {key[:40]!r}", limits.max_key_length)
            kind = type(item)
            if kind is dict or kind is list:
                stack.append((item, depth + 1, (path, key)))
            elif kind is str:
                check_string(item, (path, key), "the string", max_string)
    return data


class _ClientGone(Exception):
    pass


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _coerce(schema: dict[str, Any], raw: str) -> Any:
    """A path or query string as the JSON type its schema asks for (validation judges it)."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    try:
        if "integer" in kinds:
            return int(raw)
        if "number" in kinds:
            return Decimal(raw)
        if "boolean" in kinds:
            return {"true": True, "false": False}.get(raw, raw)
    except (ValueError, ArithmeticError):
        return raw
    return raw


def _handler(bridge: BridgeLike, op: Operation, params: list[dict[str, Any]], has_body: bool) -> Any:
    limit = bridge.settings.max_request_bytes
    json_limits = bridge.settings.json_limits
    header_parts = {p.name for p in op.input.header_parts}
    octet_field = binary_field(op)  # Accept: application/octet-stream gives its bytes (bridge.restbinary)

    async def endpoint(request: Request) -> Response:
        observability.enter(op.service, op.name)
        data: Any = {}
        files: dict[str, str] | None = None
        if has_body:
            ct = request.headers.get("content-type", "")
            size = request.scope.get(BODY_LIMIT, limit)  # the consumer's, under rate limits
            try:
                if is_form(ct):  # a JSON part and file parts (bridge.restbinary), streamed
                    body, files = await _read_form(request, ct, size, bridge.settings.mtom.spool_bytes)
                    ct = "application/json"
                else:
                    body = await _read_body(request, size)
            except ValidationError as exc:
                return validation_response(exc)
            except _TooLarge:
                return problem(413, "too-large", "Request body too large", f"the limit is {size} bytes")
            except ClientDisconnect:  # the client went away mid-upload: nobody to answer, nothing to trace
                log.info("%s: the client disconnected before sending the whole body", op.key)
                return Response(status_code=400)
            if not body.strip() and not ct:
                return problem(
                    400,
                    "missing-body",
                    "Missing request body",
                    "this operation takes a JSON object; send {} when no field is needed",
                    errors=[{"pointer": "", "detail": "the request body is required"}],
                )
            if not _is_json(ct):
                return problem(
                    415,
                    "unsupported-media-type",
                    "Unsupported media type",
                    f"send application/json, not {ct or 'no content type'}",
                )
            try:
                data = load_json(body, json_limits)
            except JsonRefused as exc:
                return problem(
                    400,
                    "json-limit",
                    "The JSON body is over a limit",
                    f"{exc.pointer or 'the body'}: {exc.detail}",
                    errors=[{"pointer": exc.pointer, "detail": exc.detail}],
                )
            except (ValueError, UnicodeDecodeError) as exc:
                return problem(
                    400, "malformed-json", "Malformed JSON", f"the body is not valid JSON: {exc}", errors=[{"pointer": "", "detail": str(exc)}]
                )
            except ArithmeticError:  # decimal.InvalidOperation: an exponent beyond what Decimal can hold (found by bench/fuzz_codec)
                why = "a number's exponent is out of range"
                return problem(400, "malformed-json", "Malformed JSON", f"the body cannot be read: {why}", errors=[{"pointer": "", "detail": why}])
            if files is not None:
                try:
                    data = attach(data, files)
                except ValidationError as exc:
                    return validation_response(exc)
        if params:
            if not isinstance(data, dict):
                return validation_response(ValidationError("the body must be an object", [Violation("", "expected an object")]))
            for p in params:
                source = request.path_params if p["in"] == "path" else request.query_params
                if p["name"] in source:
                    data[p["name"]] = _coerce(p.get("schema", {}), source[p["name"]])
        try:
            # validates first (encode_request), raising ValidationError
            WRITES_LARGE.set(True)
            creds: Credentials | None = request.scope["state"].get("upstream") if "state" in request.scope else None
            if creds is None:
                call = bridge.acall(op, data)
            else:
                # the consumer's configured SOAP headers win over any "$headers" of the body (bridge._prepare merges them last)
                own = {k: v for k, v in creds.soap_headers.items() if k in header_parts}
                call = bridge.acall(op, data, headers=own or None, credentials=creds)
            result = await _unless_gone(request, call)
        except _ClientGone:
            return Response(status_code=499)  # nobody reads it: nginx's code for a client that left
        except RequestTooLarge as exc:
            return problem(413, "too-large", "Request too large", str(exc), errors=[v.as_dict() for v in exc.violations])
        except ValidationError as exc:
            return validation_response(exc)
        except SoapFault as exc:
            return _fault_response(exc, bridge.settings)
        except UpstreamError as exc:
            return _upstream_response(exc, bridge.settings)
        except BridgeError as exc:
            log.warning("%s failed: %s", op.key, exc)
            return problem(502, "bridge-error", "The bridge could not complete the call", str(exc))
        if op.output is None:
            return Response(status_code=204)
        if octet_field is not None and wants_octets(request.headers.get("accept", "")):
            raw = octets(result, octet_field)
            if raw is None:
                return problem(406, "not-acceptable", "Not acceptable", f"the reply has no {octet_field!r} value to send as application/octet-stream")
            return Response(raw, media_type="application/octet-stream")
        if isinstance(result, LargeResult):
            box = [result]
            del result  # the thread holds the only reference, so the result is freed there, in pieces
            payload = await run_in_threadpool(_write_large, box)
            return Response(payload, media_type="application/json", background=BackgroundTask(_trim_heap))
        return Response(dumps(result), media_type="application/json")

    return endpoint


# The scope key of a request's body size limit when its consumer has its own (rate_limits).
BODY_LIMIT = "soapbridge.max_request_bytes"


def _rate_limited(limiter: RateLimiter, op: Operation, endpoint: Any) -> Any:
    """The endpoint behind the operation's rate limits: counted before the body is read, so a
    consumer over its limit costs neither the parsing nor the service a thing. Runs after any
    authentication middleware, which names the consumer in ``request.state.consumer``."""

    async def limited(request: Request) -> Response:
        observability.label(op.service, op.name)  # a 429 is counted under its operation
        consumer = (request.scope.get("state") or {}).get("consumer")
        try:
            admitted = await limiter.check(op, consumer, request.client.host if request.client else None)
        except RateLimited as exc:
            r = problem(429, "rate-limited", "Too many requests", str(exc), **{"violated-policies": exc.violated})
            r.headers.update(exc.headers)
            return r
        except RateLimitUnavailable as exc:
            r = problem(503, "rate-limit-unavailable", "Rate limits cannot be checked", str(exc))
            r.headers["Retry-After"] = str(exc.retry_after)
            return r
        if admitted.max_request_bytes is not None:
            request.scope[BODY_LIMIT] = admitted.max_request_bytes
        try:
            response: Response = await endpoint(request)
        finally:
            limiter.release(admitted)
        if admitted.headers:
            response.headers.update(admitted.headers)
        return response

    return limited


async def _unless_gone(request: Request, call: Awaitable[Any]) -> Any:
    """Awaits the call, cancelling it (and so the upstream request) if the REST client disconnects.
    A watcher task cancels this one: a second task for the call would cost twice as much."""
    me = asyncio.current_task()
    assert me is not None
    gone = False

    async def watch() -> None:
        nonlocal gone
        while (await request.receive())["type"] != "http.disconnect":
            pass
        gone = True
        me.cancel()

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        return await call
    except asyncio.CancelledError:
        if not gone:
            raise  # cancelled from outside
        me.uncancel()
        raise _ClientGone() from None
    finally:
        watcher.cancel()


def _route_path(scope: Scope) -> str:
    """The path below the app's root path, as Starlette's own routes match it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path


class OperationTable(BaseRoute):
    """Every operation with a fixed path, found by one dict lookup. A Starlette ``Route`` each
    compiles a regex (0.1 s at start-up for 1,158 operations) and a request tries them in turn."""

    def __init__(self) -> None:
        self.table: dict[str, dict[str, tuple[ASGIApp | None, Any]]] = {}

    def add(self, path: str, method: str, endpoint: Any) -> None:
        """Routes ``method path`` to ``endpoint`` (a GET route answers HEAD too)."""
        methods = self.table.setdefault(path, {})
        methods[method] = (None, endpoint)  # wrapped as an ASGI app on its first request (30 ms for 1,158 at start-up)
        if method == "GET":
            methods.setdefault("HEAD", methods["GET"])  # as Starlette's Route does

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match for a known path and method, partial when only the path is known (then a 405)."""
        if scope["type"] == "http":
            methods = self.table.get(_route_path(scope))
            if methods is not None:
                app = methods.get(scope["method"])
                child: Scope = {"endpoint": app[1] if app else None, "path_params": dict(scope.get("path_params", {}))}
                return (Match.FULL if app else Match.PARTIAL), child
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Runs the endpoint matched; raises a 405 ``HTTPException`` naming the allowed methods otherwise."""
        methods = self.table[_route_path(scope)]
        method = scope["method"]
        app = methods.get(method)
        if app is None:
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(methods))})
        asgi, endpoint = app
        if asgi is None:
            asgi = request_response(endpoint)
            for m, entry in methods.items():  # HEAD shares GET's entry
                if entry is app:
                    methods[m] = (asgi, endpoint)
        await asgi(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        """Always raises ``NoMatchFound``: operations have no route names."""
        raise NoMatchFound(name, path_params)


class _SwaggerAssets:
    """Swagger UI's files, served from the installed bundle; the bundle is imported on the first
    request for them, not at start-up."""

    def __init__(self) -> None:
        self.files: StaticFiles | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.files is None:
            import swagger_ui_bundle

            self.files = StaticFiles(directory=Path(swagger_ui_bundle.swagger_ui_path))
        await self.files(scope, receive, send)


_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{base}/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="{base}/docs/static/swagger-ui-bundle.js"></script>
<script src="{base}/docs/init.js"></script>
</body></html>"""

_INIT = """window.ui = SwaggerUIBundle({url: "%s/openapi.json", dom_id: "#ui", deepLinking: true});"""


def create_app(bridge: BridgeLike, *, name: str | None = None, process_metrics: bool = True) -> Starlette:
    """The Starlette app serving ``bridge``: a route per operation, ``/openapi.json``, ``/docs`` and
    ``/healthz`` under the base path, every error as problem+json.

    ``name``: the service's name in a gateway (its rate-limit counters are kept under it; default:
    the WSDL's service name). ``process_metrics``: the process, platform and GC collectors in the
    app's metrics registry (a gateway registers them once for all its services)."""
    base = bridge.settings.base_path.rstrip("/")
    # The spec's bytes only: parsing a large one would cost a warm start more than everything else.
    spec_bytes = bridge.openapi_bytes()
    title = api_title(bridge.routed)

    async def openapi_json(request: Request) -> Response:
        return Response(spec_bytes, media_type="application/json")

    async def docs(request: Request) -> Response:
        return HTMLResponse(_DOCS.format(title=title, base=base))

    async def docs_init(request: Request) -> Response:
        # Served from here, not inline, so a strict Content-Security-Policy can forbid inline scripts.
        return Response(_INIT % base, media_type="application/javascript")

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{base}/docs")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "operations": len(bridge.routed)})

    routes: list[Any] = [
        Route(f"{base}/openapi.json", openapi_json, methods=["GET"]),
        Route(f"{base}/docs", docs, methods=["GET"]),
        Route(f"{base}/docs/init.js", docs_init, methods=["GET"]),
        Mount(f"{base}/docs/static", _SwaggerAssets(), name="docs-static"),
        Route(f"{base}/healthz", healthz, methods=["GET"]),
    ]
    if all(op.path != f"{base}/" for op in bridge.routed):  # a browser pointed at the bridge lands on the docs
        routes.append(Route(f"{base}/", home, methods=["GET"]))
    table = OperationTable()
    routes.append(table)
    limiter: RateLimiter | None = None
    if bridge.settings.rate_limits is not None:
        from .ratelimit import RateLimiter  # only when configured: a warm start does not import limits

        # counters per service: two services of one gateway (or two bridges on one Redis) never share one
        limiter = RateLimiter(bridge.settings.rate_limits, name or "+".join(sorted({op.service for op in bridge.routed})) or observability.OTHER)
    spec: dict[str, Any] | None = None
    for op in bridge.routed:
        params: list[dict[str, Any]] = []
        if "{" in op.path or op.query:  # custom routes: their parameters' schemas are in the spec
            spec = spec or bridge.openapi()
            params = spec["paths"].get(op.path, {}).get(op.http_method.lower(), {}).get("parameters", [])
        endpoint = _handler(bridge, op, params, op.http_method in BODY_METHODS)
        if limiter is not None:
            endpoint = _rate_limited(limiter, op, endpoint)
        if "{" in op.path:
            routes.append(Route(op.path, endpoint, methods=[op.http_method]))
        else:
            table.add(op.path, op.http_method, endpoint)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return problem(404, "not-found", "Not found", f"no route for {request.url.path}; see {base}/openapi.json")
        if exc.status_code == 405:
            r = problem(405, "method-not-allowed", "Method not allowed", f"{request.method} is not allowed on {request.url.path}")
            if exc.headers and "Allow" in exc.headers:
                r.headers["Allow"] = exc.headers["Allow"]
            return r
        return problem(exc.status_code, "http", exc.detail or "HTTP error")

    settings = bridge.settings
    observability.setup_tracing(settings.tracing)
    endpoints = sorted({url for op in bridge.routed if (url := settings.endpoint or op.address)})
    from .client import host_of

    health = observability.Health(settings, {url: host_of(url) for url in endpoints})
    services = sorted({op.service for op in bridge.routed})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        bridge.warm_up()  # what the first call needs loads in the background while the server starts
        if limiter is not None:
            await limiter.probe()  # a Redis that cannot be reached is said at start, not at the first call
        health.start(bridge.aprobe)
        yield
        await health.stop()
        await bridge.aclose()  # the upstream connections, when the server shuts down
        observability.mark_process_dead()

    service = services[0] if len(services) == 1 else observability.OTHER
    # Observed first: it sees every answer, auth's and rate limits' included, and serves the probes ahead of them.
    metrics = observability.Metrics(process_collectors=process_metrics) if settings.metrics else None
    middleware = [Middleware(observability.Observed, settings=settings, service=service, health=health, metrics=metrics), Middleware(_CatchAll)]
    cors = bridge.settings.cors
    if cors is not None:  # outside authentication: a browser's preflight carries no credentials
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(Middleware(
            CORSMiddleware, allow_origins=list(cors.allow_origins), allow_methods=list(cors.allow_methods), allow_headers=list(cors.allow_headers),
            allow_credentials=cors.allow_credentials, expose_headers=list(cors.expose_headers), max_age=cors.max_age,
        ))  # fmt: skip
    # sets scope["state"]["consumer"] for what runs after it (None when authentication is off)
    middleware.append(Middleware(AuthMiddleware, auth=build(bridge.settings), routed=bridge.routed, base=base, problem=problem))
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error}, middleware=middleware, lifespan=lifespan)
    app.state.metrics, app.state.health = metrics, health  # a gateway serves them at its root
    return app


class _CatchAll:
    """Answers an unexpected error with a 500 problem and logs it once, with its traceback.
    Starlette's own handler for Exception re-raises after answering, so the server logged each
    500 a second time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            # Never a traceback to the client; the log has it.
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # too late for a problem body: the server closes the connection
            await problem(500, "internal", "Internal error", "the bridge failed unexpectedly; see its log")(scope, receive, send)
