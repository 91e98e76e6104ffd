"""``soapbridge serve``'s HTTP server: uvicorn, with the client limits uvicorn lacks.

uvicorn times out idle keep-alive connections only; a client that opens a connection and sends
its headers (or body) a byte at a time is never dropped, and httptools puts no bound on header
size. ``GuardedProtocol`` adds a header deadline, a body deadline, a header-size limit and a
connection cap to uvicorn's httptools protocol (``Settings.server``; docs/hostile-clients.md lists the defaults).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
import time
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from .errors import ConfigError
from .observability import mark_process_dead
from .settings import ServerLimits, Settings

log = logging.getLogger("soapbridge.server")

_RESERVED_FDS = 64  # files, the listening socket, logs, the WSDL cache


def _reply(status: bytes, detail: str) -> bytes:
    """A complete problem+json response that closes the connection."""
    title = status.decode().split(" ", 1)[1]
    body = f'{{"type":"urn:soapbridge:problem:client-limit","title":"{title}","status":{status[:3].decode()},"detail":"{detail}"}}'.encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/problem+json\r\ncontent-length: "
        + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


_refusals = {"count": 0, "logged": float("-inf")}


def _warn_refused(cap: int) -> None:
    """One warning a minute at most, with the count since the last: a flood of connections
    must not become a flood of log lines."""
    _refusals["count"] += 1
    now = time.monotonic()
    if now - _refusals["logged"] >= 60:
        log.warning("refused %d connection(s): %d are open, the limit (server.max_connections)", _refusals["count"], cap)
        _refusals["count"], _refusals["logged"] = 0, now


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines for a request's headers and body, a bound on
    header bytes and a cap on open connections. Each breach answers a problem and closes."""

    def __init__(self, *args: Any, limits: ServerLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._timer: asyncio.TimerHandle | None = None
        self._in_headers = True  # between requests or reading a request's headers
        self._header_bytes = 0
        self._refused = False
        self._tls: dict[str, Any] | None = None  # the ASGI TLS extension of this connection

    # --- timers ---------------------------------------------------------------------

    def _arm(self, seconds: float, status: bytes, detail: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._refuse, status, detail)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: bytes, detail: str) -> None:
        self._timer = None
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        cycle = self.cycle
        if cycle is None or not cycle.response_started:  # else the answer, or part of it, is out: just close
            self.transport.write(_reply(status, detail))
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() now says http.disconnect; its sends are dropped
            cycle.message_event.set()
        log.debug("%s: %s", status.decode(), detail)  # expected client behaviour: not worth a line each
        self.transport.close()

    # --- uvicorn's protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuses the connection with a 503 over the cap; else starts the header deadline."""
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refused = True
            _warn_refused(self.limits.max_connections)
            transport.write(_reply(b"503 Service Unavailable", "too many open connections; retry later"))
            transport.close()
            return
        self._tls = tls_extension(transport)
        # A new connection has header_timeout for its first request's headers (as NGINX does).
        self._arm(self.limits.header_timeout, b"408 Request Timeout", "the request headers took too long")

    def connection_lost(self, exc: Exception | None) -> None:
        """Stops the deadline timer."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feeds the parser; a request's headers over the size limit are refused with a 431."""
        if self._refused:
            return
        if self._in_headers:
            if self._timer is None:  # the first byte of a request on a kept-alive connection
                self._arm(self.limits.header_timeout, b"408 Request Timeout", "the request headers took too long")
            self._header_bytes += len(data)
        super().data_received(data)
        # Headers still incomplete after this many bytes: httptools would buffer them without end.
        if self._in_headers and not self._refused and self._header_bytes > self.limits.max_header_bytes:
            self._refuse(b"431 Request Header Fields Too Large", f"the request headers are over {self.limits.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        """A request starts: its headers are being read."""
        self._in_headers = True
        super().on_message_begin()
        if self._tls is not None:  # uvicorn does not give the app the client certificate: this does
            self.scope["extensions"] = {"tls": self._tls}  # type: ignore[typeddict-unknown-key, dict-item]

    def on_headers_complete(self) -> None:
        """Refuses headers over the size limit (431); else starts the body deadline."""
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        self._in_headers = False
        self._header_bytes = 0
        if size > self.limits.max_header_bytes:
            self._disarm()
            self._refuse(b"431 Request Header Fields Too Large", f"the request headers are over {self.limits.max_header_bytes} bytes")
            return
        # The body, if any, has body_timeout in all (a deadline, not a gap between reads).
        self._arm(self.limits.body_timeout, b"408 Request Timeout", "the request body took too long")
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        """Passes body bytes on unless the request was refused."""
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        """The request is in: stops its deadline."""
        self._disarm()
        self._in_headers = True
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        """The response is out: the next request's header deadline starts with its first byte."""
        super().on_response_complete()  # arms uvicorn's keep-alive timer
        if self.pipeline:  # the next request is already in
            return
        self._in_headers = True


def tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    """The ASGI TLS extension's fields of a TLS connection (None for plain HTTP): the client
    certificate OpenSSL verified against ``--client-ca``, as PEM, and its subject."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    import ssl

    der = ssl_object.getpeercert(binary_form=True)
    chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    return {"server_cert": None, "client_cert_chain": chain, "client_cert_name": None, "client_cert_error": None, "tls_version": None, "cipher_suite": None}


def open_file_budget(limits: ServerLimits, upstream_connections: int) -> int:
    """The connection cap that fits the open-file limit: raises the soft limit towards the hard
    one if needed, and lowers the cap (with a warning) if even that is too few."""
    need = limits.max_connections + upstream_connections + _RESERVED_FDS
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < need:
            target = need if hard == resource.RLIM_INFINITY else min(need, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    except (OSError, ValueError):  # not permitted: keep what there is
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return limits.max_connections
    cap = max(1, soft - upstream_connections - _RESERVED_FDS)
    log.warning(
        "the open-file limit is %d: serving at most %d client connections, not server.max_connections=%d", soft, cap, limits.max_connections
    )
    return cap


def uvicorn_options(
    settings: Settings, *, certfile: str | None = None, keyfile: str | None = None, client_ca: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``/``uvicorn.Config`` that apply ``settings.server``, and
    TLS when ``certfile`` is given: client certificates, when ``client_ca`` is, are asked for and
    verified against it (optional at the TLS level: an API key or token may stand in for one)."""
    limits = settings.server
    cap = open_file_budget(limits, settings.max_connections)
    if cap != limits.max_connections:
        from dataclasses import replace

        limits = replace(limits, max_connections=cap)
    return {
        # A partial of a module-level class: uvicorn's worker processes unpickle it.
        "http": functools.partial(GuardedProtocol, limits=limits),
        "timeout_keep_alive": limits.keepalive_timeout,
        **tls_options(certfile, keyfile, client_ca),
    }


def tls_options(certfile: str | None, keyfile: str | None, client_ca: str | None) -> dict[str, Any]:
    """uvicorn's TLS options for ``serve --certfile/--keyfile/--client-ca``, checked now (a ``ConfigError`` says what is wrong)."""
    if certfile is None:
        if keyfile or client_ca:
            raise ConfigError("--keyfile and --client-ca need --certfile (the bridge's own certificate)")
        return {}
    import ssl

    for flag, path in (("--certfile", certfile), ("--keyfile", keyfile), ("--client-ca", client_ca)):
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{flag}: the file {path} does not exist")
    try:  # what uvicorn will do, so a bad file fails here with one line
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        if client_ca:
            ctx.load_verify_locations(client_ca)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"TLS: OpenSSL cannot use {certfile}{' and ' + keyfile if keyfile else ''}{' with ' + client_ca if client_ca else ''} ({exc})") from None
    options: dict[str, Any] = {"ssl_certfile": certfile, "ssl_keyfile": keyfile}
    if client_ca:
        options.update(ssl_ca_certs=client_ca, ssl_cert_reqs=ssl.CERT_OPTIONAL)
    return options


class Supervisor(Multiprocess):  # type: ignore[misc]
    """uvicorn's supervisor of ``serve --workers N``, which replaces a worker that died. Here it also
    drops a gone worker's live gauges (requests in flight) from the multi-process metrics directory
    (prometheus_client's ``mark_process_dead``): a worker that was killed never removed its own, and
    every scrape would go on adding them up."""

    def _pids(self) -> set[int]:
        return {p.pid for p in self.processes if p.pid is not None}

    def _forget(self, before: set[int]) -> None:
        for pid in before - self._pids():
            mark_process_dead(pid)

    def keep_subprocess_alive(self) -> None:
        """Replaces the workers that died, and forgets their gauges."""
        before = self._pids()
        super().keep_subprocess_alive()
        self._forget(before)

    def handle_signals(self) -> None:
        """Handles the signals received (SIGHUP replaces the workers, SIGTTOU stops one), and forgets
        the gauges of the workers they stopped."""
        before = self._pids()
        super().handle_signals()
        self._forget(before)
