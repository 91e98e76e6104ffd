"""The upstream SOAP client: pooled keep-alive HTTP with timeouts, a deadline per call, size limits
and TLS checks.

Only the operation, outcome and timing are logged, and the service's host; never bodies, headers or
the credentials of an endpoint URL. Error messages name the operation and the kind of failure, never
the endpoint: they reach REST callers.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import certifi

from . import observability
from .errors import UpstreamError, UpstreamKind, XmlError
from .proxies import Proxies
from .settings import BackendAuth, ClientCert, Settings

#: A request body: bytes, or a message in pieces (an MTOM message's, bridge.mime.Packed) sent one
#: after the other with the Content-Length of them all, never joined (a 50 MB part is not copied).
Body = bytes | list[bytes]


def _sized(body: Body, headers: dict[str, str]) -> dict[str, str]:
    """The headers, with a Content-Length for a body in pieces (else httpx and aiohttp send it chunked,
    which not every SOAP stack reads)."""
    return headers if isinstance(body, bytes) else {**headers, "Content-Length": str(sum(map(len, body)))}


async def _pieces(body: list[bytes]) -> AsyncIterator[bytes]:
    for piece in body:
        yield piece


if TYPE_CHECKING:  # imported where used: together they take 0.5 s, a warm start's budget
    import aiohttp
    import httpcore
    import httpx

log = logging.getLogger("soapbridge.client")


class ReplySink(Protocol):
    """Where a reply's body goes as it arrives, in place of memory (a multipart reply's parts,
    bridge.mime.PartStream): ``write`` each chunk, then ``finish`` gives what it made of them;
    ``abort`` drops it after a failure. ``write`` and ``finish`` may raise ``XmlError``."""

    def write(self, chunk: bytes) -> None:
        """Takes the next bytes of the body."""

    def finish(self) -> Any:
        """What the sink made of the whole body."""

    def abort(self) -> None:
        """Drops what was taken so far."""


#: Given a reply's Content-Type, the sink to stream its body into, or None to read it whole.
SinkFor = Callable[[str], ReplySink | None]


@dataclass
class Reply:
    """An upstream HTTP reply: status, Content-Type and body, read whole; or, when a sink took the
    body as it arrived, ``streamed`` (what the sink made of it) and an empty ``body``."""

    status: int
    content_type: str
    body: bytes
    streamed: Any = None
    size: int = -1  # bytes of the body as received (-1: len(body))

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.body)


def _tls_context(verify: bool | str, client_cert: ClientCert | None = None) -> ssl.SSLContext | bool:
    """verify_tls as an SSL context: True checks against certifi's CA bundle (as httpx does), a
    path against that bundle file or directory, False not at all; with the client certificate
    for mutual TLS, if one is configured."""
    if verify is False:
        if client_cert is None:
            return False
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    elif verify is True:
        ctx = ssl.create_default_context(cafile=certifi.where())
    elif Path(verify).is_dir():
        ctx = ssl.create_default_context(capath=verify)
    else:
        ctx = ssl.create_default_context(cafile=verify)
    if client_cert is not None:
        ctx.load_cert_chain(client_cert.cert, client_cert.key, password=client_cert.password or "")
    return ctx


def basic_authorization(auth: BackendAuth) -> str:
    """The ``Authorization`` header value for HTTP Basic authentication with these credentials."""
    import base64

    return "Basic " + base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")


def host_of(url: str) -> str:
    """The host and port of an endpoint URL, for logs: never its credentials, path or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "?"


def _timeout(settings: Settings) -> httpx.Timeout:
    import httpx

    return httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout)


def _limits(settings: Settings) -> httpx.Limits:
    import httpx

    return httpx.Limits(max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections)


# --- the sync path's deadline and stale-connection detection ---------------------------------
# httpx times out each read, never a whole call: a backend sending a byte a second is never cut.
# Its network streams are wrapped so that every connect, read and write waits at most until the
# call's deadline, and so that a failed call knows whether its connection was reused and whether
# any byte of the reply arrived (what makes a retry safe).


@dataclass
class _SyncCall:
    deadline: float
    stream: Any = None  # the _Stream the request went out on
    reused: bool = False  # that stream had carried a reply before
    reply_bytes: int = 0  # bytes read on it for this call

    def left(self, timeout: float | None, exc: type[Exception]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise exc("the call deadline passed")
        return left if timeout is None else min(timeout, left)


_CALL: contextvars.ContextVar[_SyncCall | None] = contextvars.ContextVar("soapbridge_sync_call", default=None)


def _deadline_backend(inner: httpcore.NetworkBackend) -> httpcore.NetworkBackend:
    import httpcore

    class Stream(httpcore.NetworkStream):
        def __init__(self, stream: httpcore.NetworkStream) -> None:
            self.inner = stream
            self.served = False  # has read a reply's bytes (so a later call reuses it)

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            call = _CALL.get()
            if call is not None:
                timeout = call.left(timeout, httpcore.ReadTimeout)
            data = self.inner.read(max_bytes, timeout)
            if call is not None and call.stream is self:
                call.reply_bytes += len(data)
            self.served = self.served or bool(data)
            return data

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            call = _CALL.get()
            if call is not None:
                if call.stream is not self:  # the call's first write: its request goes out on this stream
                    call.stream, call.reused, call.reply_bytes = self, self.served, 0
                timeout = call.left(timeout, httpcore.WriteTimeout)
            self.inner.write(buffer, timeout)

        def close(self) -> None:
            self.inner.close()

        def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None) -> Stream:
            call = _CALL.get()
            if call is not None:
                timeout = call.left(timeout, httpcore.ConnectTimeout)
            return Stream(self.inner.start_tls(ssl_context, server_hostname, timeout))

        def get_extra_info(self, info: str) -> Any:
            return self.inner.get_extra_info(info)

    class Backend(httpcore.NetworkBackend):
        def connect_tcp(
            self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options: Any = None
        ) -> Stream:
            call = _CALL.get()
            if call is not None:
                timeout = call.left(timeout, httpcore.ConnectTimeout)
            return Stream(inner.connect_tcp(host, port, timeout, local_address, socket_options))

        def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Stream:
            return Stream(inner.connect_unix_socket(path, timeout, socket_options))

        def sleep(self, seconds: float) -> None:
            inner.sleep(seconds)

    return Backend()


# --- errors ----------------------------------------------------------------------------------


def _cause(exc: BaseException, url: str) -> str:
    """An exception as text for the log: the endpoint URL (with any credentials) replaced by its host."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return _cause_without(text, url)


def _cause_without(text: str, url: str) -> str:
    """The text with the URL replaced by its host, and its credentials taken out wherever they are."""
    if not url:
        return text
    text = text.replace(url, host_of(url))
    # the userinfo by hand: urlsplit refuses some addresses whose credentials still need hiding
    userinfo = url.partition("://")[2].partition("/")[0].rpartition("@")[0]
    if userinfo:
        text = text.replace(userinfo + "@", "")
        password = userinfo.partition(":")[2]
        if len(password) >= 4:  # shorter, and the text would be garbled to no purpose
            text = text.replace(password, "***")
    return text


class SoapClient:
    """Sync (httpx) and async (aiohttp; httpx for an in-process transport) posting of SOAP
envelopes; one pool each, opened lazily."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        # each client takes the transport only if it is of its kind; one object may be both
        self._async_transport: httpx.AsyncBaseTransport | None = None
        self._sync_transport: httpx.BaseTransport | None = None
        if transport is not None:
            import httpx

            self._async_transport = transport if isinstance(transport, httpx.AsyncBaseTransport) else None
            self._sync_transport = transport if isinstance(transport, httpx.BaseTransport) else None
        self._sync: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None
        # Async network calls go through aiohttp: per call it cost about a quarter of the CPU of
        # httpx's AsyncClient here (0.34 ms against 1.33 ms, sequential 1 KiB posts). One session
        # per event loop, closed with its loop (see _session).
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
        self._closers: dict[asyncio.AbstractEventLoop, AsyncIterator[None]] = {}
        self._tls: ssl.SSLContext | bool | None = None
        self._in_flight = 0  # async network calls under way, to tell a full pool from a slow connect
        self._refused = 0  # calls that found the pool full since the last warning
        self._warned = -1e9
        self._proxies = Proxies(settings.proxy, settings.no_proxy)
        auth = settings.backend_auth
        self._authorization = basic_authorization(auth) if auth is not None and auth.type == "basic" else None

    @property
    def in_process(self) -> bool:
        """Whether async calls go to an in-process transport rather than over the network."""
        return self._async_transport is not None

    @property
    def deadline(self) -> float:
        """The overall deadline of one call, retries included."""
        s = self.settings
        return s.call_timeout if s.call_timeout is not None else s.connect_timeout + s.read_timeout

    def _tls_context(self) -> ssl.SSLContext | bool:
        if self._tls is None:  # one TLS context for every client: loading CA certificates is slow
            self._tls = _tls_context(self.settings.verify_tls, self.settings.client_cert)
        return self._tls

    def _headers(self, headers: dict[str, str]) -> dict[str, str]:
        """The request's headers with HTTP Basic credentials, when configured (digest: see _digest)."""
        if self._authorization is not None:  # a consumer's own (bridge.auth) wins
            return {"Authorization": self._authorization, **headers}
        return headers

    def _digest(self) -> httpx.DigestAuth | None:
        auth = self.settings.backend_auth
        if auth is None or auth.type != "digest":
            return None
        import httpx

        return httpx.DigestAuth(auth.username, auth.password)

    # --- errors ------------------------------------------------------------------------------

    def _error(self, kind: UpstreamKind, what: str, message: str, exc: BaseException | None, url: str) -> UpstreamError:
        cause = f"{host_of(url)}: {_cause(exc, url) if exc is not None else message}"
        for proxy in {self._proxies.http, self._proxies.https} - {None}:
            assert proxy is not None
            cause = _cause_without(cause, proxy)  # a proxy URL's credentials
        return UpstreamError(kind, f"{what}: {message}", cause=cause)

    def _deadline_passed(self, what: str, url: str) -> UpstreamError:
        return self._error(
            "timeout", what, f"no complete reply from the SOAP service within the call deadline of {self.deadline:g} s", None, url
        )

    def _pool_full(self, what: str, url: str) -> UpstreamError:
        """No pooled connection came free within connect_timeout: said so, and logged (once in 10 s)."""
        n = self.settings.max_connections
        self._refused += 1
        now = time.monotonic()
        if now - self._warned >= 10:
            log.warning(
                "all %d connections to %s are busy: %d call(s) got none within connect_timeout (%g s)",
                n, host_of(url), self._refused, self.settings.connect_timeout,
            )  # fmt: skip
            self._warned, self._refused = now, 0
        return self._error("unavailable", what, f"all {n} connections to the SOAP service are busy (max_connections)", None, url)

    def _too_large(self, what: str, url: str) -> UpstreamError:
        return self._error("bad_reply", what, f"the reply is larger than the limit of {self.settings.max_reply_bytes} bytes", None, url)

    def _map(self, exc: Exception, what: str, url: str, *, pool_full: bool = False) -> UpstreamError:
        """httpx's and aiohttp's errors as the same UpstreamErrors. The message names the kind of
        failure; the exception's own text, which may hold the address, goes to the log only."""
        s = self.settings
        if _is(exc, "httpx", "PoolTimeout") or (pool_full and _is(exc, "aiohttp", "ConnectionTimeoutError")):
            return self._pool_full(what, url)
        if isinstance(exc, TimeoutError) or _is(exc, "httpx", "TimeoutException"):  # aiohttp's are TimeoutErrors
            connect = _is(exc, "httpx", "ConnectTimeout") or _is(exc, "aiohttp", "ConnectionTimeoutError")
            which, limit = ("connect", s.connect_timeout) if connect else ("read", s.read_timeout)
            return self._error("timeout", what, f"the SOAP service did not answer within the {which} timeout of {limit:g} s", exc, url)
        if (
            isinstance(exc, ssl.SSLError)
            or isinstance(exc.__cause__ or exc.__context__, ssl.SSLError)
            or "CERTIFICATE_VERIFY_FAILED" in str(exc)
            or _is(exc, "aiohttp", "ClientConnectorCertificateError", "ClientSSLError")
        ):
            return self._error("tls", what, "TLS verification of the SOAP service failed", exc, url)
        proxied = _is(exc, "httpx", "ConnectError") and self._proxies.for_url(url) is not None  # httpx: the proxy's own connect
        if proxied or _is(exc, "httpx", "ProxyError") or _is(exc, "aiohttp", "ClientProxyConnectionError", "ClientHttpProxyError"):
            return self._error("unavailable", what, "the proxy refused or could not make the connection to the SOAP service", exc, url)
        if _is(exc, "httpx", "ConnectError") or _is(exc, "aiohttp", "ClientConnectorError"):
            return self._error("unavailable", what, "cannot connect to the SOAP service", exc, url)
        if (
            isinstance(exc, ValueError)  # aiohttp's InvalidURL too
            or _is(exc, "httpx", "UnsupportedProtocol", "InvalidURL")
            or _is(exc, "aiohttp", "NonHttpUrlClientError")
        ):
            return self._error("unavailable", what, "the endpoint address is not a usable http(s) URL", exc, url)
        return self._error("unavailable", what, "the connection to the SOAP service failed", exc, url)

    # --- sync ----------------------------------------------------------------------------------

    def _sync_client(self) -> httpx.Client:
        import httpx

        if self._sync is None:
            transport = self._sync_transport
            if transport is None:
                import httpcore

                transport = httpx.HTTPTransport(trust_env=False)
                tls = self._tls_context()
                if tls is False:
                    tls = ssl.create_default_context()
                    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
                assert isinstance(tls, ssl.SSLContext)
                # httpx's own pool, on a network backend that keeps every call within its deadline
                limits = _limits(self.settings)
                transport._pool = httpcore.ConnectionPool(
                    ssl_context=tls,
                    max_connections=limits.max_connections,
                    max_keepalive_connections=limits.max_keepalive_connections,
                    keepalive_expiry=limits.keepalive_expiry,
                    network_backend=_deadline_backend(httpcore.SyncBackend()),
                )
                if self._proxies:
                    transport = _proxy_router(transport, self._proxies, tls, limits)
            self._sync = httpx.Client(timeout=_timeout(self.settings), transport=transport, trust_env=False, auth=self._digest())
        return self._sync

    def post(
        self, url: str, body: Body, headers: dict[str, str], *, what: str = "the SOAP call", idempotent: bool = False, sink: SinkFor | None = None
    ) -> Reply:
        """POSTs an envelope and returns the reply, within the call's deadline and size limit. Retries once on
        a new connection when a reused one failed before any reply, or on any connection failure when
        ``idempotent``; raises ``UpstreamError`` otherwise (``what`` names the call in its message).
        ``sink``: for a reply whose Content-Type it takes, the body goes there chunk by chunk as it
        arrives (the size limit counted as it goes), never whole in memory."""
        import httpx

        call = _SyncCall(time.monotonic() + self.deadline)
        token = _CALL.set(call)
        try:
            for attempt in (1, 2):
                call.stream, call.reused, call.reply_bytes = None, False, 0
                try:
                    with self._sync_client().stream("POST", url, content=body, headers=_sized(body, self._headers(headers))) as r:
                        ctype = r.headers.get("content-type", "")
                        into = self._sink(sink, ctype, r.status_code)
                        if into is not None:
                            return self._stream(r.iter_bytes(), into, r.status_code, ctype, what, url)
                        data = self._read_sync(r, what, url)
                        return Reply(r.status_code, ctype, data)
                except UpstreamError:
                    raise
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    if time.monotonic() >= call.deadline and isinstance(exc, httpx.TimeoutException):
                        raise self._deadline_passed(what, url) from None
                    failed = isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))
                    stale = call.stream is not None and call.reused and call.reply_bytes == 0
                    if attempt == 1 and failed and (stale or idempotent):
                        log.info("%s: retrying once on a new connection to %s (%s)", what, host_of(url), _cause(exc, url))
                        continue
                    raise self._map(exc, what, url) from None
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            _CALL.reset(token)

    @staticmethod
    def _sink(sink: SinkFor | None, content_type: str, status: int) -> ReplySink | None:
        if sink is None:
            return None
        try:
            return sink(content_type)
        except XmlError as exc:  # a Content-Type the sink cannot take (a multipart without boundary)
            raise UpstreamError("bad_reply", str(exc), status=status if status >= 400 else None) from None

    def _stream(self, chunks: Any, into: ReplySink, status: int, ctype: str, what: str, url: str) -> Reply:
        size = 0
        try:
            for chunk in chunks:
                size = self._into(into, chunk, size, what, url)
            return self._streamed(into, status, ctype, size)
        except BaseException as exc:
            self._stream_failed(into, exc, status)
            raise

    async def _astream(self, chunks: Any, into: ReplySink, status: int, ctype: str, what: str, url: str) -> Reply:
        """``_stream`` of an async iterator of chunks."""
        size = 0
        try:
            async for chunk in chunks:
                size = self._into(into, chunk, size, what, url)
            return self._streamed(into, status, ctype, size)
        except BaseException as exc:
            self._stream_failed(into, exc, status)
            raise

    def _into(self, into: ReplySink, chunk: bytes, size: int, what: str, url: str) -> int:
        """One chunk into the sink, within ``max_reply_bytes``; the size so far."""
        size += len(chunk)
        if size > self.settings.max_reply_bytes:
            raise self._too_large(what, url)
        into.write(chunk)
        return size

    @staticmethod
    def _streamed(into: ReplySink, status: int, ctype: str, size: int) -> Reply:
        if size == 0:  # no body at all: said as for any empty reply (Bridge._finish)
            into.abort()
            return Reply(status, ctype, b"")
        return Reply(status, ctype, b"", into.finish(), size)

    @staticmethod
    def _stream_failed(into: ReplySink, exc: BaseException, status: int) -> None:
        """The sink's parts deleted; a malformed multipart said as a bad reply (else the caller re-raises)."""
        into.abort()
        if isinstance(exc, XmlError):
            raise UpstreamError("bad_reply", str(exc), status=status if status >= 400 else None) from None

    def _read_sync(self, r: httpx.Response, what: str, url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > self.settings.max_reply_bytes:
                raise self._too_large(what, url)
            chunks.append(chunk)
        return b"".join(chunks)

    # --- async ---------------------------------------------------------------------------------

    def _async_client(self) -> httpx.AsyncClient:
        import httpx

        if self._async is None:
            self._async = httpx.AsyncClient(
                timeout=_timeout(self.settings),
                limits=_limits(self.settings),
                verify=self._tls_context(),
                transport=self._async_transport,
                trust_env=False,
                auth=self._digest(),
            )
        return self._async

    async def _session(self) -> aiohttp.ClientSession:
        """The aiohttp session of the running event loop (a session belongs to one loop). It is
        closed with its loop: ``asyncio.run`` finalises the loop's async generators before closing
        it, and one of them closes the session, so ``asyncio.run(bridge.acall(...))`` leaves no
        socket open."""
        import aiohttp

        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            for other in [lp for lp in list(self._sessions) if lp.is_closed()]:  # loops closed without finalising (list(): threads)
                self._sessions.pop(other, None)
                self._closers.pop(other, None)
            trace = aiohttp.TraceConfig()
            trace.on_connection_reuseconn.append(_mark_reused)
            session = self._sessions[loop] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.settings.max_connections, ssl=self._tls_context()),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self.settings.connect_timeout, sock_read=self.settings.read_timeout
                ),
                # Cookies a backend sets must not pass from one REST caller to the next.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                trace_configs=[trace],
                middlewares=_aiohttp_digest(self.settings.backend_auth),
            )
            closer = self._closers[loop] = self._close_with_loop(loop, session)
            await closer.__anext__()
        return session

    async def _close_with_loop(self, loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if self._sessions.get(loop) is session:
                self._sessions.pop(loop, None)
            self._closers.pop(loop, None)
            await session.close()
            await asyncio.sleep(0)  # the transports' connection_lost callbacks close the sockets

    async def apost(
        self, url: str, body: Body, headers: dict[str, str], *, what: str = "the SOAP call", idempotent: bool = False, sink: SinkFor | None = None
    ) -> Reply:
        """The async ``post``: aiohttp, or httpx for an in-process transport; same deadline, limits, retry,
        ``sink`` and errors. In a served request it sends the request ID and trace context along, and notes the
        upstream status and time for the metrics and the log (bridge.observability)."""
        rec = observability.CURRENT.get()
        if rec is None:
            return await self._apost(url, body, headers, what, idempotent, sink)
        rec.upstream_called = True
        started = time.perf_counter()
        try:
            with observability.span("soapbridge.upstream", **{"server.address": host_of(url), "soapbridge.operation": what}):
                reply = await self._apost(url, body, observability.upstream_headers(headers), what, idempotent, sink)
            rec.upstream_status = reply.status
            return reply
        finally:
            rec.upstream_seconds += time.perf_counter() - started

    async def aprobe(self, url: str, timeout: float) -> int:
        """The HTTP status of a GET of ``url`` (its body unread), for /readyz: any answer, even an
        error status, says the backend is up; raises when none came within ``timeout``."""
        async with asyncio.timeout(timeout):
            if self._async_transport is not None:
                return (await self._async_client().get(url, headers=self._headers({}))).status_code
            session = await self._session()
            async with session.get(url, headers=self._headers({}), allow_redirects=False, proxy=self._proxies.for_url(url)) as r:
                return r.status

    async def _apost(self, url: str, body: Body, headers: dict[str, str], what: str, idempotent: bool, sink: SinkFor | None = None) -> Reply:
        try:
            async with asyncio.timeout(self.deadline):
                if self._async_transport is not None:  # an in-process transport (tests, replay)
                    return await self._apost_httpx(url, body, headers, what, sink)
                return await self._apost_aiohttp(url, body, headers, what, idempotent, sink)
        except TimeoutError:  # only the deadline's: the calls map their own timeouts
            raise self._deadline_passed(what, url) from None

    async def _apost_aiohttp(self, url: str, body: Body, headers: dict[str, str], what: str, idempotent: bool, sink: SinkFor | None) -> Reply:
        import aiohttp

        session = await self._session()
        pool_full = self._in_flight >= self.settings.max_connections
        self._in_flight += 1
        try:
            for attempt in (1, 2):
                trace: dict[str, bool] = {"reused": False}
                started = False  # the reply's status line and headers arrived
                try:
                    async with session.post(
                        url, data=body if isinstance(body, bytes) else _pieces(body), headers=_sized(body, self._headers(headers)), allow_redirects=False, trace_request_ctx=trace, proxy=self._proxies.for_url(url)
                    ) as r:
                        started = True
                        ctype = r.headers.get("Content-Type", "")
                        into = self._sink(sink, ctype, r.status)
                        if into is not None:
                            if r.content_length is not None and r.content_length > self.settings.max_reply_bytes:
                                into.abort()
                                raise self._too_large(what, url)
                            return await self._astream(r.content.iter_any(), into, r.status, ctype, what, url)
                        return Reply(r.status, ctype, await self._read_async(r, what, url))
                except UpstreamError:
                    raise
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                    if attempt == 1 and not started and not isinstance(exc, aiohttp.ClientConnectorError):
                        # aiohttp reports a close before any byte of the reply with its default message
                        nothing = isinstance(exc, aiohttp.ClientOSError) or isinstance(exc.message, str)
                        if (trace["reused"] and nothing) or idempotent:
                            log.info("%s: retrying once on a new connection to %s (%s)", what, host_of(url), _cause(exc, url))
                            continue
                    raise self._map(exc, what, url) from None
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    raise self._map(exc, what, url, pool_full=pool_full) from None
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            self._in_flight -= 1

    async def _read_async(self, r: aiohttp.ClientResponse, what: str, url: str) -> bytes:
        limit = self.settings.max_reply_bytes
        if r.content_length is not None and r.content_length > limit:
            raise self._too_large(what, url)
        chunks: list[bytes] = []
        size = 0
        async for chunk in r.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise self._too_large(what, url)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _apost_httpx(self, url: str, body: Body, headers: dict[str, str], what: str, sink: SinkFor | None = None) -> Reply:
        import httpx

        try:
            async with self._async_client().stream("POST", url, content=body if isinstance(body, bytes) else _pieces(body), headers=_sized(body, self._headers(headers))) as r:
                ctype = r.headers.get("content-type", "")
                into = self._sink(sink, ctype, r.status_code)
                if into is not None:
                    return await self._astream(r.aiter_bytes(), into, r.status_code, ctype, what, url)
                chunks: list[bytes] = []
                size = 0
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > self.settings.max_reply_bytes:
                        raise self._too_large(what, url)
                    chunks.append(chunk)
                return Reply(r.status_code, r.headers.get("content-type", ""), b"".join(chunks))
        except UpstreamError:
            raise
        except httpx.HTTPError as exc:
            raise self._map(exc, what, url) from None

    # --- closing -------------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the sync pool, and the async sessions of loops that are not running (a running
        loop's session closes with it, or with ``aclose``)."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        try:
            busy = asyncio.get_running_loop() is not None  # no other loop can run here: aclose() is the way
        except RuntimeError:
            busy = False
        for loop, closer in list(self._closers.items()):
            if loop.is_closed():
                self._closers.pop(loop, None)
                self._sessions.pop(loop, None)
            elif not loop.is_running() and not busy:
                loop.run_until_complete(_finish(closer))

    async def aclose(self) -> None:
        """Closes the async clients of the running event loop."""
        if self._async is not None:
            await self._async.aclose()
            self._async = None
        closer = self._closers.get(asyncio.get_running_loop())
        if closer is not None:
            await _finish(closer)


async def _finish(closer: AsyncIterator[None]) -> None:
    await closer.aclose()  # type: ignore[attr-defined]


async def _mark_reused(session: Any, ctx: Any, params: Any) -> None:
    ctx.trace_request_ctx["reused"] = True


def _is(exc: BaseException, module: str, *names: str) -> bool:
    """isinstance against exception classes of httpx or aiohttp, without importing either: each
    path loads only its own client (0.3 s of imports)."""
    mod = sys.modules.get(module)
    return mod is not None and isinstance(exc, tuple(getattr(mod, n) for n in names))


def _aiohttp_digest(auth: BackendAuth | None) -> tuple[Any, ...]:
    if auth is None or auth.type != "digest":
        return ()
    from aiohttp import DigestAuthMiddleware

    return (DigestAuthMiddleware(auth.username, auth.password),)


def _proxy_router(direct: httpx.BaseTransport, proxies: Proxies, tls: ssl.SSLContext, limits: httpx.Limits) -> httpx.BaseTransport:
    """A sync transport that sends each request direct or through its proxy (``Proxies``); each
    proxy's pool runs on the deadline-keeping network backend too."""
    import httpcore
    import httpx

    via: dict[str, httpx.HTTPTransport] = {}

    class Router(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            proxy = proxies.for_url(str(request.url))
            if proxy is None:
                return direct.handle_request(request)
            transport = via.get(proxy)
            if transport is None:
                transport = via[proxy] = httpx.HTTPTransport(verify=tls, proxy=proxy, limits=limits, trust_env=False)
                transport._pool._network_backend = _deadline_backend(httpcore.SyncBackend())
            return transport.handle_request(request)

        def close(self) -> None:
            direct.close()
            for t in via.values():
                t.close()

    return Router()
