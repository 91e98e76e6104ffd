"""Metrics, the request log, request IDs and trace context, and the health endpoints (docs/operations.md).

``Observed`` wraps the REST app as its outermost ASGI middleware. Per request it keeps a ``Record``
(in the ``CURRENT`` context variable) that the operation handler, ``problem()`` and the upstream
client fill in; when the response is out it counts the request (prometheus_client), writes one log
line, and closes the server span. ``/livez``, ``/readyz`` and ``/metrics`` are answered here, ahead of
routing and of any authentication middleware.

Never logged or labelled: bodies, headers, query strings, consumers (as labels), credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from .settings import LogSettings, Settings, TracingSettings

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("soapbridge.observability")
access_log = logging.getLogger("soapbridge.access")

#: The operation label of requests that reached no operation (404s, /docs, /openapi.json).
OTHER = "_other"
#: ``X-Request-ID`` values taken from clients: bounded, and nothing a log or header could be forged with.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PROBE_PATHS = ("/livez", "/readyz", "/metrics")


class Record:
    """What one request did, filled in as it goes (the handler, ``problem()``, the upstream client)."""

    __slots__ = (
        "cause", "consumer", "gauge", "kind", "metrics", "named", "operation", "request_id", "service", "started", "status", "traceparent",
        "tracestate", "upstream_called", "upstream_seconds", "upstream_status",
    )  # fmt: skip

    def __init__(self, request_id: str, service: str, traceparent: str | None, tracestate: str | None) -> None:
        self.request_id = request_id
        self.service = service
        self.named = False  # a gateway named the service (its configured name): operations keep it
        self.operation = OTHER
        self.consumer: str | None = None
        self.cause: str | None = None  # an upstream failure's cause: the host and the error, never credentials
        self.started = time.perf_counter()
        self.status = 0
        self.kind = ""
        self.upstream_called = False
        self.upstream_status: int | None = None
        self.upstream_seconds = 0.0
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.gauge: Any = None  # the in-flight gauge child, once the request reached an operation
        self.metrics: Metrics | None = None

    @property
    def trace_id(self) -> str | None:
        """The W3C trace ID the request came with, if any."""
        return self.traceparent[3:35] if self.traceparent else None


CURRENT: ContextVar[Record | None] = ContextVar("soapbridge_request", default=None)


def current_request_id() -> str | None:
    """The ID of the request being served, for problem bodies; None outside a served request."""
    rec = CURRENT.get()
    return rec.request_id if rec is not None else None


def label(service: str, operation: str) -> None:
    """Names the operation a request is for before it reaches it (authentication's refusals)."""
    rec = CURRENT.get()
    if rec is not None:
        rec.operation = operation
        if not rec.named:
            rec.service = service


def enter(service: str, operation: str) -> None:
    """The request reached an operation: labels it with the operation, and counts it in flight."""
    rec = CURRENT.get()
    if rec is None:
        return
    rec.operation = operation
    if not rec.named:
        rec.service = service
    if rec.metrics is not None:
        rec.gauge = rec.metrics.child(rec.metrics.in_flight, rec.service)
        rec.gauge.inc()


def upstream_headers(headers: dict[str, str]) -> dict[str, str]:
    """The HTTP headers of an upstream call with ``X-Request-ID`` and the trace context added: with
    OpenTelemetry on, its propagator's (the upstream span as parent); else the caller's
    ``traceparent`` continued (same trace ID, a new parent span ID)."""
    rec = CURRENT.get()
    if rec is None:
        return headers
    out = {**headers, "X-Request-ID": rec.request_id}
    if _tracer is not None:
        from opentelemetry import propagate

        propagate.inject(out)
    elif rec.traceparent is not None:
        out["traceparent"] = f"00-{rec.traceparent[3:35]}-{os.urandom(8).hex()}-{rec.traceparent[53:55]}"
        if rec.tracestate:
            out["tracestate"] = rec.tracestate
    return out


# --- tracing ------------------------------------------------------------------------------------

_tracer: Any = None  # an OpenTelemetry tracer when tracing is on; None costs nothing
_NULL = contextlib.nullcontext()


def setup_tracing(settings: TracingSettings) -> None:
    """Turns OpenTelemetry tracing on as configured (imports it only then); off, it is a no-op."""
    global _tracer
    if not settings.enabled:
        _tracer = None
        return
    try:
        from opentelemetry import trace
    except ImportError:
        from .errors import ConfigError

        raise ConfigError("tracing.enabled: OpenTelemetry is not installed (pip install 'soapbridge[tracing]')") from None
    if settings.exporter != "none":
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

        exporter: SpanExporter
        if settings.exporter == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError:
                from .errors import ConfigError

                raise ConfigError("tracing.exporter: otlp needs opentelemetry-exporter-otlp-proto-http installed") from None
            exporter = OTLPSpanExporter(endpoint=settings.endpoint) if settings.endpoint else OTLPSpanExporter()
        else:
            exporter = ConsoleSpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    _tracer = trace.get_tracer("soapbridge")


def span(name: str, **attributes: Any) -> Any:
    """A context manager timing a step as a child span; a shared no-op when tracing is off."""
    if _tracer is None:
        return _NULL
    return _tracer.start_as_current_span(name, attributes=attributes)


@contextlib.contextmanager
def _server_span(scope: Scope, headers: dict[str, str], rec: Record) -> Iterator[Any]:
    from opentelemetry import context, propagate, trace

    parent = propagate.extract(headers)
    method = scope.get("method", "")
    s = _tracer.start_span(
        f"{method} {scope.get('path', '')}", context=parent, kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": scope.get("path", ""), "soapbridge.request_id": rec.request_id},
    )  # fmt: skip
    token = context.attach(trace.set_span_in_context(s, parent))
    try:
        yield s
    finally:
        context.detach(token)
        s.set_attribute("http.response.status_code", rec.status)
        s.set_attribute("soapbridge.service", rec.service)
        s.set_attribute("soapbridge.operation", rec.operation)
        if rec.kind:
            s.set_attribute("soapbridge.problem", rec.kind)
        if rec.status >= 500:
            s.set_status(trace.Status(trace.StatusCode.ERROR, rec.kind or None))
        s.end()


# --- metrics ------------------------------------------------------------------------------------

_SIZE_BUCKETS = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)


class Metrics:
    """The soapbridge_* metrics, in their own registry (several apps may live in one process).
    ``process_collectors``: the process, platform and GC collectors in the registry too (one
    process; left out in multi-process mode); a gateway leaves them out of each service's registry
    and serves them once."""

    def __init__(self, *, process_collectors: bool = True) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        so = ("service", "operation")
        self.requests = Counter("soapbridge_requests", "REST requests by outcome", [*so, "status", "kind"], registry=r)
        self.duration = Histogram("soapbridge_request_duration_seconds", "Whole REST call, seconds", so, registry=r)
        self.upstream_duration = Histogram("soapbridge_upstream_duration_seconds", "Upstream HTTP exchange, seconds", so, registry=r)
        self.upstream_responses = Counter(
            "soapbridge_upstream_responses", "Upstream replies by HTTP status (none: no reply)", [*so, "status"], registry=r
        )
        self.upstream_faults = Counter("soapbridge_upstream_faults", "SOAP faults and transport failures by kind", [*so, "kind"], registry=r)
        self.in_flight = Gauge("soapbridge_in_flight_requests", "REST calls under way", ["service"], registry=r, multiprocess_mode="livesum")
        self.reply_size = Histogram("soapbridge_reply_size_bytes", "REST reply body, bytes", so, buckets=_SIZE_BUCKETS, registry=r)
        self._children: dict[tuple[Any, ...], Any] = {}
        if process_collectors and not self.multiprocess:
            add_process_collectors(r)

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, cached: labels() takes a lock and builds a tuple each call."""
        key = (id(metric), *labels)
        c = self._children.get(key)
        if c is None:
            c = self._children[key] = metric.labels(*labels)
        return c

    def record(self, rec: Record, seconds: float, reply_bytes: int) -> None:
        """Counts one finished request."""
        svc, op = rec.service, rec.operation
        self.child(self.requests, svc, op, str(rec.status), rec.kind).inc()
        self.child(self.duration, svc, op).observe(seconds)
        self.child(self.reply_size, svc, op).observe(reply_bytes)
        if rec.upstream_called:
            self.child(self.upstream_duration, svc, op).observe(rec.upstream_seconds)
            status = str(rec.upstream_status) if rec.upstream_status is not None else "none"
            self.child(self.upstream_responses, svc, op, status).inc()
        if rec.kind.startswith(("soap-fault:", "upstream:")):
            self.child(self.upstream_faults, svc, op, rec.kind).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text to serve at /metrics: every worker's counts in multi-process mode."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if self.multiprocess:
            from prometheus_client import CollectorRegistry, multiprocess

            forget_dead_workers()
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def add_process_collectors(registry: Any) -> None:
    """Registers prometheus_client's process, platform and GC collectors (process_*, python_info,
    python_gc_*) in ``registry``."""
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    for c in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(c)


def forget_dead_workers() -> None:
    """Drops the live gauges (in-flight requests) of workers that no longer exist from the
    multi-process directory: a worker killed (SIGKILL, the OOM killer) never removed its own, and
    the scrape would add them up for ever. The supervisor of ``serve --workers`` does it as it
    replaces a dead worker; this covers other process managers too."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = _LIVE_GAUGE_FILE.fullmatch(name)
        if m is None:
            continue
        pid = int(m.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid)
        except OSError:  # exists, another user's: alive
            pass


# prometheus_client's file of one process's live gauges: gauge_livesum_<pid>.db (and liveall, livemax, ...)
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


# --- logging ------------------------------------------------------------------------------------



class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and a request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        import orjson

        t = time.gmtime(record.created)
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "request", None)
        if fields is not None:
            out.update(fields)
        else:
            rid = current_request_id()
            if rid is not None:
                out["request_id"] = rid
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return orjson.dumps(out).decode()


class TextFormatter(logging.Formatter):
    """Human-readable lines; a request's line reads ``POST /orders Orders.ListOrders -> 200 ...``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of text."""
        f = getattr(record, "request", None)
        if f is not None:
            up = f" (upstream {f['upstream_status'] or 'no reply'} in {f['upstream_ms']} ms)" if "upstream_ms" in f else ""
            who = f" consumer={f['consumer']}" if f.get("consumer") else ""
            kind = f" {f['kind']}" if f.get("kind") else ""
            line = (
                f"{f['request_id']} {f['method']} {f['path']} {f['service']}.{f['operation']} -> {f['status']}{kind} "
                f"in {f['duration_ms']} ms{up}, {f['reply_bytes']} bytes{who}"
            )
            record = logging.makeLogRecord({**record.__dict__, "msg": line, "args": None})  # a copy: other handlers see the record as it was
        return super().format(record)


def configure_logging(settings: LogSettings) -> None:
    """The root logger as ``settings`` say, on stderr; uvicorn's loggers go through it too."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(settings.level.upper())
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # the soapbridge.access line says more
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry whole URLs


# --- health ---------------------------------------------------------------------------------------


class Health:
    """Liveness, readiness (the model loaded, not draining, each backend answered a probe recently
    when configured) and the SIGTERM drain."""

    def __init__(self, settings: Settings, endpoints: dict[str, str]) -> None:
        self.settings = settings.readiness
        self.shutdown = settings.shutdown
        self.started = False
        self.draining = False
        self.endpoints = list(endpoints)  # URLs to probe, and below their hosts (never credentials) to show
        self.hosts = endpoints
        self.answered: dict[str, float] = {}  # endpoint -> monotonic time of its last answer
        self.last_status: dict[str, int | None] = {}
        self._task: asyncio.Task[None] | None = None

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether to take traffic, and why not."""
        reasons = []
        if not self.started:
            reasons.append("starting")
        if self.draining:
            reasons.append("shutting down")
        body: dict[str, Any] = {}
        if self.settings.probe_backends:
            max_age = self.settings.max_age or 3 * self.settings.interval
            now = time.monotonic()
            backends = []
            for url in self.endpoints:
                at = self.answered.get(url)
                ok = at is not None and now - at <= max_age
                if not ok:
                    reasons.append(f"backend {self.hosts[url]} has not answered within {max_age:g} s")
                backends.append({"backend": self.hosts[url], "ok": ok, "status": self.last_status.get(url),
                                 "age_s": None if at is None else round(now - at, 1)})  # fmt: skip
            body["backends"] = backends
        return not reasons, {"status": "ready" if not reasons else "not ready", **({"reasons": reasons} if reasons else {}), **body}

    async def probe_forever(self, probe: Any) -> None:
        """Probes every backend each ``interval``: ``probe(url, timeout)`` returns the HTTP status
        of any answer, or None for none (an error status still says the backend is up)."""
        while True:
            results = await asyncio.gather(*(probe(url, self.settings.timeout) for url in self.endpoints), return_exceptions=True)
            now = time.monotonic()
            for url, status in zip(self.endpoints, results, strict=True):
                if isinstance(status, int):
                    self.last_status[url] = status
                    self.answered[url] = now
                else:
                    self.last_status[url] = None
            await asyncio.sleep(self.settings.interval)

    def start(self, probe: Any) -> None:
        """At the app's start-up: ready, probing in the background if configured, draining on SIGTERM."""
        self.started = True
        if self.settings.probe_backends and self.endpoints:
            self._task = asyncio.get_running_loop().create_task(self.probe_forever(probe))
        self._chain_sigterm()

    async def stop(self) -> None:
        """At the app's shutdown."""
        self.draining = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _chain_sigterm(self) -> None:
        """Puts a handler before the server's SIGTERM handler (uvicorn's, installed before the app
        starts): /readyz turns 503 at once, and the server is told to stop ``drain_seconds`` later."""
        if threading.current_thread() is not threading.main_thread():
            return
        original = signal.getsignal(signal.SIGTERM)
        if not callable(original):
            return
        loop = asyncio.get_running_loop()
        drain = self.shutdown.drain_seconds

        def on_term(sig: int, frame: Any) -> None:
            self.draining = True
            if drain <= 0 or not loop.is_running():
                original(sig, frame)
            else:  # from a signal handler, only call_soon_threadsafe is safe to touch the loop with
                loop.call_soon_threadsafe(loop.call_later, drain, original, sig, frame)

        signal.signal(signal.SIGTERM, on_term)


# --- the middleware -------------------------------------------------------------------------------


class Observed:
    """The outermost ASGI middleware: request IDs, metrics, the request log, the server span, and
    the probe endpoints."""

    def __init__(self, app: ASGIApp, *, settings: Settings, service: str, health: Health, metrics: Metrics | None = None) -> None:
        """``metrics``: the app's registry (``create_app`` makes it, so a gateway can scrape it); a new one
        when not given and ``settings.metrics`` is on."""
        self.app = app
        self.service = service
        self.health = health
        self.metrics = metrics if metrics is not None else Metrics() if settings.metrics else None
        self.logs = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serves a probe path, or runs the app, observed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in PROBE_PATHS:
            await self._probe(path, scope, receive, send)
            return
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            if k in (b"x-request-id", b"traceparent", b"tracestate"):
                headers[k.decode("latin-1")] = v.decode("latin-1")
        rid = headers.get("x-request-id")
        if rid is None or not _REQUEST_ID.fullmatch(rid):
            rid = uuid.uuid4().hex
        tp = headers.get("traceparent")
        if tp is not None and (not _TRACEPARENT.fullmatch(tp) or tp[3:35] == "0" * 32 or tp[36:52] == "0" * 16):
            tp = None  # invalid: ignored, as W3C Trace Context says
        named = (scope.get("state") or {}).get("service")  # a gateway's configured service name
        rec = Record(rid, named or self.service, tp, headers.get("tracestate") if tp else None)
        rec.named = bool(named)
        rec.metrics = self.metrics
        token = CURRENT.set(rec)
        rid_header = (b"x-request-id", rid.encode())
        sizes = [0, 0]  # request body, reply body

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                rec.status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), rid_header]}
            elif message["type"] == "http.response.body":
                sizes[1] += len(message.get("body", b""))
            await send(message)

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                sizes[0] += len(message.get("body", b""))
            return message

        try:
            if _tracer is not None:
                with _server_span(scope, headers, rec):
                    await self.app(scope, receiving, sending)
            else:
                await self.app(scope, receiving, sending)
        finally:
            CURRENT.reset(token)
            if rec.gauge is not None:
                rec.gauge.dec()
            seconds = time.perf_counter() - rec.started
            state = scope.get("state")
            if state:
                rec.consumer = state.get("consumer")
            if self.metrics is not None:
                self.metrics.record(rec, seconds, sizes[1])
            if self.logs.isEnabledFor(logging.INFO):
                self._log(scope, rec, seconds, sizes)

    def _log(self, scope: Scope, rec: Record, seconds: float, sizes: list[int]) -> None:
        fields: dict[str, Any] = {
            "request_id": rec.request_id,
            "method": scope.get("method"),
            "path": scope.get("path"),  # never the query string: it may carry keys
            "service": rec.service,
            "operation": rec.operation,
            "status": rec.status,
            "kind": rec.kind,
            "duration_ms": round(seconds * 1000, 2),
            "request_bytes": sizes[0],
            "reply_bytes": sizes[1],
        }
        if rec.trace_id:
            fields["trace_id"] = rec.trace_id
        if rec.consumer is not None:
            fields["consumer"] = rec.consumer
        if rec.upstream_called:
            fields["upstream_status"] = rec.upstream_status
            fields["upstream_ms"] = round(rec.upstream_seconds * 1000, 2)
        if rec.cause is not None:
            fields["upstream_error"] = rec.cause
        self.logs.info("request", extra={"request": fields})

    async def _probe(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.responses import JSONResponse, Response

        response: Response
        if path == "/livez":
            response = JSONResponse({"status": "alive"})
        elif path == "/readyz":
            ok, body = self.health.readiness()
            response = JSONResponse(body, status_code=200 if ok else 503)
        elif self.metrics is None:
            response = JSONResponse({"status": 404, "title": "metrics are off (metrics: false)"}, status_code=404)
        else:
            data, ctype = self.metrics.exposition()
            response = Response(data, media_type=ctype.split(";")[0])
            response.headers["content-type"] = ctype
        response.headers["cache-control"] = "no-store"
        await response(scope, receive, send)


def mark_process_dead(pid: int | None = None) -> None:
    """Drops a worker's live gauges from the multi-process directory: this one's on its shutdown,
    or ``pid``'s once it died."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid() if pid is None else pid)
