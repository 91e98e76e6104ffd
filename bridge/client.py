"""The upstream SOAP client: pooled keep-alive HTTP with timeouts, size limits and TLS checks.

Only the operation, status and timing are logged; bodies and headers may carry secrets.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from .errors import UpstreamError
from .settings import Settings

log = logging.getLogger("soapbridge.client")


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout)


def _limits(settings: Settings) -> httpx.Limits:
    return httpx.Limits(max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections)


def _map(exc: Exception, url: str, settings: Settings) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        which = "connect" if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) else "read"
        limit = settings.connect_timeout if which == "connect" else settings.read_timeout
        return UpstreamError("timeout", f"the SOAP service at {url} did not answer within the {which} timeout of {limit} s")
    if isinstance(exc, httpx.ConnectError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return UpstreamError("tls", f"TLS verification of {url} failed: {exc}")
        return UpstreamError("unavailable", f"cannot connect to the SOAP service at {url}: {exc or 'connection refused'}")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return UpstreamError("unavailable", f"the connection to {url} failed: {exc or type(exc).__name__}")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return UpstreamError("unavailable", f"unsupported endpoint address {url!r}")
    return UpstreamError("unavailable", f"calling {url} failed: {type(exc).__name__}: {exc}")


class SoapClient:
    """Sync and async posting of SOAP envelopes; one pool each, opened lazily."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        # each client takes the transport only if it is of its kind; one object may be both
        self._async_transport = transport if isinstance(transport, httpx.AsyncBaseTransport) else None
        self._sync_transport = transport if isinstance(transport, httpx.BaseTransport) else None
        self._sync: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None
        # Network calls: one single-connection client per request in flight (see _checkout).
        self._idle: list[httpx.AsyncClient] = []
        self._open: list[httpx.AsyncClient] = []
        self._slots: asyncio.Semaphore | None = None
        self._tls: ssl.SSLContext | bool | None = None

    def _sync_client(self) -> httpx.Client:
        if self._sync is None:
            self._sync = httpx.Client(
                timeout=_timeout(self.settings),
                limits=_limits(self.settings),
                verify=self.settings.verify_tls,
                transport=self._sync_transport,
                trust_env=False,
            )
        return self._sync

    def _async_client(self) -> httpx.AsyncClient:
        if self._async is None:
            self._async = httpx.AsyncClient(
                timeout=_timeout(self.settings),
                limits=_limits(self.settings),
                verify=self.settings.verify_tls,
                transport=self._async_transport,
                trust_env=False,
            )
        return self._async

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        try:
            with self._sync_client().stream("POST", url, content=body, headers=headers) as r:
                data = self._read_sync(r, url)
                return Reply(r.status_code, r.headers.get("content-type", ""), data)
        except UpstreamError:
            raise
        except httpx.HTTPError as exc:
            raise _map(exc, url, self.settings) from None

    @asynccontextmanager
    async def _checkout(self) -> AsyncIterator[httpx.AsyncClient]:
        """A client for one request. httpx's pool does work in proportion to the requests in
        flight for every request (at 64 concurrent calls it cost 8x the CPU of one), so each
        request in flight gets a client of its own with one keep-alive connection, reused
        last-in first-out; at most max_connections of them, like the single pool before."""
        if self._async_transport is not None:
            yield self._async_client()  # an in-process transport has no connections to pool
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.max_connections)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.settings.connect_timeout)
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection") from None
        try:
            client = self._idle.pop() if self._idle else self._new_client()
            try:
                yield client
            finally:
                self._idle.append(client)
        finally:
            self._slots.release()

    def _new_client(self) -> httpx.AsyncClient:
        if self._tls is None:  # one TLS context for every client: loading CA certificates is slow
            self._tls = httpx.create_ssl_context(verify=self.settings.verify_tls, trust_env=False) if self.settings.verify_tls else False
        client = httpx.AsyncClient(
            timeout=_timeout(self.settings),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            verify=self._tls,
            trust_env=False,
        )
        self._open.append(client)
        return client

    async def apost(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        try:
            async with self._checkout() as client, client.stream("POST", url, content=body, headers=headers) as r:
                chunks: list[bytes] = []
                size = 0
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > self.settings.max_reply_bytes:
                        raise self._too_large(url)
                    chunks.append(chunk)
                return Reply(r.status_code, r.headers.get("content-type", ""), b"".join(chunks))
        except UpstreamError:
            raise
        except httpx.HTTPError as exc:
            raise _map(exc, url, self.settings) from None

    def _read_sync(self, r: httpx.Response, url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > self.settings.max_reply_bytes:
                raise self._too_large(url)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, url: str) -> UpstreamError:
        return UpstreamError("bad_reply", f"the reply from {url} is larger than the limit of {self.settings.max_reply_bytes} bytes")

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None
        for client in self._open:
            await client.aclose()
        self._open.clear()
        self._idle.clear()
